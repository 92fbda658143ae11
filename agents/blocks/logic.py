"""Logic blocks: arithmetic, comparisons, counting, iterating and waiting."""
import operator
from enum import StrEnum
from typing import Any

from .base import Block, BlockCategory, BlockOutput, BlockSchema, BlockTestCase, SchemaField
from .registry import register


class Operation(StrEnum):
    ADD = "Add"
    SUBTRACT = "Subtract"
    MULTIPLY = "Multiply"
    DIVIDE = "Divide"
    POWER = "Power"


@register
class CalculatorBlock(Block):
    """Performs a mathematical operation on two numbers. Division by zero gives infinity."""

    id = "b1ab9b19-67a6-406d-abf5-2dba76d00c79"
    name = "Calculator"
    categories = {BlockCategory.LOGIC}

    class Input(BlockSchema):
        operation: Operation = SchemaField(description="The operation to perform.")
        a: float = SchemaField(description="The first number.")
        b: float = SchemaField(description="The second number.")
        round_result: bool = SchemaField(False, description="Round the result to a whole number.")

    class Output(BlockOutput):
        result: float = SchemaField(description="The result.")

    test_cases = [
        BlockTestCase({"operation": "Add", "a": 8, "b": 34}, [("result", 42.0)]),
        BlockTestCase({"operation": "Divide", "a": 1, "b": 0}, [("result", float("inf"))]),
        BlockTestCase({"operation": "Power", "a": 2, "b": 10, "round_result": True}, [("result", 1024)]),
    ]

    _operators: dict[Operation, Any] = {
        Operation.ADD: operator.add,
        Operation.SUBTRACT: operator.sub,
        Operation.MULTIPLY: operator.mul,
        Operation.POWER: operator.pow,
    }

    def run(self, input_data, context):
        a, b = input_data.a, input_data.b
        if input_data.operation == Operation.DIVIDE:
            result = float("inf") if b == 0 else a / b
        else:
            try:
                result = self._operators[input_data.operation](a, b)
            except OverflowError:
                result = float("inf")
        if input_data.round_result and result not in (float("inf"), float("-inf")):
            result = round(result)
        yield "result", result
