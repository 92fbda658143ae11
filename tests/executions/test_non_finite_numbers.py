"""Numbers JSON cannot hold. PostgreSQL's json refuses Infinity and NaN, and a request body's
1e400 parses as infinity: such inputs are a 400 naming the field (a bare Infinity or NaN is not
JSON at all: a 400 parse_error). A block's infinite or NaN result (the Calculator's, as in AutoGPT)
is stored and answered as the text "Infinity", "-Infinity" or "NaN"."""

import json

import pytest

from executions.models import GraphExecution, NodeExecution, Schedule
from tests.accounts.test_auth_api import assert_error
from tests.graphs import (
    AGENT_OUTPUT,
    CALCULATOR,
    UNSTORABLE_OUTPUT,
    create_graph,
    import_calculator,
    link,
    node,
    run_graph,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_worker")]

DATABASE_WORDS = ("JSON_VALID", "CHECK constraint", "invalid input syntax", "DETAIL", "psycopg", "Token")


NUMBER = "__number__"


def post_raw(client, url: str, body: dict, number: str = "1e400"):
    """Posts body with `number` written where NUMBER is: json.dumps would never write 1e400."""
    text = json.dumps(body).replace(f'"{NUMBER}"', number)
    return client.post(url, data=text, content_type="application/json")


def calculator_graph(client, **calc_inputs) -> dict:
    return create_graph(
        client,
        [node("calc", CALCULATOR, **calc_inputs), node("out", AGENT_OUTPUT, name="result")],
        [link("calc", "result", "out", "value")],
    )


def assert_no_database_internals(text: str) -> None:
    for word in DATABASE_WORDS:
        assert word not in text, text


class TestResultsInAGraph:
    def test_divide_by_zero_completes_with_infinity_as_autogpt_and_no_node_is_left_running(self, auth_client):
        graph = calculator_graph(auth_client, operation="Divide", a=1, b=0)

        detail = run_graph(auth_client, graph)

        assert detail["status"] == "COMPLETED", (detail["error"], detail["node_executions"])
        assert detail["outputs"] == {"result": ["Infinity"]}
        assert [n["status"] for n in detail["node_executions"]] == ["COMPLETED", "COMPLETED"]
        calc = NodeExecution.objects.get(node_id="calc")
        assert calc.output_data == {"result": ["Infinity"]}

    def test_an_overflowing_power_gives_nan_as_autogpt(self, auth_client):
        graph = calculator_graph(auth_client, operation="Power", a=10, b=400)

        detail = run_graph(auth_client, graph)

        assert detail["status"] == "COMPLETED", (detail["error"], detail["node_executions"])
        assert detail["outputs"] == {"result": ["NaN"]}

    def test_infinity_flows_on_into_a_number_pin(self, auth_client):
        graph = create_graph(
            auth_client,
            [
                node("div", CALCULATOR, operation="Divide", a=1, b=0),
                node("neg", CALCULATOR, operation="Multiply", b=-1),
                node("out", AGENT_OUTPUT, name="result"),
            ],
            [link("div", "result", "neg", "a"), link("neg", "result", "out", "value")],
        )

        detail = run_graph(auth_client, graph)

        assert detail["status"] == "COMPLETED", (detail["error"], detail["node_executions"])
        assert detail["outputs"] == {"result": ["-Infinity"]}


class TestAValueTheDatabaseRefuses:
    def test_fails_the_execution_and_its_nodes_without_showing_database_internals(self, auth_client):
        graph = create_graph(
            auth_client,
            [node("bad", UNSTORABLE_OUTPUT), node("out", AGENT_OUTPUT, name="result")],
            [link("bad", "output", "out", "value")],
        )

        detail = run_graph(auth_client, graph)

        assert detail["status"] == "FAILED", detail
        assert detail["error"]["message"] == "The engine failed: the database refused to store its state."
        assert_no_database_internals(str(detail))
        assert [n["status"] for n in detail["node_executions"]] == ["FAILED"]
        assert detail["node_executions"][0]["error"] == "The engine failed."


class TestResultsOfOneBlock:
    @pytest.mark.parametrize(
        "inputs, expected",
        [
            ({"operation": "Divide", "a": 1, "b": 0}, "Infinity"),
            ({"operation": "Power", "a": 10, "b": 400}, "NaN"),
            ({"operation": "Multiply", "a": 1e308, "b": 10}, "Infinity"),
        ],
    )
    def test_a_non_finite_result_is_answered_as_text(self, auth_client, inputs, expected):
        response = auth_client.post(f"/api/v1/blocks/{CALCULATOR}/execute", inputs, format="json")

        assert response.status_code == 200, response.content
        assert response.json() == {"result": [expected]}


class TestInputs:
    @pytest.mark.parametrize("number", ["1e400", "-1e400", "1e999"])
    def test_block_execute_names_the_pin(self, auth_client, number):
        response = post_raw(
            auth_client, f"/api/v1/blocks/{CALCULATOR}/execute", {"operation": "Add", "a": NUMBER, "b": 1}, number
        )

        body = assert_error(response, 400, "validation_error", field="a")
        assert list(body["details"]) == ["a"]
        assert_no_database_internals(response.content.decode())

    @pytest.mark.parametrize("literal", ["Infinity", "-Infinity", "NaN"])
    def test_infinity_and_nan_written_out_are_not_json(self, auth_client, literal):
        response = post_raw(
            auth_client, f"/api/v1/blocks/{CALCULATOR}/execute", {"operation": "Add", "a": NUMBER, "b": 1}, literal
        )

        assert_error(response, 400, "parse_error")

    def test_graph_execute_names_the_input(self, auth_client):
        graph = import_calculator(auth_client)

        response = post_raw(
            auth_client, f"/api/v1/graphs/{graph['id']}/execute/{graph['version']}", {"inputs": {"Input": NUMBER}}
        )

        body = assert_error(response, 400, "validation_error", field="inputs.Input")
        assert list(body["details"]) == ["inputs.Input"]
        assert GraphExecution.objects.count() == 0

    def test_a_nested_value_of_an_input_is_found_too(self, auth_client):
        graph = create_graph(auth_client, [node("in", "c0a8e994-ebf1-4a9c-a4d8-89d09c86741b", name="data")], [])

        response = post_raw(
            auth_client,
            f"/api/v1/graphs/{graph['id']}/execute/{graph['version']}",
            {"inputs": {"data": {"rows": [1, 2, NUMBER]}}},
            "-1e400",
        )

        assert_error(response, 400, "validation_error", field="inputs.data")
        assert GraphExecution.objects.count() == 0

    def test_input_default_names_the_node_and_pin(self, auth_client):
        body = {"name": "g", "nodes": [node("calc", CALCULATOR, operation="Add", a=NUMBER, b=1)], "links": []}

        response = post_raw(auth_client, "/api/v1/graphs", body)

        details = assert_error(response, 400, "validation_error", field="nodes.calc.a")["details"]
        assert list(details) == ["nodes.calc.a"]
        assert_no_database_internals(response.content.decode())
        assert auth_client.get("/api/v1/graphs").json()["results"] == []

    def test_node_metadata_names_the_node(self, auth_client):
        calc = {**node("calc", CALCULATOR, operation="Add", a=1, b=1), "metadata": {"position": {"x": NUMBER}}}

        response = post_raw(auth_client, "/api/v1/graphs", {"name": "g", "nodes": [calc], "links": []}, "1e999")

        assert_error(response, 400, "validation_error", field="nodes.calc.metadata")

    def test_schedule_inputs_name_the_input(self, auth_client):
        graph = import_calculator(auth_client)

        response = post_raw(
            auth_client,
            f"/api/v1/graphs/{graph['id']}/schedules",
            {"name": "nightly", "cron": "0 3 * * *", "inputs": {"Input": NUMBER}},
            "-1e400",
        )

        body = assert_error(response, 400, "validation_error", field="inputs.Input")
        assert list(body["details"]) == ["inputs.Input"]
        assert Schedule.objects.count() == 0
