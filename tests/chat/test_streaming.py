"""The chat end to end: a real daphne relays turns that a real worker runs against the LLM stand-in,
read over HTTP as a browser reads them (tests/sse.py)."""

import json
import time

import pytest

from autogpt_platform.celery import app
from chat import streams
from chat.models import ChatMessage, ChatSession, SessionStatus
from chat.tasks import reap_lost_chat_turns
from executions.models import GraphExecution
from tests import processes
from tests.clients import client_for
from tests.graphs import (
    AGENT_OUTPUT,
    CALCULATOR,
    COUNTDOWN,
    create_graph,
    import_calculator,
    link,
    node,
    wait_for_status,
)
from tests.llm_replies import SYSTEM_OPENAI_KEY, llm_env
from tests.sse import post_message, rejoin, request_json, text_of, types
from tests.stand_ins.llm import Text, ToolCalls
from tests.submissions import publish

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_worker")]

SESSIONS = "/api/v1/chat/sessions"
TOOL_NAMES = {"find_agent", "get_agent_details", "run_agent", "get_execution_results", "find_block", "run_block"}


def new_session(client) -> str:
    response = client.post(SESSIONS, {}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def event_order(event_id: str) -> tuple[int, int]:
    millis, sequence = event_id.split("-")
    return int(millis), int(sequence)


def tool_outputs(events) -> list:
    return [event.json["output"] for event in events if event.type == "tool-output-available"]


def wait_idle(session_id: str, timeout: float = 10) -> ChatSession:
    return processes.wait_until(
        lambda: ChatSession.objects.filter(id=session_id, status=SessionStatus.IDLE).first(),
        timeout=timeout,
        message="the session to be idle",
    )


def test_a_plain_answer_streams_in_the_ai_sdk_protocol(live_server_url, user, auth_client, llm):
    llm.script(Text("Hello! I find and run your agents.", usage=(120, 9)))
    session_id = new_session(auth_client)

    stream = post_message(live_server_url, user, session_id, "What can you do?")
    events = stream.read_all()

    assert stream.status == 200
    assert stream.header("Content-Type").startswith("text/event-stream")
    assert stream.header("x-vercel-ai-ui-message-stream") == "v1"
    assert stream.header("Cache-Control") == "no-cache"
    kinds = types(events)
    assert kinds[:3] == ["start", "start-step", "text-start"]
    assert kinds[-4:] == ["text-end", "finish-step", "finish", "[DONE]"]
    assert set(kinds[3:-4]) == {"text-delta"} and len(kinds[3:-4]) == 7  # one delta per word
    assert text_of(events) == "Hello! I find and run your agents."
    turn_id = events[0].json["messageId"]
    assert {event.json["id"] for event in events if event.type.startswith("text-")} == {events[2].json["id"]}
    ids = [event.id for event in events]
    assert all(ids) and ids == sorted(ids, key=event_order) and len(set(ids)) == len(ids)

    detail = auth_client.get(f"{SESSIONS}/{session_id}").json()
    assert detail["status"] == "idle" and detail["active_stream"] is None
    assert [(m["sequence"], m["role"], m["content"], m["turn_id"]) for m in detail["messages"]] == [
        (1, "user", "What can you do?", turn_id),
        (2, "assistant", "Hello! I find and run your agents.", turn_id),
    ]
    assert (detail["messages"][1]["input_tokens"], detail["messages"][1]["output_tokens"]) == (120, 9)
    assert detail["messages"][1]["model"] == "gpt-4o-mini"
    assert detail["usage"] == {"input_tokens": 120, "output_tokens": 9}

    (request,) = llm.requests
    body = request.json
    assert (body["model"], body["stream"]) == ("gpt-4o-mini", True)
    assert request.api_key == SYSTEM_OPENAI_KEY
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][1]["content"] == "What can you do?"
    assert {tool["function"]["name"] for tool in body["tools"]} == TOOL_NAMES
    assert SYSTEM_OPENAI_KEY not in json.dumps(detail) and SYSTEM_OPENAI_KEY not in "".join(e.data for e in events)


def test_a_tool_round_runs_the_calculator_and_answers_from_its_result(live_server_url, user, auth_client, llm):
    calculator = import_calculator(auth_client)
    session_id = new_session(auth_client)
    llm.script(ToolCalls([("run_agent", {"agent_id": calculator["id"], "inputs": {"Input": 8}})]))

    def answer_from_the_tool_result(request):
        result = json.loads([m for m in request.json["messages"] if m["role"] == "tool"][-1]["content"])
        return Text(f"Your calculator says {result['outputs']['Output'][0]:g}.")

    llm.respond_with(answer_from_the_tool_result)

    events = post_message(live_server_url, user, session_id, "Add 34 to 8 with my calculator").read_all()

    assert types(events)[:6] == [
        "start",
        "start-step",
        "tool-input-start",
        "tool-input-available",
        "tool-output-available",
        "finish-step",
    ]
    assert types(events)[6:8] == ["start-step", "text-start"] and types(events)[-3:] == [
        "finish-step",
        "finish",
        "[DONE]",
    ]
    call = events[3].json
    assert (call["toolName"], call["input"]) == ("run_agent", {"agent_id": calculator["id"], "inputs": {"Input": 8}})
    assert events[2].json == {"type": "tool-input-start", "toolCallId": call["toolCallId"], "toolName": "run_agent"}
    (output,) = tool_outputs(events)
    assert events[4].json["toolCallId"] == call["toolCallId"]
    assert (output["status"], output["outputs"], output["agent_id"]) == (
        "COMPLETED",
        {"Output": [42]},
        calculator["id"],
    )
    assert text_of(events) == "Your calculator says 42."

    # a real execution, visible like any other, started by the chat
    execution = auth_client.get(f"/api/v1/executions/{output['execution_id']}").json()
    assert execution["status"] == "COMPLETED"
    assert execution["trigger"] == {"kind": "chat", "id": session_id}
    assert output["execution_id"] in [e["id"] for e in auth_client.get("/api/v1/executions").json()["results"]]

    # the messages persisted in order, as the model saw them
    messages = list(ChatMessage.objects.filter(session_id=session_id).order_by("sequence"))
    assert [(m.sequence, m.role) for m in messages] == [(1, "user"), (2, "assistant"), (3, "tool"), (4, "assistant")]
    assert messages[1].tool_calls[0]["id"] == call["toolCallId"]
    assert messages[1].tool_calls[0]["function"]["name"] == "run_agent"
    assert (messages[2].tool_call_id, messages[2].tool_name) == (call["toolCallId"], "run_agent")
    assert json.loads(messages[2].content) == output
    assert messages[3].content == "Your calculator says 42."
    second = llm.requests[1].json["messages"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "tool"]
    assert second[3]["tool_call_id"] == call["toolCallId"]


def test_a_dropped_client_rejoins_with_last_event_id_and_misses_nothing(live_server_url, user, auth_client, llm):
    words = " ".join(f"word{i}" for i in range(40))
    llm.script(Text(words, chunk_delay=0.15))
    session_id = new_session(auth_client)

    first = post_message(live_server_url, user, session_id, "Count for me")
    seen = []
    for event in first.events():
        seen.append(event)
        if len([e for e in seen if e.type == "text-delta"]) == 5:
            break
    first.close()  # the tab is closed mid-turn

    # meanwhile: the session shows the turn to rejoin, a second message is refused
    detail = auth_client.get(f"{SESSIONS}/{session_id}").json()
    assert detail["status"] == "running"
    assert detail["active_stream"]["turn_id"] == seen[0].json["messageId"]
    assert event_order(detail["active_stream"]["last_event_id"]) >= event_order(seen[-1].id)
    status, body = request_json(live_server_url, user, "POST", f"{SESSIONS}/{session_id}/stream", {"message": "more"})
    assert (status, body["code"]) == (409, "turn_running")

    second_tab = rejoin(live_server_url, user, session_id)  # no Last-Event-ID: the whole turn
    resumed = rejoin(live_server_url, user, session_id, last_event_id=seen[-1].id)
    rest = resumed.read_all()
    whole = second_tab.read_all()

    assert (resumed.status, second_tab.status) == (200, 200)
    assert [e.id for e in seen + rest] == [e.id for e in whole]
    assert [e.data for e in seen + rest] == [e.data for e in whole]
    assert text_of(seen + rest) == words
    assert types(whole)[-2:] == ["finish", "[DONE]"]
    wait_idle(session_id)
    assert rejoin(live_server_url, user, session_id).status == 204
    assert rejoin(live_server_url, user, session_id, last_event_id=whole[-1].id).status == 204
    # a client that saw only part of a turn that ended since still gets the rest
    assert [e.id for e in rejoin(live_server_url, user, session_id, last_event_id=seen[-1].id).read_all()] == [
        e.id for e in rest
    ]


def test_cancel_ends_the_turn_within_two_seconds(live_server_url, user, auth_client, llm):
    llm.script(Text(" ".join(f"w{i}" for i in range(60)), chunk_delay=0.25))
    session_id = new_session(auth_client)
    stream = post_message(live_server_url, user, session_id, "Talk for a while")
    events = []
    for event in stream.events():
        events.append(event)
        if event.type == "text-delta":
            break

    started = time.monotonic()
    status, answer = request_json(live_server_url, user, "POST", f"{SESSIONS}/{session_id}/cancel")
    events += stream.read_all()
    elapsed = time.monotonic() - started

    assert (status, answer) == (200, {"cancelled": True, "reason": None})
    assert elapsed < 2, elapsed
    assert types(events)[-4:] == ["text-end", "abort", "finish", "[DONE]"]
    assert ChatSession.objects.get(id=session_id).status == SessionStatus.IDLE
    messages = ChatMessage.objects.filter(session_id=session_id).order_by("sequence")
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[1].content == text_of(events)  # what the user saw stays
    assert len(text_of(events).split()) < 60


def test_cancel_stops_the_agent_run_the_turn_started(live_server_url, user, auth_client, llm):
    slow = create_graph(
        auth_client,
        [node("wait", COUNTDOWN, seconds=30, input_message="done"), node("out", AGENT_OUTPUT, name="result")],
        [link("wait", "output_message", "out", "value")],
        name="slow agent",
    )
    llm.script(ToolCalls([("run_agent", {"agent_id": slow["id"], "inputs": {}})]))
    session_id = new_session(auth_client)
    stream = post_message(live_server_url, user, session_id, "Run my slow agent")
    run = processes.wait_until(
        lambda: GraphExecution.objects.filter(trigger_kind="chat", trigger_id=session_id, status="RUNNING").first(),
        timeout=20,
        message="the agent run to start",
    )

    started = time.monotonic()
    request_json(live_server_url, user, "POST", f"{SESSIONS}/{session_id}/cancel")
    events = stream.read_all()

    assert time.monotonic() - started < 2
    assert types(events)[-3:] == ["abort", "finish", "[DONE]"]
    assert "tool-output-available" not in types(events)
    assert wait_for_status(auth_client, str(run.id), timeout=15)["status"] == "TERMINATED"
    # the unanswered call gets a result when the conversation goes on
    assert ChatSession.objects.get(id=session_id).status == SessionStatus.IDLE


def test_another_users_session_is_a_404_on_the_stream_endpoints(live_server_url, user, other_user):
    theirs = new_session(client_for(other_user))

    status, body = request_json(live_server_url, user, "POST", f"{SESSIONS}/{theirs}/stream", {"message": "hi"})
    assert (status, body["code"]) == (404, "not_found")
    status, body = request_json(live_server_url, user, "GET", f"{SESSIONS}/{theirs}/stream")
    assert (status, body["code"]) == (404, "not_found")
    assert set(body) == {"code", "message", "details"}
    assert not ChatMessage.objects.exists()


def test_tools_answer_mistakes_the_model_can_read_and_the_turn_goes_on(
    live_server_url, user, auth_client, other_user, llm
):
    calculator = import_calculator(auth_client)
    theirs = import_calculator(client_for(other_user))
    llm.script(
        ToolCalls([("find_agent", {"query": "calculator"})]),
        ToolCalls(
            [
                ("get_agent_details", {"agent_id": calculator["id"]}),
                ("run_agent", {"agent_id": theirs["id"], "inputs": {"Input": 1}}),
                ("run_agent", {"agent_id": calculator["id"], "inputs": {"Nope": 1}}),
                ("find_agent", {"query": 5}),
                ("no_such_tool", {}),
            ]
        ),
        ToolCalls(
            [
                ("find_block", {"query": "calculator"}),
                ("run_block", {"block_id": CALCULATOR, "input_data": {"operation": "Multiply", "a": 6, "b": 7}}),
                ("run_block", {"block_id": "no-such-block", "input_data": {}}),
                ("get_execution_results", {"execution_id": "not-an-id"}),
            ]
        ),
        Text("Done."),
    )
    session_id = new_session(auth_client)

    events = post_message(live_server_url, user, session_id, "Show me what you can do").read_all()

    found, details, other_users, bad_inputs, bad_arguments, unknown, blocks, block_run, bad_block, bad_id = (
        tool_outputs(events)
    )
    assert [(a["id"], a["name"], a["source"]) for a in found["agents"]] == [
        (calculator["id"], "Calculator agent", "library")
    ]
    assert "Input" in found["agents"][0]["input_schema"]["properties"]
    assert "Output" in details["output_schema"]["properties"]
    assert "No agent with id" in other_users["error"]
    assert "inputs.Nope" in bad_inputs["details"]
    assert bad_arguments["error"].startswith("Bad arguments for find_agent: query:")
    assert "There is no tool 'no_such_tool'" in unknown["error"]
    assert CALCULATOR in [block["id"] for block in blocks["blocks"]]
    assert block_run["outputs"]["result"] == [42]
    assert "No block with id 'no-such-block'" in bad_block["error"]
    assert "not an id" in bad_id["error"]
    assert text_of(events) == "Done." and types(events)[-2:] == ["finish", "[DONE]"]
    assert not GraphExecution.objects.filter(graph_id=theirs["id"]).exists()
    assert not GraphExecution.objects.filter(user=user).exists()


def test_a_store_agent_is_found_added_to_the_library_and_run(
    live_server_url, user, auth_client, creator_client, admin_client, llm
):
    listed = publish(creator_client, admin_client)
    llm.script(ToolCalls([("find_agent", {"query": "calculator"})]))

    def run_what_was_found(request):
        result = json.loads([m for m in request.json["messages"] if m["role"] == "tool"][-1]["content"])
        if "agents" in result:
            return ToolCalls([("run_agent", {"agent_id": result["agents"][0]["id"], "inputs": {"Input": 8}})])
        return Text(f"It says {result['outputs']['Output'][0]:g}.")

    llm.respond_with(run_what_was_found)
    session_id = new_session(auth_client)

    events = post_message(live_server_url, user, session_id, "Find a calculator in the store and run it").read_all()

    found, ran = tool_outputs(events)
    assert [(a["id"], a["source"]) for a in found["agents"]] == [(listed["id"], "store")]
    assert ran["status"] == "COMPLETED" and ran["outputs"] == {"Output": [42]}
    library = auth_client.get("/api/v1/library/agents").json()["results"]
    assert [agent["graph_id"] for agent in library] == [ran["agent_id"]]
    assert text_of(events) == "It says 42."


def test_a_turn_stops_after_the_most_tool_rounds(live_server_url, user, auth_client, llm, settings):
    rounds = 10  # CHAT_MAX_TOOL_ROUNDS of the worker
    llm.respond_with(lambda request: ToolCalls([("find_block", {"query": "text"})]))
    session_id = new_session(auth_client)

    events = post_message(live_server_url, user, session_id, "Loop").read_all()

    assert len(tool_outputs(events)) == rounds
    assert len(llm.requests) == rounds + 1
    assert types(events)[-3:] == ["error", "finish", "[DONE]"]
    assert "after 10 rounds" in events[-3].json["errorText"]
    assert ChatSession.objects.get(id=session_id).status == SessionStatus.IDLE


@pytest.fixture
def own_executor(live_worker):
    """Dedicated executor workers started by the test (with env of its choice); the shared worker
    stops taking agent_executions meanwhile."""
    started = []
    app.control.cancel_consumer("agent_executions", destination=[live_worker.node_name], reply=True, timeout=5)

    def start(name: str, env: dict[str, str]):
        worker = processes.celery_worker(name, ["agent_executions"], concurrency=2, env=env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
    app.control.add_consumer("agent_executions", destination=[live_worker.node_name], reply=True, timeout=5)


def test_with_no_provider_configured_the_stream_says_what_to_set(live_server_url, user, auth_client, own_executor):
    own_executor("nollm", {"OPENAI_API_KEY": "", "OPENAI_BASE_URL": "", "CHAT_MODEL": "gpt-4o-mini"})
    session_id = new_session(auth_client)

    events = post_message(live_server_url, user, session_id, "Hello?").read_all()

    assert types(events) == ["start", "error", "finish", "[DONE]"]
    error = events[1].json["errorText"]
    assert "OPENAI_API_KEY" in error and "CHAT_MODEL" in error and "llm_credential_id" in error
    assert wait_idle(session_id).status == SessionStatus.IDLE
    assert list(ChatMessage.objects.filter(session_id=session_id).values_list("role", flat=True)) == ["user"]


def test_a_turn_whose_worker_is_lost_is_ended_by_the_reaper(user, auth_client, llm_stand_in_server, llm, own_executor):
    doomed = own_executor("doomed", {**llm_env(llm_stand_in_server), "CHAT_TURN_STALE_SECONDS": "2"})
    port = processes.free_port()
    server = processes.daphne(port, env={"CHAT_SSE_HEARTBEAT_SECONDS": "0.5"})
    try:
        llm.script(Text(" ".join(f"w{i}" for i in range(80)), chunk_delay=0.3))
        session_id = new_session(auth_client)
        stream = post_message(f"127.0.0.1:{port}", user, session_id, "Talk for a while")
        events = []
        for event in stream.events():
            events.append(event)
            if len([e for e in events if e.type == "text-delta"]) == 3:
                break
        turn_id = events[0].json["messageId"]

        doomed.kill()
        processes.wait_until(lambda: not streams.is_alive(turn_id=turn_id), timeout=10, message="the heartbeat to stop")
        assert ChatSession.objects.get(id=session_id).status == SessionStatus.RUNNING
        time.sleep(1.2)  # the follower waits, kept open by heartbeats
        reap_lost_chat_turns.delay()  # what beat sends every CHAT_REAPER_INTERVAL_SECONDS
        events += stream.read_all()

        assert types(events)[-3:] == ["error", "finish", "[DONE]"]
        assert "worker was lost" in events[-3].json["errorText"]
        assert ": heartbeat" in stream.comments
        assert wait_idle(session_id).status == SessionStatus.IDLE
    finally:
        server.stop()


def test_a_session_with_the_users_own_credential_uses_its_key(live_server_url, user, auth_client, llm):
    own_key = "sk-user-own-key-0123456789"
    credential = auth_client.post(
        "/api/v1/integrations/openai/credentials",
        {"type": "api_key", "api_key": own_key, "title": "mine"},
        format="json",
    ).json()
    created = auth_client.post(SESSIONS, {"llm_credential_id": credential["id"]}, format="json").json()
    llm.script(Text("Paid by you."))

    events = post_message(live_server_url, user, created["id"], "Who pays?").read_all()

    assert text_of(events) == "Paid by you."
    (request,) = llm.requests
    assert request.api_key == own_key
    detail = auth_client.get(f"{SESSIONS}/{created['id']}").json()
    assert own_key not in json.dumps(detail) and own_key not in "".join(e.data for e in events)


def test_a_model_that_calls_no_tools_is_asked_without_them(live_server_url, user, auth_client, llm):
    local = next(c for c in auth_client.get("/api/v1/integrations/credentials").json() if c["provider"] == "local")
    created = auth_client.post(SESSIONS, {"llm_credential_id": local["id"]}, format="json").json()
    llm.script(Text("Small but here."))

    events = post_message(live_server_url, user, created["id"], "Hi").read_all()

    assert text_of(events) == "Small but here."
    (request,) = llm.requests
    assert request.json["model"] == created["model"] == "smollm2-135m-instruct"
    assert "tools" not in request.json
