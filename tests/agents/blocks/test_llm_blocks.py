"""The LLM blocks run in this process against the LLM stand-in, with the platform's (system)
credentials from settings: what they send, what they yield, what they record."""

import pytest

from agents.blocks import BlockContext, BlockError, ToolSink
from agents.blocks.llm import (
    AIConversationBlock,
    AIListGeneratorBlock,
    AIStructuredResponseGeneratorBlock,
    AITextGeneratorBlock,
    AITextSummarizerBlock,
    SmartDecisionMakerBlock,
    build_tools,
    split_text,
)
from agents.pins import source_value
from tests.graphs import AGENT_EXECUTOR, CALCULATOR
from tests.llm_replies import SYSTEM_ANTHROPIC_KEY, SYSTEM_OPENAI_KEY, block_responder
from tests.stand_ins.llm import Error, Text, ToolCalls

pytestmark = pytest.mark.django_db


def run(block_class, inputs: dict, context: BlockContext | None = None) -> tuple[list, BlockContext]:
    context = context or BlockContext(user_id=None, graph_exec_id="exec", node_id="node")
    return list(block_class().execute(inputs, context)), context


def test_text_generator_fills_the_prompts_and_records_usage(llm):
    llm.script(Text("Hello Ada!", usage=(21, 3)))

    outputs, context = run(
        AITextGeneratorBlock,
        {
            "prompt": "Greet {{name}}",
            "sys_prompt": "You are {{ role }}.",
            "prompt_values": {"name": "Ada", "role": "kind"},
        },
    )

    sent = [{"role": "system", "content": "You are kind."}, {"role": "user", "content": "Greet Ada"}]
    assert outputs == [("response", "Hello Ada!"), ("prompt", sent)]
    (request,) = llm.requests
    assert request.api_key == SYSTEM_OPENAI_KEY  # no credentials pin: the platform's key
    assert request.json["model"] == "gpt-4o" and request.json["messages"] == sent
    assert context.llm_usage == [
        {"provider": "openai", "model": "gpt-4o", "input_tokens": 21, "output_tokens": 3, "cost": 0.0000825}
    ]


def test_a_prompt_that_is_no_template_still_gets_its_values(llm):
    llm.script(Text("ok"))

    run(AITextGeneratorBlock, {"prompt": 'Answer {"a": {{x}} } for {{ x }}', "prompt_values": {"x": [1, 2]}})

    assert llm.requests[0].json["messages"][-1]["content"] == 'Answer {"a": [1, 2] } for [1, 2]'


def test_text_generator_speaks_anthropic_for_claude(llm):
    llm.script(Text("Bonjour"))

    outputs, _ = run(AITextGeneratorBlock, {"prompt": "Hi", "sys_prompt": "French", "model": "claude-3-5-haiku-latest"})

    assert outputs[0] == ("response", "Bonjour")
    (request,) = llm.requests
    assert (request.api, request.api_key, request.json["system"]) == ("anthropic", SYSTEM_ANTHROPIC_KEY, "French")


def test_structured_answer_is_parsed_and_its_keys_checked_with_retries(llm):
    replies = iter([{"name": "Ada"}, {"name": "Ada", "born": "1815"}])
    llm.respond_with(block_responder(lambda prompt: next(replies)))

    outputs, context = run(
        AIStructuredResponseGeneratorBlock,
        {"prompt": "Who wrote the first program?", "expected_format": {"name": "who", "born": "year of birth"}},
    )

    assert outputs[0] == ("response", {"name": "Ada", "born": "1815"})
    assert len(llm.requests) == 2 and len(context.llm_usage) == 2
    feedback = llm.requests[1].json["messages"][-1]["content"]
    assert "did not match the expected object format" in feedback and "Missing keys: ['born']" in feedback
    assert outputs[1] == ("prompt", llm.requests[1].json["messages"])


def test_structured_gives_up_after_retry_tries(llm):
    llm.respond_with(lambda request: Text("no JSON here"))

    with pytest.raises(BlockError, match="did not match the expected format after 2 tries"):
        run(AIStructuredResponseGeneratorBlock, {"prompt": "x", "expected_format": {"a": "b"}, "retry": 2})
    assert len(llm.requests) == 2


def test_structured_pure_json_list_result(llm):
    llm.respond_with(lambda request: Text('{"reasoning": "easy", "results": [{"n": 1}, {"n": 2}]}'))

    outputs, _ = run(
        AIStructuredResponseGeneratorBlock,
        {"prompt": "Count", "expected_format": {"n": "a number"}, "list_result": True, "force_json_output": True},
    )

    assert outputs[0] == ("response", [{"n": 1}, {"n": 2}])
    assert llm.requests[0].json["response_format"] == {"type": "json_object"}


def test_summarizer_chunks_by_tokens_with_overlap_then_combines(llm):
    llm.respond_with(block_responder())
    text = " ".join(f"w{i}" for i in range(250))

    outputs, context = run(AITextSummarizerBlock, {"text": text, "max_tokens": 100, "chunk_overlap": 10})

    assert outputs[0] == ("summary", "All of it, briefly.")
    chunks = [r for r in llm.requests if "Summarize the following text" in str(r.json["messages"])]
    assert len(chunks) == 3 and len(llm.requests) == 4 == len(context.llm_usage)
    texts = [chunk.json["messages"][-1]["content"].split("```")[1] for chunk in chunks]
    assert [(text.split()[0], text.split()[-1]) for text in texts] == [("w0", "w99"), ("w90", "w189"), ("w180", "w249")]


def test_split_text_overlaps_and_is_bounded():
    words = " ".join(str(i) for i in range(10))
    assert split_text(words, 4, 1) == ["0 1 2 3", "3 4 5 6", "6 7 8 9"]
    assert split_text(words, 4, 9) == ["0 1 2 3", "1 2 3 4", "2 3 4 5", "3 4 5 6", "4 5 6 7", "5 6 7 8", "6 7 8 9"]
    assert len(split_text(" ".join(["x"] * 10_000), 10, 0)) == 100


def test_conversation_sends_the_messages(llm):
    llm.script(Text("In Arlington."))
    messages = [{"role": "user", "content": "Who won in 2020?"}, {"role": "assistant", "content": "The Dodgers."}]

    outputs, _ = run(AIConversationBlock, {"messages": messages, "prompt": "Where?"})

    assert outputs[0] == ("response", "In Arlington.")
    assert llm.requests[0].json["messages"] == [*messages, {"role": "user", "content": "Where?"}]


def test_list_generator_yields_the_list_then_each_item(llm):
    llm.respond_with(block_responder())

    outputs, _ = run(AIListGeneratorBlock, {"focus": "planets"})

    assert outputs[0] == ("generated_list", ["Mercury", "Venus", "Earth"])
    assert outputs[1][0] == "prompt"
    assert outputs[2:] == [("list_item", "Mercury"), ("list_item", "Venus"), ("list_item", "Earth")]


def test_no_provider_configured_names_what_to_set(llm, settings):
    settings.OPENAI_API_KEY = ""

    with pytest.raises(BlockError) as raised:
        run(AITextGeneratorBlock, {"prompt": "hi"})

    message = str(raised.value)
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OLLAMA_HOST", "LOCAL_LLM_BASE_URL"):
        assert name in message
    assert llm.requests == []


def test_refused_credentials_fail_the_block_naming_the_provider(llm):
    llm.script(Error(401, message=f"bad key {SYSTEM_OPENAI_KEY}"))

    with pytest.raises(BlockError, match="OpenAI refused the credentials") as raised:
        run(AITextGeneratorBlock, {"prompt": "hi"})
    assert SYSTEM_OPENAI_KEY not in str(raised.value)


def test_a_users_ollama_host_goes_through_the_ssrf_policy(llm):
    with pytest.raises(BlockError, match="refused.*private address"):
        run(AITextGeneratorBlock, {"prompt": "hi", "model": "llama3.2", "ollama_host": "10.0.0.7:11434"})
    assert llm.requests == []


def test_autogpts_default_ollama_host_means_the_operators(llm):
    llm.script(Text("from ollama"))

    outputs, _ = run(AITextGeneratorBlock, {"prompt": "hi", "model": "llama3.2", "ollama_host": "localhost:11434"})

    assert outputs[0] == ("response", "from ollama")
    assert llm.requests[0].path == "/v1/chat/completions"


# --- Smart Decision Maker -------------------------------------------------------------------------------


def calculator_sinks(node_id: str = "calc", tool: str = "calculator") -> list[ToolSink]:
    return [ToolSink(f"tools_^_{tool}_~_{pin}", node_id, CALCULATOR, pin) for pin in ("operation", "a", "b")]


def test_tools_are_built_from_the_linked_blocks_schemas():
    (tool,) = build_tools(calculator_sinks())

    function = tool.function["function"]
    assert function["name"] == "calculator"
    assert function["description"].startswith("Performs a mathematical operation")
    assert function["parameters"]["required"] == ["a", "b", "operation"]
    assert function["parameters"]["properties"]["operation"]["enum"] == [
        "Add",
        "Subtract",
        "Multiply",
        "Divide",
        "Power",
    ]
    assert tool.pins == {arg: [f"tools_^_calculator_~_{arg}"] for arg in ("operation", "a", "b")}


def test_two_tools_of_one_name_reach_their_own_nodes():
    agent = ToolSink(
        "tools", "child", AGENT_EXECUTOR, "Topic", {"agent_name": "Web Search", "input_schema": {"properties": {}}}
    )
    first, second, third = build_tools([*calculator_sinks("c1"), *calculator_sinks("c2"), agent])

    assert (first.name, second.name, third.name) == ("calculator", "calculator_2", "web_search")
    assert first.pins["a"] == ["tools_^_calculator_~_a"]
    assert second.pins["a"] == ["tools_^_c2_~_a"]
    assert third.pins == {"topic": ["tools_^_child_~_Topic"]}
    # routing: the node-id form reaches only that node's pin; the link's own name reaches its link
    assert source_value("tools_^_c2_~_a", 5, "tools_^_calculator_~_a", "c2", "a") == (True, 5)
    assert source_value("tools_^_c2_~_a", 5, "tools_^_calculator_~_a", "c1", "a") == (False, None)
    assert source_value("tools_^_calculator_~_a", 5, "tools_^_calculator_~_a", "c1", "a") == (True, 5)
    assert source_value("tools_^_calculator_~_b", 5, "tools_^_calculator_~_a", "c1", "a") == (False, None)


def test_decision_maker_calls_a_tool_then_finishes(llm):
    llm.script(ToolCalls([("calculator", {"operation": "Add", "a": 2, "b": 3})]), Text("2 + 3 = 5"))
    context = BlockContext(user_id=None, node_id="sdm", tool_sinks=calculator_sinks())

    first, _ = run(SmartDecisionMakerBlock, {"prompt": "What is 2 + 3?"}, context)
    conversation = first[0][1]
    second, _ = run(
        SmartDecisionMakerBlock,
        {"prompt": "What is 2 + 3?", "conversation_history": conversation, "last_tool_output": 5.0},
        context,
    )

    assert [pin for pin, _ in first] == [
        "conversations",
        "tools_^_calculator_~_operation",
        "tools_^_calculator_~_a",
        "tools_^_calculator_~_b",
    ]
    assert [value for _, value in first[1:]] == ["Add", 2, 3]
    assert llm.requests[0].json["tools"][0]["function"]["name"] == "calculator"
    assert llm.requests[0].json["messages"][-1] == {
        "role": "user",
        "content": "[Main Objective Prompt]: What is 2 + 3?",
    }
    assert second[0] == ("finished", "2 + 3 = 5")
    call_id = conversation[-1]["tool_calls"][0]["id"]
    assert {"role": "tool", "tool_call_id": call_id, "content": "5.0"} in llm.requests[1].json["messages"]
    assert len(context.llm_usage) == 2


def test_decision_maker_sends_malformed_calls_back(llm):
    llm.script(
        ToolCalls([("calculator", {"operation": "Add", "x": 2})]),
        ToolCalls([("calculator", {"operation": "Add", "a": 2, "b": 3})]),
    )
    context = BlockContext(user_id=None, node_id="sdm", tool_sinks=calculator_sinks())

    outputs, _ = run(SmartDecisionMakerBlock, {"prompt": "2+3"}, context)

    assert ("tools_^_calculator_~_b", 3) in outputs
    feedback = llm.requests[1].json["messages"][-1]["content"]
    assert "Unknown parameters: ['x']" in feedback and "Missing required parameters: ['a', 'b']" in feedback


def test_decision_maker_waits_as_autogpts_does():
    linked = {"prompt", "conversation_history", "last_tool_output"}
    asked = [{"role": "assistant", "tool_calls": [{"id": "c1", "function": {"name": "t", "arguments": "{}"}}]}]
    answered = [
        *asked,
        {"role": "tool", "tool_call_id": "c1", "content": "1"},
        {"role": "assistant", "content": "done"},
    ]
    missing = SmartDecisionMakerBlock.missing_inputs

    assert missing({"prompt": "p"}, linked) == set()  # the first run
    assert missing({"conversation_history": asked}, linked) == {"last_tool_output"}
    assert missing({"last_tool_output": 1}, linked) == {"conversation_history"}
    assert missing({"conversation_history": asked, "last_tool_output": 1}, linked) == set()
    assert missing({"conversation_history": answered}, linked) == {"last_tool_output"}  # over: never again
