"""The dispatcher (executions/dispatch.py): a committed run always gets its message, whatever the
broker did at that instant, and a duplicate message never runs a node twice. On the real broker,
database and worker; an unreachable broker is a real refused connection (a port nothing listens on).
"""

import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import GraphVersion
from autogpt_platform.celery import app
from executions import dispatch
from executions.dispatch import execution_dispatch_sweep
from executions.models import ExecutionStatus, GraphExecution
from executions.tasks import execute_graph
from tests import processes
from tests.blocks import recorded_runs
from tests.graphs import AGENT_OUTPUT, COUNTDOWN, RECORD_RUN, create_graph, execute, link, node, wait_for_status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_worker")]


@contextmanager
def broker_unreachable():
    """This process's Celery app points at a port nothing listens on, then back."""
    original = app.conf.broker_write_url

    def reconnect(url: str) -> None:  # kombu keeps one pool per URL: the original's is there again after
        app.conf.broker_write_url = url
        app._pool = None
        app.amqp._producer_pool = None

    reconnect(f"amqp://guest:guest@127.0.0.1:{processes.free_port()}//")
    try:
        yield
    finally:
        reconnect(original)
        dispatch._broker_down_until = 0.0


def _queued_row(graph: dict, user, **fields) -> GraphExecution:
    version = GraphVersion.objects.get(graph_id=graph["id"], version=graph["version"])
    return GraphExecution.objects.create(user=user, graph_id=graph["id"], graph_version=version, **fields)


@pytest.fixture
def one_node_graph(auth_client):
    return create_graph(auth_client, [node("out", AGENT_OUTPUT, name="x", value=1)], [])


def test_a_run_submitted_while_the_broker_is_down_is_accepted_and_sent_by_the_sweep(auth_client, one_node_graph):
    with broker_unreachable():
        response = auth_client.post(
            f"/api/v1/graphs/{one_node_graph['id']}/execute/{one_node_graph['version']}", {"inputs": {}}, format="json"
        )
    assert response.status_code == 201, response.content
    waiting = GraphExecution.objects.get(id=response.json()["id"])
    assert (waiting.status, waiting.dispatched_at) == (ExecutionStatus.QUEUED, None)

    assert execution_dispatch_sweep() == {"sent": 1, "resent": 0}

    assert wait_for_status(auth_client, str(waiting.id), timeout=30)["status"] == "COMPLETED"


def test_the_sweep_sends_again_a_run_whose_message_is_gone(auth_client, user, one_node_graph):
    lost = _queued_row(one_node_graph, user, dispatched_at=timezone.now() - timedelta(minutes=10))

    assert execution_dispatch_sweep() == {"sent": 0, "resent": 1}

    assert wait_for_status(auth_client, str(lost.id), timeout=30)["status"] == "COMPLETED"
    assert GraphExecution.objects.get(id=lost.id).attempts == 1


def test_the_sweep_leaves_a_recently_sent_run_alone(user, one_node_graph):
    sent = _queued_row(one_node_graph, user, status=ExecutionStatus.COMPLETED, dispatched_at=timezone.now())
    in_flight = _queued_row(one_node_graph, user, dispatched_at=timezone.now())

    assert execution_dispatch_sweep() == {"sent": 0, "resent": 0}
    assert GraphExecution.objects.get(id=in_flight.id).dispatched_at == in_flight.dispatched_at
    assert GraphExecution.objects.get(id=sent.id).status == ExecutionStatus.COMPLETED


def test_a_duplicate_message_of_a_running_execution_runs_no_node_twice(auth_client, tmp_path):
    record = str(tmp_path / f"runs-{uuid.uuid4()}.log")
    graph = create_graph(
        auth_client,
        [
            node("before", RECORD_RUN, path=record, value="go"),
            node("wait", COUNTDOWN, seconds=2),
            node("after", RECORD_RUN, path=record),
        ],
        [link("before", "output", "wait", "input_message"), link("wait", "output_message", "after", "value")],
    )
    execution = execute(auth_client, graph)
    wait_for_status(auth_client, execution["id"], statuses={"RUNNING"}, timeout=15)

    execute_graph.delay(execution["id"])  # as the broker gives back a message after a connection loss

    detail = wait_for_status(auth_client, execution["id"], timeout=30)
    assert detail["status"] == "COMPLETED", detail
    assert recorded_runs(record) == {f"{execution['id']}:before": 1, f"{execution['id']}:after": 1}
    assert GraphExecution.objects.get(id=execution["id"]).attempts == 1
