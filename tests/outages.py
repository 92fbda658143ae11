"""The outage scenario of the durability issue, shared by tests/executions/test_outages.py and
bench/bench_outages.py: the platform's roles (daphne, an executor, a system worker, beat) on
private services (tests/private_services.py), runs submitted through REST at a steady rate, one
service taken down mid-run and started again, and the figures of what became of every run.
"""

import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests import processes
from tests.blocks import recorded_runs
from tests.graphs import AGENT_OUTPUT, COUNTDOWN, RECORD_RUN, link, node
from tests.private_services import PrivateServices, restart

ROOT = Path(__file__).resolve().parent.parent
TERMINAL = ("COMPLETED", "FAILED", "TERMINATED")
PROBES = 5  # runs sent once the service is back, which must be taken and complete

# The platform's settings for these runs: outages are noticed and resolved within seconds.
PLATFORM_ENV = {
    "DJANGO_SETTINGS_MODULE": "autogpt_platform.settings.test",
    "CLAMAV_REQUIRED": "false",
    "EXECUTION_MAX_RUNNING_PER_USER": "1000",  # the cap is not what these runs are about
    "EXECUTION_DISPATCH_SWEEP_SECONDS": "1",
    "EXECUTION_REDISPATCH_SECONDS": "10",
    "EXECUTION_STALE_SECONDS": "15",
    "REAPER_INTERVAL_SECONDS": "5",
    "HEALTH_CHECK_TIMEOUT": "1",
    "DATABASE_CONNECT_TIMEOUT": "2",
}


class Http:
    """A tiny JSON client of the platform's REST API, one connection per call (the server may go)."""

    def __init__(self, port: int, token: str = ""):
        self.port = port
        self.token = token

    def request(self, method: str, path: str, body: Any = None, timeout: float = 30) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            response = conn.getresponse()
            raw = response.read()
            content_type = response.getheader("Content-Type", "")
            data = json.loads(raw) if raw and "json" in content_type else raw.decode(errors="replace")[:300]
            return response.status, data
        except (OSError, http.client.HTTPException) as exc:
            return 0, f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()


class OutagePlatform:
    """Migrates the private database, then runs the roles against the private services."""

    def __init__(self, services: PrivateServices, *, executor_concurrency: int = 6, name: str = "outage"):
        self.services = services
        self.env = {**PLATFORM_ENV, **services.env()}
        self.name = name
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env={**os.environ, **self.env},
            check=True,
            capture_output=True,
            timeout=300,
        )
        self.port = processes.free_port()
        self.roles: list[processes.PlatformProcess] = []
        try:
            self.roles.append(processes.daphne(self.port, env=self.env))
            self.roles.append(
                processes.celery_worker(
                    f"{name}-executor", ["agent_executions"], concurrency=executor_concurrency, env=self.env
                )
            )
            self.roles.append(
                processes.celery_worker(f"{name}-system", ["system_events", "notifications"], env=self.env)
            )
            self.roles.append(processes.celery_beat(env=self.env, name=f"{name}-beat"))
        except Exception:
            self.stop()
            raise

    def alive(self) -> list[str]:
        """Names of roles that have exited (none should: they reconnect by themselves)."""
        return [role.name for role in self.roles if role.process.poll() is not None]

    def stop(self) -> None:
        for role in reversed(self.roles):
            role.stop()

    def user(self) -> "Http":
        http = Http(self.port)
        email = f"outage-{uuid.uuid4().hex[:8]}@example.com"
        password = "outage-password-123"
        status, body = http.request("POST", "/api/v1/auth/register", {"email": email, "password": password})
        assert status == 201, body
        status, body = http.request("POST", "/api/v1/auth/login", {"email": email, "password": password})
        assert status == 200, body
        return Http(self.port, body["access"])


@dataclass
class Submission:
    index: int
    sent_at: float
    status: int = 0
    exec_id: str | None = None
    body: Any = None


@dataclass
class OutageFigures:
    outage: str
    submitted: int = 0
    answers: dict[str, int] = field(default_factory=dict)
    accepted: int = 0
    refused_503: int = 0
    answered_otherwise: int = 0
    created_for_refused: int = 0
    completed: int = 0
    failed: int = 0
    failure_messages: dict[str, int] = field(default_factory=dict)
    lost: int = 0
    stuck: int = 0
    nodes_rerun: int = 0
    down_seconds: float = 0.0
    ready_503_while_down: bool = False
    ready_200_after_return_seconds: float | None = None
    accepted_after_return: int = 0
    refused_after_return: int = 0
    probes_completed: int = 0
    roles_exited: list[str] = field(default_factory=list)
    finished_within_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def outage_graph(client: Http, record_path: str) -> dict:
    """Record → wait `seconds` → record → output: about `seconds` s per run, two countable nodes."""
    graph = {
        "name": "outage run",
        "nodes": [
            node("before", RECORD_RUN, path=record_path, value="go"),
            node("wait", COUNTDOWN, seconds=1),
            node("after", RECORD_RUN, path=record_path),
            node("out", AGENT_OUTPUT, name="result"),
        ],
        "links": [
            link("before", "output", "wait", "input_message"),
            link("wait", "output_message", "after", "value"),
            link("after", "output", "out", "value"),
        ],
    }
    status, body = client.request("POST", "/api/v1/graphs", graph)
    assert status == 201, body
    return body


def _watch_readiness(http: Http, stop: threading.Event, samples: list[tuple[float, int]]) -> None:
    while not stop.is_set():
        status, _ = http.request("GET", "/health/ready", timeout=5)
        samples.append((time.monotonic(), status))
        stop.wait(0.25)


OUTAGES: dict[str, Callable[[PrivateServices, float], float]] = {
    "rabbitmq_restart": lambda services, down: restart(services.rabbitmq, down_seconds=down),
    "redis_restart": lambda services, down: restart(services.redis, down_seconds=down),
    "postgres_restart": lambda services, down: restart(services.postgres, down_seconds=down),
    "rabbitmq_sigkill": lambda services, down: restart(services.rabbitmq, down_seconds=down, kill=True),
}


def run_outage(
    platform: OutagePlatform,
    outage: str,
    *,
    runs: int = 200,
    per_second: float = 20.0,
    outage_after: float = 4.0,
    down_seconds: float = 5.0,
    finish_timeout: float = 150.0,
) -> OutageFigures:
    """Submit `runs` runs at `per_second` through REST, take the service down `outage_after` s in for
    `down_seconds`, then wait until every accepted run has ended (or finish_timeout) and count."""
    figures = OutageFigures(outage=outage, submitted=runs)
    client = platform.user()
    record_path = tempfile.mktemp(prefix="outage-runs-", suffix=".log")
    graph = outage_graph(client, record_path)
    path = f"/api/v1/graphs/{graph['id']}/execute/{graph['version']}"
    submissions = [Submission(index=i, sent_at=0.0) for i in range(runs)]

    def submit(submission: Submission) -> None:
        submission.sent_at = time.monotonic()
        submission.status, submission.body = client.request("POST", path, {"inputs": {}})
        if submission.status == 201:
            submission.exec_id = submission.body["id"]

    readiness: list[tuple[float, int]] = []
    stop_watching = threading.Event()
    watcher = threading.Thread(target=_watch_readiness, args=(Http(platform.port), stop_watching, readiness))
    outage_window: dict[str, float] = {}

    def take_down() -> None:
        outage_window["down"] = time.monotonic()
        figures.down_seconds = round(OUTAGES[outage](platform.services, down_seconds), 1)
        outage_window["up"] = time.monotonic()

    started = time.monotonic()
    watcher.start()
    outage_thread = threading.Timer(outage_after, take_down)
    outage_thread.start()
    with ThreadPoolExecutor(max_workers=32) as pool:
        for submission in submissions:
            delay = started + submission.index / per_second - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(submit, submission)
    outage_thread.join()
    # The web recovers by itself: runs sent once the service has been back a few seconds are taken.
    time.sleep(max(0.0, outage_window["up"] + 3 - time.monotonic()))
    probes = [Submission(index=runs + i, sent_at=0.0) for i in range(PROBES)]
    for probe in probes:
        submit(probe)
    figures.accepted_after_return = sum(1 for probe in probes if probe.status == 201)
    figures.refused_after_return = PROBES - figures.accepted_after_return
    accepted = {s.exec_id for s in submissions + probes if s.exec_id}
    ended_at = _wait_until_ended(platform, graph["id"], accepted, finish_timeout)
    figures.finished_within_seconds = round(ended_at - started, 1)
    time.sleep(2)  # a last look at readiness once everything has settled
    stop_watching.set()
    watcher.join()
    _count(figures, platform, graph["id"], submissions, accepted, record_path, outage_window, readiness)
    rows = _executions(platform, graph["id"])
    figures.probes_completed = sum(1 for probe in probes if rows.get(probe.exec_id or "", ("",))[0] == "COMPLETED")
    os.unlink(record_path) if os.path.exists(record_path) else None
    return figures


def _executions(platform: OutagePlatform, graph_id: str) -> dict[str, tuple[str, dict | None]]:
    """Every execution of the graph in the private database: id -> (status, error)."""
    try:
        with platform.services.postgres.connect() as conn:
            rows = conn.execute(
                "SELECT id::text, status, error FROM executions_graphexecution WHERE graph_id = %s", [graph_id]
            ).fetchall()
    except Exception:
        return {}
    return {row[0]: (row[1], row[2]) for row in rows}


def _wait_until_ended(platform: OutagePlatform, graph_id: str, accepted: set[str], timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = _executions(platform, graph_id)
        if rows and all(rows.get(exec_id, ("?",))[0] in TERMINAL for exec_id in accepted):
            return time.monotonic()
        time.sleep(0.5)
    return time.monotonic()


def _count(
    figures: OutageFigures,
    platform: OutagePlatform,
    graph_id: str,
    submissions: list[Submission],
    accepted: set[str],
    record_path: str,
    window: dict[str, float],
    readiness: list[tuple[float, int]],
) -> None:
    figures.answers = dict(Counter(str(s.status) for s in submissions))
    figures.accepted = sum(1 for s in submissions if s.status == 201)
    figures.refused_503 = sum(1 for s in submissions if s.status == 503)
    figures.answered_otherwise = figures.submitted - figures.accepted - figures.refused_503
    rows = _executions(platform, graph_id)
    figures.created_for_refused = len(set(rows) - accepted)
    for exec_id in (s.exec_id for s in submissions if s.exec_id):
        status, error = rows.get(exec_id, (None, None))
        if status is None:
            figures.lost += 1
        elif status == "COMPLETED":
            figures.completed += 1
        elif status in TERMINAL:
            figures.failed += 1
            message = (error or {}).get("message", "")
            figures.failure_messages[message] = figures.failure_messages.get(message, 0) + 1
        else:
            figures.stuck += 1
    figures.nodes_rerun = sum(count - 1 for count in recorded_runs(record_path).values() if count > 1)
    up = window.get("up", 0.0)
    figures.ready_503_while_down = any(status == 503 for at, status in readiness if window.get("down", 0.0) <= at <= up)
    back = [at for at, status in readiness if at > up and status == 200]
    figures.ready_200_after_return_seconds = round(back[0] - up, 1) if back else None
    figures.roles_exited = platform.alive()
