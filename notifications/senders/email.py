"""Email through Django's email backend (SMTP unless EMAIL_URL says otherwise), text and HTML.

The Message-ID is derived from the delivery's idempotency key, so a repeated attempt (a worker
lost mid-send) carries the same Message-ID and a receiver that dedupes by it keeps one copy.
Every email carries a List-Unsubscribe link (RFC 2369) with one-click POST (RFC 8058).
"""

import smtplib
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

from ..messages import Message
from . import DeliveryError, SendResult


def message_id(idempotency_key: str) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<notification.{idempotency_key}@{domain}>"


def build_email(*, to: str, message: Message, idempotency_key: str, unsubscribe_url: str) -> EmailMultiAlternatives:
    context = {"message": message, "unsubscribe_url": unsubscribe_url, "base_url": settings.PLATFORM_BASE_URL}
    email = EmailMultiAlternatives(
        subject=message.title,
        body=render_to_string("notifications/email/notification.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={
            "Message-ID": message_id(idempotency_key),
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    email.attach_alternative(render_to_string("notifications/email/notification.html", context), "text/html")
    return email


def send_email(*, to: str, message: Message, idempotency_key: str, unsubscribe_url: str, timeout: float) -> SendResult:
    email = build_email(to=to, message=message, idempotency_key=idempotency_key, unsubscribe_url=unsubscribe_url)
    try:
        with get_connection(timeout=timeout) as connection:
            connection.send_messages([email])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        reply = "; ".join(f"{code} {text.decode(errors='replace')}" for code, text in exc.recipients.values())
        raise DeliveryError(
            f"The recipient was refused: {reply}", transient=all(400 <= c < 500 for c in codes)
        ) from None
    except smtplib.SMTPResponseException as exc:  # 4xx: try again later; 5xx: will not work
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise DeliveryError(
            f"SMTP {exc.smtp_code}: {text}", transient=exc.smtp_code < 500, status=exc.smtp_code
        ) from None
    except (smtplib.SMTPException, OSError) as exc:  # disconnects, refused connections, timeouts
        raise DeliveryError(f"Could not send the email: {exc or type(exc).__name__}", transient=True) from None
    return SendResult(status=None, body="")
