"""/ws for clients that are not browsers (no Origin header: Python's websockets, command-line
clients, SDKs) and messages that would crash a naive decoder; in process and through a real daphne."""

import asyncio
import json

import pytest
import websockets
from channels.testing import WebsocketCommunicator
from django.conf import settings
from rest_framework_simplejwt.tokens import AccessToken

from autogpt_platform.asgi import application
from executions.consumers import CLOSE_TOKEN_MISSING

pytestmark = pytest.mark.django_db(transaction=True)

HEARTBEAT = {"method": "heartbeat", "data": "ping"}
PONG = {"method": "heartbeat", "data": "pong", "success": True}


def deeply_nested(depth: int) -> str:
    return '{"method": "heartbeat", "data": ' + "[" * depth + "]" * depth + "}"


class TestInProcess:
    def test_a_client_without_origin_is_served(self, user):
        async def scenario():
            ws = WebsocketCommunicator(application, f"/ws?token={AccessToken.for_user(user)}")
            connected, _ = await ws.connect()
            await ws.send_json_to(HEARTBEAT)
            reply = await ws.receive_json_from(timeout=5)
            await ws.disconnect()
            return connected, reply

        assert asyncio.run(scenario()) == (True, PONG)

    def test_without_origin_a_token_is_still_required(self):
        async def scenario():
            ws = WebsocketCommunicator(application, "/ws")
            connected, _ = await ws.connect()
            message = await ws.receive_output(timeout=5)
            await ws.disconnect()
            return connected, message

        connected, message = asyncio.run(scenario())

        assert connected and message == {
            "type": "websocket.close",
            "code": CLOSE_TOKEN_MISSING,
            "reason": message["reason"],
        }

    @pytest.mark.parametrize("origin", [b"http://evil.example", b"null", b"http://localhost.evil.example"])
    def test_a_foreign_origin_is_still_refused(self, user, origin):
        async def scenario():
            ws = WebsocketCommunicator(
                application, f"/ws?token={AccessToken.for_user(user)}", headers=[(b"origin", origin)]
            )
            connected, _ = await ws.connect()
            await ws.disconnect()
            return connected

        assert asyncio.run(scenario()) is False

    @pytest.mark.parametrize("depth", [100_000, settings.JSON_MAX_DEPTH])
    def test_a_deeply_nested_message_is_answered_and_the_socket_stays_open(self, user, depth):
        async def scenario():
            # With a browser's Origin: this is about the message, not the handshake.
            ws = WebsocketCommunicator(
                application, f"/ws?token={AccessToken.for_user(user)}", headers=[(b"origin", b"http://localhost")]
            )
            await ws.connect()
            await ws.send_to(text_data=deeply_nested(depth))
            reply = await ws.receive_json_from(timeout=5)
            await ws.send_json_to(HEARTBEAT)
            after = await ws.receive_json_from(timeout=5)
            await ws.disconnect()
            return reply, after

        reply, after = asyncio.run(scenario())

        assert reply["success"] is False
        assert reply["error"] == f"Messages may be nested at most {settings.JSON_MAX_DEPTH} levels deep."
        assert after == PONG

    def test_a_message_at_the_limit_is_served(self, user):
        async def scenario():
            ws = WebsocketCommunicator(application, f"/ws?token={AccessToken.for_user(user)}")
            await ws.connect()
            # The message object is one level, its data the rest.
            await ws.send_to(text_data=deeply_nested(settings.JSON_MAX_DEPTH - 1))
            reply = await ws.receive_json_from(timeout=5)
            await ws.disconnect()
            return reply

        assert asyncio.run(scenario()) == PONG


class TestThroughDaphne:
    def test_pythons_websockets_without_origin_connects(self, live_server_url, user):
        async def scenario():
            # websockets sends no Origin unless told to.
            async with websockets.connect(
                f"ws://{live_server_url}/ws?token={AccessToken.for_user(user)}", open_timeout=10
            ) as ws:
                await ws.send(json.dumps(HEARTBEAT))
                return json.loads(await asyncio.wait_for(ws.recv(), 10))

        assert asyncio.run(scenario()) == PONG

    def test_a_foreign_origin_is_a_403(self, live_server_url, user):
        async def scenario():
            await websockets.connect(
                f"ws://{live_server_url}/ws?token={AccessToken.for_user(user)}",
                origin="http://evil.example",
                open_timeout=10,
            )

        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            asyncio.run(scenario())

        assert refused.value.response.status_code == 403

    def test_a_message_nested_100000_deep_is_answered_and_the_socket_stays_open(self, live_server_url, user):
        async def scenario():
            # With a browser's Origin: today's bug was a close with 1011 (server error) here.
            async with websockets.connect(
                f"ws://{live_server_url}/ws?token={AccessToken.for_user(user)}",
                origin="http://localhost",
                open_timeout=10,
            ) as ws:
                await ws.send(deeply_nested(100_000))
                reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
                await ws.send(json.dumps(HEARTBEAT))
                after = json.loads(await asyncio.wait_for(ws.recv(), 10))
                return reply, after

        reply, after = asyncio.run(scenario())

        assert reply["success"] is False and "nested" in reply["error"]
        assert after == PONG
