"""Sending one delivery: claim it, send it, record the attempt, decide what happens next.

Claiming is a row lock plus a lease: a delivery is SENDING while one worker holds it, until
claimed_until (NOTIFICATION_CLAIM_SECONDS, longer than the task's hard time limit). A duplicate
message finds it SENDING or SENT and sends nothing; a message redelivered after its worker died
waits for the lease to run out, marks the lost attempt and sends again with the same idempotency
key, so a receiver that dedupes by key sees one message and the delivery is recorded sent once.

Transient failures (network errors, timeouts, 5xx, 408/425/429, SMTP 4xx, DingTalk's rate limit)
are retried after NOTIFICATION_RETRY_BASE_SECONDS * 2^(attempt-1), or the Retry-After the receiver
asked for when that is longer, at most NOTIFICATION_RETRY_MAX_SECONDS, for NOTIFICATION_MAX_ATTEMPTS
attempts in all. Anything else fails the delivery at once with the reason.
"""

import logging
import time
import uuid
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .dispatch import message_send
from .messages import message_for
from .models import (
    DIGEST_TYPES,
    FINAL_DELIVERY_STATUSES,
    AttemptOutcome,
    ChannelKind,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    NotificationSettings,
    NotificationType,
)
from .selectors import preference_enabled
from .senders import DeliveryError, SendResult, excerpt
from .tasks import deliver_notification
from .unsubscribe import unsubscribe_url

logger = logging.getLogger(__name__)

# A message that arrives this early for its retry time is run anyway.
EARLY_TOLERANCE_SECONDS = 0.05
DAILY_CAP_WINDOW = timedelta(hours=24)


def delivery_enqueue(deliveries: list[Delivery]) -> None:
    """One task per delivery, sent after commit."""

    def send() -> None:
        for delivery in deliveries:
            try:
                deliver_notification.delay(str(delivery.id))
            except Exception:  # the broker is away: requeue_stalled_deliveries sends it later
                logger.exception("Could not enqueue delivery %s", delivery.id)

    if deliveries:
        transaction.on_commit(send)


def delivery_send(*, delivery_id: str) -> float | None:
    """Send the delivery if it is due and nobody else holds it. Returns the seconds after which
    the task should run again (a retry, or a claim still held), or None when there is nothing
    more to do."""
    claimed = _claim(delivery_id)
    if not isinstance(claimed, tuple):
        return claimed
    delivery, attempt = claimed
    started = time.monotonic()
    try:
        result = _send(delivery)
    except DeliveryError as exc:
        return _record_failure(delivery, attempt, exc, started)
    except SoftTimeLimitExceeded:
        error = DeliveryError("The send took longer than the task's time limit.", transient=True)
        return _record_failure(delivery, attempt, error, started)
    except Exception as exc:  # a bug or an outage of our own: retried within the bound, logged
        logger.exception("Delivery %s failed unexpectedly", delivery.id)
        error = DeliveryError(f"Unexpected error: {type(exc).__name__}: {exc}", transient=True)
        return _record_failure(delivery, attempt, error, started)
    _record_success(delivery, attempt, result, started)
    return None


# --- claiming ---------------------------------------------------------------------------------------
def _seconds_until(moment) -> float:
    return max(0.0, (moment - timezone.now()).total_seconds())


def _claim(delivery_id: str) -> tuple[Delivery, DeliveryAttempt] | float | None:
    """Take the delivery for one attempt; or the seconds to wait before trying again; or None."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("notification", "user", "endpoint")
            .filter(id=delivery_id)
            .first()
        )
        if delivery is None:
            logger.info("Delivery %s no longer exists", delivery_id)
            return None
        if delivery.status in FINAL_DELIVERY_STATUSES or delivery.status == DeliveryStatus.HELD:
            return None
        if delivery.status == DeliveryStatus.PENDING and delivery.next_attempt_at:
            wait = (delivery.next_attempt_at - now).total_seconds()
            if wait > EARLY_TOLERANCE_SECONDS:
                return wait
        if delivery.status == DeliveryStatus.SENDING:
            if delivery.claimed_until and delivery.claimed_until > now:
                return _seconds_until(delivery.claimed_until) + 0.1  # another worker holds it
            logger.warning("Delivery %s: its worker was lost mid-send; sending it again", delivery.id)
            delivery.attempt_log.filter(outcome=AttemptOutcome.IN_PROGRESS).update(
                outcome=AttemptOutcome.LOST, error="The worker was lost during this attempt."
            )
            delivery.last_error = "The worker was lost mid-send."

        if delivery.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
            _finish(
                delivery, DeliveryStatus.FAILED, f"Gave up after {delivery.attempts} attempts: {delivery.last_error}"
            )
            return None
        reason = _reason_to_skip(delivery)
        if reason is None and delivery.channel == ChannelKind.EMAIL:
            NotificationSettings.objects.locked_for(user=delivery.user)  # one claim per user at a time
            reason = _over_daily_cap(delivery, now)
        if reason is not None:
            _finish(delivery, DeliveryStatus.SKIPPED, reason)
            return None

        delivery.status = DeliveryStatus.SENDING
        delivery.attempts += 1
        delivery.claimed_at = delivery.claimed_at or now
        delivery.claimed_until = now + timedelta(seconds=settings.NOTIFICATION_CLAIM_SECONDS)
        delivery.claim_token = uuid.uuid4().hex
        delivery.save()
        attempt = DeliveryAttempt.objects.create(delivery=delivery, number=delivery.attempts, started_at=now)
    return delivery, attempt


def _reason_to_skip(delivery: Delivery) -> str | None:
    if not delivery.user.is_active:
        return "The user is deactivated."
    if delivery.channel in (ChannelKind.SLACK, ChannelKind.DINGTALK) and delivery.endpoint is None:
        return "The channel was deleted."
    if delivery.channel == ChannelKind.EMAIL and not delivery.user.email:
        return "The user has no email address."
    type_ = delivery.notification.type
    types = DIGEST_TYPES if type_ == NotificationType.AGENT_RUN_DIGEST else (type_,)
    if not any(preference_enabled(user=delivery.user, type=t, channel=delivery.channel) for t in types):
        return f"{delivery.get_channel_display()} was turned off for {type_} before it was sent."
    return None


def _over_daily_cap(delivery: Delivery, now) -> str | None:
    """Emails claimed in the last 24 hours; the caller holds the user's settings lock."""
    cap = settings.NOTIFICATION_EMAIL_DAILY_CAP
    claimed = (
        Delivery.objects.filter(
            user=delivery.user,
            channel=ChannelKind.EMAIL,
            status__in=[DeliveryStatus.SENDING, DeliveryStatus.SENT],
            claimed_at__gte=now - DAILY_CAP_WINDOW,
        )
        .exclude(id=delivery.id)
        .count()
    )
    if claimed >= cap:
        return f"The daily email cap of {cap} emails in 24 hours was reached."
    return None


def _finish(delivery: Delivery, status: str, reason: str) -> None:
    delivery.status = status
    delivery.last_error = reason
    delivery.next_attempt_at = None
    delivery.save(update_fields=["status", "last_error", "next_attempt_at"])
    logger.info("Delivery %s %s: %s", delivery.id, status, reason)


# --- sending -----------------------------------------------------------------------------------------
def _send(delivery: Delivery) -> SendResult:
    notification = delivery.notification
    return message_send(
        channel=delivery.channel,
        message=message_for(notification),
        idempotency_key=delivery.idempotency_key,
        email_to=delivery.user.email,
        unsubscribe_url=unsubscribe_url(user_id=delivery.user_id, type=notification.type),
        endpoint=delivery.endpoint,
    )


# --- recording ---------------------------------------------------------------------------------------
def _duration_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _update_claimed(delivery: Delivery, **fields) -> None:
    """Write the outcome only while the claim is still ours."""
    updated = Delivery.objects.filter(
        id=delivery.id, status=DeliveryStatus.SENDING, claim_token=delivery.claim_token
    ).update(**fields)
    if not updated:
        logger.warning("Delivery %s: the claim was taken over before the outcome was recorded", delivery.id)


def _record_success(delivery: Delivery, attempt: DeliveryAttempt, result: SendResult, started: float) -> None:
    with transaction.atomic():
        DeliveryAttempt.objects.filter(id=attempt.id).update(
            outcome=AttemptOutcome.SENT,
            duration_ms=_duration_ms(started),
            response_status=result.status,
            response_body=excerpt(result.body),
        )
        _update_claimed(delivery, status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error="", claimed_until=None)


def retry_delay(attempt_number: int, retry_after: float | None) -> float:
    backoff = settings.NOTIFICATION_RETRY_BASE_SECONDS * 2 ** (attempt_number - 1)
    return min(max(backoff, retry_after or 0.0), settings.NOTIFICATION_RETRY_MAX_SECONDS)


def _record_failure(delivery: Delivery, attempt: DeliveryAttempt, error: DeliveryError, started: float) -> float | None:
    delay = (
        retry_delay(delivery.attempts, error.retry_after)
        if error.transient and delivery.attempts < settings.NOTIFICATION_MAX_ATTEMPTS
        else None
    )
    with transaction.atomic():
        DeliveryAttempt.objects.filter(id=attempt.id).update(
            outcome=AttemptOutcome.TRANSIENT_ERROR if error.transient else AttemptOutcome.PERMANENT_ERROR,
            duration_ms=_duration_ms(started),
            response_status=error.status,
            response_body=excerpt(error.body),
            error=error.message,
        )
        if delay is not None:
            _update_claimed(
                delivery,
                status=DeliveryStatus.PENDING,
                last_error=error.message,
                next_attempt_at=timezone.now() + timedelta(seconds=delay),
                claimed_until=None,
            )
        else:
            reason = error.message
            if error.transient:
                reason = f"Gave up after {delivery.attempts} attempts: {error.message}"
            _update_claimed(
                delivery, status=DeliveryStatus.FAILED, last_error=reason, next_attempt_at=None, claimed_until=None
            )
    logger.info("Delivery %s attempt %d failed (%s): %s", delivery.id, delivery.attempts, delay, error.message)
    return delay


# --- the safety net ----------------------------------------------------------------------------------
def delivery_requeue_stalled() -> int:
    """Send again deliveries whose message was lost (the broker was away at commit, or a worker
    was killed by the hard time limit): due long ago but still PENDING, or SENDING with a long
    expired claim. Duplicates are harmless: the claim lets one through."""
    overdue = timezone.now() - timedelta(seconds=settings.NOTIFICATION_SWEEP_INTERVAL_SECONDS * 5)
    stalled = Delivery.objects.filter(
        Q(status=DeliveryStatus.PENDING, next_attempt_at__isnull=True, created_at__lt=overdue)
        | Q(status=DeliveryStatus.PENDING, next_attempt_at__lt=overdue)
        | Q(status=DeliveryStatus.SENDING, claimed_until__lt=overdue)
    ).values_list("id", flat=True)[:1000]
    count = 0
    for delivery_id in stalled:
        deliver_notification.delay(str(delivery_id))
        count += 1
    if count:
        logger.warning("Requeued %d stalled notification deliveries", count)
    return count
