"""Celery tasks of the chat: thin, they take ids and call chat/turns.py or a service.

Services enqueue these tasks, so the tasks import what they call inside their bodies."""

import uuid

from celery import shared_task
from celery.signals import worker_init

from autogpt_platform.queues import CeleryQueue


# Acknowledged late: a turn whose worker is lost is delivered again, and the worker that gets it
# ends it with an error at once (its side effects, agent runs, are not repeated). The reaper does
# the same for a message that never comes back.
@shared_task(
    queue=CeleryQueue.AGENT_EXECUTIONS, acks_late=True, reject_on_worker_lost=True, ignore_result=True, bind=True
)
def run_chat_turn(self, session_id: str, turn_id: str) -> None:
    """Answer the user's message: the model, its tool calls, every event streamed."""
    from .turns import turn_run

    turn_run(session_id=uuid.UUID(session_id), turn_id=uuid.UUID(turn_id), worker=self.request.hostname or "")


@shared_task(queue=CeleryQueue.SYSTEM_EVENTS, ignore_result=True)
def reap_lost_chat_turns() -> dict[str, int]:
    """End running turns whose worker is gone, so that no session stays running."""
    from .services import turn_reap_lost

    return turn_reap_lost()


@worker_init.connect
def preload_turns(**kwargs) -> None:
    """Import what a turn runs (the LLM SDKs take seconds to import) in the worker's main
    process, before it forks its pool, rather than in the first turn of each child."""
    from . import turns  # noqa: F401
