"""Telling users how their runs ended, through notifications.services.notification_create:
agent_run_completed or agent_run_failed, plus block_execution_failed when nodes failed in a run
that still completed (their errors went along error links).

Called inside the transaction that commits the final status, so that a run's end and its
notification are recorded together. A failure to notify is logged and never fails the run.
Child executions (Agent Executor blocks) and stopped (TERMINATED) runs notify nobody.
"""

import logging

from django.db import transaction

from notifications.models import NotificationType
from notifications.services import notification_create

from .models import ExecutionStatus, GraphExecution

logger = logging.getLogger(__name__)


def execution_notify_ended(*, graph_exec: GraphExecution, failed_nodes: list[dict] | None = None) -> None:
    if graph_exec.parent_id is not None or graph_exec.status not in (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED):
        return
    try:
        with transaction.atomic():
            _notify(graph_exec, failed_nodes or [])
    except Exception:
        logger.exception("Could not create the notification for execution %s", graph_exec.id)


def _notify(graph_exec: GraphExecution, failed_nodes: list[dict]) -> None:
    name, version = graph_exec.graph_version.name, graph_exec.graph_version.version
    started, ended = graph_exec.started_at, graph_exec.ended_at
    data = {
        "execution_id": str(graph_exec.id),
        "graph_id": str(graph_exec.graph_id),
        "graph_name": name,
        "graph_version": version,
        "status": graph_exec.status,
        "started_at": started,
        "ended_at": ended,
        "duration_seconds": round((ended - started).total_seconds(), 3) if started and ended else None,
        "trigger_kind": graph_exec.trigger_kind,
    }
    dedupe_key = f"execution:{graph_exec.id}"
    user = graph_exec.user
    if graph_exec.status == ExecutionStatus.FAILED:
        error = graph_exec.error or {}
        data.update(
            error_message=error.get("message", ""),
            failed_node_id=error.get("node_id"),
            failed_block_id=error.get("block_id"),
        )
        notification_create(user=user, type=NotificationType.AGENT_RUN_FAILED, data=data, dedupe_key=dedupe_key)
        return
    notification_create(user=user, type=NotificationType.AGENT_RUN_COMPLETED, data=data, dedupe_key=dedupe_key)
    if failed_nodes:
        notification_create(
            user=user,
            type=NotificationType.BLOCK_EXECUTION_FAILED,
            data={**data, "failed_nodes": failed_nodes},
            dedupe_key=dedupe_key,
        )
