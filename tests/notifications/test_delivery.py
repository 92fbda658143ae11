"""Deliveries sent by the real worker to real local stand-ins: an SMTP server, and HTTP servers that
speak Slack's and DingTalk's protocols. Retries, permanent failures, independence of channels,
preferences, the daily cap and the unsubscribe link."""

import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from notifications import services
from notifications.models import Delivery, Notification
from notifications.tasks import requeue_stalled_deliveries
from tests.deliveries import run_data, wait_for_delivery
from tests.notifications.stand_ins import Reply
from tests.processes import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_worker")]


def notify(user, type_="agent_run_failed", **data):
    return services.notification_create(user=user, type=type_, data=run_data(**data))


def delivery_of(notification, channel: str) -> Delivery:
    return Delivery.objects.get(notification=notification, channel=channel)


def unsubscribe_link(email) -> str:
    """The URL in List-Unsubscribe (a long header is folded: the value starts after the fold)."""
    return str(email["List-Unsubscribe"]).strip().removeprefix("<").removesuffix(">")


def attempts_of(delivery: Delivery) -> list[tuple]:
    return list(delivery.attempt_log.values_list("number", "outcome", "response_status"))


def test_an_email_in_text_and_html_with_its_message_id_and_unsubscribe_link(user, stand_ins):
    notification = notify(user, execution_id="6f1c8f5e-0000-4000-8000-000000000001")

    [email] = stand_ins.smtp.wait_for(user.email, 1)

    delivery = wait_for_delivery(delivery_of(notification, "email").id)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, "")
    assert email["Subject"] == "Weather digest (v2) failed"
    assert email["From"] == "AutoGPT Platform <notifications@localhost>"
    assert email["Message-ID"] == f"<notification.{delivery.idempotency_key}@localhost>"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe_link(email).startswith("http://localhost:8006/api/v1/notifications/unsubscribe/")
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    link = "http://localhost:8006/api/v1/executions/6f1c8f5e-0000-4000-8000-000000000001"
    for body in (text, html):
        assert "Error: Index 5 is out of range" in body
        assert link in body
        assert unsubscribe_link(email) in body
    assert attempts_of(delivery) == [(1, "sent", None)]


def test_slack_gets_block_kit_with_a_button_back_to_the_execution(user, stand_ins):
    url = stand_ins.http.slack()
    services.channel_create(user=user, kind="slack", name="ops", webhook_url=url)
    notification = notify(user, execution_id="6f1c8f5e-0000-4000-8000-000000000002")

    [seen] = stand_ins.http.wait_for(url, 1)

    delivery = wait_for_delivery(delivery_of(notification, "slack").id)
    assert seen.problem is None
    assert seen.headers["idempotency-key"] == delivery.idempotency_key
    payload = seen.json()
    assert payload["text"] == "Weather digest (v2) failed: Index 5 is out of range"
    assert [block["type"] for block in payload["blocks"]] == ["header", "section", "section", "actions"]
    assert payload["blocks"][0]["text"]["text"] == "Weather digest (v2) failed"
    [button] = payload["blocks"][3]["elements"]
    assert button["url"] == "http://localhost:8006/api/v1/executions/6f1c8f5e-0000-4000-8000-000000000002"
    assert (delivery.status, attempts_of(delivery)) == ("sent", [(1, "sent", 200)])
    assert delivery.attempt_log.get().response_body == "ok"


def test_dingtalk_gets_a_signed_markdown_message(user, stand_ins):
    url = stand_ins.http.dingtalk(secret="SEC0123456789abcdef")
    services.channel_create(user=user, kind="dingtalk", name="team", webhook_url=url, secret="SEC0123456789abcdef")
    notification = notify(user)

    [seen] = stand_ins.http.wait_for(url, 1)

    delivery = wait_for_delivery(delivery_of(notification, "dingtalk").id)
    assert seen.problem is None  # the stand-in verified timestamp and sign as DingTalk does
    assert set(seen.query) == {"access_token", "timestamp", "sign"}
    assert seen.json()["msgtype"] == "markdown"
    assert seen.json()["markdown"]["title"] == "Weather digest (v2) failed"
    assert "Error: Index 5 is out of range" in seen.json()["markdown"]["text"]
    assert (delivery.status, attempts_of(delivery)) == ("sent", [(1, "sent", 200)])


def test_an_unsigned_dingtalk_robot_gets_no_signature(user, stand_ins):
    url = stand_ins.http.dingtalk()
    services.channel_create(user=user, kind="dingtalk", name="team", webhook_url=url)
    notification = notify(user)

    [seen] = stand_ins.http.wait_for(url, 1)

    assert set(seen.query) == {"access_token"}
    assert wait_for_delivery(delivery_of(notification, "dingtalk").id).status == "sent"


def test_transient_failures_retry_with_backoff_honouring_retry_after(user, stand_ins, settings):
    url = stand_ins.http.slack(
        Reply(503, "service unavailable"), Reply(429, "rate_limited", headers={"Retry-After": "2"})
    )
    services.channel_create(user=user, kind="slack", name="ops", webhook_url=url)
    notification = notify(user)

    delivery = wait_for_delivery(delivery_of(notification, "slack").id)
    seen = stand_ins.http.requests(url)

    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 3, "")
    assert attempts_of(delivery) == [(1, "transient_error", 503), (2, "transient_error", 429), (3, "sent", 200)]
    errors = list(delivery.attempt_log.values_list("error", flat=True))
    assert errors == ["HTTP 503: service unavailable", "HTTP 429: rate_limited", ""]
    assert len(seen) == 3
    assert {request.headers["idempotency-key"] for request in seen} == {delivery.idempotency_key}
    # base 0.5 s after the first attempt; the 429's Retry-After (2 s) over the 1 s backoff after the second
    assert seen[1].at - seen[0].at >= 0.5
    assert seen[2].at - seen[1].at >= 2.0
    assert all(attempt.duration_ms is not None for attempt in delivery.attempt_log.all())


def test_a_permanent_failure_is_recorded_once_with_its_reason_and_not_retried(user, stand_ins):
    url = stand_ins.http.slack(Reply(404, "no_service"))
    services.channel_create(user=user, kind="slack", name="gone", webhook_url=url)
    notification = notify(user)

    delivery = wait_for_delivery(delivery_of(notification, "slack").id)
    time.sleep(1.5)  # longer than the first backoff: a retry would have arrived by now

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 1, "HTTP 404: no_service")
    assert attempts_of(delivery) == [(1, "permanent_error", 404)]
    assert len(stand_ins.http.requests(url)) == 1


def test_a_dingtalk_errcode_is_a_failure_even_with_http_200(user, stand_ins):
    url = stand_ins.http.dingtalk(secret="SECright")
    services.channel_create(user=user, kind="dingtalk", name="team", webhook_url=url, secret="SECwrong")
    notification = notify(user)

    delivery = wait_for_delivery(delivery_of(notification, "dingtalk").id)

    assert (delivery.status, delivery.last_error) == ("failed", "DingTalk errcode 310000: sign not match")
    assert attempts_of(delivery) == [(1, "permanent_error", 200)]
    assert len(stand_ins.http.requests(url)) == 1


def test_a_transient_failure_that_never_ends_gives_up_after_the_bound(user, stand_ins, settings):
    url = stand_ins.http.slack(*[Reply(500, "boom")] * settings.NOTIFICATION_MAX_ATTEMPTS)
    services.channel_create(user=user, kind="slack", name="ops", webhook_url=url)
    notification = notify(user)

    delivery = wait_for_delivery(delivery_of(notification, "slack").id, statuses=("failed",))

    assert delivery.attempts == settings.NOTIFICATION_MAX_ATTEMPTS == 4
    assert delivery.last_error == "Gave up after 4 attempts: HTTP 500: boom"
    assert [outcome for _, outcome, _ in attempts_of(delivery)] == ["transient_error"] * 4
    assert len(stand_ins.http.requests(url)) == 4


def test_one_channel_failing_does_not_affect_the_others(user, stand_ins):
    broken = stand_ins.http.slack(Reply(400, "invalid_token"))
    working = stand_ins.http.dingtalk()
    services.channel_create(user=user, kind="slack", name="broken", webhook_url=broken)
    services.channel_create(user=user, kind="dingtalk", name="working", webhook_url=working)
    notification = notify(user)

    outcomes = {
        channel: wait_for_delivery(delivery_of(notification, channel).id).status
        for channel in ("slack", "dingtalk", "email")
    }

    assert outcomes == {"slack": "failed", "dingtalk": "sent", "email": "sent"}
    assert len(stand_ins.smtp.messages_to(user.email)) == 1
    assert len(stand_ins.http.requests(working)) == 1


def test_a_channel_turned_off_gets_nothing(user, stand_ins):
    url = stand_ins.http.slack()
    services.channel_create(user=user, kind="slack", name="ops", webhook_url=url)
    services.preferences_update(user=user, switches={"agent_run_failed": {"slack": False, "email": False}})

    notification = notify(user)
    disabled = services.notification_create(user=user, type="schedule_disabled", data={"schedule_name": "x"})

    wait_for_delivery(delivery_of(disabled, "slack").id)
    assert notification.deliveries.count() == 0
    assert len(stand_ins.http.requests(url)) == 1  # the schedule's, not the run's
    assert [m["Subject"] for m in stand_ins.smtp.wait_for(user.email, 1)] == ["Schedule 'x' was disabled"]


def test_the_daily_email_cap_skips_what_is_over_it(user, stand_ins, settings):
    notifications = [
        notify(user, graph_name=f"Agent {index}") for index in range(settings.NOTIFICATION_EMAIL_DAILY_CAP + 1)
    ]

    deliveries = [wait_for_delivery(delivery_of(n, "email").id) for n in notifications]
    time.sleep(0.5)  # no late email arrives

    statuses = sorted(delivery.status for delivery in deliveries)
    assert statuses == ["sent", "sent", "sent", "skipped"]
    [skipped] = [delivery for delivery in deliveries if delivery.status == "skipped"]
    assert skipped.last_error == "The daily email cap of 3 emails in 24 hours was reached."
    assert skipped.attempts == 0
    assert len(stand_ins.smtp.messages_to(user.email)) == 3


def test_the_unsubscribe_link_works_without_login_and_stops_that_type(api_client, user, stand_ins):
    notify(user)
    [email] = stand_ins.smtp.wait_for(user.email, 1)
    link = urlsplit(unsubscribe_link(email)).path

    page = api_client.get(link)
    done = api_client.post(link, {"List-Unsubscribe": "One-Click"})  # what a mail client's one-click sends
    after = notify(user)
    disabled = services.notification_create(user=user, type="schedule_disabled", data={"schedule_name": "nightly"})

    assert page.status_code == 200 and b"agent run failed" in page.content
    assert done.status_code == 200 and b"You are unsubscribed" in done.content
    assert after.deliveries.count() == 0
    wait_for_delivery(delivery_of(disabled, "email").id)
    assert [m["Subject"] for m in stand_ins.smtp.messages_to(user.email)] == [
        "Weather digest (v2) failed",
        "Schedule 'nightly' was disabled",
    ]


def test_an_email_turned_off_before_it_is_sent_is_skipped(user, stand_ins):
    """A delivery waiting for a retry is checked against the preferences again before it is sent."""
    url = stand_ins.http.slack(Reply(503, "busy", headers={"Retry-After": "3"}))
    services.channel_create(user=user, kind="slack", name="ops", webhook_url=url)
    notification = notify(user)
    delivery = delivery_of(notification, "slack")
    wait_until(lambda: Delivery.objects.get(id=delivery.id).next_attempt_at is not None, timeout=20, message="a retry")

    services.preferences_update(user=user, switches={"agent_run_failed": {"slack": False}})

    delivery = wait_for_delivery(delivery.id)
    assert (delivery.status, delivery.attempts) == ("skipped", 1)
    assert delivery.last_error == "Slack was turned off for agent_run_failed before it was sent."
    assert len(stand_ins.http.requests(url)) == 1


def test_deliveries_whose_message_was_lost_are_sent_by_the_sweeper(user, stand_ins):
    """As if the broker was away when the notification committed: rows exist, no message does."""
    channel = services.channel_create(user=user, kind="slack", name="ops", webhook_url=stand_ins.http.slack())
    notification = Notification.objects.create(user=user, type="agent_run_failed", data=run_data())
    email = Delivery.objects.create(notification=notification, user=user, channel="email")
    slack = Delivery.objects.create(notification=notification, user=user, channel="slack", endpoint=channel)
    # A retry whose message waits for its time: not overdue, left alone.
    later = Delivery.objects.create(
        notification=notification, user=user, channel="email", next_attempt_at=timezone.now() + timedelta(minutes=1)
    )
    Delivery.objects.filter(id__in=[email.id, slack.id]).update(created_at=timezone.now() - timedelta(minutes=10))
    services.channel_delete(user=user, channel_id=channel.id)

    requeue_stalled_deliveries.delay()  # beat's task, on the real worker

    assert wait_for_delivery(email.id).status == "sent"
    slack = wait_for_delivery(slack.id)
    assert (slack.status, slack.last_error, slack.attempts) == ("skipped", "The channel was deleted.", 0)
    assert Delivery.objects.get(id=later.id).status == "pending"
    assert len(stand_ins.smtp.wait_for(user.email, 1)) == 1
