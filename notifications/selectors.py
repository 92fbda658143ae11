"""Reads: the inbox, preferences with their defaults, channels."""

import uuid

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from accounts.models import User
from autogpt_platform.errors import NotFoundError

from .models import (
    DEFAULT_CHANNELS,
    ChannelKind,
    DigestFrequency,
    Notification,
    NotificationChannel,
    NotificationPreference,
    NotificationSettings,
    notification_types,
)


def notification_list(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's in-app notifications: unread first, then newest first."""
    notifications = Notification.objects.filter(user=user, in_app=True)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    is_read = ExpressionWrapper(Q(read_at__isnull=False), output_field=BooleanField())
    return notifications.annotate(is_read=is_read).order_by("is_read", "-created_at", "-id")


def notification_get(*, user: User, notification_id: uuid.UUID) -> Notification:
    notification = Notification.objects.filter(id=notification_id, user=user, in_app=True).first()
    if notification is None:
        raise NotFoundError("Notification not found.")
    return notification


def preferences_get(*, user: User) -> dict[str, dict[str, bool]]:
    """{type: {channel: enabled}} for every type and channel: the user's switches over the defaults."""
    switches = {
        type_: {channel.value: channel in DEFAULT_CHANNELS[type_] for channel in ChannelKind}
        for type_ in notification_types
    }
    for preference in NotificationPreference.objects.filter(user=user):
        if preference.type in switches:
            switches[preference.type][preference.channel] = preference.enabled
    return switches


def preference_enabled(*, user: User, type: str, channel: str) -> bool:
    preference = NotificationPreference.objects.filter(user=user, type=type, channel=channel).first()
    if preference is not None:
        return preference.enabled
    return channel in DEFAULT_CHANNELS.get(type, frozenset())


def enabled_channels(*, user: User, type: str) -> set[str]:
    """The channels on for one type; read at every run's end, so only that type's switches."""
    enabled = {channel.value for channel in ChannelKind if channel in DEFAULT_CHANNELS.get(type, frozenset())}
    for preference in NotificationPreference.objects.filter(user=user, type=type):
        if preference.enabled:
            enabled.add(preference.channel)
        else:
            enabled.discard(preference.channel)
    return enabled


def settings_get(*, user: User) -> NotificationSettings:
    """The user's settings; an unsaved default when they never changed any."""
    found = NotificationSettings.objects.filter(user=user).first()
    return found or NotificationSettings(user=user, digest=DigestFrequency.OFF)


def channel_list(*, user: User) -> QuerySet[NotificationChannel]:
    return NotificationChannel.objects.filter(user=user).order_by("-created_at")


def channel_get(*, user: User, channel_id: uuid.UUID) -> NotificationChannel:
    channel = NotificationChannel.objects.filter(id=channel_id, user=user).first()
    if channel is None:
        raise NotFoundError("Notification channel not found.")
    return channel
