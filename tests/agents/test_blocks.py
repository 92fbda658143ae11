"""Every registered block's own test cases, run through the block's schema validation."""

import uuid

import pytest

from agents.blocks import Block, BlockContext, all_blocks
from agents.pins import base_pin

CASES = [
    pytest.param(block, case, id=f"{block.name}[{index}]")
    for block in all_blocks()
    for index, case in enumerate(block.test_cases)
]


def run_case(block: type[Block], case) -> list[tuple[str, object]]:
    """The outputs, and a failure as the engine reports it: its message on `error`."""
    context = BlockContext(user_id="test-user", graph_exec_id="test-exec", node_id="test-node", **case.context)
    instance = block()
    for name, mock in case.mocks.items():
        setattr(instance, name, mock)
    outputs: list[tuple[str, object]] = []
    try:
        outputs.extend(instance.execute(case.input, context))
    except Exception as exc:  # noqa: BLE001 - as executions/engine.py: the node fails with the message
        outputs.append(("error", str(exc) or type(exc).__name__))
    return outputs


@pytest.mark.parametrize("block, case", CASES)
def test_block_case(block, case):
    outputs = run_case(block, case)

    assert len(outputs) == len(case.output), f"{block.name}: {outputs} != {case.output}"
    for (pin, value), (expected_pin, expected) in zip(outputs, case.output, strict=True):
        assert pin == expected_pin
        if callable(expected):
            assert expected(value), f"{block.name}: {pin}={value!r} rejected by its check"
        else:
            assert value == expected


@pytest.mark.parametrize("block", all_blocks(), ids=lambda block: block.name)
def test_block_is_well_formed(block):
    assert block.description(), f"{block.name} needs a docstring: it is the block's description"
    assert block.test_cases, f"{block.name} declares no test cases"
    assert "error" in block.Output.model_fields
    assert block.Input.model_json_schema()["type"] == "object"
    if not block.dynamic_output_pins:
        assert set(block.Output.pins()) - {"error"}, f"{block.name} has no output pin besides error"
        for case in block.test_cases:
            assert {base_pin(pin) for pin, _ in case.output} <= block.Output.pins()


def test_block_ids_are_unique_uuids():
    ids = [block.id for block in all_blocks()]
    assert len(ids) == len(set(ids))
    for block_id in ids:
        uuid.UUID(block_id)
