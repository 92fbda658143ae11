"""Execution events, published after commit from the worker processes through the channel layer.

Each event goes to the execution's group and the graph's group. Events of one execution carry a
sequence number (`seq`, from Redis INCR), so a subscriber can drop what it has already seen: the
current-state snapshot a late subscriber receives, or an event arriving through both groups.

They are sent through the process's publisher (autogpt_platform.realtime), in the order they were
handed over, without slowing the engine down.
"""

import copy
import logging
from typing import Any

from autogpt_platform import realtime
from autogpt_platform.redis_client import get_redis

logger = logging.getLogger(__name__)

SEQ_KEY = "exec:seq:{id}"
SEQ_TTL_SECONDS = 7 * 86400


def execution_group(graph_exec_id) -> str:
    return f"exec.{graph_exec_id}"


def graph_group(graph_id) -> str:
    return f"graph.{graph_id}"


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def graph_event(graph_exec) -> dict[str, Any]:
    return {
        "event_type": "graph_execution_event",
        "id": str(graph_exec.id),
        "graph_id": str(graph_exec.graph_id),
        "user_id": str(graph_exec.user_id),
        "status": graph_exec.status,
        "started_at": _iso(graph_exec.started_at),
        "ended_at": _iso(graph_exec.ended_at),
        "outputs": copy.deepcopy(graph_exec.outputs) if graph_exec.ended_at else {},
        "error": graph_exec.error,
    }


def node_event(graph_exec, run, status: str | None = None) -> dict[str, Any]:
    """A node execution's state now (copied: the engine keeps changing its own)."""
    return {
        "event_type": "node_execution_event",
        "graph_exec_id": str(graph_exec.id),
        "graph_id": str(graph_exec.graph_id),
        "user_id": str(graph_exec.user_id),
        "node_exec_id": str(run.id),
        "node_id": run.node_id if hasattr(run, "node_id") else run.node.node_id,
        "block_id": run.block_id if hasattr(run, "block_id") else run.node.block_id,
        "status": status or run.status,
        "input_data": copy.deepcopy(run.input_data),
        "output_data": copy.deepcopy(run.output_data),
        "error": run.error or None,
        "queued_at": _iso(run.queued_at),
        "started_at": _iso(run.started_at),
        "ended_at": _iso(run.ended_at),
    }


def current_seq(graph_exec_id) -> int:
    return int(get_redis().get(SEQ_KEY.format(id=graph_exec_id)) or 0)


def publish(events: list[dict[str, Any]], *, wait: bool = False) -> None:
    """Number the events of each execution and hand them to the publisher thread, in order.
    Call only after the rows they describe are committed. With wait, return once they are sent:
    for events published outside the engine, which must not overtake the engine's own."""
    if not events:
        return
    by_exec: dict[str, int] = {}
    for event in events:
        exec_id = event.get("graph_exec_id") or event["id"]
        by_exec[exec_id] = by_exec.get(exec_id, 0) + 1
    try:
        pipe = get_redis().pipeline()
        for exec_id, count in by_exec.items():
            pipe.incrby(SEQ_KEY.format(id=exec_id), count)
            pipe.expire(SEQ_KEY.format(id=exec_id), SEQ_TTL_SECONDS)
        results = pipe.execute()
    except Exception:
        logger.warning("Could not number execution events; not publishing them", exc_info=True)
        return
    next_seq = {exec_id: results[2 * i] - by_exec[exec_id] for i, exec_id in enumerate(by_exec)}
    batches: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        exec_id = event.get("graph_exec_id") or event["id"]
        next_seq[exec_id] += 1
        event["seq"] = next_seq[exec_id]
        batches.setdefault(exec_id, []).append(event)
    # One channel-layer message per execution and group for the whole batch, not one per event.
    for exec_id, batch in batches.items():
        message = {"type": "execution.events", "events": batch}
        realtime.publish([execution_group(exec_id), graph_group(batch[0]["graph_id"])], message)
    if wait:
        realtime.flush()
