"""Execution events, published after commit from the worker processes through the channel layer.

Each event goes to the execution's group and the graph's group. Events of one execution carry a
sequence number (`seq`, from Redis INCR), so a subscriber can drop what it has already seen: the
current-state snapshot a late subscriber receives, or an event arriving through both groups.

Publishing must not slow the engine down, and the channel layer is asynchronous: one publisher
thread per process runs its own event loop and sends the events in the order they were handed over.
"""

import asyncio
import copy
import logging
import os
import threading
from typing import Any

from channels.layers import get_channel_layer

from autogpt_platform.redis_client import get_redis

logger = logging.getLogger(__name__)

SEQ_KEY = "exec:seq:{id}"
SEQ_TTL_SECONDS = 7 * 86400


def execution_group(graph_exec_id) -> str:
    return f"exec.{graph_exec_id}"


def graph_group(graph_id) -> str:
    return f"graph.{graph_id}"


def user_group(user_id) -> str:
    return f"user.{user_id}"


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
        _publisher().send([execution_group(exec_id), graph_group(batch[0]["graph_id"])], message)
    if wait:
        _publisher().flush()


def publish_to_user(user_id, message: dict[str, Any]) -> None:
    """Send a channel-layer message to the user's group (their open WebSockets), in order with
    the execution events of this process. Call only after what it describes is committed."""
    _publisher().send([user_group(user_id)], message)


class _Publisher:
    """A daemon thread with one event loop, sending channel-layer messages in order."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="event-publisher", daemon=True)
        self.thread.start()
        self.ready.wait(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.queue: asyncio.Queue = asyncio.Queue()
        self.loop.call_soon(self.ready.set)
        self.loop.run_until_complete(self._drain())

    async def _drain(self) -> None:
        layer = get_channel_layer()
        while True:
            groups, message = await self.queue.get()
            if isinstance(message, threading.Event):  # a flush() marker: all before it is sent
                message.set()
                continue
            for group in groups:
                try:
                    await layer.group_send(group, message)
                except Exception:
                    logger.warning("Could not publish to %s", group, exc_info=True)

    def send(self, groups: list[str], message: dict[str, Any]) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, (groups, message))

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything handed over so far has been sent (tests, shutdown)."""
        sent = threading.Event()
        self.send([], sent)
        return sent.wait(timeout)


_publishers: dict[int, _Publisher] = {}
_lock = threading.Lock()


def _publisher() -> _Publisher:
    """The publisher of this process (a forked worker child starts its own)."""
    pid = os.getpid()
    if pid not in _publishers:
        with _lock:
            if pid not in _publishers:
                _publishers[pid] = _Publisher()
    return _publishers[pid]
