"""The graph REST API: create, read, version, activate, delete, per-user isolation, and the
validation of a graph body when it is saved."""

import uuid

import pytest

from agents.models import Graph, GraphVersion, Link, Node
from executions.models import GraphExecution
from tests.accounts.test_auth_api import assert_error
from tests.clients import client_for
from tests.graphs import (
    AGENT_INPUT,
    AGENT_OUTPUT,
    CALCULATOR,
    CREATE_LIST,
    FILL_TEMPLATE,
    NOTE,
    STEP_THROUGH,
    STORE_VALUE,
    create_graph,
    link,
    node,
)

pytestmark = pytest.mark.django_db

AGENT_NUMBER_INPUT = "96dae2bb-97a2-41c2-bd2f-13a3b5a8ea98"


def adder_nodes(b: float = 1) -> list[dict]:
    return [
        node("in", AGENT_INPUT, name="x"),
        node("calc", CALCULATOR, operation="Add", b=b),
        node("out", AGENT_OUTPUT, name="sum"),
    ]


def adder_links() -> list[dict]:
    return [link("in", "result", "calc", "a"), link("calc", "result", "out", "value")]


def adder_body(name: str = "adder", b: float = 1) -> dict:
    return {"name": name, "description": "adds b", "nodes": adder_nodes(b), "links": adder_links()}


def link_key(item: dict) -> tuple:
    return (item["source_id"], item["source_name"], item["sink_id"], item["sink_name"], item["is_static"])


def counts() -> dict[str, int]:
    return {
        "graphs": Graph.objects.count(),
        "versions": GraphVersion.objects.count(),
        "nodes": Node.objects.count(),
        "links": Link.objects.count(),
    }


NOTHING = {"graphs": 0, "versions": 0, "nodes": 0, "links": 0}


class TestCreate:
    def test_returns_201_with_version_1_active_nodes_and_links(self, auth_client, user):
        response = auth_client.post("/api/v1/graphs", adder_body(), format="json")

        assert response.status_code == 201, response.content
        body = response.json()
        assert uuid.UUID(body["id"])
        assert body["version"] == 1
        assert body["is_active"] is True
        assert body["name"] == "adder"
        assert body["description"] == "adds b"
        assert body["nodes"] == adder_nodes()
        assert sorted(link_key(item) for item in body["links"]) == sorted(link_key(item) for item in adder_links())
        assert all(item["id"] for item in body["links"])
        graph = Graph.objects.get(id=body["id"])
        assert graph.user == user
        assert graph.active_version == 1
        assert counts() == {"graphs": 1, "versions": 1, "nodes": 3, "links": 2}

    def test_input_schema_keys_agent_inputs_by_name_and_requires_those_without_a_default(self, auth_client):
        graph = create_graph(
            auth_client,
            [
                node("needed", AGENT_INPUT, name="needed", title="Needed input", description="no default"),
                node("optional", AGENT_INPUT, name="optional", value="fallback"),
                node("number", AGENT_NUMBER_INPUT, name="count", value=3),
                node("out", AGENT_OUTPUT, name="echo"),
            ],
            [link("needed", "result", "out", "value")],
        )

        assert graph["input_schema"] == {
            "type": "object",
            "properties": {
                "needed": {"title": "Needed input", "description": "no default", "advanced": False, "secret": False},
                "optional": {
                    "title": "optional",
                    "description": "",
                    "advanced": False,
                    "secret": False,
                    "default": "fallback",
                },
                "count": {
                    "type": "integer",
                    "title": "count",
                    "description": "",
                    "advanced": False,
                    "secret": False,
                    "default": 3,
                },
            },
            "required": ["needed"],
        }

    def test_output_schema_keys_agent_outputs_by_name(self, auth_client):
        graph = create_graph(auth_client, adder_nodes(), adder_links())

        assert graph["output_schema"] == {
            "type": "object",
            "properties": {"sum": {"title": "sum", "description": "", "advanced": False, "secret": False}},
            "required": ["sum"],
        }

    def test_requires_authentication(self, api_client):
        response = api_client.post("/api/v1/graphs", adder_body(), format="json")

        assert_error(response, 401, "not_authenticated")
        assert counts() == NOTHING


class TestRead:
    def test_list_is_paginated_and_holds_only_the_users_graphs(self, auth_client, other_user):
        mine = create_graph(auth_client, adder_nodes(), adder_links(), name="mine")
        create_graph(client_for(other_user), adder_nodes(), adder_links(), name="theirs")

        response = auth_client.get("/api/v1/graphs")

        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 1
        assert body["next"] is None
        assert [(item["id"], item["version"], item["name"], item["is_active"]) for item in body["results"]] == [
            (mine["id"], 1, "mine", True)
        ]
        assert body["results"][0]["input_schema"] == mine["input_schema"]
        assert "nodes" not in body["results"][0]

    def test_list_page_size_gives_count_and_next(self, auth_client):
        for index in range(3):
            create_graph(auth_client, adder_nodes(), adder_links(), name=f"g{index}")

        body = auth_client.get("/api/v1/graphs?page_size=2").json()

        assert body["count"] == 3
        assert len(body["results"]) == 2
        assert body["next"] is not None and "page=2" in body["next"]

    def test_detail_returns_the_active_version_with_its_content(self, auth_client):
        created = create_graph(auth_client, adder_nodes(), adder_links())

        response = auth_client.get(f"/api/v1/graphs/{created['id']}")

        assert response.status_code == 200
        assert response.json() == created

    def test_detail_with_version_returns_that_version(self, auth_client):
        created = create_graph(auth_client, adder_nodes(b=1), adder_links())
        auth_client.put(f"/api/v1/graphs/{created['id']}", adder_body(b=2), format="json")

        body = auth_client.get(f"/api/v1/graphs/{created['id']}?version=1").json()

        assert body["version"] == 1
        assert body["is_active"] is False
        assert {n["id"]: n["input_default"] for n in body["nodes"]}["calc"] == {"operation": "Add", "b": 1}

    @pytest.mark.parametrize("raw", ["abc", "0", "-1", "1.5"])
    def test_a_malformed_version_is_400_naming_version(self, auth_client, raw):
        created = create_graph(auth_client, adder_nodes(), adder_links())

        response = auth_client.get(f"/api/v1/graphs/{created['id']}", {"version": raw})

        assert_error(response, 400, "validation_error", field="version")

    def test_a_unicode_digit_version_is_400_naming_version(self, auth_client):
        created = create_graph(auth_client, adder_nodes(), adder_links())

        response = auth_client.get(f"/api/v1/graphs/{created['id']}", {"version": "²"})

        assert_error(response, 400, "validation_error", field="version")

    def test_a_version_that_does_not_exist_is_404(self, auth_client):
        created = create_graph(auth_client, adder_nodes(), adder_links())

        assert_error(auth_client.get(f"/api/v1/graphs/{created['id']}?version=7"), 404, "not_found")

    def test_an_unknown_graph_is_404(self, auth_client):
        assert_error(auth_client.get(f"/api/v1/graphs/{uuid.uuid4()}"), 404, "not_found")


class TestVersions:
    def test_put_saves_version_2_and_makes_it_active(self, auth_client):
        created = create_graph(auth_client, adder_nodes(b=1), adder_links())

        response = auth_client.put(f"/api/v1/graphs/{created['id']}", adder_body(name="adder v2", b=2), format="json")

        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["id"], body["version"], body["is_active"], body["name"]) == (created["id"], 2, True, "adder v2")
        assert {n["id"]: n["input_default"] for n in body["nodes"]}["calc"] == {"operation": "Add", "b": 2}
        assert Graph.objects.get(id=created["id"]).active_version == 2
        assert auth_client.get(f"/api/v1/graphs/{created['id']}").json()["version"] == 2
        assert counts() == {"graphs": 1, "versions": 2, "nodes": 6, "links": 4}

    def test_put_keeps_the_earlier_version_unchanged(self, auth_client):
        created = create_graph(auth_client, adder_nodes(b=1), adder_links())

        auth_client.put(f"/api/v1/graphs/{created['id']}", adder_body(name="renamed", b=2), format="json")

        assert auth_client.get(f"/api/v1/graphs/{created['id']}?version=1").json() == {**created, "is_active": False}

    def test_versions_lists_every_version_newest_first(self, auth_client):
        created = create_graph(auth_client, adder_nodes(), adder_links(), name="first")
        auth_client.put(f"/api/v1/graphs/{created['id']}", adder_body(name="second"), format="json")

        response = auth_client.get(f"/api/v1/graphs/{created['id']}/versions")

        assert response.status_code == 200
        assert [(v["id"], v["version"], v["name"], v["is_active"]) for v in response.json()["results"]] == [
            (created["id"], 2, "second", True),
            (created["id"], 1, "first", False),
        ]

    def test_setting_the_active_version_switches_back(self, auth_client):
        created = create_graph(auth_client, adder_nodes(), adder_links(), name="first")
        auth_client.put(f"/api/v1/graphs/{created['id']}", adder_body(name="second"), format="json")

        response = auth_client.put(
            f"/api/v1/graphs/{created['id']}/versions/active", {"active_graph_version": 1}, format="json"
        )

        assert response.status_code == 200, response.content
        assert (response.json()["version"], response.json()["name"], response.json()["is_active"]) == (1, "first", True)
        assert Graph.objects.get(id=created["id"]).active_version == 1
        assert auth_client.get(f"/api/v1/graphs/{created['id']}").json()["version"] == 1
        versions = auth_client.get(f"/api/v1/graphs/{created['id']}/versions").json()["results"]
        assert [v["is_active"] for v in versions] == [
            False,
            True,
        ]

    @pytest.mark.parametrize("active", [2, 0, "one", None])
    def test_activating_a_missing_or_malformed_version_is_400_and_changes_nothing(self, auth_client, active):
        created = create_graph(auth_client, adder_nodes(), adder_links())

        response = auth_client.put(
            f"/api/v1/graphs/{created['id']}/versions/active", {"active_graph_version": active}, format="json"
        )

        assert_error(response, 400, "validation_error", field="active_graph_version")
        assert Graph.objects.get(id=created["id"]).active_version == 1

    def test_an_invalid_put_saves_no_version_and_keeps_the_active_one(self, auth_client):
        created = create_graph(auth_client, adder_nodes(), adder_links())
        before = counts()
        invalid = {**adder_body(), "nodes": [*adder_nodes(), node("bad", str(uuid.uuid4()))]}

        response = auth_client.put(f"/api/v1/graphs/{created['id']}", invalid, format="json")

        assert_error(response, 400, "validation_error", field="nodes.bad.block_id")
        assert counts() == before
        assert Graph.objects.get(id=created["id"]).active_version == 1

    def test_put_with_is_active_false_saves_a_version_without_activating_it(self, auth_client):
        created = create_graph(auth_client, adder_nodes(), adder_links())

        response = auth_client.put(
            f"/api/v1/graphs/{created['id']}", {**adder_body(name="draft"), "is_active": False}, format="json"
        )

        assert response.status_code == 200, response.content
        assert (response.json()["version"], response.json()["is_active"]) == (2, False)
        assert Graph.objects.get(id=created["id"]).active_version == 1


class TestDelete:
    def test_delete_is_204_and_removes_the_graph_every_version_and_its_executions(self, auth_client):
        created = create_graph(auth_client, adder_nodes(), adder_links())
        auth_client.put(f"/api/v1/graphs/{created['id']}", adder_body(), format="json")
        executed = auth_client.post(f"/api/v1/graphs/{created['id']}/execute/2", {"inputs": {"x": 1}}, format="json")
        assert executed.status_code == 201, executed.content

        response = auth_client.delete(f"/api/v1/graphs/{created['id']}")

        assert response.status_code == 204
        assert counts() == NOTHING
        assert GraphExecution.objects.count() == 0
        assert_error(auth_client.get(f"/api/v1/graphs/{created['id']}"), 404, "not_found")
        assert_error(auth_client.get(f"/api/v1/executions/{executed.json()['id']}"), 404, "not_found")

    def test_deleting_an_unknown_graph_is_404(self, auth_client):
        assert_error(auth_client.delete(f"/api/v1/graphs/{uuid.uuid4()}"), 404, "not_found")


class TestAnotherUsersGraph:
    @pytest.fixture
    def theirs(self, other_user):
        return create_graph(client_for(other_user), adder_nodes(), adder_links(), name="theirs")

    @pytest.mark.parametrize(
        "method, suffix, body",
        [
            ("get", "", None),
            ("get", "?version=1", None),
            ("put", "", adder_body(name="hijacked", b=99)),
            ("delete", "", None),
            ("get", "/versions", None),
            ("put", "/versions/active", {"active_graph_version": 1}),
            ("get", "/export", None),
            ("post", "/execute/1", {"inputs": {"x": 1}}),
            ("post", "/execute", {"inputs": {"x": 1}}),
            ("get", "/executions", None),
        ],
    )
    def test_is_404_and_left_unchanged(self, auth_client, other_user, theirs, method, suffix, body):
        before = counts()

        response = getattr(auth_client, method)(f"/api/v1/graphs/{theirs['id']}{suffix}", body, format="json")

        assert_error(response, 404, "not_found")
        assert counts() == before
        assert GraphExecution.objects.count() == 0
        assert client_for(other_user).get(f"/api/v1/graphs/{theirs['id']}").json() == theirs


class TestValidation:
    """Each invalid body is a 400 whose details name the node and pin, and nothing is saved."""

    def post(self, client, nodes, links, name="bad graph"):
        return client.post("/api/v1/graphs", {"name": name, "nodes": nodes, "links": links}, format="json")

    def test_an_unknown_block_id_names_the_node_and_the_id(self, auth_client):
        unknown = "11111111-2222-4333-8444-555555555555"

        response = self.post(auth_client, [*adder_nodes(), node("mystery", unknown)], adder_links())

        body = assert_error(response, 400, "validation_error", field="nodes.mystery.block_id")
        assert body["details"] == {"nodes.mystery.block_id": [f"Unknown block id '{unknown}'."]}
        assert counts() == NOTHING

    @pytest.mark.parametrize("end", ["source_id", "sink_id"])
    def test_a_link_to_a_node_that_does_not_exist_names_the_link_end(self, auth_client, end):
        ghost_link = link("calc", "result", "out", "value")
        ghost_link[end] = "ghost"

        response = self.post(auth_client, adder_nodes(), [adder_links()[0], ghost_link])

        body = assert_error(response, 400, "validation_error", field=f"links.1.{end}")
        assert body["details"][f"links.1.{end}"] == ["No node with id 'ghost' in this graph."]
        assert counts() == NOTHING

    def test_a_link_from_an_output_pin_that_does_not_exist_names_node_and_pin(self, auth_client):
        response = self.post(
            auth_client, adder_nodes(), [adder_links()[0], link("calc", "no_such_output", "out", "value")]
        )

        body = assert_error(response, 400, "validation_error", field="links.1.source_name")
        assert body["details"] == {
            "links.1.source_name": ["Node 'calc' (Calculator) has no output pin 'no_such_output'."]
        }
        assert counts() == NOTHING

    def test_a_link_to_an_input_pin_that_does_not_exist_names_node_and_pin(self, auth_client):
        response = self.post(
            auth_client,
            [*adder_nodes(), node("c2", CALCULATOR, operation="Add", a=1, b=2)],
            [*adder_links(), link("in", "result", "c2", "no_such_input")],
        )

        body = assert_error(response, 400, "validation_error", field="links.2.sink_name")
        assert body["details"] == {"links.2.sink_name": ["Node 'c2' (Calculator) has no input pin 'no_such_input'."]}
        assert counts() == NOTHING

    def test_duplicate_node_ids_name_the_node(self, auth_client):
        response = self.post(
            auth_client, [*adder_nodes(), node("calc", CALCULATOR, operation="Add", a=1, b=2)], adder_links()
        )

        body = assert_error(response, 400, "validation_error", field="nodes.calc")
        assert body["details"] == {"nodes.calc": ["Duplicate node id 'calc'."]}
        assert counts() == NOTHING

    def test_two_input_nodes_with_the_same_name_name_the_second_one(self, auth_client):
        response = self.post(auth_client, [*adder_nodes(), node("in2", AGENT_INPUT, name="x")], adder_links())

        body = assert_error(response, 400, "validation_error", field="nodes.in2.name")
        assert body["details"] == {"nodes.in2.name": ["Two input nodes are named 'x': 'in' and 'in2'."]}
        assert counts() == NOTHING

    def test_two_output_nodes_with_the_same_name_name_the_second_one(self, auth_client):
        response = self.post(
            auth_client,
            [*adder_nodes(), node("out2", AGENT_OUTPUT, name="sum")],
            [*adder_links(), link("calc", "result", "out2", "value")],
        )

        body = assert_error(response, 400, "validation_error", field="nodes.out2.name")
        assert body["details"] == {"nodes.out2.name": ["Two output nodes are named 'sum': 'out' and 'out2'."]}
        assert counts() == NOTHING

    def test_a_required_input_with_neither_default_nor_link_names_node_and_pin(self, auth_client):
        response = self.post(
            auth_client,
            [node("calc", CALCULATOR, operation="Add", b=2), node("out", AGENT_OUTPUT, name="sum")],
            [link("calc", "result", "out", "value")],
        )

        body = assert_error(response, 400, "validation_error", field="nodes.calc.a")
        assert body["details"] == {
            "nodes.calc.a": ["Node 'calc' (Calculator): required input 'a' has neither a default nor a link."]
        }
        assert counts() == NOTHING

    def test_a_value_of_the_wrong_type_names_node_and_pin(self, auth_client):
        response = self.post(
            auth_client,
            [node("calc", CALCULATOR, operation="Add", a="abc", b=2), node("out", AGENT_OUTPUT, name="sum")],
            [link("calc", "result", "out", "value")],
        )

        body = assert_error(response, 400, "validation_error", field="nodes.calc.a")
        assert list(body["details"]) == ["nodes.calc.a"]
        assert body["details"]["nodes.calc.a"][0].startswith("Node 'calc' (Calculator), pin 'a': ")
        assert counts() == NOTHING

    def test_an_operation_outside_the_choices_names_node_and_pin(self, auth_client):
        response = self.post(auth_client, [node("calc", CALCULATOR, operation="Modulo", a=1, b=2)], [])

        body = assert_error(response, 400, "validation_error", field="nodes.calc.operation")
        assert list(body["details"]) == ["nodes.calc.operation"]
        assert counts() == NOTHING

    def test_every_problem_is_reported_at_once(self, auth_client):
        response = self.post(
            auth_client,
            [node("calc", CALCULATOR, operation="Add", b="x"), node("mystery", "not-a-block")],
            [link("calc", "result", "ghost", "value")],
        )

        body = assert_error(response, 400, "validation_error")
        assert set(body["details"]) == {"nodes.calc.a", "nodes.calc.b", "nodes.mystery.block_id", "links.0.sink_id"}
        assert counts() == NOTHING

    @pytest.mark.parametrize("name", [None, "", "   "])
    def test_a_missing_or_blank_name_is_400_naming_name(self, auth_client, name):
        body = {"nodes": adder_nodes(), "links": adder_links()}
        if name is not None:
            body["name"] = name

        response = auth_client.post("/api/v1/graphs", body, format="json")

        assert_error(response, 400, "validation_error", field="name")
        assert counts() == NOTHING

    @pytest.mark.parametrize("nodes", [{"in": node("in", AGENT_INPUT, name="x")}, "nodes", None])
    def test_nodes_that_are_not_a_list_is_400_and_saves_nothing(self, auth_client, nodes):
        response = auth_client.post("/api/v1/graphs", {"name": "g", "nodes": nodes, "links": []}, format="json")

        body = assert_error(response, 400, "validation_error")
        assert [key.split(".")[0] for key in body["details"]] == ["nodes"]
        assert counts() == NOTHING

    def test_nodes_that_are_not_a_list_is_400_naming_exactly_nodes(self, auth_client):
        response = auth_client.post("/api/v1/graphs", {"name": "g", "nodes": "nodes", "links": []}, format="json")

        body = assert_error(response, 400, "validation_error", field="nodes")
        assert list(body["details"]) == ["nodes"]

    def test_a_node_without_a_block_id_is_400_naming_it(self, auth_client):
        response = auth_client.post(
            "/api/v1/graphs", {"name": "g", "nodes": [{"id": "n1"}], "links": []}, format="json"
        )

        assert_error(response, 400, "validation_error", field="nodes.0.block_id")
        assert counts() == NOTHING

    def test_a_nul_character_in_a_default_is_400_naming_the_pin(self, auth_client):
        response = self.post(auth_client, [node("keep", STORE_VALUE, input="a\u0000b")], [])

        assert_error(response, 400, "validation_error", field="nodes.keep.input")
        assert counts() == NOTHING

    def test_dynamic_pin_names_on_links_are_accepted(self, auth_client):
        graph = create_graph(
            auth_client,
            [
                node("in", AGENT_INPUT, name="person"),
                node("first", STORE_VALUE, input="a"),
                node("items", STEP_THROUGH),
                node("list", CREATE_LIST),
                node("fmt", FILL_TEMPLATE, format="{{ x }} {{ y }}"),
                node("out", AGENT_OUTPUT, name="text"),
            ],
            [
                link("in", "result_#_name", "fmt", "values_#_x"),
                link("first", "output", "items", "items_$_0"),
                link("first", "output", "list", "values_$_0"),
                link("list", "list_$_0", "fmt", "values_#_y"),
                link("fmt", "output", "out", "value"),
            ],
        )

        assert {link_key(item) for item in graph["links"]} >= {
            ("in", "result_#_name", "fmt", "values_#_x", False),
            ("first", "output", "items", "items_$_0", False),
            ("list", "list_$_0", "fmt", "values_#_y", False),
        }
        assert counts() == {"graphs": 1, "versions": 1, "nodes": 6, "links": 5}

    def test_a_dynamic_pin_on_a_pin_that_does_not_exist_is_refused(self, auth_client):
        response = self.post(
            auth_client,
            [node("first", STORE_VALUE, input="a"), node("fmt", FILL_TEMPLATE, format="x", values={})],
            [link("first", "output", "fmt", "nothing_#_x")],
        )

        assert_error(response, 400, "validation_error", field="links.0.sink_name")
        assert counts() == NOTHING

    def test_a_note_needs_no_inputs_and_is_saved(self, auth_client):
        graph = create_graph(auth_client, [node("note", NOTE)], [])

        assert graph["nodes"] == [node("note", NOTE)]
