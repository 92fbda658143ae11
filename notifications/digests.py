"""Periodic messages, sent by beat on system_events.

Digest: while a user's digest is on (hourly or daily), their agent-run notifications are stored
and pushed in-app at once, but their email, Slack and DingTalk deliveries are HELD. A digest goes
out one period after the oldest run it covers, and at most one per period: one message per
channel endpoint, listing the runs held for it. Held deliveries become DIGESTED.

Summaries: a daily and a weekly summary of the user's runs (counts by status, the busiest agents)
for users who switched them on for some channel. A summary of a period without runs is not sent.
"""

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from executions.selectors import execution_counts

from .delivery import delivery_enqueue
from .models import (
    ChannelKind,
    Delivery,
    DeliveryStatus,
    DigestFrequency,
    Notification,
    NotificationPreference,
    NotificationSettings,
    NotificationType,
)
from .services import notification_create

logger = logging.getLogger(__name__)

DIGEST_PERIODS = {
    DigestFrequency.OFF: timedelta(0),  # turned off while runs were held: send what is held now
    DigestFrequency.HOURLY: timedelta(hours=1),
    DigestFrequency.DAILY: timedelta(days=1),
}
SUMMARIES = [
    (NotificationType.DAILY_SUMMARY, timedelta(days=1), "last_daily_summary_at"),
    (NotificationType.WEEKLY_SUMMARY, timedelta(days=7), "last_weekly_summary_at"),
]


def digest_send_due(*, now: datetime | None = None) -> int:
    """Send every digest that is due; returns how many digest messages were queued."""
    now = now or timezone.now()
    user_ids = set(Delivery.objects.filter(status=DeliveryStatus.HELD).values_list("user_id", flat=True))
    return sum(_digest_for_user(user_id, now) for user_id in user_ids)


def _run_entry(notification: Notification) -> dict:
    data = notification.data
    return {
        "execution_id": data.get("execution_id"),
        "graph_id": data.get("graph_id"),
        "graph_name": data.get("graph_name"),
        "type": notification.type,
        "status": data.get("status"),
        "ended_at": data.get("ended_at"),
        "error_message": data.get("error_message")
        or "; ".join(str(node.get("message")) for node in data.get("failed_nodes") or [])
        or None,
    }


def _digest_for_user(user_id, now: datetime) -> int:
    with transaction.atomic():
        user = User.objects.get(id=user_id)
        row = NotificationSettings.objects.locked_for(user=user)
        held = list(
            Delivery.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(user=user, status=DeliveryStatus.HELD)
            .select_related("notification")
            .order_by("created_at")
        )
        if not held:
            return 0
        oldest = held[0].created_at
        start = max(row.last_digest_at, oldest) if row.last_digest_at else oldest
        if now < start + DIGEST_PERIODS[DigestFrequency(row.digest)]:
            return 0

        groups: dict[tuple[str, uuid.UUID | None], list[Delivery]] = {}
        for delivery in held:
            if delivery.channel != ChannelKind.EMAIL and delivery.endpoint_id is None:
                Delivery.objects.filter(id=delivery.id).update(
                    status=DeliveryStatus.SKIPPED, last_error="The channel was deleted."
                )
                continue
            groups.setdefault((delivery.channel, delivery.endpoint_id), []).append(delivery)

        digests = []
        for (channel, endpoint_id), deliveries in groups.items():
            digest = Notification.objects.create(
                user=user,
                type=NotificationType.AGENT_RUN_DIGEST,
                in_app=False,
                data={
                    "period_start": deliveries[0].created_at.isoformat(),
                    "period_end": now.isoformat(),
                    "runs": [_run_entry(delivery.notification) for delivery in deliveries],
                },
            )
            digests.append(
                Delivery.objects.create(notification=digest, user=user, channel=channel, endpoint_id=endpoint_id)
            )
            Delivery.objects.filter(id__in=[delivery.id for delivery in deliveries]).update(
                status=DeliveryStatus.DIGESTED, digest=digest
            )
        row.last_digest_at = now
        row.save(update_fields=["last_digest_at"])
        delivery_enqueue(digests)
    logger.info("Digest for %s: %d message(s) covering %d run(s)", user_id, len(digests), len(held))
    return len(digests)


def summary_send_due(*, now: datetime | None = None) -> int:
    """Send the daily and weekly summaries that are due; returns how many were created."""
    now = now or timezone.now()
    # Beat runs this every NOTIFICATION_SUMMARY_INTERVAL_SECONDS: half a tick early still counts.
    slack = timedelta(seconds=settings.NOTIFICATION_SUMMARY_INTERVAL_SECONDS / 2)
    created = 0
    for type_, period, last_field in SUMMARIES:
        user_ids = set(
            NotificationPreference.objects.filter(type=type_, enabled=True, user__is_active=True).values_list(
                "user_id", flat=True
            )
        )
        for user_id in user_ids:
            with transaction.atomic():
                user = User.objects.get(id=user_id)
                row = NotificationSettings.objects.locked_for(user=user)
                last = getattr(row, last_field)
                if last is not None and now - last < period - slack:
                    continue
                setattr(row, last_field, now)
                row.save(update_fields=[last_field])
                counts = execution_counts(user=user, since=now - period, until=now)
                if counts["runs_total"] == 0:
                    continue
                data = {"period_start": (now - period).isoformat(), "period_end": now.isoformat(), **counts}
                notification_create(user=user, type=type_, data=data, dedupe_key=f"{type_}:{now.isoformat()}")
                created += 1
    return created
