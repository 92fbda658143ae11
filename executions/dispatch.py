"""The dispatcher: sending an execution to the broker, durably and fairly.

The execution row is its own outbox. It is committed QUEUED with `dispatched_at` empty; sending
its message to `agent_executions` comes after, and a run never depends on the broker being up at
that instant:

- Fast paths: right after the request (or schedule, or trigger) commits, and when one of the
  user's executions ends (engine) or is stopped, the user's waiting executions are sent.
- The sweep (beat, every EXECUTION_DISPATCH_SWEEP_SECONDS, on system_events) sends whatever the
  fast paths could not: the broker was down, the process died between commit and send.
- A message can still go missing (a broker that lost it, a send whose confirm was lost): an
  execution dispatched EXECUTION_REDISPATCH_SECONDS ago and never claimed, while the queue holds no
  ready message, is sent again (and any dispatched longer ago than EXECUTION_REDISPATCH_MAX_SECONDS,
  whatever the queue holds). The claim is idempotent, so a duplicate message is harmless.

Sending: the rows to send are marked dispatched under a lock on the user's row (so that two
dispatchers never exceed the user's cap together), then published with publisher confirms; a row
whose publish failed is unmarked, for the sweep.

Per-user cap: a user's top-level executions that are RUNNING or QUEUED-and-dispatched take a slot;
at most EXECUTION_MAX_RUNNING_PER_USER at once. The others wait QUEUED and unsent, holding no worker
slot and no broker message, oldest first. Child executions (Agent Executor) run inside their
parent's engine: they are never dispatched and take no slot.
"""

import logging
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from autogpt_platform.celery import app
from autogpt_platform.outages import TRANSIENT_ERRORS, describe
from autogpt_platform.queues import CeleryQueue

from .models import ExecutionStatus, GraphExecution
from .tasks import execute_graph

logger = logging.getLogger(__name__)

# One quick retry (a pooled connection the broker closed is re-opened), then leave it to the sweep.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CONFIRM_TIMEOUT_SECONDS = 5.0
# After a failed send, this process's fast paths leave sending to the sweep for a while, so that
# requests do not each wait on a broker that is down.
BROKER_BACKOFF_SECONDS = 2.0
SWEEP_BATCH = 500

_broker_down_until = 0.0


def _top_level(**filters) -> QuerySet[GraphExecution]:
    return GraphExecution.objects.filter(parent__isnull=True, **filters)


TAKES_A_SLOT = Q(status=ExecutionStatus.RUNNING) | Q(status=ExecutionStatus.QUEUED, dispatched_at__isnull=False)
WAITING = Q(status=ExecutionStatus.QUEUED, dispatched_at__isnull=True)


def _reserve(user_id) -> list[uuid.UUID]:
    """Mark the user's oldest waiting executions dispatched, as many as the user has free slots."""
    with transaction.atomic():
        # FOR NO KEY UPDATE: serialises the user's dispatchers without blocking inserts of executions
        # (their foreign key takes FOR KEY SHARE on the user's row).
        list(User.objects.select_for_update(no_key=True).filter(id=user_id).values_list("id", flat=True))
        free = settings.EXECUTION_MAX_RUNNING_PER_USER - _top_level(user_id=user_id).filter(TAKES_A_SLOT).count()
        if free <= 0:
            return []
        ids = list(
            _top_level(user_id=user_id)
            .filter(WAITING)
            .order_by("created_at")
            .select_for_update(of=("self",))
            .values_list("id", flat=True)[:free]
        )
        if ids:
            GraphExecution.objects.filter(id__in=ids).update(dispatched_at=timezone.now())
    return ids


def _send(ids: list[uuid.UUID]) -> int:
    """Publish one message per execution, each confirmed by the broker. On the first failure the
    rest are unmarked (dispatched_at back to None) for the sweep. Returns how many were sent."""
    global _broker_down_until
    for index, graph_exec_id in enumerate(ids):
        try:
            execute_graph.apply_async(
                args=[str(graph_exec_id)],
                retry=True,
                retry_policy=PUBLISH_RETRY_POLICY,
                confirm_timeout=CONFIRM_TIMEOUT_SECONDS,
            )
        except Exception as exc:  # whatever the broker did, the message is not known to be there
            _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
            logger.warning(
                "Could not send %d execution(s) to the broker (%s); the dispatcher's sweep will",
                len(ids) - index,
                describe(exc),
            )
            _unmark(ids[index:])
            return index
    return len(ids)


def _unmark(ids: list[uuid.UUID]) -> None:
    try:
        GraphExecution.objects.filter(id__in=ids, status=ExecutionStatus.QUEUED).update(dispatched_at=None)
    except TRANSIENT_ERRORS as exc:
        # They look dispatched without a message: the redispatch below sends them later.
        logger.warning("Could not unmark %d unsent execution(s) (%s)", len(ids), describe(exc))


def execution_dispatch_for_user(*, user_id) -> int:
    """Send the user's waiting executions while the user has free slots. Safe to call any number
    of times from any process. Returns how many were sent."""
    ids = _reserve(user_id)
    return _send(ids) if ids else 0


def execution_dispatch_after_commit(*, user_id) -> None:
    """The fast path, after the current transaction commits. It never fails its caller: what it
    cannot send (the broker or the database is down) the sweep sends later."""

    def dispatch() -> None:
        if time.monotonic() < _broker_down_until:
            return
        try:
            execution_dispatch_for_user(user_id=user_id)
        except TRANSIENT_ERRORS as exc:
            logger.warning("Dispatch after commit failed (%s); the sweep will send", describe(exc))

    transaction.on_commit(dispatch)


def _ready_messages() -> int | None:
    """Messages waiting in agent_executions (None when the broker cannot tell)."""
    try:
        with app.connection_for_write() as conn:
            _, messages, _ = conn.default_channel.queue_declare(queue=CeleryQueue.AGENT_EXECUTIONS.value, passive=True)
            return messages
    except Exception as exc:
        logger.info("Could not count the messages in %s (%s)", CeleryQueue.AGENT_EXECUTIONS.value, describe(exc))
        return None


def _redispatch_lost() -> int:
    """Send again executions whose message is gone: dispatched long ago and never claimed."""
    now = timezone.now()
    stale = _top_level(
        status=ExecutionStatus.QUEUED, dispatched_at__lt=now - timedelta(seconds=settings.EXECUTION_REDISPATCH_SECONDS)
    )
    if not stale.exists():
        return 0
    ready = _ready_messages()
    if ready is None:
        return 0
    if ready:  # messages still wait their turn: only the very old are surely lost
        stale = stale.filter(dispatched_at__lt=now - timedelta(seconds=settings.EXECUTION_REDISPATCH_MAX_SECONDS))
    with transaction.atomic():
        ids = list(
            stale.order_by("dispatched_at")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:SWEEP_BATCH]
        )
        GraphExecution.objects.filter(id__in=ids).update(dispatched_at=now)
    if ids:
        logger.warning("Sending %d execution(s) again: their messages never reached a worker", len(ids))
    return _send(ids) if ids else 0


def execution_dispatch_sweep() -> dict[str, int]:
    """Beat's sweep: send every user's waiting executions up to their cap, and send again the ones
    whose message is gone."""
    users = list(_top_level().filter(WAITING).order_by().values_list("user_id", flat=True).distinct()[:SWEEP_BATCH])
    sent = 0
    for user_id in users:
        sent += execution_dispatch_for_user(user_id=user_id)
        if time.monotonic() < _broker_down_until:
            break  # the broker is down: the next sweep tries again
    resent = _redispatch_lost()
    return {"sent": sent, "resent": resent}
