"""Execution writes: start, stop, delete, and the reaper's resolution of lost executions."""

import logging
import time
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from agents.models import Graph, GraphVersion
from agents.selectors import graph_get_for_user
from agents.validation import validate_execution_inputs
from autogpt_platform.errors import ConflictError, NotFoundError

from . import control, events
from .dispatch import execution_dispatch_after_commit
from .models import TERMINAL_STATUSES, ExecutionStatus, GraphExecution, TriggerKind
from .notify import execution_notify_ended

logger = logging.getLogger(__name__)


def _publish_state_after_commit(exec_ids: list) -> None:
    """Tell subscribers about executions changed here rather than by an engine."""

    def publish() -> None:
        changed = GraphExecution.objects.filter(id__in=exec_ids)
        events.publish([events.graph_event(graph_exec) for graph_exec in changed], wait=True)

    if exec_ids:
        transaction.on_commit(publish)


def execution_create(
    *,
    user: User,
    graph_id: uuid.UUID,
    graph_version: int | None,
    inputs: dict[str, Any],
    trigger_kind: str = TriggerKind.MANUAL,
    trigger_id: str = "",
) -> GraphExecution:
    """Validate the inputs against the graph's and queue an execution. The committed row is durable:
    its message is sent after commit, or later by the dispatcher's sweep (executions/dispatch.py)."""
    version = graph_get_for_user(user=user, graph_id=graph_id, version=graph_version)
    validate_execution_inputs(version, inputs)
    graph_exec = GraphExecution.objects.create(
        user=user,
        graph_id=version.graph_id,
        graph_version=version,
        inputs={name: value for name, value in inputs.items() if value is not None},
        trigger_kind=trigger_kind,
        trigger_id=trigger_id,
    )
    # Published before the task is sent, so that QUEUED reaches subscribers before RUNNING.
    _publish_state_after_commit([graph_exec.id])
    execution_dispatch_after_commit(user_id=user.pk)
    return graph_exec


def execution_create_child(
    *, parent: GraphExecution, graph_id: str, graph_version: int, inputs: dict
) -> GraphExecution:
    """A child execution for an Agent Executor node; it runs inside the parent's engine."""
    version = (
        GraphVersion.objects.prefetch_related("nodes")
        .filter(graph_id=graph_id, graph__user_id=parent.user_id, version=graph_version)
        .first()
    )
    if version is None:
        raise LookupError(f"No graph {graph_id} version {graph_version} of this user's to run.")
    validate_execution_inputs(version, inputs)
    return GraphExecution.objects.create(
        user_id=parent.user_id,
        graph_id=version.graph_id,
        graph_version=version,
        inputs=inputs,
        trigger_kind=TriggerKind.AGENT,
        trigger_id=str(parent.id),
        parent=parent,
    )


def _descendant_ids(graph_exec_id: uuid.UUID) -> list[uuid.UUID]:
    ids, frontier = [graph_exec_id], [graph_exec_id]
    while frontier:
        frontier = list(
            GraphExecution.objects.filter(parent_id__in=frontier)
            .exclude(status__in=TERMINAL_STATUSES)
            .values_list("id", flat=True)
        )
        ids.extend(frontier)
    return ids


def _stop_tree(graph_exec_id: uuid.UUID) -> None:
    """Ask every engine running the execution or its children to stop; what no engine holds
    (queued, or its worker gone) is terminated at once."""
    now = timezone.now()
    for exec_id in _descendant_ids(graph_exec_id):
        control.request_cancel(exec_id)
        stoppable = GraphExecution.objects.filter(id=exec_id).exclude(status__in=TERMINAL_STATUSES)
        if not control.is_locked(exec_id) and stoppable.update(
            status=ExecutionStatus.TERMINATED, ended_at=now, error={"message": "Stopped by request."}
        ):
            _publish_state_after_commit([exec_id])
            if exec_id == graph_exec_id:
                # Its slot is free: the user's next waiting execution may go.
                user_id = GraphExecution.objects.filter(id=exec_id).values_list("user_id", flat=True).first()
                execution_dispatch_after_commit(user_id=user_id)


def execution_stop(*, user: User, graph_exec_id: uuid.UUID) -> GraphExecution:
    """Stop an execution and its children; waits briefly for a running one to end."""
    graph_exec = GraphExecution.objects.filter(id=graph_exec_id, user=user).first()
    if graph_exec is None:
        raise NotFoundError("Execution not found.")
    if graph_exec.is_terminal:
        return graph_exec
    with transaction.atomic():
        _stop_tree(graph_exec.id)
    deadline = time.monotonic() + settings.EXECUTION_STOP_WAIT_SECONDS
    while time.monotonic() < deadline:
        graph_exec.refresh_from_db()
        if graph_exec.is_terminal:
            break
        time.sleep(0.05)
    return graph_exec


def execution_stop_all_for_graph(*, graph: Graph) -> None:
    for exec_id in graph.executions.exclude(status__in=TERMINAL_STATUSES).values_list("id", flat=True):
        _stop_tree(exec_id)


def execution_delete(*, user: User, graph_exec_id: uuid.UUID) -> None:
    graph_exec = GraphExecution.objects.filter(id=graph_exec_id, user=user).first()
    if graph_exec is None:
        raise NotFoundError("Execution not found.")
    if not graph_exec.is_terminal:
        raise ConflictError(f"The execution is {graph_exec.status}; stop it before deleting it.")
    graph_exec.delete()


def execution_reap_stuck() -> dict[str, int]:
    """Resolve RUNNING executions whose worker is gone: no engine holds them and their heartbeat
    is stale. Top-level ones are queued again while attempts remain (the dispatcher sends them),
    else failed; children are failed (their parent's engine re-runs its Agent Executor node when
    it resumes), and so are children left QUEUED by a parent that has ended. QUEUED executions
    whose message is gone are the dispatcher's (executions/dispatch.py)."""
    stale_before = timezone.now() - timedelta(seconds=settings.EXECUTION_STALE_SECONDS)
    requeued = failed = 0
    candidates = GraphExecution.objects.filter(status=ExecutionStatus.RUNNING, heartbeat_at__lt=stale_before)
    for graph_exec in candidates:
        if control.is_locked(graph_exec.id):
            continue
        with transaction.atomic():
            claimed = (
                GraphExecution.objects.select_for_update(skip_locked=True)
                .filter(id=graph_exec.id, status=ExecutionStatus.RUNNING, heartbeat_at__lt=stale_before)
                .first()
            )
            if claimed is None:
                continue
            if claimed.parent_id is None and claimed.attempts < settings.EXECUTION_MAX_ATTEMPTS:
                claimed.status, claimed.dispatched_at = ExecutionStatus.QUEUED, None
                claimed.save(update_fields=["status", "dispatched_at"])
                _publish_state_after_commit([claimed.id])
                execution_dispatch_after_commit(user_id=claimed.user_id)
                requeued += 1
                logger.warning("Reaper: execution %s lost its worker; queued again", claimed.id)
            else:
                reason = (
                    "Its parent execution's worker was lost."
                    if claimed.parent_id
                    else f"Its worker was lost {claimed.attempts} times."
                )
                _reap_failed(claimed, reason)
                failed += 1
    failed += _reap_orphaned_children()
    return {"requeued": requeued, "failed": failed}


def _reap_failed(graph_exec: GraphExecution, reason: str) -> None:
    graph_exec.status, graph_exec.ended_at, graph_exec.error = (
        ExecutionStatus.FAILED,
        timezone.now(),
        {"message": reason},
    )
    graph_exec.save(update_fields=["status", "ended_at", "error"])
    execution_notify_ended(graph_exec=graph_exec)
    _publish_state_after_commit([graph_exec.id])
    if graph_exec.parent_id is None:
        execution_dispatch_after_commit(user_id=graph_exec.user_id)
    logger.warning("Reaper: execution %s failed: %s", graph_exec.id, reason)


def _reap_orphaned_children() -> int:
    """Children never claimed whose parent has ended (its engine died between creating and running them)."""
    failed = 0
    orphans = GraphExecution.objects.filter(status=ExecutionStatus.QUEUED, parent__status__in=TERMINAL_STATUSES)
    for orphan_id in orphans.values_list("id", flat=True)[:500]:
        with transaction.atomic():
            orphan = (
                GraphExecution.objects.select_for_update(skip_locked=True)
                .filter(id=orphan_id, status=ExecutionStatus.QUEUED)
                .first()
            )
            if orphan is not None:
                _reap_failed(orphan, "Its parent execution ended before it ran.")
                failed += 1
    return failed
