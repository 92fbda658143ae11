"""A turn's events in Redis, and the live session.

One Redis Stream per turn holds its events in the AI SDK UI message stream protocol, in order:
the web process writes `start` when it queues the turn, the worker everything after, and
whoever ends the turn (the worker, a cancel of a queued turn, the reaper) `finish` and `[DONE]`.
The SSE views relay a stream with XREAD BLOCK, so any number of tabs can follow one turn and a
dropped connection rejoins from its Last-Event-ID: the event ids are the stream's entry ids.

Keys:
- `chat:turn:{turn}:events`  the turn's events, `{"data": <json>}` each, `[DONE]` last; at most
  about CHAT_STREAM_MAX_EVENTS, kept CHAT_STREAM_TTL_SECONDS after the turn ends;
- `chat:turn:{turn}:alive`   the worker's heartbeat (expires after CHAT_TURN_STALE_SECONDS);
- `chat:turn:{turn}:cancel`  set by a cancel request, read by the worker;
- `session:{id}`             the live session: status, turn_id, last_event_id (PostgreSQL is the truth).
"""

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import cache
from typing import Any

import redis.asyncio as aioredis
from django.conf import settings
from redis.commands.core import Script

from autogpt_platform.redis_client import get_redis

EVENTS_KEY = "chat:turn:{turn_id}:events"
ALIVE_KEY = "chat:turn:{turn_id}:alive"
CANCEL_KEY = "chat:turn:{turn_id}:cancel"
SESSION_KEY = "session:{session_id}"
DONE = "[DONE]"
EVENT_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
# A running turn's stream and the live session outlive any turn; ending the turn shortens the stream's.
RUNNING_TTL_SECONDS = 86400
CANCEL_TTL_SECONDS = 86400
HEARTBEAT_COMMENT = b": heartbeat\n\n"

# Append one event and note its id in the live session, in one round trip. The stream gets the
# running expiry once; an append after the end (a late worker) does not lengthen the shorter one.
_APPEND = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'data', ARGV[2])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
redis.call('HSET', KEYS[2], 'last_event_id', id)
redis.call('EXPIRE', KEYS[2], ARGV[3])
return id
"""


@cache
def _append_script() -> Script:
    return get_redis().register_script(_APPEND)


def _events_key(turn_id: Any) -> str:
    return EVENTS_KEY.format(turn_id=turn_id)


def _session_key(session_id: Any) -> str:
    return SESSION_KEY.format(session_id=session_id)


# --- writing (worker and web process, sync) ------------------------------------------------------
def event_append(*, session_id: Any, turn_id: Any, event: dict[str, Any] | str) -> str:
    """Append one event (a dict, or DONE) to the turn's stream; returns its id."""
    data = event if isinstance(event, str) else json.dumps(event, separators=(",", ":"), default=str)
    keys = [_events_key(turn_id), _session_key(session_id)]
    return str(_append_script()(keys=keys, args=[settings.CHAT_STREAM_MAX_EVENTS, data, RUNNING_TTL_SECONDS]))


def stream_close(*, turn_id: Any) -> None:
    """The turn has ended: its events stay for CHAT_STREAM_TTL_SECONDS, for late readers."""
    get_redis().expire(_events_key(turn_id), int(settings.CHAT_STREAM_TTL_SECONDS))


def stream_delete(*, turn_id: Any) -> None:
    get_redis().delete(_events_key(turn_id), ALIVE_KEY.format(turn_id=turn_id), CANCEL_KEY.format(turn_id=turn_id))


def stream_last_event_id(*, turn_id: Any) -> str | None:
    entries: Any = get_redis().xrevrange(_events_key(turn_id), count=1)
    return str(entries[0][0]) if entries else None


def stream_has_events_after(*, turn_id: Any, event_id: str) -> bool:
    return bool(get_redis().xrange(_events_key(turn_id), min=f"({event_id}", count=1))


def session_cache_set(*, session_id: Any, **fields: Any) -> None:
    """Mirror the session's live state: status, turn_id, last_event_id, user_id."""
    key = _session_key(session_id)
    pipeline = get_redis().pipeline()
    pipeline.hset(key, mapping={name: "" if value is None else str(value) for name, value in fields.items()})
    pipeline.expire(key, RUNNING_TTL_SECONDS)
    pipeline.execute()


def session_cache_get(*, session_id: Any) -> dict[str, str]:
    return get_redis().hgetall(_session_key(session_id))  # type: ignore[return-value]  # decode_responses: str


def session_cache_delete(*, session_id: Any) -> None:
    get_redis().delete(_session_key(session_id))


# --- turn control ---------------------------------------------------------------------------------
def cancel_request(*, turn_id: Any) -> None:
    get_redis().set(CANCEL_KEY.format(turn_id=turn_id), 1, ex=CANCEL_TTL_SECONDS)


def is_cancel_requested(*, turn_id: Any) -> bool:
    return bool(get_redis().exists(CANCEL_KEY.format(turn_id=turn_id)))


def heartbeat(*, turn_id: Any, worker: str) -> None:
    get_redis().set(ALIVE_KEY.format(turn_id=turn_id), worker or "worker", ex=int(settings.CHAT_TURN_STALE_SECONDS))


def heartbeat_clear(*, turn_id: Any) -> None:
    get_redis().delete(ALIVE_KEY.format(turn_id=turn_id))


def is_alive(*, turn_id: Any) -> bool:
    """Whether a worker is running the turn: its heartbeat has not expired."""
    return bool(get_redis().exists(ALIVE_KEY.format(turn_id=turn_id)))


# --- reading (the SSE views, async) ---------------------------------------------------------------
def sse_event(event_id: str, data: str) -> bytes:
    """One server-sent event; `data` is one line of JSON (or DONE)."""
    return f"id: {event_id}\ndata: {data}\n\n".encode()


async def relay(
    *, turn_id: Any, after: str = "0-0", is_running: Callable[[], Awaitable[bool]] | None = None
) -> AsyncIterator[bytes]:
    """The turn's events after `after` as server-sent events, as they are appended, until DONE.

    A comment goes out after CHAT_SSE_HEARTBEAT_SECONDS without events, so that proxies keep an
    idle stream open. The stream ends early when its key expired, or when `is_running()` has
    said for two silences in a row that the turn is over without its end reaching the stream
    (whoever ended it died in between). A client that leaves cancels the XREAD it is waiting
    in (Django cancels the response), which closes the connection."""
    key = _events_key(turn_id)
    heartbeat_seconds = float(settings.CHAT_SSE_HEARTBEAT_SECONDS)
    block_ms = max(1, int(heartbeat_seconds * 1000))
    # The socket may stay silent for a whole XREAD BLOCK: its timeout must be longer.
    client = aioredis.Redis.from_url(
        settings.REDIS_URL, decode_responses=True, socket_connect_timeout=2, socket_timeout=heartbeat_seconds + 10
    )
    try:
        last, silences_over = after, 0
        while True:
            answer: Any = await client.xread({key: last}, count=100, block=block_ms)
            if not answer:
                if not await client.exists(key):
                    return
                silences_over = silences_over + 1 if is_running is not None and not await is_running() else 0
                if silences_over >= 2:
                    return
                yield HEARTBEAT_COMMENT
                continue
            for entry_id, fields in answer[0][1]:
                last = entry_id
                data = fields.get("data", "")
                yield sse_event(entry_id, data)
                if data == DONE:
                    return
    finally:
        await client.aclose()
