"""docker/: the compose stack and its image, checked by reading the files (no Docker engine needed).

Each test checks one thing: the processes from DESIGN.md "Processes" all exist, they can scale,
they restart and report health, they consume the right queues, publish the right ports, and every
command names code that is really in this project.
"""

import importlib
import importlib.util
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from celery import Celery
from celery.utils.imports import symbol_by_name
from django.core.management import get_commands

from autogpt_platform.queues import CeleryQueue

ROOT = Path(__file__).resolve().parent.parent
DOCKER_DIR = ROOT / "docker"
COMPOSE_FILE = DOCKER_DIR / "compose.yml"
DOCKERFILE = DOCKER_DIR / "Dockerfile"

INFRA_SERVICES = {"postgres", "redis", "rabbitmq", "clamav"}
APP_SERVICES = {
    "rest_server",
    "websocket_server",
    "executor",
    "notification_server",
    "system_worker",
    "scheduler_server",
    "flower",
}
ONE_SHOT_SERVICES = {"migrate"}
REQUIRED_SERVICES = INFRA_SERVICES | APP_SERVICES | ONE_SHOT_SERVICES

WORKER_QUEUES = {
    "executor": {CeleryQueue.AGENT_EXECUTIONS.value},
    "notification_server": {CeleryQueue.NOTIFICATIONS.value},
    "system_worker": {CeleryQueue.SYSTEM_EVENTS.value},
}
# Services that must scale (`--scale executor=5`): no fixed host port.
SCALABLE_SERVICES = set(WORKER_QUEUES) | {"scheduler_server"}

PUBLISHED_PORTS = {8006: "rest_server", 8001: "websocket_server", 5555: "flower", 15672: "rabbitmq"}

CELERY_APP_MODULES = {"autogpt_platform": "autogpt_platform.celery"}
CELERY_SUBCOMMANDS = {"worker", "beat", "flower"}


# --- Helpers ---------------------------------------------------------------------------------


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


COMPOSE = load_compose()
SERVICES: dict[str, dict] = COMPOSE["services"]
SERVICES_FROM_OUR_IMAGE = sorted(name for name, service in SERVICES.items() if "build" in service)

_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: str) -> str:
    """Compose's variable substitution, for an environment where no variable is set:
    ${X:-default} gives the default, a required ${X:?message} gives a placeholder `<X>`."""

    def substitute(match: re.Match) -> str:
        if match["op"] and match["op"].endswith("-"):
            return match["arg"]
        return f"<{match['name']}>"

    return _VARIABLE.sub(substitute, value).replace("$$", "$")


def command_of(service_name: str) -> list[str]:
    """The service's command as the argument list compose runs (a string is split shell-style)."""
    command = SERVICES[service_name]["command"]
    if isinstance(command, str):
        return shlex.split(interpolate(command))
    return [interpolate(str(arg)) for arg in command]


def option_value(args: list[str], *names: str) -> str | None:
    """The value of `--name value`, `--name=value` or `-n value` in args, or None."""
    for index, arg in enumerate(args):
        for name in names:
            if arg == name and index + 1 < len(args):
                return args[index + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def host_ports(service: dict) -> set[int]:
    """The host ports a service publishes ("8006:8006", "127.0.0.1:8006:8006" or long syntax)."""
    ports = set()
    for port in service.get("ports", []):
        if isinstance(port, dict):
            if "published" in port:
                ports.add(int(port["published"]))
            continue
        parts = str(port).split(":")
        if len(parts) >= 2:
            ports.add(int(parts[-2]))
    return ports


def healthcheck_command(service_name: str) -> str:
    test = SERVICES[service_name]["healthcheck"]["test"]
    if isinstance(test, str):
        return test
    return " ".join(test[1:])  # drop "CMD" / "CMD-SHELL"


# --- Services exist and can scale ------------------------------------------------------------


def test_every_process_and_dependency_has_a_service():
    missing = REQUIRED_SERVICES - set(SERVICES)
    assert not missing, f"compose.yml lacks services: {sorted(missing)}"


def test_no_service_sets_container_name_so_services_can_scale():
    named = [name for name, service in SERVICES.items() if "container_name" in service]
    assert not named, f"container_name prevents `--scale`: {named}"


def test_scalable_services_publish_no_fixed_host_port():
    fixed = {name: sorted(host_ports(SERVICES[name])) for name in SCALABLE_SERVICES if host_ports(SERVICES[name])}
    assert not fixed, f"a fixed host port prevents `--scale`: {fixed}"


def test_exactly_one_scheduler_replica():
    assert SERVICES["scheduler_server"]["deploy"]["replicas"] == 1


# --- Restart and health ----------------------------------------------------------------------


def test_long_running_services_restart_and_migrate_runs_once():
    for name, service in SERVICES.items():
        if name in ONE_SHOT_SERVICES:
            # Quoted in YAML: a bare `no` would load as False.
            assert service.get("restart") == "no", f"{name} must not restart"
        else:
            assert service.get("restart") in {"always", "unless-stopped", "on-failure"}, f"{name} has no restart policy"


def test_every_long_running_service_has_a_healthcheck():
    for name, service in SERVICES.items():
        if name in ONE_SHOT_SERVICES:
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_worker_healthchecks_ping_the_node_name_the_worker_uses():
    for name in WORKER_QUEUES:
        node_name = option_value(command_of(name), "-n", "--hostname")
        assert node_name and node_name.endswith("@%h"), f"{name} should name its node <name>@%h"
        expected = node_name.replace("%h", "$HOSTNAME")
        health = interpolate(healthcheck_command(name))
        assert "inspect ping" in health, f"{name} healthcheck should be `celery inspect ping`"
        assert expected in health, f"{name} healthcheck pings something other than {expected}"


def test_app_services_wait_for_healthy_infrastructure_and_finished_migrations():
    expected = {
        "postgres": "service_healthy",
        "redis": "service_healthy",
        "rabbitmq": "service_healthy",
        "migrate": "service_completed_successfully",
    }
    for name in APP_SERVICES:
        depends_on = SERVICES[name].get("depends_on", {})
        conditions = {dependency: spec.get("condition") for dependency, spec in depends_on.items()}
        assert conditions.items() >= expected.items(), f"{name} depends_on is {conditions}"


def test_migrate_waits_for_a_healthy_database():
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


# --- Queues, ports, credentials --------------------------------------------------------------


@pytest.mark.parametrize("service_name", sorted(WORKER_QUEUES))
def test_worker_consumes_its_queue(service_name):
    queues = option_value(command_of(service_name), "-Q", "--queues")
    assert queues, f"{service_name} names no queue with -Q"
    assert set(queues.split(",")) == WORKER_QUEUES[service_name]


def test_every_queue_has_a_worker():
    consumed = set().union(*(option_value(command_of(name), "-Q", "--queues").split(",") for name in WORKER_QUEUES))
    assert {queue.value for queue in CeleryQueue} <= consumed


@pytest.mark.parametrize("port, service_name", sorted(PUBLISHED_PORTS.items()))
def test_port_is_published_by_the_right_service(port, service_name):
    publishers = sorted(name for name, service in SERVICES.items() if port in host_ports(service))
    assert publishers == [service_name]


def test_flower_requires_basic_auth_with_no_default_credentials():
    raw_command = SERVICES["flower"]["command"]
    raw_command = raw_command if isinstance(raw_command, str) else " ".join(raw_command)
    assert "--basic-auth=${FLOWER_BASIC_AUTH:?" in raw_command
    assert option_value(command_of("flower"), "--basic-auth")


def test_secret_key_must_be_provided():
    for name in SERVICES_FROM_OUR_IMAGE:
        assert SERVICES[name]["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?"), name


def test_encryption_keys_must_be_provided():
    for name in SERVICES_FROM_OUR_IMAGE:
        assert SERVICES[name]["environment"]["ENCRYPTION_KEYS"].startswith("${ENCRYPTION_KEYS:?"), name


def test_app_environment_points_at_services_in_the_stack():
    for name in SERVICES_FROM_OUR_IMAGE:
        environment = SERVICES[name]["environment"]
        hosts = {
            "DATABASE_URL": urlsplit(environment["DATABASE_URL"]).hostname,
            "REDIS_URL": urlsplit(environment["REDIS_URL"]).hostname,
            "CELERY_BROKER_URL": urlsplit(environment["CELERY_BROKER_URL"]).hostname,
            "CLAMD_HOST": environment["CLAMD_HOST"],
        }
        unknown = {variable: host for variable, host in hosts.items() if host not in SERVICES}
        assert not unknown, f"{name} points at hosts that are not services: {unknown}"


def test_named_volumes_are_declared():
    declared = set(COMPOSE.get("volumes") or {})
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume["source"] if isinstance(volume, dict) else str(volume).split(":")[0]
            if not source.startswith((".", "/", "~")):
                assert source in declared, f"{name} uses undeclared volume {source}"


# --- Commands name code that exists ----------------------------------------------------------


def assert_daphne_target_exists(args: list[str]) -> None:
    target = args[-1]
    module_name, _, attribute = target.partition(":")
    assert attribute, f"daphne target {target} should be module:attribute"
    module = importlib.import_module(module_name)
    assert hasattr(module, attribute), f"{module_name} has no {attribute}"


def assert_celery_target_exists(args: list[str]) -> None:
    app_name = option_value(args, "-A", "--app")
    assert app_name in CELERY_APP_MODULES, f"unexpected Celery app {app_name}"
    module = importlib.import_module(CELERY_APP_MODULES[app_name])
    assert isinstance(getattr(module, "app", None), Celery), f"{module.__name__}.app is not a Celery app"

    subcommand = next(arg for arg in args[1:] if not arg.startswith("-") and arg != app_name)
    assert subcommand in CELERY_SUBCOMMANDS, f"unexpected celery subcommand {subcommand}"
    if subcommand == "beat":
        scheduler = option_value(args, "-S", "--scheduler") or module.app.conf.beat_scheduler
        symbol_by_name(scheduler)  # raises if the scheduler class is not importable


def assert_manage_py_command_exists(args: list[str]) -> None:
    assert args[1] == "manage.py" and (ROOT / "manage.py").exists()
    assert args[2] in get_commands(), f"manage.py has no command {args[2]}"


@pytest.mark.parametrize("service_name", SERVICES_FROM_OUR_IMAGE)
def test_service_command_names_code_that_exists(service_name):
    args = command_of(service_name)
    program = args[0]
    if program == "daphne":
        assert_daphne_target_exists(args)
    elif program == "celery":
        assert_celery_target_exists(args)
    elif program == "python":
        assert_manage_py_command_exists(args)
    else:
        pytest.fail(f"{service_name} runs {program}, which this test does not know how to check")


# --- The image -------------------------------------------------------------------------------


def test_compose_builds_from_the_project_root_with_a_dockerfile_that_exists():
    for name in SERVICES_FROM_OUR_IMAGE:
        build = SERVICES[name]["build"]
        context = (COMPOSE_FILE.parent / build["context"]).resolve()
        assert context == ROOT, f"{name} builds from {context}"
        assert (context / build["dockerfile"]).is_file(), f"{name} names a missing Dockerfile"


def test_dockerfile_installs_prod_requirements_that_exist():
    assert DOCKERFILE.is_file()
    assert "requirements/prod.txt" in DOCKERFILE.read_text()
    prod = ROOT / "requirements" / "prod.txt"
    assert prod.is_file()
    assert "-r base.txt" in prod.read_text().splitlines()


def test_dockerfile_runs_as_non_root_with_prod_settings():
    text = DOCKERFILE.read_text()
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert "DJANGO_SETTINGS_MODULE=autogpt_platform.settings.prod" in text
    assert importlib.util.find_spec("autogpt_platform.settings.prod") is not None
    assert "collectstatic" in text


def test_dockerfile_exposes_the_served_ports():
    exposed = {
        int(port)
        for line in re.findall(r"^EXPOSE\s+(.+)$", DOCKERFILE.read_text(), flags=re.MULTILINE)
        for port in line.split()
    }
    assert {8006, 8001, 5555} <= exposed


def test_build_context_leaves_out_local_state():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", "var", ".git", "media", "staticfiles"} <= ignored
    assert any("__pycache__" in pattern for pattern in ignored)
