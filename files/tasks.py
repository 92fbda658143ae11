from celery import shared_task

from autogpt_platform.queues import CeleryQueue


@shared_task(queue=CeleryQueue.SYSTEM_EVENTS, ignore_result=True, soft_time_limit=300, time_limit=330)
def delete_expired_files() -> int:
    """Delete users' files past their FILE_RETENTION_HOURS, and their stored content."""
    from .services import file_delete_expired

    return file_delete_expired()
