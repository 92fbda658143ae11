"""Notifications: events a user hears about, the deliveries that carry them out to email, Slack and
DingTalk, and what each user chose to receive where.

A Notification is the event (stored once; listed in the in-app inbox when in-app is on for its
type). Each external channel it goes to is one Delivery, sent by its own task and recorded attempt
by attempt (DeliveryAttempt). In-app needs no delivery: the row is the in-app notification, and it
is pushed to the user's open WebSockets after commit.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class NotificationType(models.TextChoices):
    """What a notification is about. Other apps pass one of these to notification_create."""

    AGENT_RUN_COMPLETED = "agent_run_completed", "Agent run completed"
    AGENT_RUN_FAILED = "agent_run_failed", "Agent run failed"
    BLOCK_EXECUTION_FAILED = "block_execution_failed", "Block failed in a completed run"
    SCHEDULE_DISABLED = "schedule_disabled", "Schedule disabled after repeated failures"
    STORE_SUBMISSION_APPROVED = "store_submission_approved", "Store submission approved"
    STORE_SUBMISSION_REJECTED = "store_submission_rejected", "Store submission rejected"
    DAILY_SUMMARY = "daily_summary", "Daily summary"
    WEEKLY_SUMMARY = "weekly_summary", "Weekly summary"
    # Sent by the digest task, never chosen in preferences: it carries held agent-run notifications.
    AGENT_RUN_DIGEST = "agent_run_digest", "Agent run digest"


# The types other apps may create and users set preferences for.
notification_types: list[str] = [t.value for t in NotificationType if t != NotificationType.AGENT_RUN_DIGEST]


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    SLACK = "slack", "Slack"
    DINGTALK = "dingtalk", "DingTalk"
    IN_APP = "in_app", "In-app"


EXTERNAL_CHANNELS = (ChannelKind.EMAIL, ChannelKind.SLACK, ChannelKind.DINGTALK)
WEBHOOK_CHANNELS = (ChannelKind.SLACK, ChannelKind.DINGTALK)

_EVERYWHERE = frozenset(ChannelKind)
# Where each type goes while the user has set nothing: in-app for everything; email (and any Slack
# or DingTalk endpoint the user added) for failures, disabled schedules and store decisions;
# summaries nowhere until the user opts in.
DEFAULT_CHANNELS: dict[str, frozenset[str]] = {
    NotificationType.AGENT_RUN_COMPLETED: frozenset({ChannelKind.IN_APP}),
    NotificationType.AGENT_RUN_FAILED: _EVERYWHERE,
    NotificationType.BLOCK_EXECUTION_FAILED: _EVERYWHERE,
    NotificationType.SCHEDULE_DISABLED: _EVERYWHERE,
    NotificationType.STORE_SUBMISSION_APPROVED: _EVERYWHERE,
    NotificationType.STORE_SUBMISSION_REJECTED: _EVERYWHERE,
    NotificationType.DAILY_SUMMARY: frozenset(),
    NotificationType.WEEKLY_SUMMARY: frozenset(),
}

# Agent-run notifications that a digest collects instead of sending one message per run.
DIGEST_TYPES = (
    NotificationType.AGENT_RUN_COMPLETED,
    NotificationType.AGENT_RUN_FAILED,
    NotificationType.BLOCK_EXECUTION_FAILED,
)


class DigestFrequency(models.TextChoices):
    OFF = "off", "One message per run"
    HOURLY = "hourly", "At most one digest an hour"
    DAILY = "daily", "At most one digest a day"


class Notification(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    type = models.CharField(max_length=40, choices=NotificationType.choices)
    data = models.JSONField(default=dict, blank=True)
    in_app = models.BooleanField(default=True, help_text="Listed in the user's in-app notifications.")
    # Set by callers that may report one event twice (the engine: one per run); unique per user and type.
    dedupe_key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "in_app", "read_at", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "type", "dedupe_key"], condition=~Q(dedupe_key=""), name="unique_notification_dedupe"
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} for {self.user_id}"


class NotificationChannel(models.Model):
    """A user's Slack incoming webhook or DingTalk custom robot. URL and secret are encrypted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_channels")
    kind = models.CharField(max_length=10, choices=[(k.value, k.label) for k in WEBHOOK_CHANNELS])
    name = models.CharField(max_length=100)
    webhook_url_encrypted = models.TextField()
    url_masked = models.CharField(max_length=300, help_text="What the API shows of the URL.")
    secret_encrypted = models.TextField(blank=True, help_text="DingTalk signing secret; empty: unsigned.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} ({self.url_masked})"


class NotificationPreference(models.Model):
    """One switch the user set; types and channels without a row use DEFAULT_CHANNELS."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    type = models.CharField(max_length=40, choices=NotificationType.choices)
    channel = models.CharField(max_length=10, choices=ChannelKind.choices)
    enabled = models.BooleanField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "type", "channel"], name="unique_notification_preference")
        ]

    def __str__(self) -> str:
        return f"{self.type}/{self.channel}: {'on' if self.enabled else 'off'}"


class NotificationSettingsManager(models.Manager["NotificationSettings"]):
    def locked_for(self, user) -> "NotificationSettings":
        """The user's settings row, created when missing, locked for the rest of the transaction:
        what serialises a user's digests, summaries and email claims."""
        self.get_or_create(user=user)
        return self.select_for_update().get(user=user)


class NotificationSettings(models.Model):
    """Per-user settings beyond the switches, and the bookkeeping of periodic messages."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    digest = models.CharField(max_length=10, choices=DigestFrequency.choices, default=DigestFrequency.OFF)
    last_digest_at = models.DateTimeField(null=True, blank=True)
    last_daily_summary_at = models.DateTimeField(null=True, blank=True)
    last_weekly_summary_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationSettingsManager()

    class Meta:
        verbose_name_plural = "notification settings"

    def __str__(self) -> str:
        return f"notification settings of {self.user_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"  # to be sent, at next_attempt_at when it is a retry
    HELD = "held"  # waiting for the user's digest
    SENDING = "sending"  # claimed by a worker until claimed_until
    SENT = "sent"
    FAILED = "failed"  # a permanent failure, or out of attempts
    SKIPPED = "skipped"  # not sent on purpose: daily cap, channel deleted, turned off meanwhile
    DIGESTED = "digested"  # carried by a digest (see `digest`)


FINAL_DELIVERY_STATUSES = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED, DeliveryStatus.DIGESTED)


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class Delivery(models.Model):
    """One notification to one external endpoint: the user's email address, or one webhook."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=[(k.value, k.label) for k in EXTERNAL_CHANNELS])
    endpoint = models.ForeignKey(
        NotificationChannel, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    # Sent with every attempt (Idempotency-Key header, the email's Message-ID): a receiver that
    # dedupes by it sees one message even when a lost worker's attempt is repeated.
    idempotency_key = models.CharField(max_length=64, unique=True, default=new_idempotency_key, editable=False)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When a worker first took it.")
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    digest = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="digested_deliveries"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["user", "channel", "status", "claimed_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.channel} delivery {self.id} ({self.status})"


class AttemptOutcome(models.TextChoices):
    IN_PROGRESS = "in_progress"
    SENT = "sent"
    TRANSIENT_ERROR = "transient_error"  # retried
    PERMANENT_ERROR = "permanent_error"  # not retried
    LOST = "lost"  # the worker died mid-send


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=AttemptOutcome.choices, default=AttemptOutcome.IN_PROGRESS)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, help_text="The first characters of the answer.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="unique_delivery_attempt")]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.outcome}"
