"""What the benches share: their own database, a real worker and daphne, and an HTTP client.

Everything runs against the services `make test` uses (PostgreSQL, RabbitMQ, Redis on 127.0.0.1),
in a database of the bench's own that is dropped and created anew at each run.
"""
import http.client
import json
import os
import socket
import statistics
import sys
import threading
import time
from contextlib import ExitStack
from typing import Any

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connections

from autogpt_platform.queues import CeleryQueue
from autogpt_platform.redis_client import get_redis
from tests import processes

BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "autogpt_platform_bench")


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def machine() -> str:
    return f"{cores()} cores"


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 200 values is the 198th smallest)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


# --- database -------------------------------------------------------------------------------------
def use_bench_database(name: str = BENCH_DATABASE) -> str:
    """Drop and create the bench database, point this process (and the children it starts, through
    tests.processes.child_database_url) at it, and migrate it."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise RuntimeError("The bench needs PostgreSQL: run it with DJANGO_SETTINGS_MODULE=autogpt_platform.settings.test")
    connections.close_all()
    admin = psycopg.connect(
        host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], password=db.get("PASSWORD") or None,
        dbname="postgres", autocommit=True, connect_timeout=5,
    )
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    db["NAME"] = name
    connections["default"].settings_dict["NAME"] = name
    call_command("migrate", verbosity=0, interactive=False)
    return name


# --- broker -----------------------------------------------------------------------------------------
def executor_queue_state() -> dict[str, int]:
    """Messages waiting on agent_executions and how many consumers it has, before the bench starts."""
    from autogpt_platform.celery import app

    with app.connection_for_write() as conn:
        _, messages, consumers = conn.default_channel.queue_declare(
            queue=CeleryQueue.AGENT_EXECUTIONS.value, passive=True
        )
    return {"messages": messages, "consumers": consumers}


def wait_for_no_other_executor(timeout: float = 15) -> dict[str, int]:
    """Another worker on agent_executions (a test run, say) would take the bench's messages and not
    find their executions in its own database: wait briefly for it to go, else refuse to run."""
    deadline = time.monotonic() + timeout
    while True:
        state = executor_queue_state()
        if state["consumers"] == 0:
            return state
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{state['consumers']} other consumer(s) on {CeleryQueue.AGENT_EXECUTIONS.value}: stop them (a test run?) "
                "before benching, they would take the bench's messages."
            )
        time.sleep(0.5)


# --- processes ---------------------------------------------------------------------------------------
def start_executor_worker(concurrency: int, name: str = "bench") -> processes.PlatformProcess:
    """The executor worker as production runs it (-Q agent_executions, prefork, default log level
    WARNING), plus the bench's no-op task. Ready when its health heartbeat appears in Redis."""
    hostname = f"{name}-{os.getpid()}@{socket.gethostname()}"
    worker = processes.PlatformProcess(
        f"bench-worker-{os.getpid()}",
        [
            sys.executable, "-m", "celery", "-A", "autogpt_platform", "worker",
            "-Q", CeleryQueue.AGENT_EXECUTIONS.value,
            "-n", hostname,
            "-c", str(concurrency),
            "-I", "bench.tasks",
            "--loglevel", "WARNING",
            "--without-gossip", "--without-mingle",
        ],
    )
    key = f"health:workers:{CeleryQueue.AGENT_EXECUTIONS.value}"
    redis = get_redis()
    try:
        processes.wait_until(
            lambda: _alive(worker) and redis.hexists(key, hostname), timeout=60, interval=0.1,
            message="the bench worker's heartbeat",
        )
    except Exception:
        worker.stop()
        raise
    return worker


def _alive(process: processes.PlatformProcess) -> bool:
    if process.process.poll() is not None:
        raise RuntimeError(f"{process.name} exited with {process.process.returncode}:\n{process.log()[-3000:]}")
    return True


def start_daphne() -> tuple[processes.PlatformProcess, int]:
    port = processes.free_port()
    return processes.daphne(port), port


class Processes(ExitStack):
    """Stops every process it was given, last started first, whatever happens."""

    def add(self, process: processes.PlatformProcess) -> processes.PlatformProcess:
        self.callback(process.stop)
        return process


# --- HTTP ---------------------------------------------------------------------------------------------
class HttpClient:
    """Keep-alive HTTP/1.1 to the local daphne, one connection per thread, JSON in and out."""

    def __init__(self, port: int, token: str, timeout: float = 30):
        self.port = port
        self.timeout = timeout
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                        "Accept": "application/json"}
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        payload = None if body is None else json.dumps(body)
        for attempt in range(2):
            conn = self._connection()
            try:
                conn.request(method, path, body=payload, headers=self.headers)
                response = conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    self._local.conn = None
                return response.status, (json.loads(data) if data else None)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                self._local.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def post(self, path: str, body: Any) -> Any:
        status, data = self.request("POST", path, body)
        if status >= 300:
            raise RuntimeError(f"POST {path} -> {status}: {data}")
        return data

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
