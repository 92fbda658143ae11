"""Logic blocks: arithmetic, comparisons, counting, iterating and waiting."""

import json
import math
import operator
from enum import StrEnum
from typing import Any

from .base import Block, BlockCategory, BlockOutput, BlockSchema, BlockTestCase, SchemaField
from .registry import register

MAX_ITEMS = 10_000
MAX_ITEMS_TEXT_LENGTH = 10_000_000


class Operation(StrEnum):
    ADD = "Add"
    SUBTRACT = "Subtract"
    MULTIPLY = "Multiply"
    DIVIDE = "Divide"
    POWER = "Power"


@register
class CalculatorBlock(Block):
    """Performs a mathematical operation on two numbers. As in AutoGPT, division by zero gives
    infinity and any other failure (a result out of range, rounding infinity) gives NaN; JSON has
    neither, so they are stored and passed on as the text "Infinity" and "NaN"."""

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
        BlockTestCase({"operation": "Add", "a": 10.0, "b": 5.0, "round_result": False}, [("result", 15.0)]),
        BlockTestCase({"operation": "Add", "a": 8, "b": 34}, [("result", 42.0)]),
        BlockTestCase({"operation": "Divide", "a": 1, "b": 0}, [("result", math.inf)]),
        BlockTestCase({"operation": "Divide", "a": -1, "b": 0, "round_result": True}, [("result", math.inf)]),
        BlockTestCase({"operation": "Power", "a": 2, "b": 10, "round_result": True}, [("result", 1024)]),
        BlockTestCase({"operation": "Power", "a": 10, "b": 400}, [("result", math.isnan)], "overflow"),
        BlockTestCase({"operation": "Power", "a": -8, "b": 0.5}, [("result", math.isnan)], "not a real number"),
        BlockTestCase({"operation": "Multiply", "a": 1e308, "b": 10}, [("result", math.inf)]),
        BlockTestCase({"operation": "Multiply", "a": 1e308, "b": 10, "round_result": True}, [("result", math.isnan)]),
    ]

    _operators: dict[Operation, Any] = {
        Operation.ADD: operator.add,
        Operation.SUBTRACT: operator.sub,
        Operation.MULTIPLY: operator.mul,
        Operation.DIVIDE: operator.truediv,
        Operation.POWER: operator.pow,
    }

    def run(self, input_data, context):
        try:
            result = self._operators[input_data.operation](input_data.a, input_data.b)
            if isinstance(result, complex):  # a negative number to a fractional power
                raise ValueError(result)
            if input_data.round_result:
                result = round(result)
        except ZeroDivisionError:
            result = math.inf
        except (ArithmeticError, ValueError):
            result = math.nan
        yield "result", result


def _comparable(value: Any) -> Any:
    """Numeric text as a number and "true"/"false" as a boolean; anything else unchanged."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for parse in (int, float):
        try:
            number = parse(text)
        except ValueError:
            continue
        if math.isfinite(number):
            return number
    return value


def _matches(a: Any, b: Any) -> bool:
    return a == b or _comparable(a) == _comparable(b)


class ComparisonOperator(StrEnum):
    EQUAL = "=="
    NOT_EQUAL = "!="
    GREATER_THAN = ">"
    LESS_THAN = "<"
    GREATER_THAN_OR_EQUAL = ">="
    LESS_THAN_OR_EQUAL = "<="


_COMPARISONS = {
    ComparisonOperator.EQUAL: operator.eq,
    ComparisonOperator.NOT_EQUAL: operator.ne,
    ComparisonOperator.GREATER_THAN: operator.gt,
    ComparisonOperator.LESS_THAN: operator.lt,
    ComparisonOperator.GREATER_THAN_OR_EQUAL: operator.ge,
    ComparisonOperator.LESS_THAN_OR_EQUAL: operator.le,
}


@register
class ConditionBlock(Block):
    """Compares two values (numeric text compares as a number) and routes on the result:
    `yes_output` fires when the comparison holds, `no_output` when it does not. They carry
    `yes_value` and `no_value`, by default value1 and value2."""

    id = "715696a0-e1da-45c8-b209-c2fa9c3b0be6"
    name = "Condition"
    categories = {BlockCategory.LOGIC}

    class Input(BlockSchema):
        value1: Any = SchemaField(description="The first value.")
        operator: ComparisonOperator = SchemaField(description="The comparison.")
        value2: Any = SchemaField(description="The second value.")
        yes_value: Any = SchemaField(None, description="Sent on yes_output when true; value1 if not set.")
        no_value: Any = SchemaField(None, description="Sent on no_output when false; value2 if not set.")

    class Output(BlockOutput):
        result: bool = SchemaField(description="Whether the comparison holds.")
        yes_output: Any = SchemaField(description="yes_value (or value1) when it holds.")
        no_output: Any = SchemaField(description="no_value (or value2) when it does not.")

    test_cases = [
        BlockTestCase(
            {"value1": 10, "operator": ">", "value2": 5, "yes_value": "Greater", "no_value": "Not greater"},
            [("result", True), ("yes_output", "Greater")],
        ),
        BlockTestCase({"value1": "10", "operator": "<", "value2": "9"}, [("result", False), ("no_output", "9")]),
        BlockTestCase({"value1": " 3.0 ", "operator": "==", "value2": 3}, [("result", True), ("yes_output", " 3.0 ")]),
        BlockTestCase({"value1": "abc", "operator": "!=", "value2": "abd"}, [("result", True), ("yes_output", "abc")]),
        BlockTestCase(
            {"value1": "abc", "operator": ">", "value2": 5},
            [("error", "Cannot compare 'abc' > 5: str and int are not comparable.")],
        ),
    ]

    def run(self, input_data, context):
        a, b = _comparable(input_data.value1), _comparable(input_data.value2)
        try:
            result = bool(_COMPARISONS[input_data.operator](a, b))
        except TypeError:
            yield (
                "error",
                f"Cannot compare {input_data.value1!r} {input_data.operator.value} {input_data.value2!r}: "
                f"{type(a).__name__} and {type(b).__name__} are not comparable.",
            )
            return
        yield "result", result
        if result:
            yield "yes_output", input_data.value1 if input_data.yes_value is None else input_data.yes_value
        else:
            yield "no_output", input_data.value2 if input_data.no_value is None else input_data.no_value


@register
class IfInputMatchesBlock(Block):
    """Checks whether the input equals a value (numeric text and "true"/"false" match their
    numbers and booleans) and routes on the result: `yes_output` fires on a match, `no_output`
    otherwise. They carry `yes_value` and `no_value`, by default the input."""

    id = "6dbbc4b3-ca6c-42b6-b508-da52d23e13f2"
    name = "If Input Matches"
    categories = {BlockCategory.LOGIC}

    class Input(BlockSchema):
        input: Any = SchemaField(description="The input to check.")
        value: Any = SchemaField(description="The value it should match.")
        yes_value: Any = SchemaField(None, description="Sent on yes_output on a match; the input if not set.")
        no_value: Any = SchemaField(None, description="Sent on no_output otherwise; the input if not set.")

    class Output(BlockOutput):
        result: bool = SchemaField(description="Whether the input matches.")
        yes_output: Any = SchemaField(description="yes_value (or the input) on a match.")
        no_output: Any = SchemaField(description="no_value (or the input) otherwise.")

    test_cases = [
        BlockTestCase(
            {"input": 10, "value": 10, "yes_value": "Greater", "no_value": "Not greater"},
            [("result", True), ("yes_output", "Greater")],
        ),
        BlockTestCase(
            {"input": 10, "value": 20, "yes_value": "Greater", "no_value": "Not greater"},
            [("result", False), ("no_output", "Not greater")],
        ),
        BlockTestCase({"input": 10, "value": "10"}, [("result", True), ("yes_output", 10)]),
        BlockTestCase({"input": True, "value": "true"}, [("result", True), ("yes_output", True)]),
        BlockTestCase({"input": "cat", "value": "dog"}, [("result", False), ("no_output", "cat")]),
    ]

    def run(self, input_data, context):
        if _matches(input_data.input, input_data.value):
            yield "result", True
            yield "yes_output", input_data.input if input_data.yes_value is None else input_data.yes_value
        else:
            yield "result", False
            yield "no_output", input_data.input if input_data.no_value is None else input_data.no_value


@register
class CountItemsBlock(Block):
    """Counts the items in a collection: the characters of a text, the elements of a list,
    the keys of a dictionary, or the items of any other iterable."""

    id = "3c9c2f42-b0c3-435f-ba35-05f7a25c772a"
    name = "Count Items"
    categories = {BlockCategory.LOGIC}

    class Input(BlockSchema):
        collection: Any = SchemaField(description="A list, dictionary, text or other iterable.")

    class Output(BlockOutput):
        count: int = SchemaField(description="The number of items.")

    test_cases = [
        BlockTestCase({"collection": [1, 2, 3, 4, 5]}, [("count", 5)]),
        BlockTestCase({"collection": {"a": 1, "b": 2}}, [("count", 2)]),
        BlockTestCase({"collection": "hello"}, [("count", 5)]),
        BlockTestCase({"collection": 42}, [("error", "Cannot count the items of 42 (int): it is not a collection.")]),
    ]

    def run(self, input_data, context):
        collection = input_data.collection
        if hasattr(collection, "__len__"):
            yield "count", len(collection)
        elif hasattr(collection, "__iter__"):
            yield "count", sum(1 for _ in collection)
        else:
            yield (
                "error",
                f"Cannot count the items of {collection!r} ({type(collection).__name__}): it is not a collection.",
            )


@register
class StepThroughItemsBlock(Block):
    """Steps through a list, a dictionary or JSON text of either, yielding each entry on `item`
    and its index (or dictionary key) on `key`, one pair at a time."""

    id = "f66a3543-28d3-4ab5-8945-9b336371e2ce"
    name = "Step Through Items"
    categories = {BlockCategory.LOGIC}

    class Input(BlockSchema):
        items: list[Any] = SchemaField(default_factory=list, description="A list to step through.")
        items_object: dict[str, Any] = SchemaField(default_factory=dict, description="A dictionary to step through.")
        items_str: str = SchemaField("", description="JSON text of a list or dictionary to step through.")

    class Output(BlockOutput):
        item: Any = SchemaField(description="The current item.")
        key: Any = SchemaField(description="Its index in the list, or its key in the dictionary.")

    test_cases = [
        BlockTestCase(
            {"items": [1, "two", {"three": 3}]},
            [("item", 1), ("key", 0), ("item", "two"), ("key", 1), ("item", {"three": 3}), ("key", 2)],
        ),
        BlockTestCase({"items_object": {"a": 1, "b": 2}}, [("item", 1), ("key", "a"), ("item", 2), ("key", "b")]),
        BlockTestCase({"items_str": '["x", "y"]'}, [("item", "x"), ("key", 0), ("item", "y"), ("key", 1)]),
        BlockTestCase({"items": []}, []),
        BlockTestCase({"items_str": "[1, 2"}, [("error", "items_str is not valid JSON: Expecting ',' delimiter")]),
        BlockTestCase({"items_str": "42"}, [("error", "items_str must be a JSON list or object, not int.")]),
    ]

    def run(self, input_data, context):
        sources: list[list[Any] | dict[str, Any]] = [input_data.items, input_data.items_object]
        if input_data.items_str:
            if len(input_data.items_str) > MAX_ITEMS_TEXT_LENGTH:
                yield "error", f"items_str is too long: more than {MAX_ITEMS_TEXT_LENGTH} characters."
                return
            try:
                parsed = json.loads(input_data.items_str)
            except json.JSONDecodeError as exc:
                yield "error", f"items_str is not valid JSON: {exc.msg}"
                return
            if not isinstance(parsed, list | dict):
                yield "error", f"items_str must be a JSON list or object, not {type(parsed).__name__}."
                return
            sources.append(parsed)
        total = sum(len(source) for source in sources)
        if total > MAX_ITEMS:
            yield "error", f"Too many items: {total}; at most {MAX_ITEMS} can be stepped through."
            return
        for source in sources:
            pairs = source.items() if isinstance(source, dict) else enumerate(source)
            for key, item in pairs:
                yield "item", item
                yield "key", key


@register
class CountdownTimerBlock(Block):
    """Waits for the given duration, then yields the message; with `repeat`, waits and yields
    again that many times. Stopping the execution ends the wait at once."""

    id = "d67a9c52-5e4e-11e2-bcfd-0800200c9a71"
    name = "Countdown Timer"
    categories = {BlockCategory.LOGIC}

    class Input(BlockSchema):
        input_message: Any = SchemaField("timer finished", description="The message to yield when the time is up.")
        seconds: int = SchemaField(0, ge=0, description="Seconds to wait.")
        minutes: int = SchemaField(0, ge=0, description="Minutes to wait.")
        hours: int = SchemaField(0, ge=0, description="Hours to wait.")
        days: int = SchemaField(0, ge=0, description="Days to wait.")
        repeat: int = SchemaField(1, ge=0, description="How many times to wait and yield the message.")

    class Output(BlockOutput):
        output_message: Any = SchemaField(description="The message, once the time is up.")

    test_cases = [
        BlockTestCase({"seconds": 0}, [("output_message", "timer finished")]),
        BlockTestCase(
            {"input_message": "Custom message", "seconds": "0", "repeat": 2},
            [("output_message", "Custom message"), ("output_message", "Custom message")],
        ),
    ]

    def run(self, input_data, context):
        total_seconds = input_data.seconds + 60 * (input_data.minutes + 60 * (input_data.hours + 24 * input_data.days))
        for _ in range(input_data.repeat):
            context.sleep(total_seconds)
            yield "output_message", input_data.input_message
