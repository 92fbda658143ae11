"""The chat's REST endpoints in process: sessions, the limits on sending a message, cancel of a
turn no worker has taken, the reaper, and what the model is given back. Streaming through a real
daphne and worker is in test_streaming.py."""

import asyncio
import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from chat import services, streams
from chat.models import ChatMessage, ChatSession, SessionStatus
from chat.selectors import history_messages
from tests.accounts.test_api_keys import create_key, key_client
from tests.accounts.test_auth_api import assert_error
from tests.clients import client_for

pytestmark = pytest.mark.django_db

BASE = "/api/v1/chat/sessions"
SESSION_FIELDS = {"id", "user_id", "title", "status", "model", "llm_credential_id", "created_at", "updated_at"}


@pytest.fixture(autouse=True)
def platform_model(settings):
    settings.CHAT_MODEL = "gpt-4o-mini"
    settings.OPENAI_API_KEY = "sk-system-openai-0123456789"
    settings.CHAT_MAX_CONCURRENT_TURNS = 3


def create_session(client, **body) -> dict:
    response = client.post(BASE, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def stream_events(turn_id) -> list[dict | str]:
    """What the turn's Redis Stream holds, decoded."""
    entries = streams.get_redis().xrange(streams.EVENTS_KEY.format(turn_id=turn_id))
    return [fields["data"] if fields["data"] == streams.DONE else json.loads(fields["data"]) for _, fields in entries]


class TestSessions:
    def test_create_answers_201_with_the_session(self, auth_client, user):
        created = create_session(auth_client)

        assert set(created) == SESSION_FIELDS
        assert created["user_id"] == str(user.id)
        assert (created["status"], created["title"], created["model"]) == ("idle", "", "gpt-4o-mini")
        assert created["llm_credential_id"] is None
        assert ChatSession.objects.get(id=created["id"]).user == user
        assert streams.session_cache_get(session_id=created["id"])["status"] == "idle"

    def test_a_session_can_use_one_of_the_users_own_credentials(self, auth_client):
        credential = auth_client.post(
            "/api/v1/integrations/anthropic/credentials",
            {"type": "api_key", "api_key": "sk-ant-own-0123456789", "title": "mine"},
            format="json",
        ).json()

        created = create_session(auth_client, llm_credential_id=credential["id"])

        assert created["llm_credential_id"] == credential["id"]
        assert created["model"].startswith("claude-")
        assert "sk-ant-own" not in str(created)

    def test_another_users_credential_or_a_model_of_another_provider_is_a_400(self, auth_client, other_user):
        theirs = (
            client_for(other_user)
            .post(
                "/api/v1/integrations/openai/credentials",
                {"type": "api_key", "api_key": "sk-theirs-0123456789", "title": "theirs"},
                format="json",
            )
            .json()
        )

        mine = auth_client.post(
            "/api/v1/integrations/anthropic/credentials",
            {"type": "api_key", "api_key": "sk-ant-own-0123456789", "title": "mine"},
            format="json",
        ).json()

        response = auth_client.post(BASE, {"llm_credential_id": theirs["id"]}, format="json")
        assert_error(response, 400, "validation_error", field="llm_credential_id")
        response = auth_client.post(BASE, {"llm_credential_id": mine["id"], "model": "gpt-4o"}, format="json")
        assert_error(response, 400, "validation_error", field="model")
        assert not ChatSession.objects.exists()

    def test_the_list_is_the_users_own_most_recently_active_first_and_paginated(self, auth_client, other_user):
        first = create_session(auth_client, title="first")
        second = create_session(auth_client, title="second")
        create_session(client_for(other_user), title="theirs")

        listed = auth_client.get(BASE).json()
        assert [item["id"] for item in listed["results"]] == [second["id"], first["id"]]
        assert listed["count"] == 2
        assert set(listed["results"][0]) == {"id", "title", "status", "created_at", "updated_at"}

        auth_client.patch(f"{BASE}/{first['id']}", {"title": "first, renamed"}, format="json")
        page = auth_client.get(BASE, {"page_size": 1}).json()
        assert [item["title"] for item in page["results"]] == ["first, renamed"]
        assert page["next"]

    def test_detail_rename_and_delete(self, auth_client, django_capture_on_commit_callbacks):
        created = create_session(auth_client)

        detail = auth_client.get(f"{BASE}/{created['id']}").json()
        assert detail["messages"] == [] and detail["active_stream"] is None
        assert detail["usage"] == {"input_tokens": 0, "output_tokens": 0}

        renamed = auth_client.patch(f"{BASE}/{created['id']}", {"title": "  Sums  "}, format="json")
        assert renamed.status_code == 200 and renamed.json()["title"] == "Sums"
        assert_error(
            auth_client.patch(f"{BASE}/{created['id']}", {"title": ""}, format="json"),
            400,
            "validation_error",
            field="title",
        )

        with django_capture_on_commit_callbacks(execute=True):
            assert auth_client.delete(f"{BASE}/{created['id']}").status_code == 204
        assert_error(auth_client.get(f"{BASE}/{created['id']}"), 404, "not_found")
        assert streams.session_cache_get(session_id=created["id"]) == {}

    def test_another_users_session_is_a_404_everywhere(self, auth_client, other_user):
        theirs = create_session(client_for(other_user))
        url = f"{BASE}/{theirs['id']}"

        for response in (
            auth_client.get(url),
            auth_client.patch(url, {"title": "mine now"}, format="json"),
            auth_client.delete(url),
            auth_client.post(f"{url}/stream", {"message": "hi"}, format="json"),
            auth_client.get(f"{url}/stream"),
            auth_client.post(f"{url}/cancel"),
        ):
            assert_error(response, 404, "not_found")
        assert not ChatMessage.objects.exists()
        assert ChatSession.objects.get(id=theirs["id"]).title == ""

    def test_api_keys_need_the_use_chat_scope(self, auth_client):
        without = key_client(create_key(auth_client, ["read_graph"])["key"])
        with_scope = key_client(create_key(auth_client, ["use_chat"], name="chat")["key"])

        assert_error(without.get(BASE), 403)
        assert with_scope.get(BASE).status_code == 200
        assert_error(without.get(f"{BASE}/{uuid.uuid4()}/stream"), 403)
        assert_error(with_scope.get(f"{BASE}/{uuid.uuid4()}/stream"), 404)

    def test_the_stream_endpoints_need_credentials(self, api_client):
        assert_error(api_client.post(f"{BASE}/{uuid.uuid4()}/stream", {"message": "hi"}, format="json"), 401)
        assert_error(api_client.get(f"{BASE}/{uuid.uuid4()}/stream"), 401)


class TestSendingAMessage:
    def test_a_message_over_64000_characters_is_a_400_and_nothing_is_saved(self, auth_client):
        session = create_session(auth_client)

        response = auth_client.post(f"{BASE}/{session['id']}/stream", {"message": "x" * 64_001}, format="json")

        assert_error(response, 400, "validation_error", field="message")
        assert not ChatMessage.objects.exists()
        assert ChatSession.objects.get(id=session["id"]).status == SessionStatus.IDLE

    def test_an_empty_message_is_a_400(self, auth_client):
        session = create_session(auth_client)

        for body in ({"message": ""}, {"message": "   "}, {}):
            response = auth_client.post(f"{BASE}/{session['id']}/stream", body, format="json")
            assert_error(response, 400, "validation_error", field="message")

    def test_a_second_message_while_a_turn_runs_is_a_409(self, auth_client, user):
        session = create_session(auth_client)
        services.turn_start(user=user, session_id=session["id"], message="first")

        response = auth_client.post(f"{BASE}/{session['id']}/stream", {"message": "second"}, format="json")

        assert_error(response, 409, "turn_running")
        assert list(ChatMessage.objects.values_list("content", flat=True)) == ["first"]

    def test_more_running_turns_than_the_limit_is_a_429(self, auth_client, user, other_user):
        sessions = [create_session(auth_client) for _ in range(4)]
        for session in sessions[:3]:
            services.turn_start(user=user, session_id=session["id"], message="busy")
        theirs = create_session(client_for(other_user))

        response = auth_client.post(f"{BASE}/{sessions[3]['id']}/stream", {"message": "one more"}, format="json")

        assert_error(response, 429, "too_many_turns")
        assert ChatSession.objects.get(id=sessions[3]["id"]).status == SessionStatus.IDLE
        assert not ChatMessage.objects.filter(session_id=sessions[3]["id"]).exists()
        # Another user's limit is their own.
        services.turn_start(user=other_user, session_id=theirs["id"], message="mine")

    def test_the_turn_starts_with_its_start_event_and_shows_as_the_active_stream(self, auth_client, user):
        session = create_session(auth_client)

        started = services.turn_start(user=user, session_id=session["id"], message="What can you do?\nTell me.")

        detail = auth_client.get(f"{BASE}/{session['id']}").json()
        assert detail["status"] == "running"
        assert detail["title"] == "What can you do? Tell me."
        assert detail["active_stream"]["turn_id"] == str(started.turn_id)
        assert stream_events(started.turn_id) == [{"type": "start", "messageId": str(started.turn_id)}]
        assert detail["active_stream"]["last_event_id"] == streams.stream_last_event_id(turn_id=started.turn_id)
        assert [(m["sequence"], m["role"], m["content"]) for m in detail["messages"]] == [
            (1, "user", "What can you do?\nTell me.")
        ]

    def test_rejoining_an_idle_session_is_a_204(self, auth_client):
        session = create_session(auth_client)

        assert auth_client.get(f"{BASE}/{session['id']}/stream").status_code == 204


class TestCancelAndReaper:
    def test_cancel_with_no_turn_running_says_so(self, auth_client):
        session = create_session(auth_client)

        response = auth_client.post(f"{BASE}/{session['id']}/cancel")

        assert response.json() == {"cancelled": False, "reason": "No turn is running."}

    def test_cancel_ends_a_turn_no_worker_has_taken_at_once(
        self, auth_client, user, django_capture_on_commit_callbacks
    ):
        session = create_session(auth_client)
        started = services.turn_start(user=user, session_id=session["id"], message="hi")

        with django_capture_on_commit_callbacks(execute=True):
            response = auth_client.post(f"{BASE}/{session['id']}/cancel")

        assert response.json() == {"cancelled": True, "reason": None}
        assert ChatSession.objects.get(id=session["id"]).status == SessionStatus.IDLE
        assert [event if isinstance(event, str) else event["type"] for event in stream_events(started.turn_id)] == [
            "start",
            "abort",
            "finish",
            "[DONE]",
        ]

    def test_the_reaper_ends_turns_no_worker_will_finish(
        self, auth_client, user, settings, django_capture_on_commit_callbacks
    ):
        settings.CHAT_TURN_QUEUE_TIMEOUT_SECONDS = 60
        lost, live, long_queued, fresh = (create_session(auth_client) for _ in range(4))
        settings.CHAT_MAX_CONCURRENT_TURNS = 4
        turns = {
            name: services.turn_start(user=user, session_id=session["id"], message="hi").turn_id
            for name, session in (("lost", lost), ("live", live), ("long_queued", long_queued), ("fresh", fresh))
        }
        a_minute_ago = timezone.now() - timedelta(minutes=1)
        ChatSession.objects.filter(id__in=[lost["id"], live["id"]]).update(turn_started_at=a_minute_ago)
        ChatSession.objects.filter(id=long_queued["id"]).update(turn_queued_at=timezone.now() - timedelta(minutes=2))
        streams.heartbeat(turn_id=turns["live"], worker="alive@host")

        with django_capture_on_commit_callbacks(execute=True):
            assert services.turn_reap_lost() == {"reaped": 2}

        statuses = dict(ChatSession.objects.values_list("id", "status"))
        assert statuses[uuid.UUID(lost["id"])] == statuses[uuid.UUID(long_queued["id"])] == SessionStatus.IDLE
        assert statuses[uuid.UUID(live["id"])] == statuses[uuid.UUID(fresh["id"])] == SessionStatus.RUNNING
        events = stream_events(turns["lost"])
        assert events[-3]["type"] == "error" and "worker was lost" in events[-3]["errorText"]
        assert events[-2:] == [{"type": "finish"}, "[DONE]"]
        assert "No worker took this turn" in stream_events(turns["long_queued"])[-3]["errorText"]
        assert services.turn_reap_lost() == {"reaped": 0}  # each turn ends once


def test_history_gives_the_model_a_result_for_every_tool_call(user):
    session = ChatSession.objects.create(user=user)
    calls = [
        {"id": "call_a", "type": "function", "function": {"name": "find_agent", "arguments": "{}"}},
        {"id": "call_b", "type": "function", "function": {"name": "run_agent", "arguments": "{}"}},
    ]
    for fields in (
        {"role": "user", "content": "run it"},
        {"role": "assistant", "content": "", "tool_calls": calls},
        {"role": "tool", "content": '{"agents": []}', "tool_call_id": "call_a"},
        {"role": "user", "content": "well?"},
    ):
        services.message_append(session_id=session.id, turn_id=None, **fields)

    assert history_messages(session=session) == [
        {"role": "user", "content": "run it"},
        {"role": "assistant", "content": None, "tool_calls": calls},
        {"role": "tool", "tool_call_id": "call_a", "content": '{"agents": []}'},
        {"role": "tool", "tool_call_id": "call_b", "content": '{"error": "The call did not complete."}'},
        {"role": "user", "content": "well?"},
    ]


def test_a_follower_of_a_turn_ended_without_its_end_gives_up_after_two_silences(settings):
    settings.CHAT_SSE_HEARTBEAT_SECONDS = 0.2
    turn_id = uuid.uuid4()
    streams.event_append(session_id=uuid.uuid4(), turn_id=turn_id, event={"type": "start", "messageId": str(turn_id)})

    async def over() -> bool:
        return False

    async def follow() -> list[bytes]:
        return [chunk async for chunk in streams.relay(turn_id=turn_id, is_running=over)]

    chunks = asyncio.run(asyncio.wait_for(follow(), 5))

    assert chunks[0].startswith(b"id: ") and b'"type":"start"' in chunks[0]
    assert chunks[1:] == [streams.HEARTBEAT_COMMENT]
