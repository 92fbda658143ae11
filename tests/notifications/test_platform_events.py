"""The platform's events end to end: runs of the real engine on the real worker, a schedule the
worker disables, and the live push to a WebSocket on a real daphne."""

import asyncio
import json
import time

import pytest

from agents.blocks import get_block
from executions.models import Schedule
from executions.tasks import run_schedule
from notifications import services
from notifications.models import Delivery, Notification
from tests.deliveries import wait_for_delivery
from tests.executions.test_websocket_e2e import open_socket
from tests.graphs import (
    AGENT_OUTPUT,
    GET_LIST_ITEM,
    create_calculator_parent,
    create_graph,
    execute,
    import_calculator,
    link,
    node,
    run_graph,
)
from tests.processes import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_worker")]


def notifications_of(user) -> list[Notification]:
    return list(Notification.objects.filter(user=user).order_by("created_at"))


def failing_graph(client, *, handled: bool = False) -> dict:
    out_pin = "error" if handled else "item"
    return create_graph(
        client,
        [node("get", GET_LIST_ITEM, list=[1], index=5), node("out", AGENT_OUTPUT, name="out")],
        [link("get", out_pin, "out", "value")],
        name="List picker",
    )


def test_a_completed_run_is_an_in_app_notification_and_nothing_else(auth_client, user):
    graph = import_calculator(auth_client)

    detail = run_graph(auth_client, graph, {"Input": 8})

    [notification] = notifications_of(user)
    assert (notification.type, notification.in_app) == ("agent_run_completed", True)
    data = notification.data
    assert {key: data[key] for key in ("execution_id", "graph_id", "graph_name", "graph_version", "status")} == {
        "execution_id": detail["id"],
        "graph_id": graph["id"],
        "graph_name": "Calculator agent",
        "graph_version": 1,
        "status": "COMPLETED",
    }
    assert data["trigger_kind"] == "manual" and data["duration_seconds"] >= 0
    assert notification.deliveries.count() == 0  # email is off for completed runs by default
    listed = auth_client.get("/api/v1/notifications").json()["results"]
    assert [(n["title"], n["link"]) for n in listed] == [
        ("Calculator agent (v1) finished", f"http://localhost:8006/api/v1/executions/{detail['id']}")
    ]


def test_a_failed_run_is_emailed_and_posted_to_slack_with_its_error(auth_client, user, stand_ins):
    url = stand_ins.http.slack()
    services.channel_create(user=user, kind="slack", name="ops", webhook_url=url)
    graph = failing_graph(auth_client)

    detail = run_graph(auth_client, graph)

    assert detail["status"] == "FAILED"
    [notification] = notifications_of(user)
    assert notification.type == "agent_run_failed"
    assert notification.data["error_message"] == detail["error"]["message"]
    assert (notification.data["failed_node_id"], notification.data["failed_block_id"]) == ("get", GET_LIST_ITEM)
    [email] = stand_ins.smtp.wait_for(user.email, 1)
    assert email["Subject"] == "List picker (v1) failed"
    assert f"Error: {detail['error']['message']}" in email.get_body(("plain",)).get_content()
    [seen] = stand_ins.http.wait_for(url, 1)
    assert seen.json()["blocks"][3]["elements"][0]["url"] == f"http://localhost:8006/api/v1/executions/{detail['id']}"
    for delivery in notification.deliveries.all():
        assert wait_for_delivery(delivery.id).status == "sent"


def test_a_block_that_fails_in_a_completed_run_is_its_own_notification(auth_client, user, stand_ins):
    graph = failing_graph(auth_client, handled=True)

    detail = run_graph(auth_client, graph)

    assert detail["status"] == "COMPLETED"
    completed, block_failed = notifications_of(user)
    assert (completed.type, block_failed.type) == ("agent_run_completed", "block_execution_failed")
    [get_node] = [n for n in detail["node_executions"] if n["node_id"] == "get"]
    assert block_failed.data["failed_nodes"] == [
        {
            "node_id": "get",
            "block_id": GET_LIST_ITEM,
            "block_name": get_block(GET_LIST_ITEM).name,
            "message": get_node["error"],
        }
    ]
    [email] = stand_ins.smtp.wait_for(user.email, 1)
    assert email["Subject"] == "A block failed in List picker (v1)"


def test_child_executions_of_agent_executor_notify_nobody(auth_client, user):
    child, parent = create_calculator_parent(auth_client)

    detail = run_graph(auth_client, parent)

    assert detail["status"] == "COMPLETED"
    assert [(n.type, n.data["execution_id"]) for n in notifications_of(user)] == [("agent_run_completed", detail["id"])]


def test_a_schedule_disabled_after_repeated_failures_notifies_its_owner(auth_client, user, stand_ins, settings):
    graph = import_calculator(auth_client)
    schedule = auth_client.post(
        f"/api/v1/graphs/{graph['id']}/schedules",
        {"name": "yearly", "cron": "0 0 1 1 *", "inputs": {"Input": 8}},
        format="json",
    ).json()
    Schedule.objects.filter(id=schedule["id"]).update(inputs={"Input": None})  # no longer valid for the graph

    for _ in range(settings.SCHEDULE_MAX_CONSECUTIVE_FAILURES):
        run_schedule.delay(schedule["id"])  # as beat would, on the real worker
    notification = wait_until(
        lambda: Notification.objects.filter(user=user, type="schedule_disabled").first(), timeout=20, message="it"
    )

    assert Schedule.objects.get(id=schedule["id"]).status == "disabled"
    assert notification.data["schedule_id"] == schedule["id"]
    assert (notification.data["schedule_name"], notification.data["failures"]) == ("yearly", 3)
    assert notification.data["reason"] == "Invalid inputs: inputs.Input: Input 'Input' is required."
    [email] = stand_ins.smtp.wait_for(user.email, 1)
    assert email["Subject"] == "Schedule 'yearly' was disabled"
    assert Notification.objects.filter(user=user).count() == 1


def test_a_notification_is_pushed_to_the_users_websocket(live_server_url, auth_client, user, other_user):
    graph = import_calculator(auth_client)

    async def scenario():
        mine, theirs = await open_socket(live_server_url, user), await open_socket(live_server_url, other_user)
        for ws in (mine, theirs):  # answered only once connect() has joined the user's group
            await ws.send(json.dumps({"method": "heartbeat"}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["data"] == "pong"
        execution = await asyncio.to_thread(execute, auth_client, graph, {"Input": 8})
        deadline = time.monotonic() + 30
        while True:
            message = json.loads(await asyncio.wait_for(mine.recv(), deadline - time.monotonic()))
            if message["method"] == "notification":
                break
        try:
            stray = json.loads(await asyncio.wait_for(theirs.recv(), 0.5))
        except TimeoutError:
            stray = None
        await mine.close()
        await theirs.close()
        return execution, message, stray

    execution, message, stray = asyncio.run(scenario())

    notification = Notification.objects.get(user=user)
    assert (message["success"], message["channel"], message["error"]) == (True, None, None)
    assert message["data"] == {
        "id": str(notification.id),
        "type": "agent_run_completed",
        "title": "Calculator agent (v1) finished",
        "message": "Calculator agent (v1) completed successfully.",
        "link": f"http://localhost:8006/api/v1/executions/{execution['id']}",
        "data": notification.data,
        "created_at": notification.created_at.isoformat(),
        "read_at": None,
    }
    assert stray is None
    assert not Delivery.objects.filter(user=user).exists()
