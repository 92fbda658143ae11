"""LLM blocks in graphs, run by a real Celery worker whose every provider is the LLM stand-in
(tests/conftest.py gives the worker its address and the platform's keys)."""

import json

import pytest

from executions.models import NodeExecution
from integrations.services import credential_create, credential_delete
from tests.graphs import AGENT_INPUT, AGENT_OUTPUT, CALCULATOR, create_graph, link, node, node_runs, run_graph
from tests.llm_replies import SYSTEM_OPENAI_KEY, block_responder
from tests.stand_ins.llm import Error, Text, ToolCalls

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_worker")]

TEXT_GENERATOR = "1f292d4a-41a4-4977-9684-7c8d560b9f91"
STRUCTURED = "ed55ac19-356e-4243-a6cb-bc599e9b716f"
SUMMARIZER = "a0a69be1-4528-491c-a85a-a4ab6873e3f0"
CONVERSATION = "32a87eab-381e-4dd4-bdb8-4c47151be35a"
LIST_GENERATOR = "9c0b0450-d199-458b-a731-072189dd6593"
SMART_DECISION_MAKER = "3b191d9f-356f-482d-8238-ba04b6d18381"
USER_KEY = "sk-user-e2e-0123456789abcdef"


def text_generator_graph(client, **generator_defaults) -> dict:
    return create_graph(
        client,
        [
            node("topic", AGENT_INPUT, name="topic"),
            node("gen", TEXT_GENERATOR, prompt="Tell me about {{topic}}", **generator_defaults),
            node("out", AGENT_OUTPUT, name="answer"),
        ],
        [link("topic", "result", "gen", "prompt_values_#_topic"), link("gen", "response", "out", "value")],
    )


def meta(credential) -> dict:
    return {
        "id": str(credential.id),
        "provider": credential.provider,
        "type": credential.type,
        "title": credential.title,
    }


def test_text_generator_with_the_platforms_credential(auth_client, llm):
    llm.script(Text("Bees make honey.", usage=(30, 5)))
    graph = text_generator_graph(auth_client)

    detail = run_graph(auth_client, graph, {"topic": "bees"})

    assert detail["status"] == "COMPLETED", detail
    assert detail["outputs"] == {"answer": ["Bees make honey."]}
    (request,) = llm.requests
    assert request.api_key == SYSTEM_OPENAI_KEY
    assert request.json["messages"] == [{"role": "user", "content": "Tell me about bees"}]
    cost = (30 * 2.50 + 5 * 10.00) / 1_000_000
    (gen,) = node_runs(detail, "gen")
    assert gen["output_data"]["prompt"] == [request.json["messages"]]
    assert gen["stats"] == {
        "llm_usage": [{"provider": "openai", "model": "gpt-4o", "input_tokens": 30, "output_tokens": 5, "cost": cost}]
    }
    assert detail["stats"] == {
        "llm_calls": 1,
        "input_tokens": 30,
        "output_tokens": 5,
        "cost": cost,
        "by_model": [
            {
                "provider": "openai",
                "model": "gpt-4o",
                "llm_calls": 1,
                "input_tokens": 30,
                "output_tokens": 5,
                "cost": cost,
            }
        ],
    }


def test_text_generator_with_the_users_own_credential(auth_client, user, llm):
    own = credential_create(user=user, provider="openai", type="api_key", title="Mine", api_key=USER_KEY)
    llm.script(Text("With your key."))
    graph = text_generator_graph(auth_client, credentials=meta(own))

    response = auth_client.get(f"/api/v1/executions/{run_graph(auth_client, graph, {'topic': 'keys'})['id']}")

    assert response.json()["outputs"] == {"answer": ["With your key."]}
    assert llm.requests[0].api_key == USER_KEY
    # the key is nowhere the platform keeps or shows a run
    assert USER_KEY not in response.content.decode()
    assert not any(USER_KEY in json.dumps([n.input_data, n.output_data]) for n in NodeExecution.objects.all())


def test_another_users_credential_is_refused_when_the_graph_is_saved(auth_client, other_user):
    theirs = credential_create(user=other_user, provider="openai", type="api_key", title="Theirs", api_key=USER_KEY)

    response = auth_client.post(
        "/api/v1/graphs",
        {"name": "g", "nodes": [node("gen", TEXT_GENERATOR, prompt="hi", credentials=meta(theirs))], "links": []},
        format="json",
    )

    assert response.status_code == 400, response.content
    assert "not yours" in response.json()["details"]["nodes.gen.credentials"][0]


def test_a_credential_deleted_since_the_graph_was_saved_fails_the_node(auth_client, user, llm):
    own = credential_create(user=user, provider="openai", type="api_key", title="Mine", api_key=USER_KEY)
    graph = text_generator_graph(auth_client, credentials=meta(own))
    credential_delete(user=user, provider="openai", credential_id=own.id)

    detail = run_graph(auth_client, graph, {"topic": "keys"})

    assert detail["status"] == "FAILED"
    assert "was not found: it was deleted, or it is not yours" in detail["error"]["message"]
    assert llm.requests == []


def test_refused_credentials_fail_the_run_naming_the_provider(auth_client, llm):
    llm.script(Error(401, message=f"Incorrect API key provided: {SYSTEM_OPENAI_KEY}"))

    detail = run_graph(auth_client, text_generator_graph(auth_client), {"topic": "x"})

    assert detail["status"] == "FAILED"
    assert detail["error"]["message"].startswith("OpenAI refused the credentials")
    assert SYSTEM_OPENAI_KEY not in json.dumps(detail)
    assert len(llm.requests) == 1


def test_every_llm_block_in_one_graph(auth_client, llm):
    llm.respond_with(block_responder(lambda prompt: {"name": "Ada Lovelace", "year": "1843"}))
    graph = create_graph(
        auth_client,
        [
            node(
                "structured",
                STRUCTURED,
                prompt="Who wrote the first program?",
                expected_format={"name": "", "year": ""},
            ),
            node("summarize", SUMMARIZER, text="Ada wrote notes on the Analytical Engine. " * 20),
            node("chat", CONVERSATION, messages=[{"role": "user", "content": "Hi!"}]),
            node("list", LIST_GENERATOR, focus="planets", max_retries=3, ollama_host="localhost:11434"),
            node("gen", TEXT_GENERATOR, prompt="Say yes", retry=3),
            *[
                node(f"out-{name}", AGENT_OUTPUT, name=name)
                for name in ("who", "summary", "chat", "planets", "each", "gen")
            ],
        ],
        [
            link("structured", "response", "out-who", "value"),
            link("summarize", "summary", "out-summary", "value"),
            link("chat", "response", "out-chat", "value"),
            link("list", "generated_list", "out-planets", "value"),
            link("list", "list_item", "out-each", "value"),
            link("gen", "response", "out-gen", "value"),
        ],
    )

    detail = run_graph(auth_client, graph)

    assert detail["status"] == "COMPLETED", detail
    assert detail["outputs"] == {
        "who": [{"name": "Ada Lovelace", "year": "1843"}],
        "summary": ["All of it, briefly."],
        "chat": ["answer: Hi!"],
        "planets": [["Mercury", "Venus", "Earth"]],
        "each": ["Mercury", "Venus", "Earth"],
        "gen": ["answer: Say yes"],
    }
    # structured 1, summarizer 2 (one chunk, then the final summary), conversation 1, list 1, text 1
    assert detail["stats"]["llm_calls"] == 6 == len(llm.requests)
    assert detail["stats"]["input_tokens"] == sum(
        u["input_tokens"] for n in detail["node_executions"] for u in n["stats"].get("llm_usage", [])
    )


def test_smart_decision_maker_calls_the_calculator_and_finishes(auth_client, llm):
    llm.script(ToolCalls([("calculator", {"operation": "Add", "a": 2, "b": 3})]), Text("2 + 3 = 5."))
    graph = create_graph(
        auth_client,
        [
            node("sdm", SMART_DECISION_MAKER, prompt="What is 2 + 3?"),
            node("calc", CALCULATOR),
            node("out", AGENT_OUTPUT, name="answer"),
        ],
        [
            *[link("sdm", f"tools_^_calculator_~_{pin}", "calc", pin) for pin in ("operation", "a", "b")],
            link("calc", "result", "sdm", "last_tool_output"),
            link("sdm", "conversations", "sdm", "conversation_history"),
            link("sdm", "finished", "out", "value"),
        ],
    )

    detail = run_graph(auth_client, graph)

    assert detail["status"] == "COMPLETED", detail
    assert detail["outputs"] == {"answer": ["2 + 3 = 5."]}
    (calc,) = node_runs(detail, "calc")
    assert calc["input_data"] | {"round_result": False} == {"operation": "Add", "a": 2, "b": 3, "round_result": False}
    assert calc["output_data"] == {"result": [5.0]}
    first, second = llm.requests
    assert first.json["tools"][0]["function"]["name"] == "calculator"
    tool_messages = [m for m in second.json["messages"] if m["role"] == "tool"]
    assert [m["content"] for m in tool_messages] == ["5.0"]
    runs = node_runs(detail, "sdm")
    assert [r["status"] for r in runs[:2]] == ["COMPLETED", "COMPLETED"]
    assert all(r["status"] == "INCOMPLETE" for r in runs[2:])  # the finished loop waits no more
    assert detail["stats"]["llm_calls"] == 2
