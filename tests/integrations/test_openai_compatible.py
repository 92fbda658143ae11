"""OPENAI_BASE_URL points the openai provider at any OpenAI-compatible server (vLLM, LM Studio, a
llama.cpp server): its own model names are sent as they are (the stand-in plays that server)."""

import pytest

from agents.blocks import BlockContext, BlockError
from agents.blocks.llm import AITextGeneratorBlock
from tests.llm_replies import SYSTEM_OPENAI_KEY
from tests.stand_ins.llm import Text

pytestmark = pytest.mark.django_db

OPENAI_SYSTEM_ID = "53c25cb8-e3ee-465c-a4d1-e75a4c899c2a"
PLATFORM_OPENAI = {"id": OPENAI_SYSTEM_ID, "provider": "openai", "type": "api_key"}


def generate(model: str):
    context = BlockContext(user_id=None, graph_exec_id="exec", node_id="node")
    inputs = {"prompt": "hi", "model": model, "credentials": PLATFORM_OPENAI}
    return list(AITextGeneratorBlock().execute(inputs, context)), context


def test_a_servers_own_model_name_goes_to_openai_base_url(llm):
    llm.script(Text("from vLLM", usage=(5, 2)))

    outputs, context = generate("Qwen/Qwen2.5-7B-Instruct")

    assert outputs[0] == ("response", "from vLLM")
    (request,) = llm.requests
    assert (request.path, request.api_key) == ("/v1/chat/completions", SYSTEM_OPENAI_KEY)
    assert request.json["model"] == "Qwen/Qwen2.5-7B-Instruct"
    assert context.llm_usage[0]["provider"] == "openai" and context.llm_usage[0]["cost"] == 0.0


def test_without_openai_base_url_only_openais_models_are_accepted(llm, settings):
    settings.OPENAI_BASE_URL = ""

    with pytest.raises(BlockError, match="OpenAI has no model 'Qwen/Qwen2.5-7B-Instruct'"):
        generate("Qwen/Qwen2.5-7B-Instruct")
    assert llm.requests == []
