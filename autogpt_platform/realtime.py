"""Publishing to WebSocket subscribers through the Channels layer, from sync code in any role.

The channel layer is asynchronous and publishing must not slow its callers down (the engine
publishes on every batch): one publisher thread per process runs its own event loop and sends
the messages in the order they were handed over. Call only after what a message describes is
committed.

Groups are named from ids: `user.<id>` reaches every open socket of a user (notifications, chat);
apps add groups of their own (executions: `exec.<id>`, `graph.<id>`).
"""

import asyncio
import logging
import os
import threading
from typing import Any

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def user_group(user_id) -> str:
    return f"user.{user_id}"


def publish(groups: list[str], message: dict[str, Any]) -> None:
    """Send a channel-layer message to each group, in order with this process's other messages."""
    _publisher().send(groups, message)


def publish_to_user(user_id, message: dict[str, Any]) -> None:
    publish([user_group(user_id)], message)


def flush(timeout: float = 5.0) -> bool:
    """Wait until everything handed over so far has been sent."""
    return _publisher().flush(timeout)


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

    def send(self, groups: list[str], message: Any) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, (groups, message))

    def flush(self, timeout: float = 5.0) -> bool:
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
