from celery import shared_task

from autogpt_platform.queues import CeleryQueue


@shared_task(queue=CeleryQueue.SYSTEM_EVENTS, ignore_result=True)
def flush_expired_refresh_tokens() -> int:
    """Forget refresh tokens past their expiry: the table would otherwise grow with every login."""
    from . import services

    return services.tokens_flush_expired()
