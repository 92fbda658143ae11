"""The workers' Celery consumer, without native delayed delivery.

Celery adds its DelayedDelivery step to every worker of an app with a quorum queue: it declares 28
`celery_delayed_*` queues and exchanges so that countdown tasks can wait in the broker. It serves
topic exchanges only, and ours are direct; nothing is sent with a countdown to the quorum queue
(agent_executions), so the step would only add queues and warnings. Set by CELERY_WORKER_CONSUMER.
"""

from celery.worker.consumer import Consumer as CeleryConsumer


class Consumer(CeleryConsumer):
    class Blueprint(CeleryConsumer.Blueprint):
        default_steps = [
            step for step in CeleryConsumer.Blueprint.default_steps if not step.endswith(":DelayedDelivery")
        ]
