"""The assistant's tools called as a turn calls them, against a real worker: what run_agent answers
when the run outlives its wait, and the bounds of a turn's stream."""

import time
import uuid

import pytest

from chat import streams
from chat.tools import ExecutionArguments, RunAgentArguments, ToolContext, get_execution_results, run_agent
from executions.models import GraphExecution
from tests import processes
from tests.graphs import AGENT_OUTPUT, COUNTDOWN, create_graph, import_calculator, link, node

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_worker")]


def test_a_run_that_outlives_the_wait_answers_its_id_and_status_then_its_results(auth_client, user, settings):
    settings.CHAT_RUN_WAIT_SECONDS = 0.5
    slow = create_graph(
        auth_client,
        [node("wait", COUNTDOWN, seconds=2, input_message="late"), node("out", AGENT_OUTPUT, name="result")],
        [link("wait", "output_message", "out", "value")],
    )
    context = ToolContext(user=user, session_id=uuid.uuid4())

    answer = run_agent(context, RunAgentArguments(agent_id=slow["id"]))

    assert answer["status"] in ("QUEUED", "RUNNING")
    assert "get_execution_results" in answer["message"]
    assert context.started_runs == [uuid.UUID(answer["execution_id"])]
    processes.wait_until(
        lambda: GraphExecution.objects.get(id=answer["execution_id"]).status == "COMPLETED",
        timeout=30,
        message="the run to end",
    )
    later = get_execution_results(context, ExecutionArguments(execution_id=answer["execution_id"]))
    assert (later["status"], later["outputs"]) == ("COMPLETED", {"result": ["late"]})


def test_run_agent_stops_waiting_when_the_turn_is_cancelled(auth_client, user, settings):
    settings.CHAT_RUN_WAIT_SECONDS = 30
    calculator = import_calculator(auth_client)
    context = ToolContext(user=user, session_id=uuid.uuid4())
    context.cancel_event.set()

    started = time.monotonic()
    answer = run_agent(context, RunAgentArguments(agent_id=calculator["id"], inputs={"Input": 1}))

    assert answer["execution_id"]
    assert time.monotonic() - started < 5  # answered at once, not after CHAT_RUN_WAIT_SECONDS


def test_a_turns_stream_is_bounded_and_expires_after_the_turn(settings):
    settings.CHAT_STREAM_MAX_EVENTS = 100
    settings.CHAT_STREAM_TTL_SECONDS = 3600
    session_id, turn_id = uuid.uuid4(), uuid.uuid4()
    key = streams.EVENTS_KEY.format(turn_id=turn_id)

    for number in range(400):
        streams.event_append(session_id=session_id, turn_id=turn_id, event={"type": "text-delta", "n": number})
    assert streams.get_redis().xlen(key) <= 200  # trimmed to about CHAT_STREAM_MAX_EVENTS
    assert streams.get_redis().ttl(key) > 3600  # a running turn's stream outlives the turn
    streams.stream_close(turn_id=turn_id)
    assert 3590 <= streams.get_redis().ttl(key) <= 3600
    streams.event_append(session_id=session_id, turn_id=turn_id, event={"type": "late"})
    assert streams.get_redis().ttl(key) <= 3600  # a late append does not lengthen it
