"""The Celery queue names, defined once. Every task names its queue from here."""

from enum import StrEnum


class CeleryQueue(StrEnum):
    AGENT_EXECUTIONS = "agent_executions"
    NOTIFICATIONS = "notifications"
    SYSTEM_EVENTS = "system_events"


def periodic_task_with_expiry(task: str, every_seconds: float) -> dict:
    """A beat entry whose message expires before the next one is sent (PostHog's
    add_periodic_task_with_expiry): after an outage, a backlog of housekeeping runs once, not
    once per missed interval."""
    return {"task": task, "schedule": every_seconds, "options": {"expires": every_seconds * 0.9}}
