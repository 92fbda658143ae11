"""Running one block outside a graph (POST /api/v1/blocks/{id}/execute).

The block runs on the executor (a task on agent_executions), never in the web process: a block
that runs away (a regular expression backtracking, a template looping) holds a worker's process,
not the web server's. The view waits for the answer up to BLOCK_EXECUTE_TIMEOUT, then answers
504 and tells the block to stop.

The answer comes back through Redis, not a Celery result backend (the platform keeps none): the
task pushes it onto a list named after the run, which the view waits on with BLPOP; the list
expires shortly after the view gives up. A cancel flag beside it tells the block to stop. The
task is sent at most once (acknowledged on receipt, expiring with the wait): a run nobody waits
for any more is never started nor repeated.

Outputs are held to the limits of a node in a graph: each value goes through the engine's
json_safe (BLOCK_OUTPUT_MAX_BYTES; Infinity and NaN as text), and the whole answer may not pass
that limit either.
"""

import json
import threading
import time
import uuid
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from kombu.exceptions import OperationalError
from pydantic import ValidationError

from accounts.models import User
from autogpt_platform.errors import ApplicationError, NotFoundError, ServiceUnavailableError
from autogpt_platform.redis_client import get_redis
from executions.engine import OutputTooLarge, format_validation_error, json_safe

from .blocks import Block, BlockContext, get_block
from .blocks.base import ExecutionCancelled
from .tasks import run_block
from .validation import storage_problem

RESULT_KEY = "block-run:{id}:result"
CANCEL_KEY = "block-run:{id}:cancel"
# Transport and queueing on top of the block's own time, before the view gives up.
WAIT_GRACE_SECONDS = 1.0
# After the soft time limit, how long a block that ignores it may go on before its process is killed.
KILL_GRACE_SECONDS = 5.0
# Keys outlive the wait by this much, then Redis forgets them.
KEY_TTL_SECONDS = 60
# How often the running block looks for the cancel flag; and the longest single BLPOP (the shared
# Redis client's socket timeout is 2 s).
CANCEL_POLL_SECONDS = 0.2
BLPOP_SECONDS = 1


class BlockTimeout(ApplicationError):
    status_code = 504
    code = "block_timeout"


# --- the web process ----------------------------------------------------------------------------
def _validated_inputs(block: type[Block], inputs: Any) -> dict[str, Any]:
    """inputs checked against the block's Input: a 400 naming each pin at fault."""
    if not isinstance(inputs, dict):
        raise ApplicationError("The body is an object of input pin to value.", code="validation_error")
    details = {pin: [problem] for pin, value in inputs.items() if (problem := storage_problem(value))}
    if not details:
        try:
            block.Input.model_validate(inputs)
        except ValidationError as exc:
            details = {".".join(str(p) for p in error["loc"]): [error["msg"]] for error in exc.errors()}
    if details:
        message = "; ".join(f"{pin}: {messages[0]}" for pin, messages in details.items())
        raise ApplicationError(message, code="validation_error", details=details)
    return inputs


def block_execute(*, user: User, block_id: str, inputs: Any) -> dict[str, list]:
    """Run the block with inputs on the executor and return its outputs by pin, in order. Bad
    inputs are a 400 naming the pin; a block still running after BLOCK_EXECUTE_TIMEOUT is told
    to stop, and the answer is a 504."""
    block = get_block(block_id)
    if block is None:
        raise NotFoundError(f"No block with id '{block_id}'.")
    inputs = _validated_inputs(block, inputs)
    timeout = settings.BLOCK_EXECUTE_TIMEOUT
    run_id = str(uuid.uuid4())
    try:
        # Nothing is written for this request, so there is no commit to wait for. The user's own
        # inputs travel in the message; a credentials pin holds an id, resolved on the worker.
        run_block.apply_async(
            kwargs={
                "run_id": run_id,
                "user_id": str(user.id),
                "block_id": block.id,
                "inputs": inputs,
                "timeout": timeout,
            },
            soft_time_limit=timeout,
            time_limit=timeout + KILL_GRACE_SECONDS,
            expires=timeout,
        )
    except OperationalError as exc:
        raise ServiceUnavailableError("The executor cannot be reached; try again shortly.") from exc
    result = _wait_for_result(run_id, timeout + WAIT_GRACE_SECONDS)
    if result is None or result.get("timed_out"):
        get_redis().set(CANCEL_KEY.format(id=run_id), 1, ex=KEY_TTL_SECONDS + int(timeout))
        raise BlockTimeout(f"The block did not finish within {timeout:g} s; it was stopped.")
    return result["outputs"]


def _wait_for_result(run_id: str, seconds: float) -> dict[str, Any] | None:
    redis = get_redis()
    key = RESULT_KEY.format(id=run_id)
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        popped = redis.blpop([key], timeout=max(0.01, min(BLPOP_SECONDS, left)))
        if popped:
            return json.loads(popped[1])
    return None


# --- the worker -----------------------------------------------------------------------------------
def block_run(*, run_id: str, user_id: str, block_id: str, inputs: dict[str, Any], timeout: float) -> None:
    """Run the block (in the task's own thread, where the soft time limit lands) and push its
    outputs, or that it timed out, for the waiting view."""
    block = get_block(block_id)
    redis = get_redis()
    cancel_key = CANCEL_KEY.format(id=run_id)
    if block is None or redis.exists(cancel_key):
        return
    context = BlockContext(user_id=user_id)
    finished = threading.Event()
    watcher = threading.Thread(target=_watch_cancel_flag, args=(cancel_key, context.cancel_event, finished))
    watcher.start()
    started = time.monotonic()
    try:
        outputs = _run(block, inputs, context)
    except ExecutionCancelled:
        return  # the view gave up: nobody waits for an answer
    except SoftTimeLimitExceeded:
        outputs = None
    finally:
        finished.set()
    # A block may have caught the time limit's exception and reported it as its own failure.
    result: dict[str, Any] = (
        {"timed_out": True} if outputs is None or time.monotonic() - started >= timeout else {"outputs": outputs}
    )
    key = RESULT_KEY.format(id=run_id)
    with redis.pipeline() as pipe:
        pipe.rpush(key, json.dumps(result))
        pipe.expire(key, KEY_TTL_SECONDS + int(timeout))
        pipe.execute()


def _watch_cancel_flag(cancel_key: str, cancel_event: threading.Event, finished: threading.Event) -> None:
    """Wake the block (BlockContext.sleep, check_cancelled) once the view has given up."""
    redis = get_redis()
    while not finished.wait(CANCEL_POLL_SECONDS):
        if redis.exists(cancel_key):
            cancel_event.set()
            return


def _run(block: type[Block], inputs: dict[str, Any], context: BlockContext) -> dict[str, list]:
    """The outputs by pin. A failure is reported on the error pin, as in a graph; the outputs
    before it stay."""
    outputs: dict[str, list] = {}
    limit = settings.BLOCK_OUTPUT_MAX_BYTES
    total = 0
    try:
        for pin, value in block().execute(inputs, context):
            context.check_cancelled()
            value = json_safe(value, limit)
            total += len(json.dumps(value))
            if total > limit:
                raise OutputTooLarge(f"makes the answer larger than the limit of {limit} bytes")
            outputs.setdefault(pin, []).append(value)
    except (ExecutionCancelled, SoftTimeLimitExceeded):
        raise
    except OutputTooLarge as exc:
        outputs.setdefault("error", []).append(f"Output '{pin}' {exc}.")
    except ValidationError as exc:
        outputs.setdefault("error", []).append(format_validation_error(exc))
    except Exception as exc:  # a block's failure, reported to the user as in a graph
        outputs.setdefault("error", []).append(str(exc) or type(exc).__name__)
    return outputs
