"""Live updates end to end: a real daphne, a real Celery worker, a real WebSocket client."""

import asyncio
import json
import time
from collections import defaultdict

import pytest
import websockets
from rest_framework_simplejwt.tokens import AccessToken

from tests.graphs import AGENT_OUTPUT, COUNTDOWN, create_graph, execute, import_calculator, link, node, wait_for_status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_worker")]

TERMINAL = {"COMPLETED", "FAILED", "TERMINATED"}


def ws_url(server: str, user) -> str:
    return f"ws://{server}/ws?token={AccessToken.for_user(user)}"


async def open_socket(server: str, user):
    return await websockets.connect(ws_url(server, user), origin="http://localhost", open_timeout=10)


async def call(ws, method: str, data=None) -> dict:
    await ws.send(json.dumps({"method": method, "data": data}))
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if message["method"] == method:
            return message


async def events_until_done(ws, exec_id: str, timeout: float = 30) -> list[dict]:
    """Every event of one execution, until its graph event is terminal."""
    received = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
        data = message.get("data") or {}
        if message["method"] in ("graph_execution_event", "node_execution_event") and exec_id in (
            data.get("id"),
            data.get("graph_exec_id"),
        ):
            received.append(message)
            if message["method"] == "graph_execution_event" and data["status"] in TERMINAL:
                return received
    raise TimeoutError(f"no terminal event for {exec_id}; got {received}")


def statuses_by_node(received: list[dict]) -> dict[str, list[str]]:
    """Each node's statuses in the order received, repeats folded."""
    seen: dict[str, list[str]] = defaultdict(list)
    for message in received:
        if message["method"] == "node_execution_event":
            data = message["data"]
            if not seen[data["node_id"]] or seen[data["node_id"]][-1] != data["status"]:
                seen[data["node_id"]].append(data["status"])
    return dict(seen)


def test_a_graph_subscriber_sees_every_event_of_a_run_in_order(live_server_url, user, auth_client):
    graph = import_calculator(auth_client)
    nodes = {n["block_id"]: n["id"] for n in graph["nodes"]}

    async def scenario():
        ws = await open_socket(live_server_url, user)
        reply = await call(ws, "subscribe_graph_executions", {"graph_id": graph["id"]})
        execution = await asyncio.to_thread(execute, auth_client, graph, {"Input": 8})
        received = await events_until_done(ws, execution["id"])
        await ws.close()
        return reply, execution, received

    reply, execution, received = asyncio.run(scenario())

    assert reply["success"] is True and reply["channel"] == f"{user.id}|graph#{graph['id']}|executions"
    seqs = [m["data"]["seq"] for m in received]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    graph_statuses = [m["data"]["status"] for m in received if m["method"] == "graph_execution_event"]
    assert graph_statuses == ["QUEUED", "RUNNING", "COMPLETED"]
    assert received[-1]["data"]["outputs"] == {"Output": [42.0]}
    by_node = statuses_by_node(received)
    assert by_node == {node_id: ["QUEUED", "RUNNING", "COMPLETED"] for node_id in nodes.values()}
    order = [
        m["data"]["node_id"]
        for m in received
        if m["method"] == "node_execution_event" and m["data"]["status"] == "COMPLETED"
    ]
    input_node, calculator, output = (
        nodes["c0a8e994-ebf1-4a9c-a4d8-89d09c86741b"],
        nodes["b1ab9b19-67a6-406d-abf5-2dba76d00c79"],
        nodes["363ae599-353e-4804-937e-b2ee3cef3da4"],
    )
    assert order.index(input_node) < order.index(calculator) < order.index(output)
    calc_done = next(
        m["data"]
        for m in received
        if m["method"] == "node_execution_event"
        and m["data"]["node_id"] == calculator
        and m["data"]["status"] == "COMPLETED"
    )
    assert calc_done["input_data"]["a"] == 8 and calc_done["output_data"] == {"result": [42.0]}
    assert all(m["channel"] == reply["channel"] for m in received)


def test_a_late_subscriber_gets_the_current_state_then_the_rest(live_server_url, user, auth_client):
    graph = create_graph(
        auth_client,
        [
            node("wait", COUNTDOWN, seconds=2, input_message="done"),
            node("out", AGENT_OUTPUT, name="out"),
        ],
        [link("wait", "output_message", "out", "value")],
    )
    execution = execute(auth_client, graph)
    wait_for_status(auth_client, execution["id"], statuses={"RUNNING"})

    async def scenario():
        ws = await open_socket(live_server_url, user)
        reply = await call(ws, "subscribe_graph_execution", {"graph_exec_id": execution["id"]})
        received = await events_until_done(ws, execution["id"])
        await ws.close()
        return reply, received

    reply, received = asyncio.run(scenario())

    assert reply["success"] is True
    first = received[0]
    assert first["method"] == "graph_execution_event" and first["data"]["status"] == "RUNNING"
    assert statuses_by_node(received)["wait"][0] == "RUNNING"  # from the snapshot
    assert statuses_by_node(received)["out"] == ["QUEUED", "RUNNING", "COMPLETED"]
    assert received[-1]["data"]["outputs"] == {"out": ["done"]}


def test_reconnecting_mid_run_and_resubscribing_misses_nothing_of_the_end(live_server_url, user, auth_client):
    graph = create_graph(
        auth_client,
        [
            node("wait", COUNTDOWN, seconds=2, input_message="done"),
            node("out", AGENT_OUTPUT, name="out"),
        ],
        [link("wait", "output_message", "out", "value")],
    )

    async def scenario():
        ws = await open_socket(live_server_url, user)
        await call(ws, "subscribe_graph_executions", {"graph_id": graph["id"]})
        execution = await asyncio.to_thread(execute, auth_client, graph)
        await ws.close()  # drop mid-run
        await asyncio.sleep(0.5)
        ws = await open_socket(live_server_url, user)
        reply = await call(ws, "subscribe_graph_execution", {"graph_exec_id": execution["id"]})
        received = await events_until_done(ws, execution["id"])
        await ws.close()
        return reply, received

    reply, received = asyncio.run(scenario())

    assert reply["success"] is True
    assert received[-1]["data"]["status"] == "COMPLETED"
    assert statuses_by_node(received)["out"][-1] == "COMPLETED"
    seqs = [m["data"]["seq"] for m in received]
    assert seqs == sorted(seqs)


def test_another_user_never_receives_my_events(live_server_url, user, other_user, auth_client):
    graph = import_calculator(auth_client)

    async def scenario():
        mine = await open_socket(live_server_url, user)
        theirs = await open_socket(live_server_url, other_user)
        await call(mine, "subscribe_graph_executions", {"graph_id": graph["id"]})
        refused = await call(theirs, "subscribe_graph_executions", {"graph_id": graph["id"]})
        execution = await asyncio.to_thread(execute, auth_client, graph, {"Input": 8})
        refused_exec = await call(theirs, "subscribe_graph_execution", {"graph_exec_id": execution["id"]})
        await events_until_done(mine, execution["id"])
        leaked = []
        try:
            while True:
                leaked.append(json.loads(await asyncio.wait_for(theirs.recv(), 1.0)))
        except TimeoutError:
            pass
        await mine.close()
        await theirs.close()
        return refused, refused_exec, leaked

    refused, refused_exec, leaked = asyncio.run(scenario())

    assert refused["success"] is False and refused_exec["success"] is False
    assert leaked == []


def test_fifty_subscribers_each_receive_every_event(live_server_url, user, auth_client):
    graph = import_calculator(auth_client)

    async def scenario():
        sockets = await asyncio.gather(*(open_socket(live_server_url, user) for _ in range(50)))
        await asyncio.gather(*(call(ws, "subscribe_graph_executions", {"graph_id": graph["id"]}) for ws in sockets))
        execution = await asyncio.to_thread(execute, auth_client, graph, {"Input": 8})
        streams = await asyncio.gather(*(events_until_done(ws, execution["id"]) for ws in sockets))
        await asyncio.gather(*(ws.close() for ws in sockets))
        return streams

    streams = asyncio.run(scenario())

    reference = [m["data"]["seq"] for m in streams[0]]
    assert len(reference) >= 9  # 3 graph events and at least 2 per node
    assert [[m["data"]["seq"] for m in stream] for stream in streams] == [reference] * 50
    assert all(stream[-1]["data"]["outputs"] == {"Output": [42.0]} for stream in streams)


def test_a_real_client_without_a_token_is_closed_with_4001(live_server_url):
    async def scenario():
        ws = await websockets.connect(f"ws://{live_server_url}/ws", origin="http://localhost", open_timeout=10)
        try:
            await asyncio.wait_for(ws.recv(), 5)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code, closed.rcvd.reason
        return None

    assert asyncio.run(scenario())[0] == 4001
