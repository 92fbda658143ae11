"""Importing AutoGPT agent exports (POST /api/v1/graphs/import) and exporting graphs in that format
(GET /api/v1/graphs/{id}/export)."""

import json

import pytest

from agents.models import Graph, GraphVersion, Link, Node
from tests.accounts.test_auth_api import assert_error
from tests.clients import client_for
from tests.graphs import (
    AGENT_INPUT,
    AGENT_OUTPUT,
    CALCULATOR,
    CALCULATOR_EXPORT,
    FIND_IN_DICT,
    NOTE,
    STEP_THROUGH,
    STORE_VALUE,
    create_graph,
    import_calculator,
    link,
    node,
)

pytestmark = pytest.mark.django_db

GET_CURRENT_DATE_AND_TIME = "716a67b3-6760-42e7-86dc-18645c6e00fc"
CALC_NODE = "bf4a15ff-b0c4-4032-a21b-5880224af690"
INPUT_NODE = "6762da5d-6915-4836-a431-6dcd7d36a54a"
OUTPUT_NODE = "65429c9e-a0c6-4032-a421-6899c394fa74"

EXPORT_TOP_LEVEL_KEYS = {
    "id",
    "version",
    "is_active",
    "name",
    "description",
    "nodes",
    "links",
    "sub_graphs",
    "input_schema",
    "output_schema",
}
EXPORT_NODE_KEYS = {
    "id",
    "block_id",
    "input_default",
    "metadata",
    "input_links",
    "output_links",
    "graph_id",
    "graph_version",
    "webhook_id",
}


def calculator_export() -> dict:
    return json.loads(CALCULATOR_EXPORT.read_text())


def counts() -> dict[str, int]:
    return {
        "graphs": Graph.objects.count(),
        "versions": GraphVersion.objects.count(),
        "nodes": Node.objects.count(),
        "links": Link.objects.count(),
    }


NOTHING = {"graphs": 0, "versions": 0, "nodes": 0, "links": 0}


def link_keys(links: list[dict]) -> set[tuple]:
    return {
        (item["source_id"], item["source_name"], item["sink_id"], item["sink_name"], item["is_static"])
        for item in links
    }


def content(graph: dict) -> dict:
    """What makes two graphs equivalent: each node's block and defaults, and the links."""
    return {
        "nodes": {item["id"]: (item["block_id"], item["input_default"]) for item in graph["nodes"]},
        "links": link_keys(graph["links"]),
    }


def post_import(client, data):
    return client.post("/api/v1/graphs/import", data, format="json")


class TestImportCalculator:
    def test_is_201_as_a_new_graph_of_the_user_at_version_1(self, auth_client, user):
        response = post_import(auth_client, calculator_export())

        assert response.status_code == 201, response.content
        body = response.json()
        assert body["id"] != calculator_export()["id"]
        assert (body["version"], body["is_active"], body["name"], body["description"]) == (
            1,
            True,
            "Calculator agent",
            "",
        )
        assert Graph.objects.get(id=body["id"]).user == user
        assert counts() == {"graphs": 1, "versions": 1, "nodes": 3, "links": 2}

    def test_keeps_the_nodes_defaults_metadata_and_links(self, auth_client):
        export = calculator_export()

        body = import_calculator(auth_client)

        assert {n["id"]: (n["block_id"], n["input_default"], n["metadata"]) for n in body["nodes"]} == {
            n["id"]: (n["block_id"], n["input_default"], n["metadata"]) for n in export["nodes"]
        }
        assert {(item["id"], *sorted(link_keys([item]))[0]) for item in body["links"]} == {
            (item["id"], *sorted(link_keys([item]))[0]) for item in export["links"]
        }

    def test_its_input_schema_requires_input_and_its_output_schema_has_output(self, auth_client):
        body = import_calculator(auth_client)

        assert body["input_schema"] == {
            "type": "object",
            "properties": {"Input": {"title": "Input", "description": "", "advanced": False, "secret": False}},
            "required": ["Input"],
        }
        assert body["output_schema"] == {
            "type": "object",
            "properties": {"Output": {"title": "Output", "description": "", "advanced": False, "secret": False}},
            "required": ["Output"],
        }

    def test_importing_twice_gives_two_independent_graphs(self, auth_client):
        first = import_calculator(auth_client)

        second = import_calculator(auth_client)

        assert first["id"] != second["id"]
        assert content(first) == content(second)
        assert counts() == {"graphs": 2, "versions": 2, "nodes": 6, "links": 4}

    def test_the_derived_fields_are_not_required(self, auth_client):
        export = calculator_export()
        for key in ("id", "version", "is_active", "input_schema", "output_schema", "credentials_input_schema"):
            del export[key]
        for item in export["nodes"]:
            for key in ("input_links", "output_links", "graph_id", "graph_version", "webhook_id"):
                del item[key]

        response = post_import(auth_client, export)

        assert response.status_code == 201, response.content
        assert content(response.json()) == content(calculator_export())

    def test_the_top_level_links_are_the_source_of_truth(self, auth_client):
        export = calculator_export()
        export["nodes"][0]["output_links"] = []  # stale copies on nodes are ignored
        export["nodes"][2]["input_links"].append(dict(export["links"][0], sink_name="b"))

        body = post_import(auth_client, export).json()

        assert link_keys(body["links"]) == link_keys(calculator_export()["links"])

    def test_a_missing_name_becomes_imported_agent(self, auth_client):
        export = calculator_export()
        del export["name"]

        assert post_import(auth_client, export).json()["name"] == "Imported agent"


class TestExport:
    def test_has_autogpts_top_level_keys(self, auth_client):
        graph = import_calculator(auth_client)

        response = auth_client.get(f"/api/v1/graphs/{graph['id']}/export")

        assert response.status_code == 200
        exported = response.json()
        assert set(exported) >= EXPORT_TOP_LEVEL_KEYS
        assert (exported["id"], exported["version"], exported["is_active"]) == (graph["id"], 1, True)
        assert (exported["name"], exported["description"], exported["sub_graphs"]) == ("Calculator agent", "", [])
        assert exported["input_schema"] == graph["input_schema"]
        assert exported["output_schema"] == graph["output_schema"]

    def test_each_node_carries_its_links_graph_id_graph_version_and_webhook_id(self, auth_client):
        graph = import_calculator(auth_client)

        exported = auth_client.get(f"/api/v1/graphs/{graph['id']}/export").json()

        by_id = {item["id"]: item for item in exported["nodes"]}
        assert set(by_id) == {INPUT_NODE, CALC_NODE, OUTPUT_NODE}
        for item in exported["nodes"]:
            assert set(item) >= EXPORT_NODE_KEYS
            assert (item["graph_id"], item["graph_version"], item["webhook_id"]) == (graph["id"], 1, None)
        assert link_keys(by_id[INPUT_NODE]["output_links"]) == {(INPUT_NODE, "result", CALC_NODE, "a", True)}
        assert by_id[INPUT_NODE]["input_links"] == []
        assert link_keys(by_id[CALC_NODE]["input_links"]) == {(INPUT_NODE, "result", CALC_NODE, "a", True)}
        assert link_keys(by_id[CALC_NODE]["output_links"]) == {(CALC_NODE, "result", OUTPUT_NODE, "value", False)}
        assert link_keys(by_id[OUTPUT_NODE]["input_links"]) == {(CALC_NODE, "result", OUTPUT_NODE, "value", False)}
        assert by_id[OUTPUT_NODE]["output_links"] == []

    def test_each_link_has_autogpts_keys(self, auth_client):
        graph = import_calculator(auth_client)

        exported = auth_client.get(f"/api/v1/graphs/{graph['id']}/export").json()

        assert {tuple(sorted(item)) for item in exported["links"]} == {
            ("id", "is_static", "sink_id", "sink_name", "source_id", "source_name")
        }

    def test_re_importing_an_export_gives_an_equivalent_graph(self, auth_client):
        graph = create_graph(
            auth_client,
            [
                node("in", AGENT_INPUT, name="x", title="The x", advanced=True),
                node("keep", STORE_VALUE, input="kept"),
                node("calc", CALCULATOR, operation="Multiply", b=3, round_result=True),
                node("out", AGENT_OUTPUT, name="product", format="= {{ product }}"),
                node("note", NOTE, text="remember"),
            ],
            [
                link("in", "result", "calc", "a", is_static=True),
                link("calc", "result", "out", "value"),
                link("keep", "output", "out", "description"),
            ],
            name="round trip",
        )
        exported = auth_client.get(f"/api/v1/graphs/{graph['id']}/export").json()

        reimported = post_import(auth_client, exported).json()

        assert reimported["id"] != graph["id"]
        assert content(reimported) == content(graph)
        assert (reimported["name"], reimported["input_schema"], reimported["output_schema"]) == (
            "round trip",
            graph["input_schema"],
            graph["output_schema"],
        )

    def test_re_importing_the_calculator_export_gives_an_equivalent_graph(self, auth_client):
        graph = import_calculator(auth_client)
        exported = auth_client.get(f"/api/v1/graphs/{graph['id']}/export").json()

        reimported = post_import(auth_client, exported).json()

        assert content(reimported) == content(graph) == content(calculator_export())

    def test_exports_the_version_asked_for(self, auth_client):
        graph = import_calculator(auth_client)
        export = calculator_export()
        changed = {"name": "v2", "nodes": export["nodes"], "links": export["links"]}
        assert auth_client.put(f"/api/v1/graphs/{graph['id']}", changed, format="json").status_code == 200

        exported = auth_client.get(f"/api/v1/graphs/{graph['id']}/export?version=1").json()

        assert (exported["version"], exported["is_active"], exported["name"]) == (1, False, "Calculator agent")
        assert all(item["graph_version"] == 1 for item in exported["nodes"])

    def test_a_malformed_version_is_400_naming_version(self, auth_client):
        graph = import_calculator(auth_client)

        assert_error(auth_client.get(f"/api/v1/graphs/{graph['id']}/export?version=x"), 400, field="version")

    def test_another_users_graph_is_404(self, auth_client, other_user):
        theirs = import_calculator(client_for(other_user))

        assert_error(auth_client.get(f"/api/v1/graphs/{theirs['id']}/export"), 404, "not_found")


class TestImportRefusals:
    def test_a_block_id_we_do_not_have_is_400_naming_it_and_saves_nothing(self, auth_client):
        export = calculator_export()
        unknown = "1f292d4a-0000-4977-9684-7c8d560b9f91"
        export["nodes"][2]["block_id"] = unknown

        response = post_import(auth_client, export)

        body = assert_error(response, 400, "validation_error", field=f"nodes.{CALC_NODE}.block_id")
        assert body["details"][f"nodes.{CALC_NODE}.block_id"] == [f"Unknown block id '{unknown}'."]
        assert unknown in body["message"]
        assert counts() == NOTHING

    def test_an_invalid_graph_inside_an_export_saves_nothing(self, auth_client):
        export = calculator_export()
        del export["nodes"][2]["input_default"]["b"]

        response = post_import(auth_client, export)

        assert_error(response, 400, "validation_error", field=f"nodes.{CALC_NODE}.b")
        assert counts() == NOTHING

    @pytest.mark.parametrize("data", [["not", "an", "object"], "a string", 42])
    def test_a_body_that_is_not_an_object_is_400(self, auth_client, data):
        response = auth_client.post("/api/v1/graphs/import", json.dumps(data), content_type="application/json")

        assert_error(response, 400, "validation_error")
        assert counts() == NOTHING

    @pytest.mark.parametrize("nodes", ["missing", None, "nodes", {"a": 1}, [1, 2]])
    def test_an_export_without_a_list_of_node_objects_is_400_naming_nodes(self, auth_client, nodes):
        export = calculator_export()
        if nodes == "missing":
            del export["nodes"]
        else:
            export["nodes"] = nodes

        response = post_import(auth_client, export)

        body = assert_error(response, 400, "validation_error", field="nodes")
        assert body["details"] == {"nodes": ["An agent export needs a list of nodes."]}
        assert counts() == NOTHING

    @pytest.mark.parametrize("links", ["links", [1]])
    def test_links_that_are_not_a_list_of_objects_is_400_naming_links(self, auth_client, links):
        export = calculator_export()
        export["links"] = links

        assert_error(post_import(auth_client, export), 400, "validation_error", field="links")
        assert counts() == NOTHING

    @pytest.mark.parametrize("key", ["id", "block_id"])
    def test_a_node_without_id_or_block_id_is_400_naming_it(self, auth_client, key):
        export = calculator_export()
        del export["nodes"][1][key]

        assert_error(post_import(auth_client, export), 400, "validation_error", field=f"nodes.1.{key}")
        assert counts() == NOTHING

    @pytest.mark.parametrize("key", ["source_id", "source_name", "sink_id", "sink_name"])
    def test_a_link_without_an_end_is_400_naming_it(self, auth_client, key):
        export = calculator_export()
        del export["links"][1][key]

        assert_error(post_import(auth_client, export), 400, "validation_error", field=f"links.1.{key}")
        assert counts() == NOTHING

    def test_requires_write_graph_authentication(self, api_client):
        assert_error(post_import(api_client, calculator_export()), 401, "not_authenticated")
        assert counts() == NOTHING


class TestImportHardening:
    """Malformed exports are 400s naming the field, never 500s, and save nothing."""

    @pytest.mark.parametrize("input_default", ["b=34", [34]])
    def test_an_input_default_that_is_not_an_object_is_400_naming_it(self, auth_client, input_default):
        export = calculator_export()
        export["nodes"][2]["input_default"] = input_default

        response = post_import(auth_client, export)

        assert_error(response, 400, "validation_error", field="nodes.2.input_default")
        assert counts() == NOTHING

    def test_a_name_that_is_a_number_is_saved_as_text(self, auth_client):
        export = calculator_export()
        export["name"] = 123

        response = post_import(auth_client, export)

        assert response.status_code == 201
        assert response.json()["name"] == "123"

    @pytest.mark.parametrize("what, field", [("name", "name"), ("node_id", "nodes.2.id"), ("link_id", "links.0.id")])
    def test_an_over_long_value_is_400_naming_it(self, auth_client, what, field):
        export = calculator_export()
        if what == "name":
            export["name"] = "n" * 201
        elif what == "node_id":
            long_id = "n" * 101
            export["nodes"][2]["id"] = long_id
            for item in export["links"]:
                for end in ("source_id", "sink_id"):
                    if item[end] == CALC_NODE:
                        item[end] = long_id
        else:
            export["links"][0]["id"] = "l" * 101

        assert_error(post_import(auth_client, export), 400, "validation_error", field=field)
        assert counts() == NOTHING

    def test_is_static_false_as_text_is_not_saved_as_static(self, auth_client):
        export = calculator_export()
        export["links"][1]["is_static"] = "false"

        body = post_import(auth_client, export).json()

        assert link_keys(body["links"]) == {
            (CALC_NODE, "result", OUTPUT_NODE, "value", False),
            (INPUT_NODE, "result", CALC_NODE, "a", False),
        }


class TestLegacyBlockIds:
    @pytest.mark.parametrize(
        "legacy_id, block_id, input_default",
        [
            ("31d1064e-7446-4693-o7d4-65e5ca9110d1", NOTE, {"text": "a note"}),
            ("f8e7d6c5-b4a3-2c1d-0e9f-8g7h6i5j4k3l", STEP_THROUGH, {"items": [1, 2]}),
            ("b2g2c3d4-5e6f-7g8h-9i0j-k1l2m3n4o5p6", FIND_IN_DICT, {"input": {"k": 1}, "key": "k"}),
            ("b29c1b50-5d0e-4d9f-8f9d-1b0e6fcbf0h2", GET_CURRENT_DATE_AND_TIME, {"trigger": "go"}),
        ],
    )
    def test_are_remapped_to_our_block(self, auth_client, legacy_id, block_id, input_default):
        export = calculator_export()
        export["nodes"].append({"id": "legacy", "block_id": legacy_id, "input_default": input_default, "metadata": {}})

        response = post_import(auth_client, export)

        assert response.status_code == 201, response.content
        legacy = next(item for item in response.json()["nodes"] if item["id"] == "legacy")
        assert legacy == {"id": "legacy", "block_id": block_id, "input_default": input_default, "metadata": {}}
        assert Node.objects.get(node_id="legacy").block_id == block_id

    def test_the_export_of_a_remapped_graph_carries_the_new_id(self, auth_client):
        export = calculator_export()
        export["nodes"].append(
            {"id": "note", "block_id": "31d1064e-7446-4693-o7d4-65e5ca9110d1", "input_default": {"text": "hi"}}
        )
        graph = post_import(auth_client, export).json()

        exported = auth_client.get(f"/api/v1/graphs/{graph['id']}/export").json()

        assert next(item for item in exported["nodes"] if item["id"] == "note")["block_id"] == NOTE
