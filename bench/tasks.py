"""The anchor task of the engine bench: a Celery task that does nothing but say it ran.

It has the executor task's queue and delivery options (agent_executions, acks_late, no result),
so the anchor pays what the broker and Celery cost and nothing of the engine. The bench's
worker imports this module with `-I bench.tasks`.
"""

import time

from celery import shared_task

from autogpt_platform.queues import CeleryQueue
from autogpt_platform.redis_client import get_redis


@shared_task(queue=CeleryQueue.AGENT_EXECUTIONS, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def noop(key: str) -> None:
    """Record "<start> <end>" (unix seconds) on the Redis list `key`: one round trip."""
    started = time.time()
    get_redis().rpush(key, f"{started} {time.time()}")
