"""/health (the process is up) and /health/ready (every dependency, each checked separately).

Checks run concurrently, each bounded by HEALTH_CHECK_TIMEOUT, so a dead dependency never hangs
the endpoint. A check returns (status, detail): "ok", "down", or "absent" for an optional
dependency that is not there (clamd in the embedded default), or "preparing" for an optional one
on its way up (the embedded model).
"""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

import redis
from django.conf import settings
from django.db import connection, transaction
from django.http import JsonResponse
from django.views.decorators.http import require_GET
from kombu import Connection

from integrations.llm.local_model import local_model_health

from .heartbeats import BEAT_KEY, WORKER_KEY
from .queues import CeleryQueue
from .uploads import ClamdClient

Check = Callable[[], str]


class CheckFailed(Exception):
    pass


class CheckPreparing(Exception):
    """An optional dependency on its way up (the embedded model installing or loading)."""


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return f"{connection.vendor} answered"
    finally:
        connection.close()


def check_broker() -> str:
    timeout = settings.HEALTH_CHECK_TIMEOUT
    with Connection(
        settings.CELERY_BROKER_URL, connect_timeout=timeout, transport_options={"socket_timeout": timeout}
    ) as conn:
        conn.ensure_connection(max_retries=1, timeout=timeout)
        return f"{conn.transport_cls} connected"


def _redis_client() -> redis.Redis:
    timeout = settings.HEALTH_CHECK_TIMEOUT
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout, decode_responses=True
    )


def check_redis() -> str:
    with _redis_client() as client:
        client.ping()
    return "answered PING"


def check_clamav() -> str:
    scanner = ClamdClient(settings.CLAMD_HOST, settings.CLAMD_PORT, timeout=settings.HEALTH_CHECK_TIMEOUT)
    if scanner.ping() != "PONG":
        raise CheckFailed("clamd did not answer PING")
    return scanner.version()


def check_local_model() -> str:
    """The embedded model (make run's model role): optional; "preparing" while it installs or loads."""
    status, detail = local_model_health(settings.HEALTH_CHECK_TIMEOUT)
    if status == "preparing":
        raise CheckPreparing(detail)
    if status != "ok":
        raise CheckFailed(detail)
    return detail


def _worker_check(queue: str) -> Check:
    def check() -> str:
        with _redis_client() as client:
            beats = client.hgetall(WORKER_KEY.format(queue=queue))
        fresh = sorted(
            host for host, at in beats.items() if time.time() - float(at) <= settings.WORKER_HEARTBEAT_MAX_AGE
        )
        if not fresh:
            raise CheckFailed(
                f"no worker consuming {queue} has sent a heartbeat in the last {settings.WORKER_HEARTBEAT_MAX_AGE:g} s"
            )
        return f"{len(fresh)} worker(s): {', '.join(fresh)}"

    return check


def check_beat() -> str:
    with _redis_client() as client:
        last = client.get(BEAT_KEY)
    if last is None:
        raise CheckFailed("beat has never written a heartbeat")
    age = time.time() - float(last)
    if age > settings.BEAT_HEARTBEAT_MAX_AGE:
        raise CheckFailed(f"beat heartbeat is {age:.0f} s old")
    return f"heartbeat {age:.1f} s ago"


def readiness_checks() -> dict[str, tuple[Check, bool]]:
    """name -> (check, required)."""
    checks: dict[str, tuple[Check, bool]] = {
        "database": (check_database, True),
        "broker": (check_broker, True),
        "redis": (check_redis, True),
        "clamav": (check_clamav, settings.CLAMAV_REQUIRED),
    }
    for queue in CeleryQueue:
        checks[f"worker:{queue.value}"] = (_worker_check(queue.value), True)
    checks["beat"] = (check_beat, True)
    checks["local_model"] = (check_local_model, False)
    return checks


def run_checks() -> dict[str, dict]:
    checks = readiness_checks()
    deadline = settings.HEALTH_CHECK_TIMEOUT + 0.5
    results: dict[str, dict] = {}
    pool = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="health")
    futures = {name: pool.submit(check) for name, (check, _) in checks.items()}
    wait(futures.values(), timeout=deadline)
    pool.shutdown(wait=False, cancel_futures=True)
    for name, future in futures.items():
        required = checks[name][1]
        if not future.done():
            status, detail = "down", f"no answer within {deadline:g} s"
        elif isinstance(future.exception(), (CheckPreparing, CheckFailed)) and not required:
            exc = future.exception()
            status, detail = "preparing" if isinstance(exc, CheckPreparing) else "absent", str(exc)
        elif future.exception() is not None:
            exc = future.exception()
            status, detail = "down", f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        else:
            status, detail = "ok", future.result()
        if status == "down" and not required:
            status = "absent"
        results[name] = {"status": status, "required": required, "detail": detail}
    return results


@transaction.non_atomic_requests
@require_GET
def health(request) -> JsonResponse:
    return JsonResponse({"status": "ok"})


# Not atomic: with the database down, opening the request's transaction would itself fail.
@transaction.non_atomic_requests
@require_GET
def health_ready(request) -> JsonResponse:
    checks = run_checks()
    down = [name for name, result in checks.items() if result["required"] and result["status"] != "ok"]
    body = {
        "status": "ok" if not down else "unavailable",
        "down": down,
        "message": "All required dependencies are up." if not down else f"Down: {', '.join(down)}.",
        "checks": checks,
    }
    return JsonResponse(body, status=503 if down else 200)
