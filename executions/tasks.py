"""Celery tasks: thin, they take ids and call the engine or a service.

Services enqueue these tasks, so the tasks import what they call inside their bodies (the
direction HackSoft's styleguide gives): a module of tasks imports no service at the top.
"""

import uuid

from celery import shared_task
from django.conf import settings

from autogpt_platform.queues import CeleryQueue


@shared_task(
    queue=CeleryQueue.AGENT_EXECUTIONS,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    bind=True,
    max_retries=100,
)
def execute_graph(self, graph_exec_id: str) -> None:
    """Run (or resume) one graph execution. Redelivered if the worker is lost mid-run; while the
    lost engine's lock is still fresh, it tries again a heartbeat later."""
    from .engine import EngineBusy, run_graph_execution

    try:
        run_graph_execution(graph_exec_id, worker=self.request.hostname or "")
    except EngineBusy as busy:
        raise self.retry(exc=busy, countdown=settings.EXECUTION_HEARTBEAT_SECONDS) from busy


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
