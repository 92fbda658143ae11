"""Building graphs for tests, and running them through the REST API against a real worker."""

import json
import time
from pathlib import Path

from rest_framework.test import APIClient

from executions.models import TERMINAL_STATUSES

# The AutoGPT export from ../shared/autogpt-compat/, kept in the repository as an example agent.
CALCULATOR_EXPORT = Path(__file__).resolve().parent.parent / "agents" / "examples" / "calculator-agent.json"

AGENT_INPUT = "c0a8e994-ebf1-4a9c-a4d8-89d09c86741b"
AGENT_OUTPUT = "363ae599-353e-4804-937e-b2ee3cef3da4"
STORE_VALUE = "1ff065e9-88e8-4358-9d82-8dc91f622ba9"
CALCULATOR = "b1ab9b19-67a6-406d-abf5-2dba76d00c79"
STEP_THROUGH = "f66a3543-28d3-4ab5-8945-9b336371e2ce"
COUNTDOWN = "d67a9c52-5e4e-11e2-bcfd-0800200c9a71"
FILL_TEMPLATE = "db7d8f02-2f44-4c55-ab7a-eae0941f0c30"
CREATE_LIST = "a912d5c7-6e00-4542-b2a9-8034136930e4"
GET_LIST_ITEM = "262ca24c-1025-43cf-a578-534e23234e97"
FIND_IN_DICT = "0e50422c-6dee-4145-83d6-3a5a392f65de"
AGENT_EXECUTOR = "e189baac-8c20-45a1-94a7-55177ea42565"
NOTE = "cc10ff7b-7753-4ff2-9af6-9399b1a7eddc"
COUNT_SIDE_EFFECT = "00000000-0000-4000-8000-00000000c001"
KILL_WORKER = "00000000-0000-4000-8000-00000000c002"
BIG_OUTPUT = "00000000-0000-4000-8000-00000000c003"
UNSTORABLE_OUTPUT = "00000000-0000-4000-8000-00000000c004"
HOLD_GIL = "00000000-0000-4000-8000-00000000c005"
RECORD_RUN = "00000000-0000-4000-8000-00000000c006"
MATCH_TEXT_PATTERN = "3060088f-6ed9-4928-9ba7-9c92823a7ccd"


def node(node_id: str, block_id: str, **input_default) -> dict:
    return {"id": node_id, "block_id": block_id, "input_default": input_default, "metadata": {}}


def link(source_id: str, source_name: str, sink_id: str, sink_name: str, is_static: bool = False) -> dict:
    return {
        "source_id": source_id,
        "source_name": source_name,
        "sink_id": sink_id,
        "sink_name": sink_name,
        "is_static": is_static,
    }


def create_graph(client: APIClient, nodes: list, links: list, name: str = "test graph") -> dict:
    response = client.post("/api/v1/graphs", {"name": name, "nodes": nodes, "links": links}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def import_calculator(client: APIClient) -> dict:
    response = client.post("/api/v1/graphs/import", json.loads(CALCULATOR_EXPORT.read_text()), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def create_calculator_parent(client: APIClient) -> tuple[dict, dict]:
    """The calculator (child) and a graph (parent) whose Agent Executor runs it with input 8 and
    outputs its answer: (child, parent)."""
    child = import_calculator(client)
    parent = create_graph(
        client,
        [
            node(
                "run-child", AGENT_EXECUTOR, graph_id=child["id"], graph_version=child["version"], inputs={"Input": 8}
            ),
            node("out", AGENT_OUTPUT, name="answer"),
        ],
        [link("run-child", "Output", "out", "value")],
        name="parent",
    )
    return child, parent


def execute(client: APIClient, graph: dict, inputs: dict | None = None) -> dict:
    response = client.post(
        f"/api/v1/graphs/{graph['id']}/execute/{graph['version']}", {"inputs": inputs or {}}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def wait_for_status(client: APIClient, exec_id: str, statuses=TERMINAL_STATUSES, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        detail = client.get(f"/api/v1/executions/{exec_id}").json()
        if detail["status"] in statuses:
            return detail
        if time.monotonic() > deadline:
            raise TimeoutError(f"execution {exec_id} is still {detail['status']} after {timeout} s: {detail}")
        time.sleep(0.05)


def run_graph(client: APIClient, graph: dict, inputs: dict | None = None, timeout: float = 30) -> dict:
    return wait_for_status(client, execute(client, graph, inputs)["id"], timeout=timeout)


def node_runs(detail: dict, node_id: str) -> list[dict]:
    return [n for n in detail["node_executions"] if n["node_id"] == node_id]
