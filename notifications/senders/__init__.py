"""Senders: one module per external channel. Each takes a rendered Message and an idempotency
key, sends once, and returns a SendResult or raises DeliveryError saying whether a retry may help.
"""

import email.utils
import time
from dataclasses import dataclass

from autogpt_platform import safe_http

BODY_EXCERPT_CHARS = 1000
# Answers worth retrying: the receiver is busy, rate limiting, or broken for now.
TRANSIENT_STATUSES = frozenset({408, 425, 429})


@dataclass
class SendResult:
    status: int | None
    body: str


class DeliveryError(Exception):
    """A send that failed. transient: a later attempt may succeed (timeouts, 5xx, 429)."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        status: int | None = None,
        body: str = "",
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.status = status
        self.body = body
        self.retry_after = retry_after


def excerpt(text: str) -> str:
    return text[:BODY_EXCERPT_CHARS]


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def post_json(url: str, payload: dict, *, idempotency_key: str, timeout: float) -> safe_http.SafeResponse:
    """POST JSON through the SSRF-safe client, redirects refused. Network failures are transient;
    a URL the client refuses is permanent."""
    try:
        return safe_http.post(
            url, json=payload, headers={"Idempotency-Key": idempotency_key}, timeout=timeout, max_redirects=0
        )
    except safe_http.TooManyRedirectsError:
        raise DeliveryError(
            "The webhook answered with a redirect; webhook URLs must not redirect.", transient=False
        ) from None
    except (
        safe_http.ConnectionFailedError,
        safe_http.RequestTimeoutError,
        safe_http.InvalidResponseError,
        safe_http.ResolutionError,
    ) as exc:
        raise DeliveryError(str(exc), transient=True) from None
    except safe_http.SafeHttpError as exc:  # refused URL or address, oversized answer
        raise DeliveryError(str(exc), transient=False) from None


def check_http_status(response: safe_http.SafeResponse) -> None:
    """Raise for an answer that is not 2xx: 408/425/429 and 5xx are transient, other 4xx permanent."""
    if response.ok:
        return
    body = excerpt(response.text())
    message = f"HTTP {response.status}: {body.strip()[:200] or response.reason}"
    transient = response.status in TRANSIENT_STATUSES or response.status >= 500
    raise DeliveryError(
        message,
        transient=transient,
        status=response.status,
        body=body,
        retry_after=retry_after_seconds(response.headers.get("retry-after")) if transient else None,
    )
