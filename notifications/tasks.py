"""Celery tasks: thin, they take ids and call notifications.delivery or notifications.digests.

Those modules enqueue these tasks, so the tasks import them inside their bodies."""

from celery import shared_task
from django.conf import settings

from autogpt_platform.queues import CeleryQueue


@shared_task(
    bind=True,
    queue=CeleryQueue.NOTIFICATIONS,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=None,  # bounded by the delivery's own attempt count (NOTIFICATION_MAX_ATTEMPTS)
    soft_time_limit=settings.NOTIFICATION_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.NOTIFICATION_TASK_TIME_LIMIT,
)
def deliver_notification(self, delivery_id: str) -> None:
    """Send one delivery; run again when it is to be retried or another worker still holds it."""
    from . import delivery

    retry_in = delivery.delivery_send(delivery_id=delivery_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task(queue=CeleryQueue.SYSTEM_EVENTS, ignore_result=True)
def requeue_stalled_deliveries() -> int:
    from . import delivery

    return delivery.delivery_requeue_stalled()


@shared_task(queue=CeleryQueue.SYSTEM_EVENTS, ignore_result=True)
def send_notification_digests() -> int:
    from . import digests

    return digests.digest_send_due()


@shared_task(queue=CeleryQueue.SYSTEM_EVENTS, ignore_result=True)
def send_notification_summaries() -> int:
    from . import digests

    return digests.summary_send_due()
