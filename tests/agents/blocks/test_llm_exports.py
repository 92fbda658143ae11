"""The LLM nodes of AutoGPT's agent exports (../shared/autogpt-compat/exports) fit our LLM blocks:
every default they set is a pin of ours with a value it accepts, every model is known, every link
names a pin we have, and Smart Decision Maker builds its tools from the exports' tool links."""

import json
import os
from pathlib import Path

import pytest

from agents.blocks import ToolSink, get_block
from agents.blocks.llm import build_tools
from agents.pins import base_pin, is_tool_pin, pin_type_error
from integrations.llm.registry import MODELS

# ../shared beside the repository (AUTOGPT_COMPAT_DIR elsewhere, e.g. in a git worktree).
COMPAT = Path(
    os.environ.get("AUTOGPT_COMPAT_DIR") or Path(__file__).resolve().parents[3].parent / "shared" / "autogpt-compat"
)
EXPORTS = COMPAT / "exports"
LLM_BLOCKS = {
    "1f292d4a-41a4-4977-9684-7c8d560b9f91",
    "ed55ac19-356e-4243-a6cb-bc599e9b716f",
    "a0a69be1-4528-491c-a85a-a4ab6873e3f0",
    "32a87eab-381e-4dd4-bdb8-4c47151be35a",
    "9c0b0450-d199-458b-a731-072189dd6593",
    "3b191d9f-356f-482d-8238-ba04b6d18381",
}


def graphs() -> list[dict]:
    found = []
    for path in sorted(EXPORTS.glob("*.json")):
        export = json.loads(path.read_text())
        found += [export, *export.get("sub_graphs", [])]
    return found


pytestmark = pytest.mark.skipif(
    not EXPORTS.is_dir(), reason="no ../shared/autogpt-compat/exports beside the repository"
)


def llm_nodes() -> list[tuple[dict, dict]]:
    return [(graph, n) for graph in graphs() for n in graph["nodes"] if n["block_id"] in LLM_BLOCKS]


def test_the_exports_have_llm_nodes():
    assert len(llm_nodes()) >= 40
    assert {n["block_id"] for _, n in llm_nodes()} == LLM_BLOCKS - {"32a87eab-381e-4dd4-bdb8-4c47151be35a"}


def test_every_default_of_an_llm_node_is_accepted():
    for _, n in llm_nodes():
        block = get_block(n["block_id"])
        for pin, value in n["input_default"].items():
            assert base_pin(pin) in block.Input.pins(), f"{block.name} has no pin {pin}"
            assert pin_type_error(block.Input, pin, value) is None, f"{block.name}.{pin} refuses {value!r}"
        assert n["input_default"].get("model", "gpt-4o") in MODELS


def test_every_link_of_an_llm_node_names_one_of_its_pins():
    for graph, n in llm_nodes():
        block = get_block(n["block_id"])
        for link in graph["links"]:
            if link["sink_id"] == n["id"]:
                assert base_pin(link["sink_name"]) in block.Input.pins(), link
            if link["source_id"] == n["id"]:
                assert base_pin(link["source_name"]) in block.Output.pins(), link


def test_smart_decision_maker_builds_tools_from_the_exports_links():
    nodes_seen = 0
    for graph, n in llm_nodes():
        if n["block_id"] != "3b191d9f-356f-482d-8238-ba04b6d18381":
            continue
        by_id = {other["id"]: other for other in graph["nodes"]}
        sinks = [
            ToolSink(
                link["source_name"],
                link["sink_id"],
                by_id[link["sink_id"]]["block_id"],
                link["sink_name"],
                by_id[link["sink_id"]]["input_default"],
            )
            for link in graph["links"]
            if link["source_id"] == n["id"] and is_tool_pin(link["source_name"])
        ]
        tools = build_tools(sinks)
        assert {pin for tool in tools for pins in tool.pins.values() for pin in pins} == {s.source_name for s in sinks}
        nodes_seen += 1
    assert nodes_seen == 3
