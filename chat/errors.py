"""What chat services raise beyond the common errors (autogpt_platform.errors)."""

from rest_framework import status

from autogpt_platform.errors import ApplicationError, ConflictError


class TurnRunning(ConflictError):
    code = "turn_running"

    def __init__(self) -> None:
        super().__init__("A turn is already running in this session: wait for it to end, or cancel it.")


class TooManyTurns(ApplicationError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    code = "too_many_turns"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"You already have {limit} chat turns running (CHAT_MAX_CONCURRENT_TURNS): "
            "wait for one to end, or cancel one."
        )
