"""Celery tasks: thin, they take ids and call the engine or a service.

Services enqueue these tasks, so the tasks import what they call inside their bodies (the
direction HackSoft's styleguide gives): a module of tasks imports no service at the top.
"""

import time
import uuid

from celery import shared_task
from celery.exceptions import Reject
from django.conf import settings

from autogpt_platform.queues import CeleryQueue

# After the claim gave up on an outage, the message goes back to the queue after this pause.
REQUEUE_PAUSE_SECONDS = 2.0


@shared_task(
    queue=CeleryQueue.AGENT_EXECUTIONS,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    bind=True,
    # The engine ends a run at EXECUTION_MAX_SECONDS itself; these only catch an engine that hangs.
    soft_time_limit=settings.EXECUTION_MAX_SECONDS + 60,
    time_limit=settings.EXECUTION_MAX_SECONDS + 120,
)
def execute_graph(self, graph_exec_id: str) -> None:
    """Run (or resume) one graph execution. Redelivered if the worker is lost mid-run. When the
    claim cannot reach the database (or Redis) through its retries, the message is put back on the
    queue, never acknowledged and forgotten."""
    from autogpt_platform.outages import DependencyOutage

    from .engine import run_dispatched_execution

    try:
        run_dispatched_execution(graph_exec_id, worker=self.request.hostname or "")
    except DependencyOutage as outage:
        time.sleep(REQUEUE_PAUSE_SECONDS)
        raise Reject(str(outage), requeue=True) from outage


@shared_task(queue=CeleryQueue.SYSTEM_EVENTS, ignore_result=True)
def dispatch_pending_executions() -> dict[str, int]:
    """Beat's dispatcher sweep: send what the fast paths could not, and again what was lost."""
    from .dispatch import execution_dispatch_sweep

    return execution_dispatch_sweep()


@shared_task(queue=CeleryQueue.SYSTEM_EVENTS, ignore_result=True)
def run_schedule(schedule_id: str) -> str | None:
    """Fired by beat for a schedule: start its execution."""
    from .schedules import schedule_run

    graph_exec = schedule_run(schedule_id=uuid.UUID(schedule_id))
    return str(graph_exec.id) if graph_exec else None


@shared_task(queue=CeleryQueue.SYSTEM_EVENTS, ignore_result=True)
def purge_expired_trigger_deliveries() -> int:
    """Forget webhook deliveries older than the replay window."""
    from . import triggers

    return triggers.trigger_delivery_purge_expired()


@shared_task(queue=CeleryQueue.SYSTEM_EVENTS, ignore_result=True)
def reap_stuck_executions() -> dict[str, int]:
    from . import services

    return services.execution_reap_stuck()
