"""Digests and summaries: beat's tasks on system_events, run by the real worker."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import GraphVersion
from executions.models import GraphExecution
from notifications import digests, services
from notifications.models import Delivery, Notification
from notifications.tasks import send_notification_digests, send_notification_summaries
from tests.deliveries import run_data, wait_for_delivery
from tests.graphs import import_calculator
from tests.processes import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_worker")]


def test_an_hourly_digest_holds_agent_run_messages_and_sends_one_per_channel(auth_client, user, stand_ins):
    url = stand_ins.http.slack()
    services.channel_create(user=user, kind="slack", name="ops", webhook_url=url)
    auth_client.put(
        "/api/v1/notifications/preferences",
        {"digest": "hourly", "preferences": {"agent_run_completed": {"email": True}}},
        format="json",
    )
    failed = services.notification_create(user=user, type="agent_run_failed", data=run_data(graph_name="Crawler"))
    completed = services.notification_create(
        user=user, type="agent_run_completed", data=run_data(graph_name="Summariser", status="COMPLETED")
    )
    disabled = services.notification_create(user=user, type="schedule_disabled", data={"schedule_name": "nightly"})

    # Not digested: a schedule disabled is sent at once; the runs are held, and in-app at once.
    wait_for_delivery(Delivery.objects.get(notification=disabled, channel="email").id)
    assert set(Delivery.objects.filter(notification__in=[failed, completed]).values_list("status", flat=True)) == {
        "held"
    }
    assert auth_client.get("/api/v1/notifications").json()["count"] == 3
    assert digests.digest_send_due() == 0  # the oldest held run is not an hour old yet

    Delivery.objects.filter(status="held", user=user).update(created_at=timezone.now() - timedelta(minutes=61))
    send_notification_digests.delay()

    [slack_digest] = stand_ins.http.wait_for(url, 2)[1:]  # after the schedule's message
    emails = stand_ins.smtp.wait_for(user.email, 2)
    assert [email["Subject"] for email in emails] == [
        "Schedule 'nightly' was disabled",
        "Your agent runs: 2 update(s), 1 with failures",
    ]
    text = emails[1].get_body(("plain",)).get_content()
    assert "Crawler (v2) failed: Index 5 is out of range" not in text  # digest lines name the agent only
    assert "Crawler failed: Index 5 is out of range" in text
    assert "Summariser completed" in text
    # Slack is on for failures only (the default), so its digest has the failed run alone.
    assert slack_digest.json()["blocks"][0]["text"]["text"] == "Your agent runs: 1 update(s), 1 with failures"
    held = Delivery.objects.filter(notification__in=[failed, completed])
    assert set(held.values_list("status", flat=True)) == {"digested"}
    digest_notifications = Notification.objects.filter(user=user, type="agent_run_digest")
    assert digest_notifications.count() == 2 and not digest_notifications.filter(in_app=True).exists()
    for delivery in Delivery.objects.filter(notification__in=digest_notifications):
        assert wait_for_delivery(delivery.id).status == "sent"
    assert auth_client.get("/api/v1/notifications").json()["count"] == 3  # the digest is not in-app


def test_nothing_is_sent_twice_when_digests_run_again(user, stand_ins):
    services.preferences_update(user=user, digest="daily")
    services.notification_create(user=user, type="agent_run_failed", data=run_data())
    Delivery.objects.filter(status="held", user=user).update(created_at=timezone.now() - timedelta(days=2))

    assert digests.digest_send_due() == 1
    assert digests.digest_send_due() == 0
    stand_ins.smtp.wait_for(user.email, 1)
    assert len(stand_ins.smtp.messages_to(user.email)) == 1


def _ended_run(user, graph, status: str, hours_ago: float = 1) -> GraphExecution:
    ended = timezone.now() - timedelta(hours=hours_ago)
    return GraphExecution.objects.create(
        user=user,
        graph_id=graph["id"],
        graph_version=GraphVersion.objects.get(graph_id=graph["id"], version=graph["version"]),
        status=status,
        started_at=ended - timedelta(seconds=5),
        ended_at=ended,
    )


def test_daily_and_weekly_summaries_are_opt_in_and_sent_once_per_period(auth_client, user, other_user, stand_ins):
    graph = import_calculator(auth_client)
    for status in ("COMPLETED", "COMPLETED", "FAILED"):
        _ended_run(user, graph, status)
    _ended_run(user, graph, "COMPLETED", hours_ago=50)  # in the week, not the day
    services.preferences_update(
        user=user, switches={"daily_summary": {"email": True}, "weekly_summary": {"in_app": True}}
    )

    send_notification_summaries.delay()

    [email] = stand_ins.smtp.wait_for(user.email, 1)
    daily = Notification.objects.get(user=user, type="daily_summary")
    weekly = wait_until(
        lambda: Notification.objects.filter(user=user, type="weekly_summary").first(), timeout=20, message="weekly"
    )
    assert email["Subject"] == "Your daily agent summary"
    assert (
        "Your agents ran 3 time(s) in the last day: 2 completed, 1 failed, 0 stopped."
        in email.get_body(("plain",)).get_content()
    )
    assert (daily.data["runs_total"], daily.data["runs_failed"], daily.in_app) == (3, 1, False)
    assert daily.data["agents"] == [{"graph_id": graph["id"], "graph_name": "Calculator agent", "runs": 3, "failed": 1}]
    assert (weekly.data["runs_total"], weekly.in_app, weekly.deliveries.count()) == (4, True, 0)
    assert digests.summary_send_due() == 0  # not due again for a day / a week
    assert not Notification.objects.filter(user=other_user).exists()  # never opted in
