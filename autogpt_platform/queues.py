"""The Celery queue names, defined once. Every task names its queue from here."""

from enum import StrEnum


class CeleryQueue(StrEnum):
    AGENT_EXECUTIONS = "agent_executions"
    NOTIFICATIONS = "notifications"
    SYSTEM_EVENTS = "system_events"
