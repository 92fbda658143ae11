"""Control of running executions through Redis: cancel flags, the engine lock and its heartbeat.

Kept apart from the engine so that services (stop, the reaper) and the engine can both use it
without importing each other.

- Cancel flag: set by a stop request, read by the engine a few times a second.
- Engine lock: held by the engine running an execution, with a TTL its heartbeat renews; a lock
  that is gone means no engine holds the execution (its worker was lost, or it never started).
  The lock is advisory: the database decides who runs an execution (the claim counts attempts,
  and an engine whose claim is no longer the latest stops writing), so that an engine carries on
  through a Redis outage and takes its lock again when Redis is back.
"""

import uuid

from autogpt_platform.redis_client import get_redis

CANCEL_KEY = "exec:cancel:{id}"
LOCK_KEY = "exec:lock:{id}"
CANCEL_TTL_SECONDS = 86400
LOCK_TTL_SECONDS = 30


def request_cancel(graph_exec_id) -> None:
    get_redis().set(CANCEL_KEY.format(id=graph_exec_id), 1, ex=CANCEL_TTL_SECONDS)


def is_cancel_requested(graph_exec_id) -> bool:
    return bool(get_redis().exists(CANCEL_KEY.format(id=graph_exec_id)))


def is_locked(graph_exec_id) -> bool:
    """Whether an engine is running this execution right now."""
    return bool(get_redis().exists(LOCK_KEY.format(id=graph_exec_id)))


def lock_token(worker: str) -> str:
    return f"{worker or 'engine'}:{uuid.uuid4()}"


def lock_acquire(graph_exec_id, token: str, *, take_over: bool = False) -> bool:
    """Take the engine lock; with take_over, even from a holder that stopped beating."""
    key = LOCK_KEY.format(id=graph_exec_id)
    if take_over:
        return bool(get_redis().set(key, token, ex=LOCK_TTL_SECONDS))
    return bool(get_redis().set(key, token, nx=True, ex=LOCK_TTL_SECONDS))


def lock_holder(graph_exec_id) -> str | None:
    holder = get_redis().get(LOCK_KEY.format(id=graph_exec_id))
    return holder.decode() if isinstance(holder, bytes) else holder


def lock_keep(graph_exec_id, token: str) -> bool:
    """Renew our lock, or take it again when it is gone (Redis restarted without its data, or the
    claim found Redis down). False when another engine holds it."""
    key = LOCK_KEY.format(id=graph_exec_id)
    redis = get_redis()
    if redis.set(key, token, nx=True, ex=LOCK_TTL_SECONDS):
        return True
    if redis.get(key) == token:
        redis.expire(key, LOCK_TTL_SECONDS)
        return True
    return False


def lock_release(graph_exec_id, token: str) -> None:
    """Drop the lock if it is still ours."""
    key = LOCK_KEY.format(id=graph_exec_id)
    redis = get_redis()
    if redis.get(key) == token:
        redis.delete(key)
