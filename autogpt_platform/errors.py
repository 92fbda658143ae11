"""Domain errors raised by services, and the one error body of the API.

Every 4xx and 5xx body is::

    {"code": "validation_error", "message": "email: Enter a valid email address.",
     "details": {"email": ["Enter a valid email address."]}}

`code` is stable and machine-readable, `message` is for people, `details` maps a field (dotted
for nested fields) to what is wrong with it; it is {} when no single field is at fault.
Services raise these; autogpt_platform.exceptions translates them to HTTP in one place.
"""

from typing import Any

from rest_framework import status


class ApplicationError(Exception):
    """A domain error raised by services; translated to HTTP in one place."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code: str = "invalid"

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        code: str | None = None,
        status_code: int | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code


class FieldError(ApplicationError):
    """Bad input in one named field."""

    code = "validation_error"

    def __init__(self, field: str, problem: str, **kwargs: Any):
        super().__init__(f"{field}: {problem}", details={field: [problem]}, **kwargs)


class NotFoundError(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"


class ConflictError(ApplicationError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class ServiceUnavailableError(ApplicationError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "service_unavailable"


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details or {}}
