"""Real platform processes for tests: Celery workers, beat and daphne, started as subprocesses
against the same test database, broker and Redis the test process uses."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
# TEST_LOG_DIR keeps two test runs on one machine (each with its own database, vhost and Redis
# db) from writing over each other's process logs.
LOG_DIR = Path(os.environ.get("TEST_LOG_DIR", ROOT / "var" / "test-logs"))


def child_database_url() -> str:
    """The URL of the database pytest-django created (its NAME is the test_ one by now)."""
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], object], *, timeout: float, interval: float = 0.1, message: str = "condition"):
    """Poll until condition() is truthy and return its value; bounded by timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"Timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


class PlatformProcess:
    """One role of the platform in a subprocess, its output in var/test-logs/<name>.log."""

    def __init__(self, name: str, args: list[str], env: dict[str, str] | None = None):
        self.name = name
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{name}.log"
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            args,
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": child_database_url(), "PYTHONUNBUFFERED": "1", **(env or {})},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 30) -> None:
        def seen() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            return text in self.log()

        wait_until(seen, timeout=timeout, message=f"'{text}' in the {self.name} log")

    def stop(self, timeout: float = 15) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self._log.close()

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash would."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


def celery_worker(
    name: str, queues: list[str], concurrency: int = 2, env: dict[str, str] | None = None
) -> PlatformProcess:
    worker = PlatformProcess(
        f"worker-{name}",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "autogpt_platform",
            "worker",
            "-Q",
            ",".join(queues),
            "-n",
            f"{name}@%h",
            "-c",
            str(concurrency),
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
    )
    worker.node_name = f"{name}@{socket.gethostname()}"
    worker.wait_for_log("ready.", timeout=60)
    return worker


def celery_beat(env: dict[str, str] | None = None, name: str = "beat") -> PlatformProcess:
    """One beat, its log and pid file named after name (a bench's beat may run beside a test run's)."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    beat = PlatformProcess(
        name,
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "autogpt_platform",
            "beat",
            "--loglevel",
            "INFO",
            "--pidfile",
            str(LOG_DIR / f"{name}.pid"),
        ],
        env=env,
    )
    try:
        beat.wait_for_log("beat: Starting...", timeout=60)
    except Exception:
        beat.stop()
        raise
    return beat


def daphne(port: int, env: dict[str, str] | None = None) -> PlatformProcess:
    server = PlatformProcess(
        f"daphne-{port}",
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "autogpt_platform.asgi:application"],
        env=env,
    )
    server.wait_for_log("Listening on TCP address", timeout=60)
    return server
