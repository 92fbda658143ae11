"""The notifications API: the in-app inbox, preferences, channels, unsubscribing. In-process, no
worker: what is stored, validated and shown."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import api_key_create
from notifications import services
from notifications.dispatch import channel_webhook
from notifications.messages import message_for, notification_payload
from notifications.models import Delivery, Notification, NotificationChannel, NotificationPreference
from notifications.unsubscribe import unsubscribe_token
from tests.accounts.test_auth_api import assert_error
from tests.deliveries import run_data
from tests.notifications.stand_ins import Reply

pytestmark = pytest.mark.django_db


def notify(user, type_="agent_run_failed", **data) -> Notification:
    return services.notification_create(user=user, type=type_, data=run_data(**data))


class TestInbox:
    def test_lists_unread_first_then_newest_with_what_to_show(self, auth_client, user):
        old_unread = notify(user, graph_name="Old")
        read = notify(user, graph_name="Read")
        new_unread = notify(user, "agent_run_completed", graph_name="New", status="COMPLETED")
        Notification.objects.filter(id=old_unread.id).update(created_at=timezone.now() - timedelta(hours=2))
        Notification.objects.filter(id=read.id).update(read_at=timezone.now())

        body = auth_client.get("/api/v1/notifications").json()

        assert [n["id"] for n in body["results"]] == [str(new_unread.id), str(old_unread.id), str(read.id)]
        first = body["results"][0]
        assert (first["type"], first["title"], first["read_at"]) == ("agent_run_completed", "New (v2) finished", None)
        assert first["message"] == "New (v2) completed successfully."
        assert first["link"] == f"http://localhost:8006/api/v1/executions/{first['data']['execution_id']}"
        assert body["results"][2]["read_at"] is not None

    def test_paginated_and_filtered_to_unread(self, auth_client, user):
        for index in range(3):
            notify(user, graph_name=f"Agent {index}")
        services.notification_mark_read(user=user, notification_id=Notification.objects.filter(user=user).first().id)

        page = auth_client.get("/api/v1/notifications?page_size=2").json()
        unread = auth_client.get("/api/v1/notifications?unread=true").json()

        assert (page["count"], len(page["results"]), page["next"] is not None) == (3, 2, True)
        assert unread["count"] == 2

    def test_only_in_app_notifications_of_the_user_are_listed(self, auth_client, user, other_user):
        notify(other_user)
        services.preferences_update(user=user, switches={"agent_run_failed": {"in_app": False}})
        notify(user)

        assert auth_client.get("/api/v1/notifications").json()["count"] == 0

    def test_read_marks_once_and_read_all_marks_the_rest(self, auth_client, user):
        first, second, third = notify(user), notify(user), notify(user)

        response = auth_client.post(f"/api/v1/notifications/{first.id}/read")
        again = auth_client.post(f"/api/v1/notifications/{first.id}/read")
        marked = auth_client.post("/api/v1/notifications/read-all")

        assert response.status_code == 200 and response.json()["read_at"] is not None
        assert again.json()["read_at"] == response.json()["read_at"]
        assert marked.json() == {"marked": 2}
        assert Notification.objects.filter(id__in=[second.id, third.id], read_at__isnull=True).count() == 0

    def test_another_users_notification_and_unknown_ids_are_404(self, auth_client, other_user):
        theirs = notify(other_user)

        assert_error(auth_client.post(f"/api/v1/notifications/{theirs.id}/read"), 404, code="not_found")
        assert_error(auth_client.post(f"/api/v1/notifications/{uuid.uuid4()}/read"), 404)
        assert_error(auth_client.post("/api/v1/notifications/not-a-uuid/read"), 404)
        assert Notification.objects.get(id=theirs.id).read_at is None

    @pytest.mark.parametrize("type_", ["agent_run_failed", "agent_run_completed"])
    def test_the_api_shows_what_the_websocket_pushes(self, auth_client, user, type_):
        notification = notify(user, type_, graph_name="Same")
        Notification.objects.filter(id=notification.id).update(read_at=timezone.now())
        notification.refresh_from_db()

        listed = auth_client.get("/api/v1/notifications").json()["results"]

        assert listed == [notification_payload(notification)]

    def test_a_bad_filter_is_400_naming_it(self, auth_client):
        assert_error(auth_client.get("/api/v1/notifications?unread=perhaps"), 400, field="unread")

    def test_anonymous_is_401_and_api_keys_need_the_scope(self, api_client, user):
        _, identity_only = api_key_create(user=user, name="id", scopes=["identity"])
        _, reader = api_key_create(user=user, name="reader", scopes=["read_graph"])

        assert_error(api_client.get("/api/v1/notifications"), 401)
        api_client.credentials(HTTP_X_API_KEY=identity_only)
        assert_error(api_client.get("/api/v1/notifications"), 403)
        api_client.credentials(HTTP_X_API_KEY=reader)
        assert api_client.get("/api/v1/notifications").status_code == 200
        assert_error(api_client.get("/api/v1/notifications/channels"), 403)


class TestPreferences:
    def test_defaults_when_nothing_was_set(self, auth_client):
        body = auth_client.get("/api/v1/notifications/preferences").json()

        prefs = body["preferences"]
        assert body["digest"] == "off"
        assert set(prefs) == {
            "agent_run_completed",
            "agent_run_failed",
            "block_execution_failed",
            "schedule_disabled",
            "store_submission_approved",
            "store_submission_rejected",
            "daily_summary",
            "weekly_summary",
        }
        assert prefs["agent_run_completed"] == {"email": False, "slack": False, "dingtalk": False, "in_app": True}
        assert prefs["agent_run_failed"] == {"email": True, "slack": True, "dingtalk": True, "in_app": True}
        assert prefs["store_submission_rejected"]["email"] is True
        assert prefs["daily_summary"] == {"email": False, "slack": False, "dingtalk": False, "in_app": False}

    def test_put_changes_what_it_names_and_keeps_the_rest(self, auth_client, user):
        response = auth_client.put(
            "/api/v1/notifications/preferences",
            {
                "digest": "hourly",
                "preferences": {"agent_run_failed": {"slack": False}, "daily_summary": {"email": True}},
            },
            format="json",
        )

        assert response.status_code == 200, response.content
        body = response.json()
        assert body["digest"] == "hourly"
        assert body["preferences"]["agent_run_failed"] == {
            "email": True,
            "slack": False,
            "dingtalk": True,
            "in_app": True,
        }
        assert body["preferences"]["daily_summary"]["email"] is True
        assert NotificationPreference.objects.filter(user=user).count() == 2

    @pytest.mark.parametrize(
        "body, field",
        [
            ({"digest": "weekly"}, "digest"),
            ({"preferences": {"agent_run_exploded": {"email": True}}}, "preferences.agent_run_exploded"),
            ({"preferences": {"agent_run_failed": {"pager": True}}}, "preferences.agent_run_failed.pager"),
            ({"preferences": {"agent_run_failed": {"email": "sometimes"}}}, "preferences.agent_run_failed.email"),
            ({"preferences": {"agent_run_failed": True}}, "preferences.agent_run_failed"),
            ({"preferences": {"agent_run_digest": {"email": True}}}, "preferences.agent_run_digest"),
            ({"colour": "blue"}, "colour"),
        ],
    )
    def test_bad_input_is_400_naming_the_field_and_changes_nothing(self, auth_client, user, body, field):
        assert_error(auth_client.put("/api/v1/notifications/preferences", body, format="json"), 400, field=field)
        assert NotificationPreference.objects.filter(user=user).count() == 0

    def test_preferences_decide_the_deliveries(self, user, stand_ins):
        slack = services.channel_create(user=user, kind="slack", name="ops", webhook_url=stand_ins.http.slack())
        services.preferences_update(user=user, switches={"agent_run_failed": {"slack": False}})

        failed = notify(user)
        completed = notify(user, "agent_run_completed", status="COMPLETED")
        services.preferences_update(user=user, switches={"schedule_disabled": {"email": False}})
        disabled = services.notification_create(
            user=user, type="schedule_disabled", data={"schedule_name": "x", "failures": 3}
        )

        assert list(failed.deliveries.values_list("channel", flat=True)) == ["email"]
        assert completed.deliveries.count() == 0
        assert list(disabled.deliveries.values_list("channel", "endpoint")) == [("slack", slack.id)]


class TestChannels:
    def test_create_stores_the_url_encrypted_and_shows_it_masked(self, auth_client, stand_ins):
        url = stand_ins.http.slack()

        response = auth_client.post(
            "/api/v1/notifications/channels", {"kind": "slack", "name": "ops", "webhook_url": url}, format="json"
        )

        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["kind"], body["name"], body["signed"]) == ("slack", "ops", False)
        assert body["webhook_url"] == f"http://{stand_ins.allowed_host}/…{url[-4:]}"
        stored = NotificationChannel.objects.get(id=body["id"])
        assert url not in stored.webhook_url_encrypted and url[-12:] not in stored.webhook_url_encrypted
        assert channel_webhook(stored) == (url, "")
        listed = auth_client.get("/api/v1/notifications/channels").json()
        assert [c["webhook_url"] for c in listed["results"]] == [body["webhook_url"]]

    def test_a_signed_dingtalk_robot_keeps_its_secret_encrypted(self, auth_client, stand_ins):
        url = stand_ins.http.dingtalk(secret="SECabc")

        body = auth_client.post(
            "/api/v1/notifications/channels",
            {"kind": "dingtalk", "webhook_url": url, "secret": "SECabc"},
            format="json",
        ).json()

        stored = NotificationChannel.objects.get(id=body["id"])
        assert (body["name"], body["signed"]) == ("DingTalk", True)
        assert "SECabc" not in stored.secret_encrypted
        assert channel_webhook(stored) == (url, "SECabc")

    @pytest.mark.parametrize(
        "body, field",
        [
            ({"kind": "teams", "webhook_url": "https://hooks.slack.com/services/T/B/x"}, "kind"),
            ({"kind": "slack"}, "webhook_url"),
            ({"kind": "slack", "webhook_url": "http://hooks.slack.com/services/T/B/x"}, "webhook_url"),
            ({"kind": "slack", "webhook_url": "https://evil.example.com/services/T/B/x"}, "webhook_url"),
            ({"kind": "slack", "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=x"}, "webhook_url"),
            ({"kind": "slack", "webhook_url": "https://u:p@hooks.slack.com/services/T/B/x"}, "webhook_url"),
            ({"kind": "slack", "webhook_url": "ftp://hooks.slack.com/x"}, "webhook_url"),
            ({"kind": "slack", "webhook_url": "http://127.0.0.1:9/slack"}, "webhook_url"),
            ({"kind": "dingtalk", "webhook_url": "https://oapi.dingtalk.com/robot/send"}, "webhook_url"),
            ({"kind": "slack", "webhook_url": "https://hooks.slack.com/services/T/B/x", "secret": "s"}, "secret"),
            ({"kind": "slack", "webhook_url": "https://hooks.slack.com/x", "name": "n" * 101}, "name"),
            ({"kind": "slack", "webhook_url": "https://hooks.slack.com/x", "token": "t"}, "token"),
        ],
    )
    def test_bad_input_is_400_naming_the_field_and_saves_nothing(self, auth_client, body, field):
        assert_error(auth_client.post("/api/v1/notifications/channels", body, format="json"), 400, field=field)
        assert NotificationChannel.objects.count() == 0

    def test_the_default_hosts_are_accepted_over_https(self, auth_client):
        for kind, url in [
            ("slack", "https://hooks.slack.com/services/T000/B000/XXXX"),
            ("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=abcd"),
        ]:
            response = auth_client.post(
                "/api/v1/notifications/channels", {"kind": kind, "webhook_url": url}, format="json"
            )
            assert response.status_code == 201, response.content
        assert sorted(NotificationChannel.objects.values_list("url_masked", flat=True)) == [
            "https://hooks.slack.com/…XXXX",
            "https://oapi.dingtalk.com/…abcd",
        ]

    def test_delete_removes_it_and_skips_what_was_not_sent(self, auth_client, user, stand_ins):
        channel = services.channel_create(user=user, kind="slack", name="ops", webhook_url=stand_ins.http.slack())
        notification = notify(user)

        response = auth_client.delete(f"/api/v1/notifications/channels/{channel.id}")

        assert response.status_code == 204
        assert not NotificationChannel.objects.filter(id=channel.id).exists()
        assert sorted(notification.deliveries.values_list("channel", "endpoint")) == [("email", None), ("slack", None)]

    def test_another_users_channel_is_404(self, auth_client, other_user, stand_ins):
        theirs = services.channel_create(user=other_user, kind="slack", name="x", webhook_url=stand_ins.http.slack())

        assert_error(auth_client.delete(f"/api/v1/notifications/channels/{theirs.id}"), 404)
        assert_error(auth_client.post(f"/api/v1/notifications/channels/{theirs.id}/test"), 404)
        assert NotificationChannel.objects.filter(id=theirs.id).exists()
        assert auth_client.get("/api/v1/notifications/channels").json()["count"] == 0

    def test_test_sends_a_message_now(self, auth_client, user, stand_ins):
        url = stand_ins.http.dingtalk(secret="SECsigned")
        channel = services.channel_create(user=user, kind="dingtalk", name="ops", webhook_url=url, secret="SECsigned")

        response = auth_client.post(f"/api/v1/notifications/channels/{channel.id}/test")

        assert response.status_code == 200, response.content
        assert response.json() == {"sent": True, "status": 200, "response": '{"errcode": 0, "errmsg": "ok"}'}
        [seen] = stand_ins.http.requests(url)
        assert seen.problem is None
        assert seen.json()["markdown"]["title"] == "Test notification from AutoGPT Platform"

    def test_a_refused_test_is_502_with_the_webhooks_answer(self, auth_client, user, stand_ins):
        url = stand_ins.http.slack(Reply(404, "no_service"))
        channel = services.channel_create(user=user, kind="slack", name="gone", webhook_url=url)

        body = assert_error(auth_client.post(f"/api/v1/notifications/channels/{channel.id}/test"), 502)

        assert body["code"] == "channel_test_failed"
        assert body["message"] == "The Slack webhook did not accept the test message: HTTP 404: no_service"
        assert body["details"] == {"status": 404, "response": "no_service"}


class TestUnsubscribe:
    def test_get_shows_post_unsubscribes_without_login(self, api_client, user):
        token = unsubscribe_token(user_id=user.id, type="agent_run_failed")
        url = f"/api/v1/notifications/unsubscribe/{token}"

        page = api_client.get(url)
        shown = api_client.get(url, HTTP_ACCEPT="application/json").json()
        done = api_client.post(url, {"List-Unsubscribe": "One-Click"})

        assert page.status_code == 200 and b"Unsubscribe?" in page.content and b'<form method="post">' in page.content
        assert shown == {
            "email": f"{user.email[0]}***@example.com",
            "types": ["agent_run_failed"],
            "description": "agent run failed",
            "unsubscribed": False,
        }
        assert done.status_code == 200 and b"You are unsubscribed" in done.content
        assert NotificationPreference.objects.get(user=user, type="agent_run_failed", channel="email").enabled is False
        assert notify(user).deliveries.filter(channel="email").count() == 0

    def test_all_turns_off_every_email(self, api_client, user):
        token = unsubscribe_token(user_id=user.id, type="schedule_disabled")

        response = api_client.post(
            f"/api/v1/notifications/unsubscribe/{token}", {"all": "true"}, HTTP_ACCEPT="application/json"
        )

        assert response.status_code == 200
        assert len(response.json()["types"]) == 8
        assert set(NotificationPreference.objects.filter(user=user).values_list("channel", "enabled")) == {
            ("email", False)
        }

    def test_a_tampered_token_is_400_and_changes_nothing(self, api_client, user):
        token = unsubscribe_token(user_id=user.id, type="agent_run_failed")

        response = api_client.post(f"/api/v1/notifications/unsubscribe/{token[:-2]}xx", HTTP_ACCEPT="application/json")
        page = api_client.get(f"/api/v1/notifications/unsubscribe/{token[:-2]}xx")

        assert_error(response, 400, code="invalid_token")
        assert page.status_code == 400 and b"This link does not work" in page.content
        assert NotificationPreference.objects.count() == 0

    def test_digest_links_cover_the_agent_run_types(self, api_client, user):
        token = unsubscribe_token(user_id=user.id, type="agent_run_digest")

        body = api_client.post(f"/api/v1/notifications/unsubscribe/{token}", HTTP_ACCEPT="application/json").json()

        assert body["types"] == ["agent_run_completed", "agent_run_failed", "block_execution_failed"]


def test_other_apps_get_a_clear_error_for_an_unknown_type(user):
    with pytest.raises(ValueError, match="Unknown notification type 'store_exploded'"):
        services.notification_create(user=user, type="store_exploded", data={})
    assert Notification.objects.count() == 0 and Delivery.objects.count() == 0


def test_a_dedupe_key_records_one_notification(user):
    first = services.notification_create(user=user, type="agent_run_failed", data=run_data(), dedupe_key="run:1")
    second = services.notification_create(user=user, type="agent_run_failed", data=run_data(), dedupe_key="run:1")

    assert first.id == second.id
    assert Delivery.objects.filter(notification=first).count() == 1


def test_store_decisions_have_messages(user):
    data = {
        "listing_name": "Tweet Writer",
        "slug": "tweet-writer",
        "version": 3,
        "public_comments": "Add a description of the inputs.",
        "reviewed_at": timezone.now(),
    }

    rejected = services.notification_create(user=user, type="store_submission_rejected", data=data)
    approved = services.notification_create(user=user, type="store_submission_approved", data=data)

    assert message_for(rejected).title == "Tweet Writer was rejected"
    assert "Reviewer's comments: Add a description of the inputs." in message_for(rejected).paragraphs
    assert message_for(approved).summary == "Your store submission Tweet Writer version 3 was approved."
    assert isinstance(rejected.data["reviewed_at"], str)  # stored as JSON
