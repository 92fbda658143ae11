"""How the broker keeps what it accepted, and the upgrade of agent_executions to a quorum queue.

On RabbitMQ every queue is durable and every message persistent, publishes wait for the broker's
confirm (kombu's `confirm_publish`), and `agent_executions` is a quorum queue, as AutoGPT declares
its execution queue: replicated, written to disk before it is confirmed, so that a broker killed
with SIGKILL loses nothing it confirmed. Other brokers (the embedded Redis of `make run`) take the
same queues without the RabbitMQ-only arguments.

Quorum queues have no global QoS: Celery turns it off on workers that see one. Only workers that
consume a quorum queue need that (workers.quorum_qos_for_worker), so a notifications worker keeps
global QoS and its countdown retries do not hold prefetch slots.

A queue's type cannot change in place: an older release declared `agent_executions` classic, and
declaring it quorum then fails with PRECONDITION_FAILED. queues_upgrade() deletes such a classic
queue (when no consumer is attached) and declares the quorum one; executions whose messages were
in it are sent again by the dispatcher (executions/dispatch.py), which proves every QUEUED
execution has a message.
"""

import logging
from urllib.parse import urlsplit

from amqp.exceptions import PreconditionFailed
from kombu import Connection, Exchange, Queue

from .queues import CeleryQueue

logger = logging.getLogger(__name__)

QUORUM_QUEUES = frozenset({CeleryQueue.AGENT_EXECUTIONS.value})
QUORUM_ARGUMENTS = {"x-queue-type": "quorum"}


def is_rabbitmq(broker_url: str) -> bool:
    return urlsplit(broker_url).scheme in ("amqp", "amqps", "pyamqp")


def task_queues(broker_url: str) -> list[Queue]:
    """Every queue durable; the quorum ones quorum on RabbitMQ."""
    rabbitmq = is_rabbitmq(broker_url)
    return [
        Queue(
            queue.value,
            Exchange(queue.value, durable=True),
            routing_key=queue.value,
            durable=True,
            queue_arguments=dict(QUORUM_ARGUMENTS) if rabbitmq and queue.value in QUORUM_QUEUES else None,
        )
        for queue in CeleryQueue
    ]


def transport_options(broker_url: str) -> dict:
    """Publisher confirms on RabbitMQ: a publish returns once the broker has the message."""
    return {"confirm_publish": True} if is_rabbitmq(broker_url) else {}


class QueueUpgradeRefused(Exception):
    pass


def queues_upgrade(broker_url: str, queues: list[Queue], *, timeout: float = 5.0) -> list[str]:
    """Declare each quorum queue, replacing a classic queue of the same name that has no consumer.
    Returns the names replaced. Raises QueueUpgradeRefused when a consumer (a worker of the older
    release) still holds the classic queue: stop the old executors first."""
    if not is_rabbitmq(broker_url):
        return []
    replaced = []
    with Connection(broker_url, connect_timeout=timeout) as conn:
        conn.ensure_connection(max_retries=1, timeout=timeout)
        for queue in queues:
            if (getattr(queue, "queue_arguments", None) or {}).get("x-queue-type") != "quorum":
                continue
            try:
                queue(conn.channel()).declare()
                continue
            except PreconditionFailed:
                pass  # a queue of that name exists with other arguments: an older classic one
            channel = conn.channel()
            _, messages, consumers = channel.queue_declare(queue=queue.name, passive=True)
            if consumers:
                raise QueueUpgradeRefused(
                    f"The queue {queue.name} is a classic queue with {consumers} consumer(s): stop the workers "
                    "of the older release, then start these (they make it a quorum queue)."
                )
            channel.queue_delete(queue=queue.name, if_unused=True)
            logger.warning(
                "Replaced the classic queue %s (%d message(s)) by a quorum queue; the executions of those "
                "messages are sent again by the dispatcher",
                queue.name,
                messages,
            )
            queue(conn.channel()).declare()
            replaced.append(queue.name)
    return replaced
