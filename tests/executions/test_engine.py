"""The engine's behaviours, each shown by a real Celery worker process on the real RabbitMQ,
PostgreSQL and Redis (not eager mode)."""

import time

import pytest

from tests.graphs import (
    AGENT_EXECUTOR,
    AGENT_INPUT,
    AGENT_OUTPUT,
    BIG_OUTPUT,
    CALCULATOR,
    COUNTDOWN,
    FILL_TEMPLATE,
    GET_LIST_ITEM,
    STEP_THROUGH,
    STORE_VALUE,
    create_calculator_parent,
    create_graph,
    execute,
    import_calculator,
    link,
    node,
    node_runs,
    run_graph,
    wait_for_status,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_worker")]


def test_the_imported_calculator_agent_outputs_42_for_8(auth_client):
    graph = import_calculator(auth_client)

    detail = run_graph(auth_client, graph, {"Input": 8})

    assert detail["status"] == "COMPLETED", detail
    assert detail["outputs"] == {"Output": [42.0]}
    assert [n["status"] for n in detail["node_executions"]] == ["COMPLETED"] * 3
    assert detail["totals"]["by_status"]["COMPLETED"] == 3


def test_two_independent_branches_run_in_parallel(auth_client):
    graph = create_graph(
        auth_client,
        [
            node("wait-a", COUNTDOWN, seconds=1, input_message="a"),
            node("wait-b", COUNTDOWN, seconds=1, input_message="b"),
            node("out-a", AGENT_OUTPUT, name="a"),
            node("out-b", AGENT_OUTPUT, name="b"),
        ],
        [link("wait-a", "output_message", "out-a", "value"), link("wait-b", "output_message", "out-b", "value")],
    )

    detail = run_graph(auth_client, graph)

    assert detail["status"] == "COMPLETED", detail
    assert detail["outputs"] == {"a": ["a"], "b": ["b"]}
    waits = node_runs(detail, "wait-a") + node_runs(detail, "wait-b")
    # Both waits overlap: each started before the other ended.
    assert waits[0]["started_at"] < waits[1]["ended_at"] and waits[1]["started_at"] < waits[0]["ended_at"]
    assert detail["duration_seconds"] < 1.8


def test_step_through_items_runs_downstream_once_per_item_with_a_static_prefix(auth_client):
    graph = create_graph(
        auth_client,
        [
            node("items", STEP_THROUGH, items=["a", "b", "c"]),
            node("prefix", STORE_VALUE, input="item:"),
            node("fmt", FILL_TEMPLATE, format="{{ p }}{{ i }}"),
            node("out", AGENT_OUTPUT, name="lines"),
        ],
        [
            link("items", "item", "fmt", "values_#_i"),
            link("prefix", "output", "fmt", "values_#_p"),  # Store Value's links are static
            link("fmt", "output", "out", "value"),
        ],
    )

    detail = run_graph(auth_client, graph)

    assert detail["status"] == "COMPLETED", detail
    assert sorted(detail["outputs"]["lines"]) == ["item:a", "item:b", "item:c"]  # the three runs are concurrent
    assert len(node_runs(detail, "fmt")) == 3
    assert len(node_runs(detail, "prefix")) == 1


def test_a_static_value_arriving_late_feeds_the_runs_that_were_waiting(auth_client):
    graph = create_graph(
        auth_client,
        [
            node("items", STEP_THROUGH, items=[1, 2, 3]),
            node("slow", COUNTDOWN, seconds=1, input_message=10),
            node("add", CALCULATOR, operation="Add"),
            node("out", AGENT_OUTPUT, name="sums"),
        ],
        [
            link("items", "item", "add", "a"),
            link("slow", "output_message", "add", "b", is_static=True),
            link("add", "result", "out", "value"),
        ],
    )

    detail = run_graph(auth_client, graph)

    assert detail["status"] == "COMPLETED", detail
    assert sorted(detail["outputs"]["sums"]) == [11.0, 12.0, 13.0]


def test_dynamic_pins_address_dicts_and_lists_on_both_ends(auth_client):
    graph = create_graph(
        auth_client,
        [
            node("in", AGENT_INPUT, name="person"),
            node("list", GET_LIST_ITEM, index=1),
            node("fmt", FILL_TEMPLATE, format="{{ name }} likes {{ thing }}"),
            node("out", AGENT_OUTPUT, name="text"),
        ],
        [
            link("in", "result_#_name", "fmt", "values_#_name"),
            link("in", "result_#_likes", "list", "list"),
            link("list", "item", "fmt", "values_#_thing"),
            link("fmt", "output", "out", "value"),
        ],
    )

    detail = run_graph(auth_client, graph, {"person": {"name": "Ada", "likes": ["tea", "maths"]}})

    assert detail["status"] == "COMPLETED", detail
    assert detail["outputs"] == {"text": ["Ada likes maths"]}


def test_list_pins_build_a_list_from_links(auth_client):
    create_list = "a912d5c7-6e00-4542-b2a9-8034136930e4"
    graph = create_graph(
        auth_client,
        [
            node("one", STORE_VALUE, input="first"),
            node("two", STORE_VALUE, input="second"),
            node("list", create_list),
            node("out", AGENT_OUTPUT, name="list"),
        ],
        [
            link("one", "output", "list", "values_$_0"),
            link("two", "output", "list", "values_$_1"),
            link("list", "list", "out", "value"),
        ],
    )

    detail = run_graph(auth_client, graph)

    assert detail["outputs"] == {"list": [["first", "second"]]}, detail


def test_an_error_with_the_error_pin_linked_continues_along_that_link(auth_client):
    graph = create_graph(
        auth_client,
        [
            node("get", GET_LIST_ITEM, list=[1], index=5),
            node("out", AGENT_OUTPUT, name="problem"),
        ],
        [link("get", "error", "out", "value")],
    )

    detail = run_graph(auth_client, graph)

    assert detail["status"] == "COMPLETED", detail
    assert "out of range" in detail["outputs"]["problem"][0].lower()
    assert node_runs(detail, "get")[0]["status"] == "FAILED"


def test_an_unhandled_error_fails_the_execution_naming_node_and_message(auth_client):
    graph = create_graph(
        auth_client,
        [
            node("get", GET_LIST_ITEM, list=[1], index=5),
            node("out", AGENT_OUTPUT, name="item"),
        ],
        [link("get", "item", "out", "value")],
    )

    detail = run_graph(auth_client, graph)

    assert detail["status"] == "FAILED"
    assert detail["error"]["node_id"] == "get"
    assert detail["error"]["block_id"] == GET_LIST_ITEM
    assert "out of range" in detail["error"]["message"].lower()


def test_an_output_over_the_limit_fails_its_node(auth_client, settings):
    graph = create_graph(auth_client, [node("big", BIG_OUTPUT, size=6 * 1024 * 1024)], [])

    detail = run_graph(auth_client, graph)

    assert detail["status"] == "FAILED"
    assert "over the limit" in detail["error"]["message"]
    assert node_runs(detail, "big")[0]["output_data"] == {"error": [detail["error"]["message"]]}


def test_stopping_a_running_execution_terminates_it_within_two_seconds(auth_client):
    graph = create_graph(auth_client, [node("wait", COUNTDOWN, seconds=30)], [])
    execution = execute(auth_client, graph)
    wait_for_status(auth_client, execution["id"], statuses={"RUNNING"}, timeout=15)
    time.sleep(0.3)

    started = time.monotonic()
    response = auth_client.post(f"/api/v1/executions/{execution['id']}/stop")
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert response.json()["status"] == "TERMINATED"
    assert elapsed < 2.0
    assert node_runs(response.json(), "wait")[0]["status"] == "TERMINATED"


def test_stopping_a_parent_stops_its_child(auth_client):
    child = create_graph(
        auth_client,
        [
            node("in", AGENT_INPUT, name="seconds"),
            node("wait", COUNTDOWN),
            node("out", AGENT_OUTPUT, name="done"),
        ],
        [link("in", "result", "wait", "seconds"), link("wait", "output_message", "out", "value")],
        name="child",
    )
    parent = create_graph(
        auth_client,
        [
            node(
                "run-child",
                AGENT_EXECUTOR,
                graph_id=child["id"],
                graph_version=child["version"],
                inputs={"seconds": 30},
            ),
            node("out", AGENT_OUTPUT, name="child_done"),
        ],
        [link("run-child", "done", "out", "value")],
        name="parent",
    )
    execution = execute(auth_client, parent)
    wait_for_status(auth_client, execution["id"], statuses={"RUNNING"}, timeout=15)
    child_exec = _wait_for_child(auth_client, execution["id"])

    response = auth_client.post(f"/api/v1/executions/{execution['id']}/stop")

    assert response.json()["status"] == "TERMINATED"
    assert wait_for_status(auth_client, child_exec["id"], timeout=5)["status"] == "TERMINATED"


def test_agent_executor_yields_the_child_outputs(auth_client):
    child, parent = create_calculator_parent(auth_client)

    detail = run_graph(auth_client, parent)

    assert detail["status"] == "COMPLETED", detail
    assert detail["outputs"] == {"answer": [42.0]}
    children = auth_client.get("/api/v1/executions").json()["results"]
    assert [c["parent_id"] for c in children if c["graph_id"] == child["id"]] == [detail["id"]]


def _wait_for_child(client, parent_id: str, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for execution in client.get("/api/v1/executions").json()["results"]:
            if execution["parent_id"] == parent_id and execution["status"] == "RUNNING":
                return execution
        time.sleep(0.05)
    raise TimeoutError("no running child execution")
