"""Running one block outside a graph (POST /api/v1/blocks/{id}/execute)."""

import threading
from typing import Any

from django.conf import settings
from pydantic import ValidationError

from accounts.models import User
from autogpt_platform.errors import ApplicationError, NotFoundError

from .blocks import BlockContext, get_block
from .blocks.base import ExecutionCancelled


def block_execute(*, user: User, block_id: str, inputs: Any) -> dict[str, list]:
    """Run the block with inputs and return its outputs by pin, in order. Bad inputs are a 400
    naming the pin; a block still running after BLOCK_EXECUTE_TIMEOUT is stopped."""
    block = get_block(block_id)
    if block is None:
        raise NotFoundError(f"No block with id '{block_id}'.")
    if not isinstance(inputs, dict):
        raise ApplicationError("The body is an object of input pin to value.", code="validation_error")
    try:
        input_data = block.Input.model_validate(inputs)
    except ValidationError as exc:
        details = {".".join(str(p) for p in error["loc"]): [error["msg"]] for error in exc.errors()}
        message = "; ".join(f"{pin}: {messages[0]}" for pin, messages in details.items())
        raise ApplicationError(message, code="validation_error", details=details) from exc

    outputs: dict[str, list] = {}
    context = BlockContext(user_id=str(user.id))
    failure: list[BaseException] = []

    def run() -> None:
        try:
            for pin, value in block().run(input_data, context):
                outputs.setdefault(pin, []).append(value)
        except ExecutionCancelled:
            pass
        except Exception as exc:  # reported on the error pin, as in a graph
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(settings.BLOCK_EXECUTE_TIMEOUT)
    if thread.is_alive():
        context.cancel_event.set()
        outputs.setdefault("error", []).append(f"The block did not finish within {settings.BLOCK_EXECUTE_TIMEOUT:g} s.")
    elif failure:
        outputs.setdefault("error", []).append(str(failure[0]) or type(failure[0]).__name__)
    return outputs
