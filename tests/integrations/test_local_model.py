"""The embedded model's plan, status and messages (integrations/llm/local_model.py), and make run's
model role (`manage.py run_local_model`) as a real process when it does not serve the model: idle,
failed, or waiting for another installation."""

import fcntl
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import psutil
import pytest

from agents.blocks import BlockContext, BlockError
from agents.blocks.llm import AITextGeneratorBlock
from autogpt_platform.health import run_checks
from integrations.llm import local_model
from integrations.llm.client import LlmNotConfigured, LlmServerNotRunning, llm_complete
from integrations.llm.local_model import (
    PlanReason,
    State,
    embedded_base_url,
    llm_default_model,
    local_model_plan,
    local_model_status_get,
    local_model_status_write,
    model_file,
    packages_missing,
    server_answers,
)
from integrations.llm.registry import LOCAL_MODEL
from integrations.selectors import ResolvedCredential
from tests.processes import PlatformProcess, free_port, wait_until

KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GROQ_API_KEY", "OPEN_ROUTER_API_KEY")


@pytest.fixture
def no_provider(settings, tmp_path):
    """No key, the embedded model in auto mode, a status file of this test's own."""
    for name in KEYS:
        setattr(settings, name, "")
    settings.LOCAL_LLM = "auto"
    settings.LOCAL_LLM_BASE_URL = ""
    settings.VAR_DIR = tmp_path
    return settings


def local_credential() -> ResolvedCredential:
    return ResolvedCredential(id="system-local", provider="local", type="api_key", title="Local models", is_system=True)


def ask_local():
    return llm_complete(credential=local_credential(), model=LOCAL_MODEL, messages=[{"role": "user", "content": "hi"}])


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- whether make run serves it -------------------------------------------------------------------------


def test_with_no_key_the_embedded_model_is_served(no_provider):
    plan = local_model_plan()

    assert (plan.serve, plan.reason) == (True, PlanReason.NO_KEY)
    assert all(name in plan.explanation for name in KEYS)
    assert llm_default_model() == LOCAL_MODEL


@pytest.mark.parametrize(
    ("key", "model"),
    [
        ("OPENAI_API_KEY", "gpt-4o-mini"),
        ("ANTHROPIC_API_KEY", "claude-haiku-4-5-20251001"),
        ("GROQ_API_KEY", "llama-3.1-8b-instant"),
        ("OPEN_ROUTER_API_KEY", "openai/gpt-oss-20b"),
    ],
)
def test_a_provider_key_turns_it_off_and_picks_that_providers_model(no_provider, key, model):
    setattr(no_provider, key, "sk-test-0123456789")

    plan = local_model_plan()

    assert (plan.serve, plan.reason, plan.explanation) == (False, PlanReason.KEY_SET, f"{key} is set (LOCAL_LLM=auto)")
    assert llm_default_model() == model


def test_several_keys_are_all_named_and_openai_is_the_default(no_provider):
    no_provider.GROQ_API_KEY = no_provider.OPENAI_API_KEY = "sk-test-0123456789"

    assert local_model_plan().explanation == "OPENAI_API_KEY and GROQ_API_KEY are set (LOCAL_LLM=auto)"
    assert llm_default_model() == "gpt-4o-mini"


def test_local_llm_on_serves_it_beside_a_key_and_off_never(no_provider):
    no_provider.OPENAI_API_KEY = "sk-test-0123456789"
    no_provider.LOCAL_LLM = "on"
    assert (local_model_plan().serve, local_model_plan().reason) == (True, PlanReason.FORCED)

    no_provider.OPENAI_API_KEY = ""
    no_provider.LOCAL_LLM = "off"
    assert (local_model_plan().serve, local_model_plan().reason) == (False, PlanReason.TURNED_OFF)


def test_a_base_url_of_the_operators_own_means_no_embedded_server(no_provider):
    no_provider.LOCAL_LLM_BASE_URL = "http://10.1.2.3:8080/v1"
    assert (local_model_plan().serve, local_model_plan().reason) == (False, PlanReason.OTHER_SERVER)

    # The URL make run sets for its roles is the embedded server's own: still served.
    no_provider.LOCAL_LLM_BASE_URL = embedded_base_url()
    assert local_model_plan().serve is True


def test_an_unknown_mode_is_not_guessed(no_provider):
    no_provider.LOCAL_LLM = "maybe"

    plan = local_model_plan()

    assert (plan.serve, plan.reason) == (False, PlanReason.BAD_SETTING)
    assert "auto, on or off" in plan.explanation


# --- status and messages ------------------------------------------------------------------------------


def test_the_status_file_round_trips_and_a_broken_one_reads_as_none(no_provider, tmp_path):
    assert local_model_status_get() is None

    local_model_status_write(state=State.INSTALLING, detail="installing llama-cpp-python==0.3.36")
    status = local_model_status_get()
    assert (status.state, status.detail) == (State.INSTALLING, "installing llama-cpp-python==0.3.36")
    assert abs(status.since - time.time()) < 5

    (tmp_path / "local_model.json").write_text("{not json")
    assert local_model_status_get() is None


def embedded_server_down(settings) -> None:
    """LOCAL_LLM_BASE_URL as make run sets it, with nothing listening there."""
    settings.LOCAL_LLM_PORT = closed_port()
    settings.LOCAL_LLM_BASE_URL = embedded_base_url()


def test_while_installing_the_error_says_what_the_role_is_doing(no_provider):
    embedded_server_down(no_provider)
    local_model_status_write(state=State.INSTALLING, detail="installing llama-cpp-python==0.3.36")

    with pytest.raises(LlmServerNotRunning) as raised:
        ask_local()

    message = str(raised.value)
    assert message.startswith("The embedded model is still being prepared: installing llama-cpp-python==0.3.36")
    assert "so far" in message and "model role" in message


def test_while_loading_the_error_says_so(no_provider):
    embedded_server_down(no_provider)
    local_model_status_write(state=State.LOADING, detail="loading SmolLM2-135M-Instruct.Q4_1.gguf")

    with pytest.raises(LlmServerNotRunning, match="still being prepared: loading SmolLM2"):
        ask_local()


def test_a_failed_preparation_is_reported_with_its_reason_and_what_to_set(no_provider):
    embedded_server_down(no_provider)
    local_model_status_write(state=State.FAILED, detail="pip exited with code 1")

    with pytest.raises(LlmServerNotRunning) as raised:
        ask_local()

    assert "could not be started: pip exited with code 1" in str(raised.value)
    assert "OPENAI_API_KEY" in str(raised.value)


def test_an_operators_own_server_refusing_is_not_called_the_embedded_model(no_provider):
    no_provider.LOCAL_LLM_BASE_URL = f"http://127.0.0.1:{closed_port()}/v1"
    local_model_status_write(state=State.INSTALLING, detail="left by an earlier make run")

    with pytest.raises(LlmServerNotRunning) as raised:
        ask_local()

    assert str(raised.value) == (
        f"Could not connect to the local model server at {no_provider.LOCAL_LLM_BASE_URL} (LOCAL_LLM_BASE_URL): "
        "connection refused."
    )


def test_turned_off_with_no_provider_the_message_names_what_to_set(no_provider):
    no_provider.LOCAL_LLM = "off"

    with pytest.raises(LlmNotConfigured) as raised:
        ask_local()

    message = str(raised.value)
    assert "not served: it is turned off (LOCAL_LLM=off)" in message
    for name in (*KEYS, "OLLAMA_HOST", "LOCAL_LLM=auto", "LOCAL_LLM_BASE_URL"):
        assert name in message


def test_an_ai_block_on_the_local_model_fails_naming_what_to_set(no_provider):
    no_provider.LOCAL_LLM = "off"
    context = BlockContext(user_id=None, graph_exec_id="exec", node_id="node")

    with pytest.raises(BlockError) as raised:
        list(AITextGeneratorBlock().execute({"prompt": "hi", "model": LOCAL_MODEL}, context))

    assert "LOCAL_LLM=off" in str(raised.value) and "OPENAI_API_KEY" in str(raised.value)


def test_with_a_key_set_the_message_says_to_choose_that_providers_model(no_provider):
    no_provider.ANTHROPIC_API_KEY = "sk-ant-test-0123456789"

    with pytest.raises(LlmNotConfigured) as raised:
        ask_local()

    assert "ANTHROPIC_API_KEY is set" in str(raised.value)
    assert "LOCAL_LLM=on" in str(raised.value)
    assert "sk-ant-test" not in str(raised.value)


def test_outside_make_run_the_message_says_only_make_run_serves_it(no_provider):
    with pytest.raises(LlmNotConfigured, match="not served to this process: only make run serves it"):
        ask_local()


# --- /health/ready --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_health_reports_it_absent_or_preparing_without_failing_readiness(no_provider):
    no_provider.LOCAL_LLM = "off"
    check = run_checks()["local_model"]
    assert check == {"status": "absent", "required": False, "detail": "not served: it is turned off (LOCAL_LLM=off)"}

    no_provider.LOCAL_LLM = "auto"
    no_provider.LOCAL_LLM_PORT = closed_port()
    no_provider.LOCAL_LLM_BASE_URL = embedded_base_url()
    local_model_status_write(state=State.INSTALLING, detail="installing llama-cpp-python==0.3.36")
    check = run_checks()["local_model"]
    assert (check["status"], check["required"]) == ("preparing", False)
    assert check["detail"].startswith("installing: installing llama-cpp-python==0.3.36 (")


# --- what is installed ------------------------------------------------------------------------------------


def test_the_pinned_packages_are_found_installed_and_a_missing_one_is_named(monkeypatch, tmp_path):
    # make test installs requirements/local-model*.txt before the suite.
    assert packages_missing() == []
    path = model_file()
    assert path is not None and path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 90_000_000

    requirements = tmp_path / "local-model.txt"
    requirements.write_text("-r base.txt\nllama-cpp-python[server]==0.0.1\nnot-a-package-here==1.0\n")
    monkeypatch.setattr(local_model, "REQUIREMENTS", requirements)
    assert packages_missing() == ["llama-cpp-python==0.0.1", "not-a-package-here==1.0"]


# --- the model role as a process -------------------------------------------------------------------------------


def role_env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {name: "" for name in KEYS}
    env.update(
        DJANGO_SETTINGS_MODULE="autogpt_platform.settings.test",
        VAR_DIR=str(tmp_path),
        LOCAL_LLM_BASE_URL="",
        LOCAL_LLM="auto",
        **values,
    )
    return env


def status_of(tmp_path: Path) -> dict:
    try:
        return json.loads((tmp_path / "local_model.json").read_text())
    except (OSError, ValueError):
        return {}


def stop_role(role: PlatformProcess) -> int:
    """SIGTERM to the role alone (honcho signals its whole group; the role must not need that)."""
    os.kill(role.pid, signal.SIGTERM)
    code = role.process.wait(timeout=15)
    role.stop()
    return code


@pytest.mark.django_db
def test_the_role_idles_when_a_key_is_set_and_stops_on_sigterm(tmp_path):
    role = PlatformProcess(
        "model-role-idle",
        [sys.executable, "manage.py", "run_local_model"],
        env=role_env(tmp_path, GROQ_API_KEY="gsk_x"),
    )
    try:
        role.wait_for_log("The embedded model is not served: GROQ_API_KEY is set (LOCAL_LLM=auto).", timeout=60)
        time.sleep(1)
        assert role.process.poll() is None  # honcho would stop every role if it exited
        assert status_of(tmp_path)["state"] == "off"
    finally:
        code = stop_role(role)
    assert code == 0
    assert role.log().count("is not served") == 1
    assert status_of(tmp_path)["state"] == "stopped"


@pytest.mark.django_db
def test_the_role_reports_a_port_in_use_as_failed_and_stays_up(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        role = PlatformProcess(
            "model-role-busy",
            [sys.executable, "manage.py", "run_local_model"],
            env=role_env(tmp_path, LOCAL_LLM_PORT=str(port)),
        )
        try:
            role.wait_for_log("The embedded model could not be started", timeout=60)
            status = status_of(tmp_path)
            assert status["state"] == "failed"
            assert status["detail"] == f"127.0.0.1:{port} is already in use (set LOCAL_LLM_PORT to a free port)"
            assert role.process.poll() is None
        finally:
            assert stop_role(role) == 0


@pytest.mark.django_db
def test_the_role_waits_for_another_installation_then_serves_and_takes_its_server_down(tmp_path):
    lock_path = Path(sys.prefix) / ".local-model-install.lock"
    port = free_port()
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        role = PlatformProcess(
            "model-role-lock",
            [sys.executable, "manage.py", "run_local_model"],
            env=role_env(tmp_path, LOCAL_LLM_PORT=str(port)),
        )
        try:
            role.wait_for_log("waiting for another installation into this environment to finish", timeout=60)
            assert status_of(tmp_path)["state"] == "installing"
        except BaseException:
            role.stop()
            raise
        fcntl.flock(lock, fcntl.LOCK_UN)
    try:
        # Everything is installed already: straight to loading, then ready.
        wait_until(lambda: status_of(tmp_path).get("state") == "ready", timeout=90, message="the model to be ready")
        assert "Loading SmolLM2-135M-Instruct.Q4_1.gguf" in role.log()
        (server,) = psutil.Process(role.pid).children(recursive=True)
        assert "llama_cpp.server" in server.cmdline()
        assert server_answers(f"http://127.0.0.1:{port}/v1")
    finally:
        assert stop_role(role) == 0
    assert not server.is_running() or server.status() == psutil.STATUS_ZOMBIE
    assert not server_answers(f"http://127.0.0.1:{port}/v1")
