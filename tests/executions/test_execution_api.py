"""The executions REST API: starting a graph (POST /api/v1/graphs/{id}/execute/{version}), reading,
listing, filtering, stopping and deleting executions, per-user isolation and API key scopes.

Most tests only need the API and the database (the execution stays QUEUED: in a test transaction
nothing is sent to the broker). The few marked live run on a real Celery worker process."""

import uuid

import pytest

from agents.models import GraphVersion
from executions.models import ExecutionStatus, GraphExecution, NodeExecution
from tests.accounts.test_api_keys import create_key, key_client
from tests.accounts.test_auth_api import assert_error
from tests.clients import client_for
from tests.graphs import (
    AGENT_OUTPUT,
    create_graph,
    execute,
    import_calculator,
    link,
    node,
    run_graph,
)

AGENT_NUMBER_INPUT = "96dae2bb-97a2-41c2-bd2f-13a3b5a8ea98"
INPUT_NODE = "6762da5d-6915-4836-a431-6dcd7d36a54a"
CALC_NODE = "bf4a15ff-b0c4-4032-a21b-5880224af690"
OUTPUT_NODE = "65429c9e-a0c6-4032-a421-6899c394fa74"

api_only = pytest.mark.django_db


def number_graph(client) -> dict:
    """A graph with a required whole-number input `count` and an optional one `step` (default 1)."""
    return create_graph(
        client,
        [
            node("count", AGENT_NUMBER_INPUT, name="count"),
            node("step", AGENT_NUMBER_INPUT, name="step", value=1),
            node("out", AGENT_OUTPUT, name="count"),
        ],
        [link("count", "result", "out", "value")],
    )


def start(client, graph: dict, inputs, version=None):
    version = graph["version"] if version is None else version
    return client.post(f"/api/v1/graphs/{graph['id']}/execute/{version}", {"inputs": inputs}, format="json")


@api_only
class TestStart:
    def test_is_201_with_the_execution_id_and_status_queued(self, auth_client, user):
        graph = import_calculator(auth_client)

        response = start(auth_client, graph, {"Input": 8})

        assert response.status_code == 201, response.content
        body = response.json()
        stored = GraphExecution.objects.get(id=body["id"])
        assert body["status"] == "QUEUED"
        assert (body["graph_id"], body["graph_version"], body["inputs"]) == (graph["id"], 1, {"Input": 8})
        assert (body["outputs"], body["error"], body["started_at"], body["ended_at"]) == ({}, None, None, None)
        assert (stored.user, stored.status, stored.inputs) == (user, ExecutionStatus.QUEUED, {"Input": 8})

    def test_with_a_jwt_the_trigger_is_manual(self, auth_client):
        graph = import_calculator(auth_client)

        body = start(auth_client, graph, {"Input": 8}).json()

        assert body["trigger"] == {"kind": "manual", "id": None}
        assert body["parent_id"] is None

    def test_runs_the_version_asked_for(self, auth_client):
        graph = import_calculator(auth_client)
        auth_client.put(f"/api/v1/graphs/{graph['id']}", {"name": "v2", "nodes": [], "links": []}, format="json")

        body = start(auth_client, graph, {"Input": 8}, version=1).json()

        assert body["graph_version"] == 1
        assert GraphExecution.objects.get(id=body["id"]).graph_version.version == 1

    def test_without_a_version_runs_the_active_one(self, auth_client):
        graph = number_graph(auth_client)
        auth_client.put(
            f"/api/v1/graphs/{graph['id']}",
            {"name": "v2", "nodes": [node("out", AGENT_OUTPUT, name="x")], "links": []},
            format="json",
        )

        response = auth_client.post(f"/api/v1/graphs/{graph['id']}/execute", {"inputs": {}}, format="json")

        assert response.status_code == 201, response.content
        assert response.json()["graph_version"] == 2

    def test_an_optional_input_left_out_is_not_stored(self, auth_client):
        graph = number_graph(auth_client)

        body = start(auth_client, graph, {"count": 3}).json()

        assert body["inputs"] == {"count": 3}

    def test_a_missing_required_input_is_400_naming_it_and_creates_nothing(self, auth_client):
        graph = import_calculator(auth_client)

        response = start(auth_client, graph, {})

        body = assert_error(response, 400, "validation_error", field="inputs.Input")
        assert body["details"] == {"inputs.Input": ["Input 'Input' is required."]}
        assert GraphExecution.objects.count() == 0

    def test_a_null_required_input_is_400_naming_it(self, auth_client):
        graph = import_calculator(auth_client)

        assert_error(start(auth_client, graph, {"Input": None}), 400, "validation_error", field="inputs.Input")
        assert GraphExecution.objects.count() == 0

    def test_a_value_of_the_wrong_type_is_400_naming_it_and_creates_nothing(self, auth_client):
        graph = number_graph(auth_client)

        response = start(auth_client, graph, {"count": "many"})

        body = assert_error(response, 400, "validation_error", field="inputs.count")
        assert list(body["details"]) == ["inputs.count"]
        assert body["details"]["inputs.count"][0].startswith("Input 'count': ")
        assert GraphExecution.objects.count() == 0

    def test_an_unknown_input_name_is_400_naming_it_and_creates_nothing(self, auth_client):
        graph = import_calculator(auth_client)

        response = start(auth_client, graph, {"Input": 8, "Other": 1})

        body = assert_error(response, 400, "validation_error", field="inputs.Other")
        assert body["details"] == {"inputs.Other": ["This graph has no input named 'Other' (its inputs: Input)."]}
        assert GraphExecution.objects.count() == 0

    @pytest.mark.parametrize("inputs", ["8", [8], 8])
    def test_inputs_that_are_not_an_object_is_400_naming_inputs(self, auth_client, inputs):
        graph = import_calculator(auth_client)

        assert_error(start(auth_client, graph, inputs), 400, "validation_error", field="inputs")
        assert GraphExecution.objects.count() == 0

    @pytest.mark.parametrize("version", [2, 0])
    def test_a_version_that_does_not_exist_is_404_and_creates_nothing(self, auth_client, version):
        graph = import_calculator(auth_client)

        assert_error(start(auth_client, graph, {"Input": 8}, version=version), 404, "not_found")
        assert GraphExecution.objects.count() == 0

    def test_an_unknown_graph_is_404(self, auth_client):
        fake = {"id": str(uuid.uuid4()), "version": 1}

        assert_error(start(auth_client, fake, {"Input": 8}), 404, "not_found")
        assert GraphExecution.objects.count() == 0

    def test_another_users_graph_is_404_and_creates_nothing(self, auth_client, other_user):
        theirs = import_calculator(client_for(other_user))

        assert_error(start(auth_client, theirs, {"Input": 8}), 404, "not_found")
        assert GraphExecution.objects.count() == 0

    def test_a_nul_character_in_an_input_is_400_naming_it(self, auth_client):
        graph = import_calculator(auth_client)

        assert_error(start(auth_client, graph, {"Input": "a\u0000b"}), 400, "validation_error", field="inputs.Input")
        assert GraphExecution.objects.count() == 0


@api_only
class TestApiKeys:
    def test_a_key_with_execute_graph_starts_an_execution_whose_trigger_is_api(self, auth_client, user):
        graph = import_calculator(auth_client)
        key = create_key(auth_client, ["execute_graph"])

        response = start(key_client(key["key"]), graph, {"Input": 8})

        assert response.status_code == 201, response.content
        assert response.json()["trigger"] == {"kind": "api", "id": None}
        assert GraphExecution.objects.get(id=response.json()["id"]).user == user
        assert auth_client.get(f"/api/v1/executions/{response.json()['id']}").json()["trigger"]["kind"] == "api"

    def test_a_key_with_only_read_graph_cannot_execute_and_creates_nothing(self, auth_client):
        graph = import_calculator(auth_client)
        key = create_key(auth_client, ["read_graph"])

        response = start(key_client(key["key"]), graph, {"Input": 8})

        body = assert_error(response, 403, "permission_denied")
        assert "execute_graph" in body["message"]
        assert GraphExecution.objects.count() == 0

    def test_a_key_with_read_graph_can_list_and_read_executions(self, auth_client):
        graph = import_calculator(auth_client)
        started = execute(auth_client, graph, {"Input": 8})
        client = key_client(create_key(auth_client, ["read_graph"])["key"])

        listed = client.get("/api/v1/executions")
        detail = client.get(f"/api/v1/executions/{started['id']}")

        assert [item["id"] for item in listed.json()["results"]] == [started["id"]]
        assert detail.status_code == 200
        assert detail.json()["id"] == started["id"]

    def test_a_key_with_only_read_graph_cannot_delete(self, auth_client):
        graph = import_calculator(auth_client)
        started = execute(auth_client, graph, {"Input": 8})
        GraphExecution.objects.filter(id=started["id"]).update(status=ExecutionStatus.COMPLETED)
        client = key_client(create_key(auth_client, ["read_graph"])["key"])

        body = assert_error(client.delete(f"/api/v1/executions/{started['id']}"), 403, "permission_denied")
        assert "execute_graph" in body["message"]
        assert GraphExecution.objects.filter(id=started["id"]).exists()

    def test_a_key_without_read_graph_cannot_list_executions(self, auth_client):
        client = key_client(create_key(auth_client, ["execute_graph"])["key"])

        body = assert_error(client.get("/api/v1/executions"), 403, "permission_denied")
        assert "read_graph" in body["message"]


@api_only
class TestListAndRead:
    def test_a_status_that_does_not_exist_is_400_naming_status(self, auth_client):
        body = assert_error(auth_client.get("/api/v1/executions?status=BOGUS"), 400, "validation_error", field="status")
        assert "BOGUS" in body["details"]["status"][0]

    def test_a_status_filter_on_a_graphs_executions_that_does_not_exist_is_400_naming_status(self, auth_client):
        graph = import_calculator(auth_client)

        response = auth_client.get(f"/api/v1/graphs/{graph['id']}/executions?status=BOGUS")

        assert_error(response, 400, "validation_error", field="status")

    def test_status_filters_the_list(self, auth_client):
        graph = import_calculator(auth_client)
        queued = execute(auth_client, graph, {"Input": 1})
        failed = execute(auth_client, graph, {"Input": 2})
        GraphExecution.objects.filter(id=failed["id"]).update(status=ExecutionStatus.FAILED)

        only_failed = auth_client.get("/api/v1/executions?status=FAILED").json()
        only_queued = auth_client.get(f"/api/v1/graphs/{graph['id']}/executions?status=QUEUED").json()

        assert [item["id"] for item in only_failed["results"]] == [failed["id"]]
        assert [item["id"] for item in only_queued["results"]] == [queued["id"]]

    def test_page_size_1_gives_the_count_and_a_next_page(self, auth_client):
        graph = import_calculator(auth_client)
        first = execute(auth_client, graph, {"Input": 1})
        second = execute(auth_client, graph, {"Input": 2})

        page_1 = auth_client.get("/api/v1/executions?page_size=1").json()
        page_2 = auth_client.get(page_1["next"]).json()

        assert page_1["count"] == page_2["count"] == 2
        assert page_1["previous"] is None and page_2["next"] is None
        assert [item["id"] for item in page_1["results"] + page_2["results"]] == [second["id"], first["id"]]

    def test_a_graphs_executions_hold_only_that_graphs(self, auth_client):
        graph = import_calculator(auth_client)
        other = import_calculator(auth_client)
        mine = execute(auth_client, graph, {"Input": 1})
        execute(auth_client, other, {"Input": 2})

        body = auth_client.get(f"/api/v1/graphs/{graph['id']}/executions").json()

        assert body["count"] == 1
        assert [item["id"] for item in body["results"]] == [mine["id"]]

    def test_the_list_holds_only_the_users_executions(self, auth_client, other_user):
        other_client = client_for(other_user)
        execute(other_client, import_calculator(other_client), {"Input": 1})
        mine = execute(auth_client, import_calculator(auth_client), {"Input": 2})

        body = auth_client.get("/api/v1/executions").json()

        assert body["count"] == 1
        assert [item["id"] for item in body["results"]] == [mine["id"]]

    def test_detail_of_a_queued_execution_has_no_node_executions_yet(self, auth_client):
        started = execute(auth_client, import_calculator(auth_client), {"Input": 8})

        body = auth_client.get(f"/api/v1/executions/{started['id']}").json()

        assert body["status"] == "QUEUED"
        assert body["node_executions"] == []
        assert body["totals"] == {
            "node_executions": 0,
            "by_status": {status: 0 for status in ExecutionStatus.values},
            "node_seconds": 0,
        }

    def test_an_unknown_execution_is_404(self, auth_client):
        assert_error(auth_client.get(f"/api/v1/executions/{uuid.uuid4()}"), 404, "not_found")

    def test_requires_authentication(self, api_client):
        assert_error(api_client.get("/api/v1/executions"), 401, "not_authenticated")


@api_only
class TestStopAndDeleteWithoutAWorker:
    def test_stopping_a_queued_execution_terminates_it_at_once(self, auth_client):
        started = execute(auth_client, import_calculator(auth_client), {"Input": 8})

        response = auth_client.post(f"/api/v1/executions/{started['id']}/stop")

        assert response.status_code == 200, response.content
        assert response.json()["status"] == "TERMINATED"
        assert response.json()["ended_at"] is not None
        assert GraphExecution.objects.get(id=started["id"]).status == ExecutionStatus.TERMINATED

    def test_deleting_an_execution_that_has_not_ended_is_409_and_keeps_it(self, auth_client):
        started = execute(auth_client, import_calculator(auth_client), {"Input": 8})

        assert_error(auth_client.delete(f"/api/v1/executions/{started['id']}"), 409, "conflict")
        assert GraphExecution.objects.get(id=started["id"]).status == ExecutionStatus.QUEUED

    def test_deleting_an_unknown_execution_is_404(self, auth_client):
        assert_error(auth_client.delete(f"/api/v1/executions/{uuid.uuid4()}"), 404, "not_found")


@api_only
class TestAnotherUsersExecution:
    @pytest.fixture
    def theirs(self, other_user):
        client = client_for(other_user)
        return execute(client, import_calculator(client), {"Input": 8})

    @pytest.mark.parametrize("method, suffix", [("get", ""), ("delete", "")])
    def test_is_404_and_left_unchanged(self, auth_client, theirs, method, suffix):
        response = getattr(auth_client, method)(f"/api/v1/executions/{theirs['id']}{suffix}")

        assert_error(response, 404, "not_found")
        assert GraphExecution.objects.get(id=theirs["id"]).status == ExecutionStatus.QUEUED

    def test_deleting_it_when_it_has_ended_is_still_404_and_keeps_it(self, auth_client, theirs):
        GraphExecution.objects.filter(id=theirs["id"]).update(status=ExecutionStatus.COMPLETED)

        assert_error(auth_client.delete(f"/api/v1/executions/{theirs['id']}"), 404, "not_found")
        assert GraphExecution.objects.filter(id=theirs["id"]).exists()


def queued_execution(user, graph: dict) -> GraphExecution:
    """A QUEUED execution written straight to the database: no message goes to the broker."""
    version = GraphVersion.objects.get(graph_id=graph["id"], version=graph["version"])
    return GraphExecution.objects.create(user=user, graph_id=graph["id"], graph_version=version, inputs={"Input": 8})


@pytest.mark.django_db(transaction=True)
class TestStopRefusals:
    """POST /stop is not one request transaction (the stop is committed before the view waits), so
    its refusals are checked against committed data."""

    def test_another_users_execution_is_404_and_left_running(self, auth_client, other_user):
        theirs = queued_execution(other_user, import_calculator(client_for(other_user)))

        response = auth_client.post(f"/api/v1/executions/{theirs.id}/stop")

        assert_error(response, 404, "not_found")
        theirs.refresh_from_db()
        assert (theirs.status, theirs.ended_at) == (ExecutionStatus.QUEUED, None)

    def test_a_key_with_only_read_graph_cannot_stop(self, auth_client, user):
        started = queued_execution(user, import_calculator(auth_client))
        client = key_client(create_key(auth_client, ["read_graph"])["key"])

        body = assert_error(client.post(f"/api/v1/executions/{started.id}/stop"), 403, "permission_denied")
        assert "execute_graph" in body["message"]
        started.refresh_from_db()
        assert started.status == ExecutionStatus.QUEUED

    def test_an_unknown_execution_is_404(self, auth_client):
        assert_error(auth_client.post(f"/api/v1/executions/{uuid.uuid4()}/stop"), 404, "not_found")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("live_worker")
class TestFinishedExecution:
    """The calculator agent run to the end on a real worker (about half a second each)."""

    def test_detail_has_status_inputs_outputs_node_executions_and_totals(self, auth_client):
        graph = import_calculator(auth_client)

        detail = run_graph(auth_client, graph, {"Input": 8})

        assert detail["status"] == "COMPLETED", detail
        assert (detail["inputs"], detail["outputs"], detail["error"]) == ({"Input": 8}, {"Output": [42.0]}, None)
        assert detail["started_at"] and detail["ended_at"] and detail["duration_seconds"] >= 0
        runs = {item["node_id"]: item for item in detail["node_executions"]}
        assert set(runs) == {INPUT_NODE, CALC_NODE, OUTPUT_NODE}
        for item in detail["node_executions"]:
            assert set(item) >= {"status", "input_data", "output_data", "error", "started_at", "ended_at"}
            assert (item["status"], item["error"]) == ("COMPLETED", "")
            assert item["started_at"] <= item["ended_at"]
        assert runs[CALC_NODE]["block_id"] == "b1ab9b19-67a6-406d-abf5-2dba76d00c79"
        assert (runs[CALC_NODE]["input_data"]["a"], runs[CALC_NODE]["input_data"]["b"]) == (8, 34)
        assert runs[CALC_NODE]["output_data"] == {"result": [42.0]}
        assert runs[INPUT_NODE]["output_data"] == {"result": [8]}
        assert detail["totals"]["node_executions"] == 3
        assert detail["totals"]["by_status"] == {
            **{status: 0 for status in ExecutionStatus.values},
            "COMPLETED": 3,
        }
        assert detail["totals"]["node_seconds"] >= 0

    def test_it_is_listed_and_found_by_status(self, auth_client):
        graph = import_calculator(auth_client)
        detail = run_graph(auth_client, graph, {"Input": 8})

        everything = auth_client.get("/api/v1/executions").json()
        of_the_graph = auth_client.get(f"/api/v1/graphs/{graph['id']}/executions").json()
        completed = auth_client.get("/api/v1/executions?status=COMPLETED").json()
        queued = auth_client.get("/api/v1/executions?status=QUEUED").json()

        assert [(item["id"], item["status"]) for item in everything["results"]] == [(detail["id"], "COMPLETED")]
        assert [item["id"] for item in of_the_graph["results"]] == [detail["id"]]
        assert [item["id"] for item in completed["results"]] == [detail["id"]]
        assert queued == {"count": 0, "next": None, "previous": None, "results": []}
        assert everything["results"][0]["outputs"] == {"Output": [42.0]}

    def test_delete_is_204_and_removes_it_with_its_node_executions(self, auth_client):
        detail = run_graph(auth_client, import_calculator(auth_client), {"Input": 8})

        response = auth_client.delete(f"/api/v1/executions/{detail['id']}")

        assert response.status_code == 204
        assert not GraphExecution.objects.filter(id=detail["id"]).exists()
        assert NodeExecution.objects.count() == 0
        assert_error(auth_client.get(f"/api/v1/executions/{detail['id']}"), 404, "not_found")

    def test_stop_returns_it_unchanged(self, auth_client):
        detail = run_graph(auth_client, import_calculator(auth_client), {"Input": 8})

        response = auth_client.post(f"/api/v1/executions/{detail['id']}/stop")

        assert response.status_code == 200, response.content
        assert response.json() == detail
        assert GraphExecution.objects.get(id=detail["id"]).status == ExecutionStatus.COMPLETED
