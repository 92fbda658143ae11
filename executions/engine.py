"""The graph execution engine, run by the Celery task on agent_executions.

One coordinator thread owns the execution's state; blocks run in a thread pool (ready nodes of one
execution run concurrently) and report each yielded output back to the coordinator on a queue.
The coordinator handles whatever has arrived as one batch: it routes outputs along links (dynamic
pin names, static links), decides which node executions are ready, and commits every change of
the batch in one transaction before anything depends on it. A redelivered task therefore resumes:
completed node executions are not run again, and a node that was running is re-run with its
outputs already passed downstream skipped.

Stop: a cancel flag in Redis, checked a few times a second; blocks wait through
BlockContext.sleep, which wakes up at once when the execution is stopped.

Bounds: a run ends FAILED, naming the limit, past EXECUTION_MAX_NODE_EXECUTIONS node executions or
EXECUTION_MAX_SECONDS since it started (loops are allowed; runaway loops are not).

Outages: a Redis error (cancel flag, lock, event numbering) is logged and tolerated, the flag is
read again on the next tick and the lock taken again when Redis is back. A database error while
committing a batch is retried with backoff on a new connection, the batch kept in memory, so no
node's work is lost or repeated; past EXECUTION_OUTAGE_RETRY_SECONDS the run is failed naming the
outage (or, if even that cannot be written, left to the reaper). The database decides who runs an
execution: every claim counts an attempt, and an engine that finds its attempt is no longer the
latest (another engine took over while it was cut off) stops without writing anything more.
"""

import json
import logging
import math
import queue
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone
from pydantic import ValidationError

from agents.blocks import BlockContext, ToolSink
from agents.blocks.base import ExecutionCancelled
from agents.pins import is_tool_pin, merge_dynamic_inputs, source_value
from agents.validation import WEBHOOK_PAYLOAD_INPUT
from autogpt_platform.outages import (
    DATABASE_ERRORS,
    REDIS_ERRORS,
    TRANSIENT_ERRORS,
    DependencyOutage,
    describe,
    reset_connection,
    retry_through_outage,
)

from . import control, events
from .dispatch import execution_dispatch_for_user
from .graph_spec import GraphSpec, NodeSpec, load_graph_spec
from .models import ExecutionStatus, GraphExecution, NodeExecution
from .notify import execution_notify_ended
from .services import execution_create_child

logger = logging.getLogger(__name__)

CANCEL_POLL_SECONDS = 0.2
# An engine whose heartbeat is this many beats old is taken for dead.
STALE_BEATS = 3
UNFINISHED = (ExecutionStatus.INCOMPLETE, ExecutionStatus.QUEUED, ExecutionStatus.RUNNING)


class Superseded(Exception):
    """Another engine has claimed the execution since this one did: this one writes nothing more."""


class OutputTooLarge(Exception):
    pass


def format_validation_error(exc: ValidationError) -> str:
    problems = [f"input '{'.'.join(str(p) for p in e['loc']) or '?'}': {e['msg']}" for e in exc.errors()]
    return "Invalid input: " + "; ".join(problems)


def _finite(value: Any) -> Any:
    """value with Infinity and NaN, which JSON (and PostgreSQL's json) has no number for, as text."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return {_finite(key): _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def json_safe(value: Any, limit: int) -> Any:
    """A JSON round-trip of value (what will be stored), refusing values past the size limit.
    Infinity and NaN become the text "Infinity", "-Infinity" and "NaN"."""
    try:
        text = json.dumps(value, default=str, allow_nan=False)
    except ValueError as exc:
        if "Out of range float" not in str(exc):
            raise
        value = _finite(value)
        text = json.dumps(value, default=str, allow_nan=False)
    if len(text) > limit:
        raise OutputTooLarge(f"is {len(text)} bytes, over the limit of {limit} bytes")
    if "\\u0000" in text:  # PostgreSQL's JSON cannot store NUL characters
        return json.loads(text.replace("\\u0000", ""))
    return json.loads(text) if not isinstance(value, (str, int, float, bool, type(None))) else value


# The columns of a node execution that change while it runs.
NODE_FIELDS = [
    "status",
    "input_data",
    "output_data",
    "output_count",
    "error",
    "queued_at",
    "started_at",
    "ended_at",
    "stats",
]


@dataclass
class NodeRun:
    """The coordinator's view of one node execution."""

    id: uuid.UUID
    node: NodeSpec
    sequence: int
    status: str = ExecutionStatus.INCOMPLETE
    input_data: dict[str, Any] = field(default_factory=dict)
    output_data: dict[str, list] = field(default_factory=dict)
    output_count: int = 0
    error: str = ""
    queued_at: Any = None
    started_at: Any = None
    ended_at: Any = None
    stats: dict[str, Any] = field(default_factory=dict)
    # Outputs to skip on a re-run: they were passed downstream before the worker was lost.
    skip_outputs: int = 0

    def to_row(self, graph_exec_id) -> NodeExecution:
        return NodeExecution(
            id=self.id,
            graph_execution_id=graph_exec_id,
            node_id=self.node.node_id,
            block_id=self.node.block_id,
            sequence=self.sequence,
            **{name: getattr(self, name) for name in NODE_FIELDS},
        )

    @classmethod
    def from_row(cls, row: NodeExecution, node: NodeSpec) -> "NodeRun":
        return cls(id=row.id, node=node, sequence=row.sequence, **{name: getattr(row, name) for name in NODE_FIELDS})


class Engine:
    def __init__(self, graph_exec: GraphExecution, *, token: str = "", parent_cancel: threading.Event | None = None):
        self.graph_exec = graph_exec
        self.token = token
        self.attempt = graph_exec.attempts  # the claim this engine runs under
        self.spec: GraphSpec = load_graph_spec(graph_exec.graph_version_id)
        self.cancel_event = threading.Event()
        self.parent_cancel = parent_cancel
        self.events: queue.Queue = queue.Queue()
        self.runs: dict[uuid.UUID, NodeRun] = {}
        self.waiting: dict[str, list[NodeRun]] = defaultdict(list)  # node id -> INCOMPLETE runs, oldest first
        self.static_values: dict[tuple[str, str], Any] = {}
        self.outputs: dict[str, list] = defaultdict(list)
        self.failure: dict[str, Any] | None = None
        self.in_flight: set[uuid.UUID] = set()
        self.sequence = 0
        self.new_rows: dict[uuid.UUID, NodeRun] = {}
        self.dirty: dict[uuid.UUID, NodeRun] = {}
        self.to_start: list[NodeRun] = []
        self.pending_events: list[dict] = []
        self.output_limit = settings.BLOCK_OUTPUT_MAX_BYTES
        self.last_heartbeat = time.monotonic()
        self.last_cancel_check = 0.0
        self.redis_down = False
        self.max_nodes = settings.EXECUTION_MAX_NODE_EXECUTIONS
        self.over_node_limit = False
        started = graph_exec.started_at or timezone.now()
        self.deadline = time.monotonic() + settings.EXECUTION_MAX_SECONDS - (timezone.now() - started).total_seconds()
        self.pool = ThreadPoolExecutor(max_workers=settings.EXECUTION_MAX_PARALLEL_NODES, thread_name_prefix="node")

    # --- the loop -------------------------------------------------------------------------------
    def run(self) -> GraphExecution:
        try:
            self._restore_or_start()
            self._flush()
            while self.in_flight or not self.events.empty():
                if self._cancelled():
                    return self._terminate()
                if time.monotonic() >= self.deadline:
                    return self._stop_at_limit(
                        f"The execution was stopped: it ran for longer than its limit of "
                        f"{settings.EXECUTION_MAX_SECONDS:g} s (EXECUTION_MAX_SECONDS)."
                    )
                batch = self._next_batch()
                if not batch:
                    self._heartbeat_if_due()
                    continue
                for event in batch:
                    self._handle(*event)
                if self.over_node_limit:
                    return self._stop_at_limit(
                        f"The execution was stopped: it reached its limit of {self.max_nodes} node executions "
                        "(EXECUTION_MAX_NODE_EXECUTIONS)."
                    )
                self._flush()
            if self._cancelled():
                return self._terminate()
            return self._finish()
        finally:
            self.cancel_event.set()  # wakes any block still waiting, whatever happened
            self.pool.shutdown(wait=False, cancel_futures=True)

    def _next_batch(self) -> list[tuple]:
        """Whatever the blocks reported, waiting a tick for the first report."""
        try:
            batch = [self.events.get(timeout=CANCEL_POLL_SECONDS)]
        except queue.Empty:
            return []
        while True:
            try:
                batch.append(self.events.get_nowait())
            except queue.Empty:
                return batch

    def _cancelled(self) -> bool:
        if self.cancel_event.is_set() or (self.parent_cancel is not None and self.parent_cancel.is_set()):
            self.cancel_event.set()
            return True
        now = time.monotonic()
        if now - self.last_cancel_check >= CANCEL_POLL_SECONDS:
            self.last_cancel_check = now
            try:
                requested = control.is_cancel_requested(self.graph_exec.id)
            except REDIS_ERRORS as exc:
                self._redis_unreachable(exc)  # read again next tick
                return False
            self._redis_reachable()
            if requested:
                self.cancel_event.set()
                return True
        return False

    def _redis_unreachable(self, exc: Exception) -> None:
        if not self.redis_down:
            logger.warning("Execution %s: Redis is unreachable (%s); carrying on", self.graph_exec.id, describe(exc))
        self.redis_down = True

    def _redis_reachable(self) -> None:
        if self.redis_down:
            logger.warning("Execution %s: Redis is back", self.graph_exec.id)
            self.redis_down = False
            self.last_heartbeat = 0.0  # take the lock again at once

    # --- state ----------------------------------------------------------------------------------
    def _new_run(self, node: NodeSpec, input_data: dict[str, Any]) -> NodeRun:
        self.sequence += 1
        if self.sequence > self.max_nodes:
            self.over_node_limit = True  # the loop stops before this run is kept or started
        run = NodeRun(id=uuid.uuid4(), node=node, sequence=self.sequence, input_data=input_data)
        self.runs[run.id] = run
        self.new_rows[run.id] = run
        return run

    def _touch(self, run: NodeRun) -> None:
        if run.id not in self.new_rows:
            self.dirty[run.id] = run
        self.pending_events.append(events.node_event(self.graph_exec, run))

    def _restore_or_start(self) -> None:
        # A first attempt has nothing to resume: save the query.
        rows = (
            list(NodeExecution.objects.filter(graph_execution_id=self.graph_exec.id).order_by("sequence"))
            if self.graph_exec.attempts > 1
            else []
        )
        if not rows:
            for node in self.spec.start_nodes:
                input_data = {}
                if node.is_input:
                    name = node.input_default.get("name")
                    if name in self.graph_exec.inputs:
                        input_data["value"] = self.graph_exec.inputs[name]
                elif node.block.webhook_payload_pin and WEBHOOK_PAYLOAD_INPUT in self.graph_exec.inputs:
                    input_data[node.block.webhook_payload_pin] = self.graph_exec.inputs[WEBHOOK_PAYLOAD_INPUT]
                self._check_ready(self._new_run(node, input_data))
            return
        logger.info("Resuming execution %s with %d node executions", self.graph_exec.id, len(rows))
        for row in rows:
            node = self.spec.nodes[row.node_id]
            run = NodeRun.from_row(row, node)
            self.runs[run.id] = run
            self.sequence = max(self.sequence, row.sequence)
            self._replay_outputs(run)
            if run.status == ExecutionStatus.INCOMPLETE:
                self.waiting[node.node_id].append(run)
            elif run.status in (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING):
                run.skip_outputs = run.output_count
                self._start(run)

    def _replay_outputs(self, run: NodeRun) -> None:
        """Rebuild static values, graph outputs and failures from a stored node execution."""
        for pin, values in run.output_data.items():
            for link in run.node.links_out:
                if link.is_static:
                    for value in values:
                        found, part = source_value(pin, value, link.source_name, link.sink_id, link.sink_name)
                        if found:
                            self.static_values[(link.sink_id, link.sink_name)] = part
            if run.node.is_output and pin == "output":
                self.outputs[run.input_data.get("name", "")].extend(values)
        if run.status == ExecutionStatus.FAILED:
            self._record_failure(run)

    def _handle(self, kind: str, run_id: uuid.UUID, *payload) -> None:
        run = self.runs[run_id]
        if kind == "output":
            pin, value = payload
            run.output_data.setdefault(pin, []).append(value)
            run.output_count += 1
            if pin == "error":
                run.error = str(value)
            if run.node.is_output and pin == "output":
                self.outputs[run.input_data.get("name", "")].append(value)
            self._route(run, pin, value)
            self._touch(run)
        elif kind == "finished":
            error, stats = payload
            self.in_flight.discard(run_id)
            run.stats = stats or run.stats
            if error:
                run.error = error
                run.output_data.setdefault("error", []).append(error)
                self._route(run, "error", error)
            run.status = ExecutionStatus.FAILED if run.error else ExecutionStatus.COMPLETED
            run.ended_at = timezone.now()
            if run.status == ExecutionStatus.FAILED:
                self._record_failure(run)
            self._touch(run)

    def _record_failure(self, run: NodeRun) -> None:
        handled = any(link.source_name == "error" for link in run.node.links_out)
        if not handled and self.failure is None:
            self.failure = {
                "node_id": run.node.node_id,
                "block_id": run.node.block_id,
                "node_exec_id": str(run.id),
                "message": run.error,
            }

    def _route(self, run: NodeRun, pin: str, value: Any) -> None:
        for link in run.node.links_out:
            found, part = source_value(pin, value, link.source_name, link.sink_id, link.sink_name)
            if not found:
                continue
            sink = self.spec.nodes[link.sink_id]
            if not sink.block.runs:
                continue
            if link.is_static:
                self.static_values[(link.sink_id, link.sink_name)] = part
            self._deliver(sink, link.sink_name, part)
            if link.is_static:
                # Runs that were already waiting get the static value too.
                for waiting in list(self.waiting[sink.node_id]):
                    if link.sink_name not in waiting.input_data:
                        waiting.input_data[link.sink_name] = part
                        self._check_ready(waiting)

    def _deliver(self, sink: NodeSpec, pin: str, value: Any) -> None:
        target = next((r for r in self.waiting[sink.node_id] if pin not in r.input_data), None)
        if target is None:
            target = self._new_run(sink, {})
            self.waiting[sink.node_id].append(target)
        target.input_data[pin] = value
        self._check_ready(target)

    def _check_ready(self, run: NodeRun) -> None:
        """Start the run when every linked pin has a value (its own, or a static one)."""
        node = run.node
        collected = dict(run.input_data)
        for pin in node.linked_pins:
            if pin not in collected and (node.node_id, pin) in self.static_values:
                collected[pin] = self.static_values[(node.node_id, pin)]
        merged = merge_dynamic_inputs({**node.input_default, **collected})
        if not (node.linked_pins - node.block.optional_linked_pins) <= set(collected) or node.block.missing_inputs(
            merged, node.linked_pins
        ):
            self._touch(run)  # partial inputs are persisted too, for resuming
            return
        if run in self.waiting[node.node_id]:
            self.waiting[node.node_id].remove(run)
        run.input_data = merged
        if node.block.dynamic_input_pins:
            extra = {pin: run.input_data.pop(pin) for pin in list(run.input_data) if pin not in node.block.Input.pins()}
            run.input_data["inputs"] = {**(run.input_data.get("inputs") or {}), **extra}
        self._start(run)

    def _start(self, run: NodeRun) -> None:
        now = timezone.now()
        run.queued_at = run.queued_at or now
        self.pending_events.append(events.node_event(self.graph_exec, run, status=ExecutionStatus.QUEUED))
        run.status = ExecutionStatus.RUNNING
        run.started_at = now
        self._touch(run)
        self.in_flight.add(run.id)
        self.to_start.append(run)

    # --- persistence ----------------------------------------------------------------------------
    def _flush(self) -> None:
        """Commit every change of the batch, then publish its events and start the ready nodes.
        Through a database outage the commit is retried (the batch stays in memory)."""
        if self.new_rows or self.dirty:
            tries = 0

            def write() -> None:
                nonlocal tries
                tries += 1
                self._write_batch(retrying=tries > 1)

            retry_through_outage(
                write, seconds=settings.EXECUTION_OUTAGE_RETRY_SECONDS, what=f"Execution {self.graph_exec.id}"
            )
        self.new_rows.clear()
        self.dirty.clear()
        events.publish(self.pending_events)
        self.pending_events = []
        starting, self.to_start = self.to_start, []
        for run in starting:
            self.pool.submit(self._run_node, run)
        self._heartbeat_if_due()

    def _write_batch(self, *, retrying: bool) -> None:
        new_rows = [run.to_row(self.graph_exec.id) for run in self.new_rows.values()]
        updated_rows = [run.to_row(self.graph_exec.id) for run in self.dirty.values()]
        with transaction.atomic():
            if retrying:
                # The last try may have committed before its connection broke; and another engine
                # may have taken over meanwhile.
                self._check_claim()
                NodeExecution.objects.bulk_create(new_rows, ignore_conflicts=True)
                updated_rows = new_rows + updated_rows
            else:
                NodeExecution.objects.bulk_create(new_rows)
            # One UPDATE per row: bulk_update's CASE over JSON columns costs several times more.
            for row in updated_rows:
                NodeExecution.objects.filter(pk=row.pk).update(**{name: getattr(row, name) for name in NODE_FIELDS})

    def _check_claim(self) -> None:
        if not GraphExecution.objects.filter(id=self.graph_exec.id, attempts=self.attempt).exists():
            raise Superseded(f"Execution {self.graph_exec.id} was claimed again after attempt {self.attempt}")

    def _heartbeat_if_due(self) -> None:
        if time.monotonic() - self.last_heartbeat < settings.EXECUTION_HEARTBEAT_SECONDS:
            return
        self.last_heartbeat = time.monotonic()
        try:
            beating = GraphExecution.objects.filter(id=self.graph_exec.id, attempts=self.attempt).update(
                heartbeat_at=timezone.now()
            )
        except DATABASE_ERRORS as exc:  # the next flush waits for the database; this only tells the reaper
            logger.warning("Execution %s: heartbeat not written (%s)", self.graph_exec.id, describe(exc))
            reset_connection(exc)
        else:
            if not beating:
                raise Superseded(f"Execution {self.graph_exec.id} was claimed again after attempt {self.attempt}")
        try:
            control.lock_keep(self.graph_exec.id, self.token)
        except REDIS_ERRORS as exc:
            self._redis_unreachable(exc)

    # --- running one node, in a pool thread -------------------------------------------------------
    def _run_node(self, run: NodeRun) -> None:
        context = BlockContext(
            user_id=str(self.graph_exec.user_id),
            graph_exec_id=str(self.graph_exec.id),
            graph_id=str(self.graph_exec.graph_id),
            node_id=run.node.node_id,
            node_exec_id=str(run.id),
            cancel_event=self.cancel_event,
            run_graph=self._run_child_graph,
            tool_sinks=[
                ToolSink(
                    link.source_name,
                    link.sink_id,
                    self.spec.nodes[link.sink_id].block_id,
                    link.sink_name,
                    self.spec.nodes[link.sink_id].input_default,
                )
                for link in run.node.links_out
                if is_tool_pin(link.source_name)
            ],
        )
        error = None
        try:
            for index, (pin, value) in enumerate(run.node.block().execute(run.input_data, context)):
                context.check_cancelled()
                if index < run.skip_outputs:
                    continue
                try:
                    value = json_safe(value, self.output_limit)
                except OutputTooLarge as exc:
                    error = f"Output '{pin}' {exc}."
                    break
                self.events.put(("output", run.id, pin, value))
        except ExecutionCancelled:
            return
        except ValidationError as exc:
            error = format_validation_error(exc)
        except Exception as exc:  # a block's failure is the node's failure, reported to the user
            logger.info("Node %s (%s) failed: %s", run.node.node_id, run.node.block.name, exc, exc_info=True)
            error = str(exc) or type(exc).__name__
        self.events.put(("finished", run.id, error, {"llm_usage": context.llm_usage} if context.llm_usage else {}))

    def _run_child_graph(self, graph_id: str, graph_version: int, inputs: dict[str, Any]):
        child = execution_create_child(
            parent=self.graph_exec, graph_id=graph_id, graph_version=graph_version, inputs=inputs
        )
        result = run_graph_execution(child.id, worker=self.graph_exec.worker, parent_cancel=self.cancel_event)
        if result is None or result.status == ExecutionStatus.TERMINATED:
            raise ExecutionCancelled()
        if result.status == ExecutionStatus.FAILED:
            detail = (result.error or {}).get("message", "")
            raise RuntimeError(f"The agent's execution {result.id} failed: {detail}")
        for name, values in result.outputs.items():
            for value in values:
                yield name, value

    # --- the end ----------------------------------------------------------------------------------
    def _finish(self) -> GraphExecution:
        status = ExecutionStatus.FAILED if self.failure else ExecutionStatus.COMPLETED
        return self._close(status, error=self.failure)

    def _terminate(self) -> GraphExecution:
        return self._end_unfinished(ExecutionStatus.TERMINATED, {"message": "Stopped by request."})

    def _stop_at_limit(self, message: str) -> GraphExecution:
        logger.warning("Execution %s: %s", self.graph_exec.id, message)
        # Node executions past the node limit were never started: they are not kept.
        beyond = {run_id for run_id, run in self.runs.items() if run.sequence > self.max_nodes}
        for run_id in beyond:
            run = self.runs.pop(run_id)
            self.new_rows.pop(run_id, None)
            self.dirty.pop(run_id, None)
            if run in self.waiting[run.node.node_id]:
                self.waiting[run.node.node_id].remove(run)
        dropped = {str(run_id) for run_id in beyond}
        self.pending_events = [event for event in self.pending_events if event.get("node_exec_id") not in dropped]
        return self._end_unfinished(ExecutionStatus.FAILED, {"message": message})

    def _end_unfinished(self, status: str, error: dict) -> GraphExecution:
        """End the execution now: blocks in flight are interrupted, unfinished nodes TERMINATED."""
        self.cancel_event.set()
        now = timezone.now()
        for run in self.runs.values():
            if run.status in UNFINISHED:
                run.status = ExecutionStatus.TERMINATED
                run.ended_at = now
                self._touch(run)
        self.in_flight.clear()
        self.to_start.clear()
        self._flush()
        return self._close(status, error=error)

    def _close(self, status: str, error: dict | None) -> GraphExecution:
        graph_exec = self.graph_exec
        graph_exec.status = status
        graph_exec.outputs = dict(self.outputs)
        graph_exec.error = error
        graph_exec.ended_at = timezone.now()
        failed_nodes = [
            {
                "node_id": run.node.node_id,
                "block_id": run.node.block_id,
                "block_name": run.node.block.name,
                "message": run.error,
            }
            for run in self.runs.values()
            if run.status == ExecutionStatus.FAILED
        ]

        def write() -> int:
            with transaction.atomic():  # the final status and its notification commit together
                ended = GraphExecution.objects.filter(
                    id=graph_exec.id, attempts=self.attempt, status=ExecutionStatus.RUNNING
                ).update(status=status, outputs=graph_exec.outputs, error=error, ended_at=graph_exec.ended_at)
                if ended:
                    execution_notify_ended(graph_exec=graph_exec, failed_nodes=failed_nodes)
                return ended

        if not retry_through_outage(
            write, seconds=settings.EXECUTION_OUTAGE_RETRY_SECONDS, what=f"Execution {graph_exec.id}"
        ):
            stored = GraphExecution.objects.filter(id=graph_exec.id).values("attempts", "status").first()
            if stored != {"attempts": self.attempt, "status": status}:  # else: a try committed, its answer lost
                raise Superseded(f"Execution {graph_exec.id} was ended or claimed elsewhere ({stored})")
        events.publish([events.graph_event(graph_exec)])
        return graph_exec


class EngineBusy(Exception):
    """Another engine, still alive, holds the execution."""


def _engine_is_dead(previous_heartbeat) -> bool:
    stale_after = settings.EXECUTION_HEARTBEAT_SECONDS * STALE_BEATS
    return previous_heartbeat is None or (timezone.now() - previous_heartbeat).total_seconds() > stale_after


def run_dispatched_execution(graph_exec_id, *, worker: str = "") -> GraphExecution | None:
    """What a message on agent_executions does: claim the execution and run it.

    A live engine may hold it. Either its worker was just lost (the message is redelivered while
    the dead engine's heartbeat is still fresh): wait until that heartbeat is stale, then take over.
    Or the message is a duplicate (the broker gave back the message of a running engine after a
    connection loss, or the dispatcher sent it again): once the holder has gone on beating past
    that wait, drop it; the holder's own message stays unacknowledged until it ends.
    """
    give_up_at = time.monotonic() + settings.EXECUTION_HEARTBEAT_SECONDS * (STALE_BEATS + 2)
    while True:
        try:
            return run_graph_execution(graph_exec_id, worker=worker)
        except EngineBusy as busy:
            if time.monotonic() >= give_up_at:
                logger.info("%s: this message is a duplicate, dropped", busy)
                return None
            time.sleep(settings.EXECUTION_HEARTBEAT_SECONDS / 2)


def run_graph_execution(graph_exec_id, *, worker: str = "", parent_cancel: threading.Event | None = None):
    """Claim the execution, count the attempt, and run it to the end. None when there is nothing to
    run (finished, deleted, or claimed again elsewhere). Raises EngineBusy while a live engine holds
    it, and DependencyOutage when the database stays unreachable through the claim's retries.

    A redelivered message finds the execution RUNNING under the engine that died with its worker;
    once that engine's heartbeat is stale, the execution is taken over and resumes.
    """
    token = control.lock_token(worker)
    graph_exec = retry_through_outage(
        lambda: _claim(graph_exec_id, token, worker),
        seconds=settings.EXECUTION_OUTAGE_RETRY_SECONDS,
        what=f"Claiming execution {graph_exec_id}",
    )
    if graph_exec is None:
        return None
    try:
        return _run_claimed(graph_exec, token, parent_cancel)
    finally:
        _release_lock(graph_exec.id, token)
        if graph_exec.parent_id is None:
            _dispatch_next(graph_exec.user_id)


def _claim(graph_exec_id, token: str, worker: str) -> GraphExecution | None:
    now = timezone.now()
    with transaction.atomic():
        graph_exec = (
            GraphExecution.objects.select_related("user", "graph_version")  # for the notification at the end
            .select_for_update(of=("self",))
            .filter(id=graph_exec_id, status__in=[ExecutionStatus.QUEUED, ExecutionStatus.RUNNING])
            .first()
        )
        if graph_exec is None:
            return None
        if graph_exec.status == ExecutionStatus.RUNNING and not _engine_is_dead(graph_exec.heartbeat_at):
            raise EngineBusy(f"Execution {graph_exec_id} is being run by {graph_exec.worker}")
        _take_lock(graph_exec, token)
        graph_exec.attempts += 1  # the row is locked: no other claim can interleave
        graph_exec.status = ExecutionStatus.RUNNING
        graph_exec.worker = worker
        graph_exec.started_at = graph_exec.started_at or now
        graph_exec.heartbeat_at = now
        graph_exec.save(update_fields=["attempts", "status", "worker", "started_at", "heartbeat_at"])
    return graph_exec


def _take_lock(graph_exec: GraphExecution, token: str) -> None:
    try:
        if control.lock_acquire(graph_exec.id, token):
            return
        if not _engine_is_dead(graph_exec.heartbeat_at):
            raise EngineBusy(f"Execution {graph_exec.id} is being run by {control.lock_holder(graph_exec.id)}")
        logger.warning("Execution %s: taking over from an engine that stopped beating", graph_exec.id)
        control.lock_acquire(graph_exec.id, token, take_over=True)
    except REDIS_ERRORS as exc:
        # The claim in the database is what counts; the engine takes the lock when Redis is back.
        logger.warning(
            "Execution %s: claimed without the engine lock, Redis is unreachable (%s)", graph_exec.id, describe(exc)
        )


def _run_claimed(graph_exec: GraphExecution, token: str, parent_cancel: threading.Event | None):
    try:
        if graph_exec.attempts > settings.EXECUTION_MAX_ATTEMPTS:
            return _give_up(graph_exec)
        events.publish([events.graph_event(graph_exec)])
        return Engine(graph_exec, token=token, parent_cancel=parent_cancel).run()
    except Superseded as superseded:
        logger.warning("%s: this engine stops", superseded)
        return None
    except DependencyOutage as outage:
        logger.error("Execution %s: %s", graph_exec.id, outage)
        return _fail(graph_exec, f"{outage} The execution was given up.", node_error="The execution was given up.")
    except Exception as exc:
        logger.exception("The engine failed running execution %s", graph_exec.id)
        # A database error's text shows its internals (SQL, constraints): the log has it, not the user.
        reason = "the database refused to store its state" if isinstance(exc, DatabaseError) else str(exc)
        return _fail(graph_exec, f"The engine failed: {reason}.", node_error="The engine failed.")


def _release_lock(graph_exec_id, token: str) -> None:
    try:
        control.lock_release(graph_exec_id, token)
    except REDIS_ERRORS:
        pass  # it expires by itself


def _dispatch_next(user_id) -> None:
    """A slot of the user's is free: send the user's next waiting execution (or the sweep will)."""
    try:
        execution_dispatch_for_user(user_id=user_id)
    except TRANSIENT_ERRORS as exc:
        logger.warning("Could not dispatch the next execution of user %s (%s)", user_id, describe(exc))


def _give_up(graph_exec: GraphExecution) -> GraphExecution:
    message = (
        f"Gave up after {graph_exec.attempts - 1} attempts: the worker running this execution was lost each time "
        "(killed, out of memory or crashed)."
    )
    logger.error("Execution %s: %s", graph_exec.id, message)
    return _fail(graph_exec, message, node_error="The execution was given up.")


def _fail(graph_exec: GraphExecution, message: str, *, node_error: str | None = None) -> GraphExecution:
    """End the execution FAILED with message (and its unfinished nodes too, given node_error),
    and tell subscribers. If the database stays down, the reaper resolves it later."""
    now = timezone.now()

    def write() -> None:
        with transaction.atomic():
            failed = GraphExecution.objects.filter(id=graph_exec.id, attempts=graph_exec.attempts).update(
                status=ExecutionStatus.FAILED, error={"message": message}, ended_at=now
            )
            if node_error is not None:
                NodeExecution.objects.filter(graph_execution_id=graph_exec.id, status__in=UNFINISHED).update(
                    status=ExecutionStatus.FAILED, error=node_error, ended_at=now
                )
            graph_exec.refresh_from_db()
            if failed:  # else another engine has claimed it since
                execution_notify_ended(graph_exec=graph_exec)

    try:
        retry_through_outage(
            write, seconds=settings.EXECUTION_OUTAGE_RETRY_SECONDS, what=f"Failing execution {graph_exec.id}"
        )
    except DependencyOutage as outage:
        logger.error("Execution %s could not be failed (%s); the reaper will resolve it", graph_exec.id, outage)
        return graph_exec
    events.publish([events.graph_event(graph_exec)])
    return graph_exec
