"""What a model call gives back, and how it fails: plain types without the provider SDKs, so that
code which only names them (the blocks' module, loaded by every process) does not import the SDKs,
whose import costs seconds of CPU. integrations/llm/client.py makes the calls."""

import json
from dataclasses import dataclass, field
from typing import Any

# --- Results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]
    # The arguments as the model wrote them; `arguments` is {} when they were not a JSON object.
    raw_arguments: str = ""


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class LlmResponse:
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    cost: float = 0.0
    model: str = ""
    provider: str = ""
    raw_finish_reason: str | None = None

    def assistant_message(self) -> dict[str, Any]:
        """The answer as an OpenAI-shaped message, for a conversation's history."""
        message: dict[str, Any] = {"role": "assistant", "content": self.text or None}
        if self.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.raw_arguments or json.dumps(call.arguments)},
                }
                for call in self.tool_calls
            ]
        return message


# --- Errors ------------------------------------------------------------------------------------


class LlmError(Exception):
    """A model call that failed. The message is meant for the user and holds no secret."""

    retryable = False

    def __init__(self, message: str, *, provider: str = "", status: int | None = None, retry_after=None):
        super().__init__(message)
        self.provider = provider
        self.status = status
        self.retry_after = retry_after


class LlmNotConfigured(LlmError):
    """No usable credential or server for the provider."""


class LlmCredentialsRefused(LlmError):
    """The provider answered 401 or 403."""


class LlmRateLimited(LlmError):
    retryable = True


class LlmUnavailable(LlmError):
    """5xx, or the server could not be reached."""

    retryable = True


class LlmServerNotRunning(LlmUnavailable):
    """Connection refused: nothing listens there. Not retried."""

    retryable = False


class LlmTimeout(LlmError):
    """No answer within LLM_TIMEOUT_SECONDS. Not retried: the bound is one timeout."""


class LlmBadRequest(LlmError):
    """The provider refused the request (4xx other than 401/403/429): model unknown, bad input."""


class LlmBadResponse(LlmError):
    """An answer we cannot read."""


class LlmHostRefused(LlmError):
    """A user-supplied host refused by the SSRF policy."""


class LlmCancelled(LlmError):
    """The run was stopped while the call was waiting."""
