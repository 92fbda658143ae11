"""Celery tasks of agents: thin, they call block_runner."""

from celery import shared_task

from autogpt_platform.queues import CeleryQueue


# Sent at most once: acknowledged on receipt, and the view sets its time limits and expiry. A run
# whose worker was lost is not repeated; the waiting view answers 504.
@shared_task(queue=CeleryQueue.AGENT_EXECUTIONS, acks_late=False, reject_on_worker_lost=False, ignore_result=True)
def run_block(*, run_id: str, user_id: str, block_id: str, inputs: dict, timeout: float) -> None:
    """Run one block for POST /blocks/{id}/execute and push its outputs to the waiting view."""
    from .block_runner import block_run

    block_run(run_id=run_id, user_id=user_id, block_id=block_id, inputs=inputs, timeout=timeout)
