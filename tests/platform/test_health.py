"""/health and /health/ready against the real services, a real worker and a real beat."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest
from django.test import override_settings

from autogpt_platform.heartbeats import BEAT_KEY
from autogpt_platform.redis_client import get_redis
from tests.processes import ROOT, celery_worker, free_port, wait_until

pytestmark = pytest.mark.django_db

EVERY_CHECK = {
    "database",
    "broker",
    "redis",
    "clamav",
    "worker:agent_executions",
    "worker:notifications",
    "worker:system_events",
    "beat",
}


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never answers: a hung dependency."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted = []
    stop = threading.Event()

    def accept_forever():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def ready(client):
    response = client.get("/health/ready")
    return response.status_code, response.json()


def test_health_says_the_process_is_up(client):
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_is_200_with_every_check_ok_when_everything_runs(client, live_worker, live_beat):
    status, body = wait_until(
        lambda: (lambda r: r if r[0] == 200 else None)(ready(client)), timeout=30, message="ready"
    )

    assert status == 200
    assert set(body["checks"]) == EVERY_CHECK | {"local_model"}
    assert {name for name, check in body["checks"].items() if check["status"] == "ok"} == EVERY_CHECK
    # Optional, and not served outside make run: reported, not required.
    assert (body["checks"]["local_model"]["status"], body["checks"]["local_model"]["required"]) == ("absent", False)
    assert body["down"] == []
    assert "all@" in body["checks"]["worker:agent_executions"]["detail"]


def test_ready_is_503_naming_an_unreachable_broker(client, live_worker, live_beat):
    with override_settings(CELERY_BROKER_URL=f"amqp://guest:guest@127.0.0.1:{free_port()}//"):
        status, body = ready(client)

    assert status == 503
    assert body["down"] == ["broker"]
    assert body["checks"]["broker"]["status"] == "down"
    assert "broker" in body["message"]


def test_a_hung_redis_is_reported_down_within_the_check_timeout(client, silent_server):
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{silent_server}/0", HEALTH_CHECK_TIMEOUT=0.5):
        started = time.monotonic()
        status, body = ready(client)
        elapsed = time.monotonic() - started

    assert status == 503
    assert body["checks"]["redis"]["status"] == "down"
    # Workers and beat are read from Redis too, so they cannot be shown alive.
    assert {"redis", "beat", "worker:agent_executions"} <= set(body["down"])
    assert elapsed < 5, "a hung dependency must not hang the endpoint"


def test_clamd_unreachable_is_down_when_required_and_absent_when_optional(client, live_worker, live_beat):
    closed_port = free_port()
    with override_settings(CLAMD_PORT=closed_port, CLAMAV_REQUIRED=True):
        required_status, required = ready(client)
    with override_settings(CLAMD_PORT=closed_port, CLAMAV_REQUIRED=False):
        optional_status, optional = ready(client)

    assert required_status == 503 and required["down"] == ["clamav"]
    assert optional["checks"]["clamav"]["status"] == "absent"
    assert optional_status == 200, optional


@contextmanager
def empty_redis(db: int):
    """Point the platform at an empty Redis database for the duration, and empty it after."""
    with override_settings(REDIS_URL=f"redis://127.0.0.1:6379/{db}"):
        get_redis.cache_clear()
        get_redis().flushdb()
        try:
            yield get_redis()
        finally:
            get_redis().flushdb()
            get_redis.cache_clear()


def test_no_worker_heartbeat_means_the_queue_has_no_worker(client):
    with empty_redis(9) as redis:
        redis.set(BEAT_KEY, time.time())
        status, body = ready(client)

    assert status == 503
    assert set(body["down"]) == {"worker:agent_executions", "worker:notifications", "worker:system_events"}
    assert "no worker consuming agent_executions" in body["checks"]["worker:agent_executions"]["detail"]


def test_a_stale_beat_heartbeat_is_down(client):
    with empty_redis(9) as redis:
        redis.set(BEAT_KEY, time.time() - 600)
        status, body = ready(client)

    assert status == 503
    assert body["checks"]["beat"]["status"] == "down"
    assert "old" in body["checks"]["beat"]["detail"]


def test_a_stopped_worker_stops_counting_once_its_heartbeat_is_gone(client):
    """A worker that shuts down removes its heartbeat at once."""
    with empty_redis(8):
        worker = celery_worker("solo", ["notifications"], concurrency=1, env={"REDIS_URL": "redis://127.0.0.1:6379/8"})
        try:
            wait_until(
                lambda: ready(client)[1]["checks"]["worker:notifications"]["status"] == "ok",
                timeout=20,
                message="heartbeat",
            )
        finally:
            worker.stop()
        _, body = ready(client)

    assert body["checks"]["worker:notifications"]["status"] == "down"


def test_an_unreachable_database_is_503_not_500():
    """Run the endpoint in a process whose database is a closed port."""
    script = (
        "import django, json; django.setup(); from django.test import Client; "
        "r = Client(HTTP_HOST='localhost').get('/health/ready'); print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/nothing",
        "DJANGO_SETTINGS_MODULE": "autogpt_platform.settings.test",
    }

    result = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )

    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"] == 503
    assert "database" in outcome["body"]["down"]
    assert outcome["body"]["checks"]["database"]["status"] == "down"
