"""Liveness heartbeats that /health/ready reads.

Each worker writes, per queue it consumes, `<hostname> -> unix time` into the hash
`health:workers:<queue>` every WORKER_HEARTBEAT_INTERVAL seconds; beat writes `health:beat`
on every scheduler tick (see autogpt_platform.beat). A heartbeat older than its max age is down.
"""

import logging
import threading
import time

from celery import signals
from django.conf import settings

from .redis_client import get_redis

logger = logging.getLogger(__name__)

WORKER_KEY = "health:workers:{queue}"
BEAT_KEY = "health:beat"

_stop = threading.Event()


def write_worker_heartbeat(hostname: str, queues: list[str]) -> None:
    now = time.time()
    pipe = get_redis().pipeline()
    for queue in queues:
        pipe.hset(WORKER_KEY.format(queue=queue), hostname, now)
    pipe.execute()


def _beat_forever(hostname: str, queues: list[str]) -> None:
    while not _stop.is_set():
        try:
            write_worker_heartbeat(hostname, queues)
        except Exception:  # Redis away: /health/ready reports it; keep trying.
            logger.warning("Could not write the worker heartbeat", exc_info=True)
        _stop.wait(settings.WORKER_HEARTBEAT_INTERVAL)


@signals.worker_ready.connect
def start_worker_heartbeat(sender, **kwargs) -> None:
    queues = sorted(queue.name for queue in sender.app.amqp.queues.consume_from.values())
    hostname = sender.hostname
    threading.Thread(target=_beat_forever, args=(hostname, queues), daemon=True, name="health-heartbeat").start()


@signals.worker_shutdown.connect
def remove_worker_heartbeat(sender, **kwargs) -> None:
    _stop.set()
    try:
        hostname = sender.hostname
        pipe = get_redis().pipeline()
        for queue in sender.app.amqp.queues.consume_from:
            pipe.hdel(WORKER_KEY.format(queue=queue), hostname)
        pipe.execute()
    except Exception:
        logger.warning("Could not remove the worker heartbeat", exc_info=True)


def write_beat_heartbeat() -> None:
    get_redis().set(BEAT_KEY, time.time())
