"""Sending one message to one channel: the user's email, or a Slack or DingTalk webhook.

The one dispatcher for deliveries and test sends alike. Webhook URLs and DingTalk secrets are
stored encrypted; they are decrypted here, only for the send.
"""

from django.conf import settings

from autogpt_platform.encryption import LEGACY_NOTIFICATION_WEBHOOK, InvalidToken, decrypt_text, encrypt_text

from .messages import Message
from .models import ChannelKind, NotificationChannel
from .senders import DeliveryError, SendResult
from .senders.dingtalk import send_dingtalk
from .senders.email import send_email
from .senders.slack import send_slack
from .webhooks import webhook_url_problem


def webhook_secret_encrypt(text: str) -> str:
    return encrypt_text(text)


def webhook_secret_decrypt(token: str) -> str:
    """Rows stored before ENCRYPTION_KEYS decrypt under their legacy derived key."""
    return decrypt_text(token, legacy_purpose=LEGACY_NOTIFICATION_WEBHOOK)


def channel_webhook(channel: NotificationChannel) -> tuple[str, str]:
    """The channel's URL and secret in plain text. Raises DeliveryError (permanent) when they can
    no longer be decrypted or the URL is no longer allowed by the settings."""
    try:
        url = webhook_secret_decrypt(channel.webhook_url_encrypted)
        secret = webhook_secret_decrypt(channel.secret_encrypted) if channel.secret_encrypted else ""
    except InvalidToken:
        raise DeliveryError(
            "The webhook URL cannot be decrypted (was its key dropped from ENCRYPTION_KEYS?); add the channel again.",
            transient=False,
        ) from None
    problem = webhook_url_problem(channel.kind, url)
    if problem:
        raise DeliveryError(f"The webhook URL is no longer allowed: {problem}", transient=False)
    return url, secret


def message_send(
    *,
    channel: str,
    message: Message,
    idempotency_key: str,
    email_to: str = "",
    unsubscribe_url: str = "",
    endpoint: NotificationChannel | None = None,
) -> SendResult:
    """Send message once: by email to email_to, or to the endpoint's webhook. Raises DeliveryError."""
    timeout = settings.NOTIFICATION_SEND_TIMEOUT
    if channel == ChannelKind.EMAIL:
        return send_email(
            to=email_to,
            message=message,
            idempotency_key=idempotency_key,
            unsubscribe_url=unsubscribe_url,
            timeout=timeout,
        )
    if endpoint is None:
        raise DeliveryError("The channel was deleted.", transient=False)
    url, secret = channel_webhook(endpoint)
    if channel == ChannelKind.SLACK:
        return send_slack(url=url, message=message, idempotency_key=idempotency_key, timeout=timeout)
    return send_dingtalk(url=url, secret=secret, message=message, idempotency_key=idempotency_key, timeout=timeout)
