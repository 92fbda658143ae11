"""The blocks REST API: GET /api/v1/blocks and POST /api/v1/blocks/{id}/execute, and the API key
scopes that guard them."""

import uuid

import pytest

from agents.blocks import all_blocks
from executions.models import GraphExecution, NodeExecution
from tests.accounts.test_api_keys import create_key, key_client
from tests.accounts.test_auth_api import assert_error
from tests.graphs import AGENT_INPUT, CALCULATOR, GET_LIST_ITEM, NOTE, STORE_VALUE

pytestmark = pytest.mark.django_db

ADD_1_2 = {"operation": "Add", "a": 1, "b": 2}


def execute_block(client, block_id: str, inputs):
    return client.post(f"/api/v1/blocks/{block_id}/execute", inputs, format="json")


class TestList:
    def test_lists_every_registered_block_with_its_schemas(self, auth_client):
        response = auth_client.get("/api/v1/blocks")

        assert response.status_code == 200
        listed = response.json()
        assert [item["id"] for item in listed] == [block.id for block in all_blocks()]
        for item in listed:
            assert set(item) >= {"id", "name", "description", "categories", "input_schema", "output_schema"}
            assert item["name"] and item["description"] and item["categories"]
            assert item["input_schema"]["type"] == item["output_schema"]["type"] == "object"
            assert "error" in item["output_schema"]["properties"]

    def test_calculator_has_autogpts_id_and_its_pins(self, auth_client):
        listed = auth_client.get("/api/v1/blocks").json()

        calculator = next(item for item in listed if item["id"] == "b1ab9b19-67a6-406d-abf5-2dba76d00c79")
        assert calculator["name"] == "Calculator"
        assert calculator["categories"] == ["LOGIC"]
        assert set(calculator["input_schema"]["properties"]) == {"operation", "a", "b", "round_result"}
        assert sorted(calculator["input_schema"]["required"]) == ["a", "b", "operation"]
        assert calculator["input_schema"]["properties"]["a"]["type"] == "number"
        assert set(calculator["output_schema"]["properties"]) == {"result", "error"}

    def test_agent_input_is_listed_as_an_input_block(self, auth_client):
        listed = {item["id"]: item for item in auth_client.get("/api/v1/blocks").json()}

        assert listed[AGENT_INPUT]["name"] == "Agent Input"
        assert "INPUT" in listed[AGENT_INPUT]["categories"]
        assert listed[AGENT_INPUT]["input_schema"]["required"] == ["name"]

    def test_requires_authentication(self, api_client):
        assert_error(api_client.get("/api/v1/blocks"), 401, "not_authenticated")


@pytest.mark.usefixtures("live_worker")  # blocks run on the executor
class TestExecute:
    def test_runs_calculator_and_returns_outputs_by_pin(self, auth_client):
        response = execute_block(auth_client, CALCULATOR, ADD_1_2)

        assert response.status_code == 200, response.content
        assert response.json() == {"result": [3.0]}

    def test_runs_without_creating_any_execution(self, auth_client):
        execute_block(auth_client, CALCULATOR, ADD_1_2)

        assert GraphExecution.objects.count() == 0
        assert NodeExecution.objects.count() == 0

    def test_returns_every_value_of_a_pin_in_order(self, auth_client):
        step_through = "f66a3543-28d3-4ab5-8945-9b336371e2ce"

        response = execute_block(auth_client, step_through, {"items": ["x", "y"]})

        assert response.status_code == 200, response.content
        assert response.json() == {"item": ["x", "y"], "key": [0, 1]}

    def test_a_block_that_fails_reports_on_its_error_pin(self, auth_client):
        response = execute_block(auth_client, GET_LIST_ITEM, {"list": [1], "index": 5})

        assert response.status_code == 200, response.content
        assert response.json() == {"error": ["Index out of range"]}

    @pytest.mark.parametrize(
        "inputs, pin",
        [
            ({"operation": "Add", "a": "abc", "b": 2}, "a"),
            ({"operation": "Add", "b": 2}, "a"),
            ({"operation": "Modulo", "a": 1, "b": 2}, "operation"),
            ({"operation": "Add", "a": 1, "b": [2]}, "b"),
        ],
    )
    def test_bad_input_is_400_naming_the_pin(self, auth_client, inputs, pin):
        response = execute_block(auth_client, CALCULATOR, inputs)

        body = assert_error(response, 400, "validation_error", field=pin)
        assert list(body["details"]) == [pin]

    def test_a_body_that_is_not_an_object_is_400(self, auth_client):
        assert_error(execute_block(auth_client, STORE_VALUE, [1, 2]), 400, "validation_error")

    def test_an_unknown_block_is_404(self, auth_client):
        body = assert_error(execute_block(auth_client, str(uuid.uuid4()), ADD_1_2), 404, "not_found")
        assert "No block with id" in body["message"]

    def test_a_legacy_block_id_runs_the_block_it_maps_to(self, auth_client):
        response = execute_block(auth_client, "31d1064e-7446-4693-o7d4-65e5ca9110d1", {"text": "hello"})

        assert response.status_code == 200, response.content
        assert response.json() == {"output": ["hello"]}

    def test_a_note_can_be_run_on_its_own(self, auth_client):
        assert execute_block(auth_client, NOTE, {"text": "x"}).json() == {"output": ["x"]}

    def test_requires_authentication(self, api_client):
        assert_error(execute_block(api_client, CALCULATOR, ADD_1_2), 401, "not_authenticated")


@pytest.mark.usefixtures("live_worker")
class TestApiKeyScopes:
    def test_a_key_with_read_block_can_list_blocks(self, auth_client):
        key = create_key(auth_client, ["read_block"])

        response = key_client(key["key"]).get("/api/v1/blocks")

        assert response.status_code == 200
        assert len(response.json()) == len(all_blocks())

    def test_a_key_with_only_read_block_cannot_execute_a_block(self, auth_client):
        key = create_key(auth_client, ["read_block"])

        body = assert_error(execute_block(key_client(key["key"]), CALCULATOR, ADD_1_2), 403, "permission_denied")
        assert "execute_block" in body["message"]

    def test_a_key_without_read_block_cannot_list_blocks(self, auth_client):
        key = create_key(auth_client, ["execute_block", "read_graph"])

        body = assert_error(key_client(key["key"]).get("/api/v1/blocks"), 403, "permission_denied")
        assert "read_block" in body["message"]

    def test_a_key_with_execute_block_can_execute_a_block(self, auth_client):
        key = create_key(auth_client, ["execute_block"])

        response = execute_block(key_client(key["key"]), CALCULATOR, ADD_1_2)

        assert response.status_code == 200, response.content
        assert response.json() == {"result": [3.0]}
