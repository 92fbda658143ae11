"""Every run is bounded (node executions, seconds), and one user's runs cannot starve another's
(EXECUTION_MAX_RUNNING_PER_USER): shown on a real executor of three processes with small bounds."""

import time

import pytest

from autogpt_platform.celery import app
from executions.models import ExecutionStatus, GraphExecution
from tests import processes
from tests.clients import client_for
from tests.factories import UserFactory
from tests.graphs import CALCULATOR, COUNTDOWN, STORE_VALUE, create_graph, execute, link, node, wait_for_status

pytestmark = [pytest.mark.django_db(transaction=True)]

MAX_NODES = 200
MAX_SECONDS = 6
CAP = 2


@pytest.fixture(scope="module")
def bounded_executor(live_worker):
    """An executor of three processes with small bounds; the shared worker takes no executions meanwhile."""
    app.control.cancel_consumer("agent_executions", destination=[live_worker.node_name], reply=True, timeout=5)
    worker = processes.celery_worker(
        "bounded",
        ["agent_executions"],
        concurrency=3,
        env={
            "EXECUTION_MAX_NODE_EXECUTIONS": str(MAX_NODES),
            "EXECUTION_MAX_SECONDS": str(MAX_SECONDS),
            "EXECUTION_MAX_RUNNING_PER_USER": str(CAP),
        },
    )
    yield worker
    worker.stop()
    app.control.add_consumer("agent_executions", destination=[live_worker.node_name], reply=True, timeout=5)


@pytest.fixture
def capped(settings, bounded_executor):
    """This process dispatches what its requests create under the same cap as the executor."""
    settings.EXECUTION_MAX_RUNNING_PER_USER = CAP
    return bounded_executor


def test_two_calculators_in_a_loop_end_failed_at_the_node_execution_limit(auth_client, capped):
    graph = create_graph(
        auth_client,
        [
            node("start", STORE_VALUE, input=1),
            node("add", CALCULATOR, operation="Add", b=1),
            node("again", CALCULATOR, operation="Add", b=1),
        ],
        [
            link("start", "output", "add", "a"),
            link("add", "result", "again", "a"),
            link("again", "result", "add", "a"),  # the loop
        ],
    )

    detail = wait_for_status(auth_client, execute(auth_client, graph)["id"], timeout=60)

    assert detail["status"] == "FAILED"
    assert detail["error"]["message"] == (
        f"The execution was stopped: it reached its limit of {MAX_NODES} node executions "
        "(EXECUTION_MAX_NODE_EXECUTIONS)."
    )
    assert len(detail["node_executions"]) == MAX_NODES
    assert {n["status"] for n in detail["node_executions"]} <= {"COMPLETED", "TERMINATED"}


def test_a_run_past_its_time_limit_ends_failed_naming_the_limit(auth_client, capped):
    graph = create_graph(auth_client, [node("wait", COUNTDOWN, seconds=120)], [])

    started = time.monotonic()
    detail = wait_for_status(auth_client, execute(auth_client, graph)["id"], timeout=30)

    assert detail["status"] == "FAILED"
    assert detail["error"]["message"] == (
        f"The execution was stopped: it ran for longer than its limit of {MAX_SECONDS} s (EXECUTION_MAX_SECONDS)."
    )
    assert [n["status"] for n in detail["node_executions"]] == ["TERMINATED"]
    assert time.monotonic() - started < MAX_SECONDS + 5


def _running(user) -> int:
    return GraphExecution.objects.filter(user=user, status=ExecutionStatus.RUNNING).count()


def test_one_users_twenty_long_runs_do_not_keep_another_users_run_waiting(user, auth_client, capped):
    long_run = create_graph(auth_client, [node("wait", COUNTDOWN, seconds=MAX_SECONDS - 2)], [])
    queued = [execute(auth_client, long_run)["id"] for _ in range(20)]
    processes.wait_until(lambda: _running(user) == CAP, timeout=15, message=f"{CAP} of the user's runs to start")
    other = UserFactory()
    other_client = client_for(other)
    quick = create_graph(other_client, [node("wait", COUNTDOWN, seconds=1)], [])

    submitted = time.monotonic()
    other_run = execute(other_client, quick)["id"]
    wait_for_status(other_client, other_run, statuses={"RUNNING", "COMPLETED"}, timeout=10)
    waited = time.monotonic() - submitted

    assert waited < 2.0
    # The first user's other runs wait QUEUED without a message, holding no worker slot.
    waiting = GraphExecution.objects.filter(user=user, status=ExecutionStatus.QUEUED)
    assert _running(user) == CAP
    assert waiting.count() == 20 - CAP
    assert not waiting.filter(dispatched_at__isnull=False).exists()
    # As the first runs end, the next ones go, never more than the cap at once.
    first_ids = set(
        GraphExecution.objects.filter(user=user, status=ExecutionStatus.RUNNING).values_list("id", flat=True)
    )
    processes.wait_until(
        lambda: GraphExecution.objects.filter(user=user, status=ExecutionStatus.COMPLETED).count() >= CAP,
        timeout=20,
        message="the first runs to end",
    )
    processes.wait_until(lambda: _running(user) == CAP, timeout=10, message="the next runs to start")
    assert set(
        GraphExecution.objects.filter(user=user, status=ExecutionStatus.RUNNING).values_list("id", flat=True)
    ).isdisjoint(first_ids)
    for exec_id in queued:
        auth_client.post(f"/api/v1/executions/{exec_id}/stop")
    assert not GraphExecution.objects.filter(
        user=user, status__in=[ExecutionStatus.QUEUED, ExecutionStatus.RUNNING]
    ).exists()
