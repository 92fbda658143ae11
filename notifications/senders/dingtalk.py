"""DingTalk custom robots: a markdown message POSTed as JSON to the robot's webhook.

Signed mode (a robot with "加签"/signature security): the URL gets `timestamp` (ms) and `sign`, the
URL-encoded base64 of HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"), as DingTalk documents
(https://open.dingtalk.com/document/robots/customize-robot-security-settings). DingTalk answers
HTTP 200 with {"errcode": 0, "errmsg": "ok"}; any other errcode is a failure.
"""

import base64
import hashlib
import hmac
import time
from urllib.parse import quote_plus

from ..messages import Message
from . import DeliveryError, SendResult, check_http_status, excerpt, post_json

# "send too fast" (20 messages a minute per robot): worth retrying later. Every other errcode
# (bad token, signature, keyword or IP checks, bad payload) needs the user to fix the robot.
RATE_LIMIT_ERRCODES = frozenset({130101, 410100})


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The `sign` query value: URL-encoded base64 of HMAC-SHA256(secret, "timestamp\\nsecret")."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def signed_url(url: str, secret: str, timestamp_ms: int | None = None) -> str:
    timestamp_ms = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


def dingtalk_payload(message: Message) -> dict:
    lines = [f"#### {message.title}", ""]
    lines += [f"{paragraph}\n" for paragraph in message.paragraphs]
    lines += [f"- **{label}**: {value}" for label, value in message.facts]
    if message.link:
        lines += ["", f"[{message.link_text}]({message.link})"]
    return {"msgtype": "markdown", "markdown": {"title": message.title, "text": "\n".join(lines)}}


def send_dingtalk(*, url: str, secret: str, message: Message, idempotency_key: str, timeout: float) -> SendResult:
    target = signed_url(url, secret) if secret else url
    response = post_json(target, dingtalk_payload(message), idempotency_key=idempotency_key, timeout=timeout)
    check_http_status(response)
    body = excerpt(response.text())
    try:
        answer = response.json()
        errcode = int(answer.get("errcode", -1))
    except (ValueError, TypeError, AttributeError):
        raise DeliveryError(
            f"DingTalk answered without an errcode: {body[:200]}", transient=True, status=200, body=body
        ) from None
    if errcode != 0:
        raise DeliveryError(
            f"DingTalk errcode {errcode}: {answer.get('errmsg', '')}",
            transient=errcode in RATE_LIMIT_ERRCODES,
            status=response.status,
            body=body,
        )
    return SendResult(status=response.status, body=body)
