"""Translates every error into the one shape of autogpt_platform.errors (DRF's EXCEPTION_HANDLER
and Django's handler404/500 for what happens outside DRF)."""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from .errors import ApplicationError, error_body

logger = logging.getLogger(__name__)


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested ValidationError detail as {"field.sub": [messages]}."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            # DRF nests an object's own errors under non_field_errors: they belong to the object.
            name = prefix if prefix and key == "non_field_errors" else f"{prefix}.{key}" if prefix else str(key)
            flat.update(_flatten(value, name))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            if item:
                flat.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "non_field_errors": [str(detail)]}


def _validation_message(details: dict[str, list[str]]) -> str:
    parts = [
        messages[0] if field == "non_field_errors" else f"{field}: {messages[0]}" for field, messages in details.items()
    ]
    return "; ".join(parts) or "Invalid input."


def _body_for_api_exception(exc: exceptions.APIException) -> dict[str, Any]:
    if isinstance(exc, exceptions.ValidationError):
        details = _flatten(exc.detail)
        return error_body("validation_error", _validation_message(details), details)
    detail: Any = exc.detail
    code = exc.default_code
    if isinstance(detail, dict):  # simplejwt's dict details: {"detail": ..., "code": ...}
        code = str(detail.get("code", code))
        detail = detail.get("detail", exc.default_detail)
    elif getattr(detail, "code", None):
        code = detail.code
    return error_body(str(code), str(detail))


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every error becomes the one shape, and the transaction rolls back."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    set_rollback()
    if isinstance(exc, RequestDataTooBig):  # raised when a view first reads the body
        return Response(_too_large_body(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status_code)

    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in %s", context.get("view"), exc_info=exc)
        return Response(
            error_body("server_error", "Internal server error."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    # drf_exception_handler answers only APIExceptions (and Http404/PermissionDenied, turned into them above).
    assert isinstance(exc, exceptions.APIException)
    response.data = _body_for_api_exception(exc)
    return response


def _too_large_body() -> dict[str, Any]:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_body("payload_too_large", f"The request body is larger than {limit} bytes.")


# Django's own handlers, so that unknown URLs and crashes outside DRF answer in the same shape.
def not_found_view(request, exception=None) -> JsonResponse:
    return JsonResponse(error_body("not_found", f"No such endpoint: {request.path}"), status=404)


def server_error_view(request) -> JsonResponse:
    return JsonResponse(error_body("server_error", "Internal server error."), status=500)


def bad_request_view(request, exception=None) -> JsonResponse:
    if isinstance(exception, RequestDataTooBig):  # a form too large for the admin, for instance
        return JsonResponse(_too_large_body(), status=413)
    return JsonResponse(error_body("bad_request", "Bad request."), status=400)


def permission_denied_view(request, exception=None) -> JsonResponse:
    return JsonResponse(error_body("permission_denied", "Permission denied."), status=403)
