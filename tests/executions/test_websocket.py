"""The /ws consumer through the real ASGI application (origin check, auth stack), in process,
with the real Redis channel layer."""

import asyncio
from datetime import timedelta

import pytest
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from agents.models import GraphVersion
from autogpt_platform.asgi import application
from executions import events
from executions.consumers import CLOSE_TOKEN_EXPIRED, CLOSE_TOKEN_INVALID, CLOSE_TOKEN_MISSING
from executions.models import GraphExecution
from tests.clients import client_for
from tests.graphs import import_calculator

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://localhost")]


def communicator(path: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, path, headers=ORIGIN)


async def connected(token) -> WebsocketCommunicator:
    ws = communicator(f"/ws?token={token}")
    ok, _ = await ws.connect()
    assert ok
    return ws


async def close_code_for(path: str) -> int:
    ws = communicator(path)
    ok, _ = await ws.connect()
    assert ok  # accepted, then closed with a code that says why
    message = await ws.receive_output(timeout=5)
    await ws.disconnect()
    assert message["type"] == "websocket.close"
    return message["code"]


def test_a_connection_without_a_token_is_closed_as_missing():
    assert asyncio.run(close_code_for("/ws")) == CLOSE_TOKEN_MISSING == 4001


def test_a_bad_token_is_closed_as_invalid():
    assert asyncio.run(close_code_for("/ws?token=not-a-jwt")) == CLOSE_TOKEN_INVALID == 4002


def test_an_expired_token_is_closed_as_expired(user):
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))

    assert asyncio.run(close_code_for(f"/ws?token={token}")) == CLOSE_TOKEN_EXPIRED == 4003


def test_a_foreign_origin_is_refused(user):
    async def scenario():
        ws = WebsocketCommunicator(
            application, f"/ws?token={AccessToken.for_user(user)}", headers=[(b"origin", b"http://evil.example")]
        )
        ok, _ = await ws.connect()
        await ws.disconnect()
        return ok

    assert asyncio.run(scenario()) is False


def test_heartbeat_is_answered_with_pong(user):
    async def scenario():
        ws = await connected(AccessToken.for_user(user))
        await ws.send_json_to({"method": "heartbeat", "data": "ping"})
        reply = await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        return reply

    assert asyncio.run(scenario()) == {"method": "heartbeat", "data": "pong", "success": True}


def test_bad_messages_are_answered_and_never_close_the_connection(user):
    async def scenario():
        ws = await connected(AccessToken.for_user(user))
        replies = []
        for raw in [
            "not json",
            "[1, 2]",
            '{"data": {}}',
            '{"method": "fly"}',
            '{"method": "subscribe_graph_execution", "data": {"graph_exec_id": "nope"}}',
            '{"method": "unsubscribe", "data": {"channel": "x"}}',
        ]:
            await ws.send_to(text_data=raw)
            replies.append(await ws.receive_json_from(timeout=5))
        await ws.send_json_to({"method": "heartbeat"})
        replies.append(await ws.receive_json_from(timeout=5))
        await ws.disconnect()
        return replies

    replies = asyncio.run(scenario())

    assert [r["success"] for r in replies[:-1]] == [False] * 6
    assert all(r["error"] for r in replies[:-1])
    assert replies[3]["error"] == "Unknown method 'fly'."
    assert replies[-1]["data"] == "pong"  # still connected


def test_another_users_execution_is_indistinguishable_from_an_unknown_one(user, other_user, auth_client):
    graph = import_calculator(client_for(other_user))
    others = GraphExecution.objects.create(
        user=other_user, graph_id=graph["id"], graph_version_id=_version_pk(graph["id"]), inputs={"Input": 1}
    )

    async def scenario():
        ws = await connected(AccessToken.for_user(user))
        answers = []
        for exec_id in [others.id, "00000000-0000-4000-8000-000000000000"]:
            await ws.send_json_to({"method": "subscribe_graph_execution", "data": {"graph_exec_id": str(exec_id)}})
            answers.append(await ws.receive_json_from(timeout=5))
        await ws.send_json_to({"method": "subscribe_graph_executions", "data": {"graph_id": graph["id"]}})
        answers.append(await ws.receive_json_from(timeout=5))
        # Even an event pushed onto that execution's group does not reach this user.
        events.publish([events.graph_event(others)])
        nothing = await ws.receive_nothing(timeout=0.5)
        await ws.disconnect()
        return answers, nothing

    answers, nothing = asyncio.run(scenario())

    assert (
        answers[0]
        == answers[1]
        == {
            "method": "subscribe_graph_execution",
            "data": None,
            "success": False,
            "channel": None,
            "error": "Execution not found.",
        }
    )
    assert answers[2]["success"] is False and answers[2]["error"] == "Graph not found."
    assert nothing


def test_subscribing_sends_the_current_state_first(user, auth_client):
    graph = import_calculator(auth_client)
    queued = GraphExecution.objects.create(
        user=user, graph_id=graph["id"], graph_version_id=_version_pk(graph["id"]), inputs={"Input": 8}
    )

    async def scenario():
        ws = await connected(AccessToken.for_user(user))
        await ws.send_json_to({"method": "subscribe_graph_execution", "data": {"graph_exec_id": str(queued.id)}})
        reply = await ws.receive_json_from(timeout=5)
        state = await ws.receive_json_from(timeout=5)
        await ws.send_json_to({"method": "unsubscribe", "data": {"channel": reply["channel"]}})
        unsubscribed = await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        return reply, state, unsubscribed

    reply, state, unsubscribed = asyncio.run(scenario())

    assert reply == {
        "method": "subscribe_graph_execution",
        "data": None,
        "success": True,
        "channel": f"{user.id}|graph_exec#{queued.id}",
        "error": None,
    }
    assert state["method"] == "graph_execution_event"
    assert state["data"]["id"] == str(queued.id) and state["data"]["status"] == "QUEUED"
    assert unsubscribed["success"] is True


def _version_pk(graph_id) -> int:
    return GraphVersion.objects.get(graph_id=graph_id).pk


def test_the_session_cookie_authenticates_too(user, client):
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()

    async def scenario():
        ws = WebsocketCommunicator(application, "/ws", headers=[*ORIGIN, (b"cookie", cookie)])
        ok, _ = await ws.connect()
        await ws.send_json_to({"method": "heartbeat"})
        reply = await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        return ok, reply

    ok, reply = asyncio.run(scenario())

    assert ok and reply["data"] == "pong"
