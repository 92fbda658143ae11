"""What the benches share: their own database, a real worker and daphne, and an HTTP client.

Everything runs against the services `make test` uses (PostgreSQL, RabbitMQ, Redis on 127.0.0.1),
in a database of the bench's own that is dropped and created anew at each run.
"""

import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections

from autogpt_platform.celery import app
from autogpt_platform.queues import CeleryQueue
from autogpt_platform.redis_client import get_redis
from tests import processes

# The benches measure one user's runs: the per-user cap, a fairness rule between users, is lifted in
# this process and in the workers it starts.
os.environ["EXECUTION_MAX_RUNNING_PER_USER"] = "1000000"
settings.EXECUTION_MAX_RUNNING_PER_USER = 1_000_000

BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "autogpt_platform_bench")
BENCH_VHOST = os.environ.get("BENCH_VHOST", "autogpt_bench")


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def machine() -> str:
    return f"{cores()} cores"


def cpu_times() -> list[int] | None:
    """The machine's aggregate CPU counters from /proc/stat (Linux), for cpu_share()."""
    try:
        with open("/proc/stat") as stat:
            return [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None


def cpu_share(before: list[int] | None, after: list[int] | None) -> dict[str, float] | None:
    """Busy and stolen (taken by the hypervisor for other guests) percent of all cores between two readings."""
    if not before or not after:
        return None
    delta = [b - a for a, b in zip(before, after, strict=False)]
    total = sum(delta[:8]) or 1
    idle = delta[3] + delta[4]
    steal = delta[7] if len(delta) > 7 else 0
    return {
        "busy_percent": round(100 * (total - idle - steal) / total, 1),
        "steal_percent": round(100 * steal / total, 1),
    }


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
        raise RuntimeError(
            "The bench needs PostgreSQL: run it with DJANGO_SETTINGS_MODULE=autogpt_platform.settings.test"
        )
    connections.close_all()
    admin = psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
        connect_timeout=5,
    )
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    db["NAME"] = name
    connections["default"].settings_dict["NAME"] = name
    call_command("migrate", verbosity=0, interactive=False)
    return name


# --- broker -----------------------------------------------------------------------------------------
def _rabbitmqctl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, timeout=60)


def use_bench_vhost(vhost: str = BENCH_VHOST) -> str:
    """The same RabbitMQ, in a virtual host of the bench's own: a test run's worker on agent_executions
    (same broker, another database) would otherwise take the bench's messages. This process and the
    children it starts (through the environment) use it. Where rabbitmqctl is not at hand the default
    virtual host is kept, and run() refuses to start while another consumer is on the queue."""
    url = settings.CELERY_BROKER_URL
    parts = urlsplit(url)
    if parts.scheme not in ("amqp", "pyamqp") or parts.hostname not in ("127.0.0.1", "localhost"):
        return url
    if shutil.which("rabbitmqctl") is None:
        return url
    listed = _rabbitmqctl("list_vhosts", "--quiet", "--no-table-headers")
    if listed.returncode != 0:
        return url
    if vhost not in listed.stdout.split():
        created = _rabbitmqctl("add_vhost", vhost)
        if created.returncode != 0:
            raise RuntimeError(f"rabbitmqctl add_vhost {vhost}: {created.stderr or created.stdout}")
    granted = _rabbitmqctl("set_permissions", "-p", vhost, parts.username or "guest", ".*", ".*", ".*")
    if granted.returncode != 0:
        raise RuntimeError(f"rabbitmqctl set_permissions -p {vhost}: {granted.stderr or granted.stdout}")
    url = urlunsplit(parts._replace(path="/" + vhost))
    os.environ["CELERY_BROKER_URL"] = url
    settings.CELERY_BROKER_URL = url
    app.conf.broker_url = url
    return url


def executor_queue_state() -> dict[str, int]:
    """Messages waiting on agent_executions and how many consumers it has (none if it does not exist)."""
    with app.connection_for_write() as conn:
        try:
            _, messages, consumers = conn.default_channel.queue_declare(
                queue=CeleryQueue.AGENT_EXECUTIONS.value, passive=True
            )
        except conn.channel_errors:  # not declared yet in this virtual host
            return {"messages": 0, "consumers": 0}
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


def broker_description(url: str) -> str:
    parts = urlsplit(url)
    return f"RabbitMQ {parts.hostname}:{parts.port or 5672}, virtual host '{parts.path.lstrip('/') or '/'}'"


# --- processes ---------------------------------------------------------------------------------------
def start_executor_worker(concurrency: int, name: str = "bench") -> processes.PlatformProcess:
    """The executor worker as production runs it (-Q agent_executions, prefork, default log level
    WARNING), plus the bench's no-op task. Ready when its health heartbeat appears in Redis."""
    hostname = f"{name}-{os.getpid()}@{socket.gethostname()}"
    worker = processes.PlatformProcess(
        f"bench-worker-{os.getpid()}",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "autogpt_platform",
            "worker",
            "-Q",
            CeleryQueue.AGENT_EXECUTIONS.value,
            "-n",
            hostname,
            "-c",
            str(concurrency),
            "-I",
            "bench.tasks",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
    )
    key = f"health:workers:{CeleryQueue.AGENT_EXECUTIONS.value}"
    redis = get_redis()
    try:
        processes.wait_until(
            lambda: _alive(worker) and redis.hexists(key, hostname),
            timeout=60,
            interval=0.1,
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
    """One daphne on a free port of 127.0.0.1, as tests.processes.daphne starts it (stopped again if it
    does not come up)."""
    port = processes.free_port()
    server = processes.PlatformProcess(
        f"bench-daphne-{port}",
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "autogpt_platform.asgi:application"],
    )
    try:
        server.wait_for_log("Listening on TCP address", timeout=60)
    except Exception:
        server.stop()
        raise
    return server, port


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
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
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


# --- process CPU (Linux) -------------------------------------------------------------------------
def process_group_cpu_seconds(pgid: int) -> float | None:
    """User + system CPU seconds of every live process in a process group (a PlatformProcess and its
    children: it starts a session of its own), from /proc; None where /proc is not at hand."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:  # gone meanwhile
                continue
            if int(fields[2]) == pgid:  # fields after "(comm)": state ppid pgrp ...; utime stime at 11, 12
                total += int(fields[11]) + int(fields[12])
        return total / ticks
    except (OSError, ValueError, AttributeError):
        return None


def postgres_commit_ms(samples: int = 30) -> float:
    """Median milliseconds of one small write transaction (an UPDATE in autocommit) in the bench
    database: what every commit on a path costs on this machine's disk (WAL flush)."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_commit_probe (id int PRIMARY KEY, n int)")
        cursor.execute("INSERT INTO bench_commit_probe VALUES (1, 0) ON CONFLICT DO NOTHING")
        times = []
        for _ in range(samples):
            t0 = time.perf_counter()
            cursor.execute("UPDATE bench_commit_probe SET n = n + 1 WHERE id = 1")
            times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 2)


def measured_figures(measures, common: dict[str, Any]):
    """Run each (name, measure) and yield its figure with `common` and how busy the machine was.
    One figure failing still lets the others be measured."""
    for name, measure in measures:
        cpu_before = cpu_times()
        try:
            figure = measure()
        except Exception as exc:
            figure = {"figure": name, "value": None, "error": f"{type(exc).__name__}: {exc}"}
        # Other work on the machine (a test run, say) skews every figure: say how busy it was.
        yield {
            **figure,
            **common,
            "load_average_1min_after": round(os.getloadavg()[0], 2),
            "machine_cpu_during": cpu_share(cpu_before, cpu_times()),
        }
