"""The /ws WebSocket: live execution updates and the user's notifications.

Messages follow AutoGPT's shape `{"method", "data", "success", "channel", "error"}`. A client
subscribes to one execution (`subscribe_graph_execution {graph_exec_id}`) or to every execution
of a graph (`subscribe_graph_executions {graph_id}`); it gets the current state first, then every
change. A bad message is answered with success false, never by closing the connection.
"""

import json
import logging
import uuid
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from rest_framework.exceptions import AuthenticationFailed

from accounts.authentication import validated_access_token
from accounts.models import User
from agents.selectors import graph_exists
from autogpt_platform import realtime
from autogpt_platform.json_limits import JsonTooDeepError, json_loads_limited

from . import events, selectors
from .models import TERMINAL_STATUSES

logger = logging.getLogger(__name__)

# Close codes: why a connection was refused.
CLOSE_TOKEN_MISSING = 4001
CLOSE_TOKEN_INVALID = 4002
CLOSE_TOKEN_EXPIRED = 4003


def execution_channel(user_id, graph_exec_id) -> str:
    return f"{user_id}|graph_exec#{graph_exec_id}"


def graph_channel(user_id, graph_id) -> str:
    return f"{user_id}|graph#{graph_id}|executions"


@database_sync_to_async
def _user_from_token(raw_token: str) -> User:
    token = validated_access_token(raw_token)
    user = User.objects.filter(id=token.get("user_id"), is_active=True).first()
    if user is None:
        raise AuthenticationFailed("The token's user does not exist or is inactive.", code="token_invalid")
    return user


async def authenticate(scope) -> tuple[User | None, int, str]:
    """The user of a connection, from ?token=<JWT access token> or the session cookie."""
    raw_token = parse_qs(scope.get("query_string", b"").decode()).get("token", [None])[0]
    if raw_token:
        try:
            return await _user_from_token(raw_token), 0, ""
        except AuthenticationFailed as exc:
            expired = exc.get_codes() == "token_expired"
            return None, CLOSE_TOKEN_EXPIRED if expired else CLOSE_TOKEN_INVALID, str(exc.detail)
    session_user = scope.get("user")
    if session_user is not None and session_user.is_authenticated:
        return session_user, 0, ""
    return None, CLOSE_TOKEN_MISSING, "Authentication required: pass ?token=<access token> or a session."


class ExecutionConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.user = None
        self.groups_joined: dict[str, str] = {}  # client channel -> channel-layer group
        self.last_seq: dict[str, int] = {}  # execution id -> last event seq sent
        await self.accept()
        user, code, reason = await authenticate(self.scope)
        if user is None:
            await self.close(code=code, reason=reason)
            return
        self.user = user
        await self.channel_layer.group_add(realtime.user_group(user.id), self.channel_name)

    async def disconnect(self, code):
        if self.user is None:
            return
        for group in {*self.groups_joined.values(), realtime.user_group(self.user.id)}:
            await self.channel_layer.group_discard(group, self.channel_name)

    # --- client -> server -----------------------------------------------------------------------
    async def receive(self, text_data=None, bytes_data=None):
        if self.user is None:
            return
        try:
            message = json_loads_limited(text_data or "")
        except JsonTooDeepError as exc:
            return await self.reply(None, error=f"Messages may be nested at most {exc.max_depth} levels deep.")
        except (json.JSONDecodeError, TypeError):
            return await self.reply(None, error="Messages are JSON objects with a 'method'.")
        if not isinstance(message, dict) or not isinstance(message.get("method"), str):
            return await self.reply(None, error="Messages are JSON objects with a 'method'.")
        method, data = message["method"], message.get("data")
        handler = {
            "subscribe_graph_execution": self.subscribe_graph_execution,
            "subscribe_graph_executions": self.subscribe_graph_executions,
            "unsubscribe": self.unsubscribe,
            "heartbeat": self.heartbeat,
        }.get(method)
        if handler is None:
            return await self.reply(method, error=f"Unknown method '{method}'.")
        await handler(method, data)

    async def reply(self, method, *, success: bool = False, channel=None, data=None, error=None) -> None:
        await self.send_json(
            {
                "method": method,
                "data": data,
                "success": success if error is None else False,
                "channel": channel,
                "error": error,
            }
        )

    async def heartbeat(self, method, data):
        await self.send_json({"method": "heartbeat", "data": "pong", "success": True})

    async def subscribe_graph_execution(self, method, data):
        exec_id = _uuid_field(data, "graph_exec_id")
        if exec_id is None:
            return await self.reply(method, error="data.graph_exec_id must be an execution id.")
        channel = execution_channel(self.user.id, exec_id)
        group = events.execution_group(exec_id)
        if not await database_sync_to_async(selectors.execution_exists)(user=self.user, graph_exec_id=exec_id):
            return await self.reply(method, error="Execution not found.")
        # Join first, then read the state: what happens meanwhile arrives as events after it.
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined[channel] = group
        snapshot, seq = await database_sync_to_async(_execution_snapshot)(self.user, exec_id)
        await self.reply(method, success=True, channel=channel)
        self.last_seq[str(exec_id)] = max(self.last_seq.get(str(exec_id), 0), seq)
        for event in snapshot:
            await self.send_json(
                {"method": event["event_type"], "channel": channel, "data": event, "success": True, "error": None}
            )

    async def subscribe_graph_executions(self, method, data):
        graph_id = _uuid_field(data, "graph_id")
        if graph_id is None:
            return await self.reply(method, error="data.graph_id must be a graph id.")
        if not await database_sync_to_async(graph_exists)(user=self.user, graph_id=graph_id):
            return await self.reply(method, error="Graph not found.")
        channel = graph_channel(self.user.id, graph_id)
        group = events.graph_group(graph_id)
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined[channel] = group
        running = await database_sync_to_async(_running_executions)(self.user, graph_id)
        # The reply comes after the state is read: what the client starts after it arrives as events.
        await self.reply(method, success=True, channel=channel)
        for graph_exec, seq in running:
            exec_id = str(graph_exec["id"])
            if seq > self.last_seq.get(exec_id, 0):
                self.last_seq[exec_id] = seq
                await self.send_json(
                    {
                        "method": "graph_execution_event",
                        "channel": channel,
                        "data": graph_exec,
                        "success": True,
                        "error": None,
                    }
                )

    async def unsubscribe(self, method, data):
        channel = data.get("channel") if isinstance(data, dict) else None
        group = self.groups_joined.pop(channel, None) if isinstance(channel, str) else None
        if group is None:
            return await self.reply(method, error="Not subscribed to that channel.")
        if group not in self.groups_joined.values():
            await self.channel_layer.group_discard(group, self.channel_name)
        await self.reply(method, success=True, channel=channel)

    # --- server -> client (channel-layer messages) ----------------------------------------------
    async def dispatch(self, message):
        # Pushed events touch no database: skip Channels' close-old-connections thread hop, which
        # is most of the cost of fanning an event out to many sockets.
        if message["type"] in ("execution.events", "notification.event"):
            await getattr(self, message["type"].replace(".", "_"))(message)
        else:
            await super().dispatch(message)

    async def execution_events(self, message: dict[str, Any]):
        """A batch of one execution's events, in order."""
        for event in message["events"]:
            if self.user is None or event.get("user_id") != str(self.user.id):
                return  # never another user's events, whatever groups say
            exec_id = event.get("graph_exec_id") or event["id"]
            if event["seq"] <= self.last_seq.get(exec_id, 0):
                continue  # already in the snapshot, or arrived through the other group
            self.last_seq[exec_id] = event["seq"]
            channel = execution_channel(self.user.id, exec_id)
            if channel not in self.groups_joined:
                channel = graph_channel(self.user.id, event["graph_id"])
            await self.send_json(
                {"method": event["event_type"], "channel": channel, "data": event, "success": True, "error": None}
            )

    async def notification_event(self, message: dict[str, Any]):
        await self.send_json(
            {"method": "notification", "channel": None, "data": message["notification"], "success": True, "error": None}
        )


def _uuid_field(data, name: str) -> uuid.UUID | None:
    if not isinstance(data, dict):
        return None
    try:
        return uuid.UUID(str(data.get(name)))
    except ValueError:
        return None


def _execution_snapshot(user, exec_id) -> tuple[list[dict], int]:
    """The execution's current state as events, and the last event seq it reflects."""
    seq = events.current_seq(exec_id)  # read before the rows: every event up to it is committed
    graph_exec = selectors.execution_get(user=user, graph_exec_id=exec_id)
    snapshot = [events.graph_event(graph_exec)]
    snapshot += [events.node_event(graph_exec, node_exec) for node_exec in graph_exec.node_executions.all()]
    for event in snapshot:
        event["seq"] = seq
    return snapshot, seq


def _running_executions(user, graph_id) -> list[tuple[dict, int]]:
    running = []
    for graph_exec in selectors.execution_list(user=user, graph_id=graph_id).exclude(status__in=TERMINAL_STATUSES):
        seq = events.current_seq(graph_exec.id)
        event = events.graph_event(graph_exec)
        event["seq"] = seq
        running.append((event, seq))
    return running
