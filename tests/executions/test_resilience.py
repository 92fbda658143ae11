"""Workers die; executions do not get lost, do not loop, and never stay RUNNING."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import GraphVersion
from autogpt_platform.celery import app
from autogpt_platform.redis_client import get_redis
from executions.models import ExecutionStatus, GraphExecution
from executions.services import execution_reap_stuck
from executions.tasks import reap_stuck_executions
from tests import processes
from tests.blocks import COUNTER_KEY, side_effect_count
from tests.graphs import (
    AGENT_OUTPUT,
    COUNT_SIDE_EFFECT,
    COUNTDOWN,
    KILL_WORKER,
    create_graph,
    execute,
    link,
    node,
    node_runs,
    wait_for_status,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_worker")]


@pytest.fixture
def two_executors(live_worker):
    """Two dedicated executor workers; the shared worker stops taking executions meanwhile."""
    app.control.cancel_consumer("agent_executions", destination=[live_worker.node_name], reply=True, timeout=5)
    workers = [processes.celery_worker(f"exec{i}", ["agent_executions"], concurrency=1) for i in (1, 2)]
    yield {worker.node_name.split("@")[0]: worker for worker in workers}
    for worker in workers:
        worker.stop()
    app.control.add_consumer("agent_executions", destination=[live_worker.node_name], reply=True, timeout=5)


@pytest.fixture
def counters():
    keys = {name: f"{name}-{uuid.uuid4()}" for name in ("before", "after")}
    yield keys
    get_redis().delete(*(COUNTER_KEY.format(key=key) for key in keys.values()))


def test_a_worker_killed_mid_run_is_replaced_and_completed_nodes_do_not_run_again(auth_client, two_executors, counters):
    graph = create_graph(
        auth_client,
        [
            node("before", COUNT_SIDE_EFFECT, key=counters["before"], value="go"),
            node("wait", COUNTDOWN, seconds=3, input_message="waited"),
            node("after", COUNT_SIDE_EFFECT, key=counters["after"]),
            node("out", AGENT_OUTPUT, name="result"),
        ],
        [
            link("before", "output", "wait", "input_message"),
            link("wait", "output_message", "after", "value"),
            link("after", "output", "out", "value"),
        ],
    )
    execution = execute(auth_client, graph)
    processes.wait_until(
        lambda: any(
            n["status"] == "RUNNING"
            for n in node_runs(auth_client.get(f"/api/v1/executions/{execution['id']}").json(), "wait")
        ),
        timeout=20,
        message="the wait node to run",
    )
    victim = GraphExecution.objects.get(id=execution["id"]).worker.split("@")[0]

    two_executors[victim].kill()
    detail = wait_for_status(auth_client, execution["id"], timeout=60)

    assert detail["status"] == "COMPLETED", detail
    assert detail["outputs"] == {"result": ["go"]}
    assert side_effect_count(counters["before"]) == 1, "a completed node ran again"
    assert side_effect_count(counters["after"]) == 1
    assert len(node_runs(detail, "before")) == 1
    resumed = GraphExecution.objects.get(id=execution["id"])
    assert resumed.attempts == 2
    assert resumed.worker.split("@")[0] != victim


def test_a_message_that_kills_its_worker_every_time_is_failed_after_bounded_attempts(auth_client, settings):
    graph = create_graph(auth_client, [node("kill", KILL_WORKER, trigger="boom")], [])

    detail = wait_for_status(auth_client, execute(auth_client, graph)["id"], timeout=90)

    assert detail["status"] == "FAILED"
    assert "Gave up after 3 attempts" in detail["error"]["message"]
    assert GraphExecution.objects.get(id=detail["id"]).attempts == settings.EXECUTION_MAX_ATTEMPTS + 1
    assert node_runs(detail, "kill")[0]["status"] == "FAILED"


def _lost_execution(graph_id, user, *, attempts: int, parent=None) -> GraphExecution:
    """An execution left RUNNING by a worker that is gone, its message lost with it."""
    version = GraphVersion.objects.get(graph_id=graph_id)
    return GraphExecution.objects.create(
        user=user,
        graph_id=graph_id,
        graph_version=version,
        status=ExecutionStatus.RUNNING,
        attempts=attempts,
        heartbeat_at=timezone.now() - timedelta(minutes=10),
        started_at=timezone.now() - timedelta(minutes=10),
        parent=parent,
    )


def test_the_reaper_resolves_executions_whose_worker_is_gone(auth_client, user):
    graph = create_graph(auth_client, [node("out", AGENT_OUTPUT, name="x", value=1)], [])
    retryable = _lost_execution(graph["id"], user, attempts=1)
    exhausted = _lost_execution(graph["id"], user, attempts=3)
    orphan_child = _lost_execution(graph["id"], user, attempts=1, parent=exhausted)

    result = reap_stuck_executions.delay()  # on system_events, run by the real worker

    assert wait_for_status(auth_client, str(retryable.id), timeout=30)["status"] == "COMPLETED"
    assert wait_for_status(auth_client, str(exhausted.id))["error"]["message"] == "Its worker was lost 3 times."
    assert wait_for_status(auth_client, str(orphan_child.id))["status"] == "FAILED"
    assert result.id


def test_the_reaper_leaves_a_live_execution_alone(auth_client, user):
    graph = create_graph(auth_client, [node("wait", COUNTDOWN, seconds=3)], [])
    execution = execute(auth_client, graph)
    wait_for_status(auth_client, execution["id"], statuses={"RUNNING"}, timeout=15)
    GraphExecution.objects.filter(id=execution["id"]).update(heartbeat_at=timezone.now() - timedelta(minutes=10))

    assert execution_reap_stuck() == {"requeued": 0, "failed": 0}  # its engine still holds the lock
    assert wait_for_status(auth_client, execution["id"], timeout=15)["status"] == "COMPLETED"
