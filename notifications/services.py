"""Writes: notification_create (the one entry point other apps call), the inbox, preferences,
channels and unsubscribing. Sending is in notifications.delivery; digests and summaries in
notifications.digests."""

import json
import logging
import uuid
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status

from accounts.models import User
from autogpt_platform import realtime
from autogpt_platform.errors import ApplicationError, FieldError

from . import selectors
from .delivery import delivery_enqueue
from .dispatch import message_send, webhook_secret_encrypt
from .messages import channel_test_message, notification_payload
from .models import (
    DIGEST_TYPES,
    WEBHOOK_CHANNELS,
    ChannelKind,
    Delivery,
    DeliveryStatus,
    DigestFrequency,
    Notification,
    NotificationChannel,
    NotificationPreference,
    NotificationSettings,
    notification_types,
)
from .senders import DeliveryError, SendResult
from .unsubscribe import unsubscribe_check
from .webhooks import mask_webhook_url, webhook_url_problem

logger = logging.getLogger(__name__)


# --- creating notifications ----------------------------------------------------------------------
def notification_create(*, user: User, type: str, data: dict[str, Any], dedupe_key: str = "") -> Notification:
    """Record a notification for user and fan it out to the channels their preferences ask for:
    one Delivery per external endpoint (their email, each Slack or DingTalk webhook), each sent by
    its own task after commit, and a live push to their WebSockets when in-app is on.

    `type` is one of `notification_types`; `data` is any JSON-able dict (dates become ISO strings;
    see notifications.messages for the keys each type uses). With a `dedupe_key`, a second call
    for the same user, type and key returns the first notification and sends nothing again.
    Agent-run notifications of a user with a digest are held for the digest instead of sent.
    """
    if type not in notification_types:
        raise ValueError(f"Unknown notification type {type!r}; expected one of {notification_types}.")
    data = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    channels = selectors.enabled_channels(user=user, type=type)
    # No savepoint of its own: callers in a transaction (a run's end) already have one.
    with transaction.atomic(savepoint=False):
        if dedupe_key:
            existing = Notification.objects.filter(user=user, type=type, dedupe_key=dedupe_key).first()
            if existing is not None:
                return existing
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    user=user, type=type, data=data, in_app=ChannelKind.IN_APP in channels, dedupe_key=dedupe_key
                )
        except IntegrityError:  # the same dedupe key, created concurrently
            return Notification.objects.get(user=user, type=type, dedupe_key=dedupe_key)

        held = type in DIGEST_TYPES and selectors.settings_get(user=user).digest != DigestFrequency.OFF
        deliveries = _create_deliveries(notification, channels, held=held) if user.is_active else []
        if not held:
            delivery_enqueue(deliveries)
        if notification.in_app:
            payload = notification_payload(notification)
            transaction.on_commit(
                lambda: realtime.publish_to_user(user.id, {"type": "notification.event", "notification": payload})
            )
    return notification


def _create_deliveries(notification: Notification, channels: set[str], *, held: bool) -> list[Delivery]:
    user = notification.user
    status_ = DeliveryStatus.HELD if held else DeliveryStatus.PENDING
    deliveries = []
    if ChannelKind.EMAIL in channels and user.email:
        deliveries.append(Delivery(notification=notification, user=user, channel=ChannelKind.EMAIL, status=status_))
    kinds = [kind for kind in WEBHOOK_CHANNELS if kind in channels]
    for endpoint in NotificationChannel.objects.filter(user=user, kind__in=kinds).order_by("created_at"):
        deliveries.append(
            Delivery(notification=notification, user=user, channel=endpoint.kind, endpoint=endpoint, status=status_)
        )
    return Delivery.objects.bulk_create(deliveries)


# --- the inbox -------------------------------------------------------------------------------------
def notification_mark_read(*, user: User, notification_id: uuid.UUID) -> Notification:
    """Mark one in-app notification read; reading it again keeps the first read time."""
    notification = selectors.notification_get(user=user, notification_id=notification_id)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notification_mark_all_read(*, user: User) -> int:
    """Mark every unread in-app notification read; returns how many there were."""
    return Notification.objects.filter(user=user, in_app=True, read_at__isnull=True).update(read_at=timezone.now())


# --- preferences -------------------------------------------------------------------------------------
@transaction.atomic
def preferences_update(
    *, user: User, switches: dict[str, dict[str, bool]] | None = None, digest: str | None = None
) -> None:
    """Set some switches ({type: {channel: enabled}}) and the digest; what is not named stays."""
    for type_, channels in (switches or {}).items():
        if type_ not in notification_types:
            raise FieldError(f"preferences.{type_}", "Unknown notification type.")
        for channel, enabled in channels.items():
            if channel not in ChannelKind.values:
                raise FieldError(f"preferences.{type_}.{channel}", "Unknown channel.")
            NotificationPreference.objects.update_or_create(
                user=user, type=type_, channel=channel, defaults={"enabled": bool(enabled)}
            )
    if digest is not None:
        if digest not in DigestFrequency.values:
            raise FieldError("digest", f"One of {', '.join(DigestFrequency.values)}.")
        row = NotificationSettings.objects.locked_for(user=user)
        row.digest = digest
        row.save(update_fields=["digest"])


# --- channels ----------------------------------------------------------------------------------------
def channel_create(*, user: User, kind: str, name: str, webhook_url: str, secret: str = "") -> NotificationChannel:
    """Register a Slack incoming webhook or a DingTalk robot (with its signing secret, if the
    robot is signed). URL and secret are stored encrypted; the API only ever shows a masked URL."""
    if kind not in WEBHOOK_CHANNELS:
        raise FieldError("kind", f"One of {', '.join(WEBHOOK_CHANNELS)}.")
    webhook_url = webhook_url.strip()
    problem = webhook_url_problem(kind, webhook_url)
    if problem:
        raise FieldError("webhook_url", problem)
    if secret and kind != ChannelKind.DINGTALK:
        raise FieldError("secret", "Only DingTalk robots are signed with a secret.")
    return NotificationChannel.objects.create(
        user=user,
        kind=kind,
        name=name or ChannelKind(kind).label,
        webhook_url_encrypted=webhook_secret_encrypt(webhook_url),
        url_masked=mask_webhook_url(webhook_url),
        secret_encrypted=webhook_secret_encrypt(secret) if secret else "",
    )


def channel_delete(*, user: User, channel_id: uuid.UUID) -> None:
    """Remove a channel; its deliveries not yet sent are skipped."""
    selectors.channel_get(user=user, channel_id=channel_id).delete()


class ChannelTestFailed(ApplicationError):
    status_code = status.HTTP_502_BAD_GATEWAY
    code = "channel_test_failed"


def channel_send_test(*, user: User, channel_id: uuid.UUID) -> SendResult:
    """Send a test message to the channel now and report what it answered."""
    channel = selectors.channel_get(user=user, channel_id=channel_id)
    try:
        return message_send(
            channel=channel.kind, message=channel_test_message(), idempotency_key=uuid.uuid4().hex, endpoint=channel
        )
    except DeliveryError as exc:
        raise ChannelTestFailed(
            f"The {channel.get_kind_display()} webhook did not accept the test message: {exc.message}",
            details={"status": exc.status, "response": exc.body},
        ) from None


# --- unsubscribing -----------------------------------------------------------------------------------
@transaction.atomic
def email_unsubscribe(*, token: str, everything: bool = False) -> tuple[User, list[str]]:
    """Turn email off for the token's notification type (or for every type) without a login.
    Email deliveries of those types that are not sent yet are skipped."""
    user, types = unsubscribe_check(token=token)
    if everything:
        types = list(notification_types)
    preferences_update(user=user, switches={type_: {ChannelKind.EMAIL: False} for type_ in types})
    return user, types
