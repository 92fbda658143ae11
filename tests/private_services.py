"""Service instances a test starts for itself, on its own ports and in a directory of its own, so
that it can stop, kill and start them again mid-run without touching the machine's shared ones:
a RabbitMQ node, a redis-server and a PostgreSQL cluster (tests/executions/test_outages.py,
bench/bench_outages.py).

Each runs in a process group of its own: stop() is a clean shutdown (SIGTERM, as an operator's
restart), kill() is SIGKILL of the whole group (a crash); start() again keeps the data directory.
PostgreSQL refuses to run as root: its commands run as the `postgres` OS user (runuser) when the
tests run as root.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from kombu import Connection

from tests.processes import free_port, wait_until


def _pg_bin() -> Path:
    """Debian's newest PostgreSQL (the one scripts/ensure_services.sh installs), or PG_BIN."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name))
    return versions[-1] if versions else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()
RABBITMQ_SERVER = os.environ.get("RABBITMQ_SERVER", "/usr/lib/rabbitmq/bin/rabbitmq-server")


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class PrivateService:
    name = "service"

    def __init__(self, root: Path):
        self.dir = root / self.name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = self.dir / f"{self.name}.log"

    def command(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    def ready(self) -> bool:
        return _port_open(self.port)

    def start(self, timeout: float = 60) -> None:
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                self.command(), env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

        def up() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            return self.ready()

        wait_until(up, timeout=timeout, interval=0.1, message=f"{self.name} on port {self.port}")

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def _signal_group(self, sig: int) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 30) -> None:
        """A clean shutdown, as an operator's restart does."""
        if self.process is None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.process.wait()
        wait_until(lambda: not _port_open(self.port), timeout=timeout, message=f"{self.name} to close its port")
        self._signal_group(signal.SIGKILL)  # anything of its group left behind
        self.process = None

    def kill(self) -> None:
        """SIGKILL to the whole process group, as a crash or the OOM killer would."""
        if self.process is None:
            return
        self._signal_group(signal.SIGKILL)
        self.process.wait()
        wait_until(lambda: not _port_open(self.port), timeout=30, message=f"{self.name} to close its port")
        self.process = None


class PrivateRedis(PrivateService):
    """redis-server without persistence: a restart loses every key, as the issue's Redis did."""

    name = "redis"

    def command(self) -> list[str]:
        return [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.dir),
        ]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class PrivatePostgres(PrivateService):
    """A PostgreSQL cluster of its own (initdb into the test's directory, trust authentication)."""

    name = "postgres"
    database = "platform"

    def __init__(self, root: Path):
        super().__init__(root)
        self.data = self.dir / "data"
        self.socket_dir = self.dir / "socket"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        os.chmod(root, 0o755)
        os.chmod(self.dir, 0o777)
        self.socket_dir.mkdir(exist_ok=True)
        os.chmod(self.socket_dir, 0o777)
        subprocess.run(
            [*self.as_postgres, str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-N"],
            check=True,
            capture_output=True,
            text=True,
        )

    def command(self) -> list[str]:
        options = [
            "-p",
            str(self.port),
            "-k",
            str(self.socket_dir),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "max_connections=300",
            "-c",
            "fsync=off",  # a clean stop still checkpoints; the tests never crash PostgreSQL itself
        ]
        return [*self.as_postgres, str(PG_BIN / "postgres"), "-D", str(self.data), *options]

    def ready(self) -> bool:
        try:
            with psycopg.connect(self.admin_url, connect_timeout=1):
                return True
        except psycopg.Error:
            return False

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"

    def create_database(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}", autocommit=True)


class PrivateRabbitMQ(PrivateService):
    """A RabbitMQ node of its own: its own node name, ports, data (mnesia) and log directories, and
    a configuration file that replaces the machine's (which names port 5672)."""

    name = "rabbitmq"

    def __init__(self, root: Path):
        super().__init__(root)
        self.dist_port = free_port()
        self.node = f"outage-{uuid.uuid4().hex[:8]}@localhost"
        (self.dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.port}\n"
            "management.tcp.port = 0\n"
            "disk_free_limit.absolute = 10MB\n"
            "log.console = true\nlog.console.level = warning\nlog.file = false\n"
        )
        (self.dir / "enabled_plugins").write_text("[].\n")
        (self.dir / "rabbitmq-env.conf").write_text("")

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HOME": str(self.dir),  # its Erlang cookie lives here
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONF_ENV_FILE": str(self.dir / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.dir / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_PID_FILE": str(self.dir / "rabbitmq.pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    def command(self) -> list[str]:
        return [RABBITMQ_SERVER]

    def ready(self) -> bool:
        if not _port_open(self.port):
            return False
        try:
            with Connection(self.url, connect_timeout=1) as conn:
                conn.ensure_connection(max_retries=1, timeout=1)
                return True
        except Exception:
            return False

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"


class PrivateServices:
    """All three, in one temporary directory removed at the end."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="outages-"))
        self.redis = PrivateRedis(self.root)
        self.postgres = PrivatePostgres(self.root)
        self.rabbitmq = PrivateRabbitMQ(self.root)
        self.all = {"redis": self.redis, "postgres": self.postgres, "rabbitmq": self.rabbitmq}

    def start(self) -> None:
        self.redis.start()
        self.postgres.start()
        self.postgres.create_database()
        self.rabbitmq.start(timeout=120)

    def env(self) -> dict[str, str]:
        """What a platform process needs to use them."""
        return {
            "DATABASE_URL": self.postgres.url,
            "REDIS_URL": self.redis.url,
            "CELERY_BROKER_URL": self.rabbitmq.url,
        }

    def stop(self) -> None:
        for service in self.all.values():
            try:
                service.stop()
            except Exception:
                service.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def restart(service: PrivateService, *, down_seconds: float, kill: bool = False) -> float:
    """Take service down (SIGKILL, or a clean stop), keep it down down_seconds, start it again.
    Returns how long it was unreachable."""
    started = time.monotonic()
    service.kill() if kill else service.stop()
    time.sleep(max(0.0, down_seconds - (time.monotonic() - started)))
    service.start(timeout=120)
    return time.monotonic() - started
