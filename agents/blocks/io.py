"""Input and output blocks: the graph's interface, plus Store Value, Note and Print To Console."""

import datetime
import logging
from typing import Any

import jinja2
from markupsafe import escape

from .base import Block, BlockCategory, BlockContext, BlockOutput, BlockSchema, BlockTestCase, SchemaField
from .registry import register
from .templating import BoundedSandbox, render_bounded


class AgentInputBlock(Block):
    """A graph input: the execution's input named `name` becomes this node's value."""

    id = "c0a8e994-ebf1-4a9c-a4d8-89d09c86741b"
    name = "Agent Input"
    categories = {BlockCategory.INPUT, BlockCategory.BASIC}
    static_output = True

    class Input(BlockSchema):
        name: str = SchemaField(description="The name of the graph input.")
        value: Any = SchemaField(None, description="The value; the execution's input of this name replaces it.")
        title: str | None = SchemaField(None, description="A title for the input.", advanced=True)
        description: str | None = SchemaField(None, description="What the input is for.", advanced=True)
        advanced: bool = SchemaField(False, description="Hide it under advanced settings.", advanced=True)
        secret: bool = SchemaField(False, description="Mask the value in the UI.", advanced=True)

    class Output(BlockOutput):
        result: Any = SchemaField(description="The input's value.")

    test_cases = [
        BlockTestCase({"name": "x", "value": 5}, [("result", 5)]),
        BlockTestCase({"name": "x", "value": None}, [], "no value: nothing is yielded"),
    ]

    # The JSON Schema type of `value`, for the graph's derived input schema.
    value_schema: dict[str, Any] = {}

    @classmethod
    def value_type_schema(cls) -> dict[str, Any]:
        return dict(cls.value_schema)

    def run(self, input_data, context: BlockContext):
        if input_data.value is not None:
            yield "result", input_data.value


@register
class AgentInput(AgentInputBlock):
    pass


@register
class AgentShortTextInput(AgentInputBlock):
    """A short line of text as a graph input."""

    id = "7fcd3bcb-8e1b-4e69-903d-32d3d4a92158"
    name = "Agent Short Text Input"
    value_schema = {"type": "string"}

    class Input(AgentInputBlock.Input):
        value: str | None = SchemaField(None, description="Short text.")

    test_cases = [BlockTestCase({"name": "t", "value": "hi"}, [("result", "hi")])]


@register
class AgentLongTextInput(AgentInputBlock):
    """Long, multi-line text as a graph input."""

    id = "90a56ffb-7024-4b2b-ab50-e26c5e5ab8ba"
    name = "Agent Long Text Input"
    value_schema = {"type": "string", "format": "long-text"}

    class Input(AgentInputBlock.Input):
        value: str | None = SchemaField(None, description="Long text.")

    test_cases = [BlockTestCase({"name": "t", "value": "a\nb"}, [("result", "a\nb")])]


@register
class AgentNumberInput(AgentInputBlock):
    """A whole number as a graph input."""

    id = "96dae2bb-97a2-41c2-bd2f-13a3b5a8ea98"
    name = "Agent Number Input"
    value_schema = {"type": "integer"}

    class Input(AgentInputBlock.Input):
        value: int | None = SchemaField(None, description="A number.")

    test_cases = [BlockTestCase({"name": "n", "value": "42"}, [("result", 42)])]


@register
class AgentDateInput(AgentInputBlock):
    """A date (YYYY-MM-DD) as a graph input."""

    id = "7e198b09-4994-47db-8b4d-952d98241817"
    name = "Agent Date Input"
    value_schema = {"type": "string", "format": "date"}

    class Input(AgentInputBlock.Input):
        value: datetime.date | None = SchemaField(None, description="A date, YYYY-MM-DD.")

    def run(self, input_data, context):
        if input_data.value is not None:
            yield "result", input_data.value.isoformat()

    test_cases = [BlockTestCase({"name": "d", "value": "2026-01-31"}, [("result", "2026-01-31")])]


@register
class AgentTimeInput(AgentInputBlock):
    """A time of day (HH:MM:SS) as a graph input."""

    id = "2a1c757e-86cf-4c7e-aacf-060dc382e434"
    name = "Agent Time Input"
    value_schema = {"type": "string", "format": "time"}

    class Input(AgentInputBlock.Input):
        value: datetime.time | None = SchemaField(None, description="A time, HH:MM:SS.")

    def run(self, input_data, context):
        if input_data.value is not None:
            yield "result", input_data.value.isoformat()

    test_cases = [BlockTestCase({"name": "t", "value": "13:45:00"}, [("result", "13:45:00")])]


@register
class AgentToggleInput(AgentInputBlock):
    """A yes/no switch as a graph input."""

    id = "cbf36ab5-df4a-43b6-8a7f-f7ed8652116e"
    name = "Agent Toggle Input"
    value_schema = {"type": "boolean"}

    class Input(AgentInputBlock.Input):
        value: bool = SchemaField(False, description="On or off.")

    test_cases = [
        BlockTestCase({"name": "b", "value": True}, [("result", True)]),
        BlockTestCase({"name": "b"}, [("result", False)]),
    ]


@register
class AgentDropdownInput(AgentInputBlock):
    """One value out of a list of options as a graph input."""

    id = "655d6fdf-a334-421c-b733-520549c07cd1"
    name = "Agent Dropdown Input"

    class Input(AgentInputBlock.Input):
        options: list[Any] = SchemaField(default_factory=list, description="The allowed values.")
        placeholder_values: list[Any] = SchemaField(
            default_factory=list, description="Older exports' options.", advanced=True
        )

    def run(self, input_data, context):
        options = input_data.options or input_data.placeholder_values
        if input_data.value is None:
            return
        if options and input_data.value not in options:
            yield "error", f"'{input_data.value}' is not one of the options: {options}"
            return
        yield "result", input_data.value

    test_cases = [
        BlockTestCase({"name": "c", "value": "b", "options": ["a", "b"]}, [("result", "b")]),
        BlockTestCase(
            {"name": "c", "value": "z", "options": ["a", "b"]}, [("error", "'z' is not one of the options: ['a', 'b']")]
        ),
    ]


@register
class AgentTableInput(AgentInputBlock):
    """Rows of a table (a list of dictionaries) as a graph input."""

    id = "5603b273-f41e-4020-af7d-fbc9c6a8d928"
    name = "Agent Table Input"
    value_schema = {"type": "array", "items": {"type": "object"}}

    class Input(AgentInputBlock.Input):
        value: list[dict[str, Any]] | None = SchemaField(None, description="The rows.")
        column_headers: list[str] = SchemaField(default_factory=list, description="The columns.")

    test_cases = [BlockTestCase({"name": "t", "value": [{"a": 1}]}, [("result", [{"a": 1}])])]


@register
class AgentOutputBlock(Block):
    """A graph output: what reaches it is recorded as the execution's output named `name`, and
    passed on with that name. With `format` (a Jinja2 template; the value is available under the
    output's name and as `value`) it records the formatted text instead, and yields only that, as
    AutoGPT's block does."""

    id = "363ae599-353e-4804-937e-b2ee3cef3da4"
    name = "Agent Output"
    categories = {BlockCategory.OUTPUT, BlockCategory.BASIC}
    static_output = True

    class Input(BlockSchema):
        value: Any = SchemaField(None, description="The value to record.")
        name: str = SchemaField(description="The name of the graph output.")
        title: str | None = SchemaField(None, description="A title for the output.", advanced=True)
        description: str | None = SchemaField(None, description="What the output is.", advanced=True)
        format: str = SchemaField("", description="A Jinja2 template for the value.", advanced=True)
        escape_html: bool = SchemaField(False, description="Escape HTML in the value before formatting.", advanced=True)
        advanced: bool = SchemaField(False, description="Hide it under advanced settings.", advanced=True)
        secret: bool = SchemaField(False, description="Mask the value in the UI.", advanced=True)

    class Output(BlockOutput):
        output: Any = SchemaField(description="The value recorded.")
        name: str = SchemaField(description="The output's name.")

    test_cases = [
        BlockTestCase({"name": "out", "value": 42}, [("output", 42), ("name", "out")]),
        # AutoGPT's own cases: with a format, only the formatted output.
        BlockTestCase(
            {"value": "Hello, World!", "name": "output_1", "format": "{{ output_1 }}!!"},
            [("output", "Hello, World!!!")],
        ),
        BlockTestCase({"value": "42", "name": "output_2", "format": "{{ output_2 }}"}, [("output", "42")]),
        BlockTestCase({"name": "out", "value": "Ada", "format": "Hello {{ out }}!"}, [("output", "Hello Ada!")]),
        BlockTestCase(
            {"name": "o", "value": "<b>", "format": "{{ value }}", "escape_html": True}, [("output", "&lt;b&gt;")]
        ),
    ]

    def run(self, input_data, context):
        if not input_data.format:
            yield "output", input_data.value
            yield "name", input_data.name
            return
        value = str(escape(input_data.value)) if input_data.escape_html else input_data.value
        try:
            template = _SANDBOX.from_string(input_data.format)
            text = render_bounded(template, {input_data.name: value, "value": value}, context)
        except jinja2.TemplateError as exc:
            yield "error", f"Could not format the output: {exc}"
            return
        yield "output", text


_SANDBOX = BoundedSandbox(autoescape=False, undefined=jinja2.StrictUndefined)


@register
class StoreValueBlock(Block):
    """Keeps a value and passes it on: `data` when given, else `input`. Its links are static,
    so later runs downstream reuse the stored value."""

    id = "1ff065e9-88e8-4358-9d82-8dc91f622ba9"
    name = "Store Value"
    categories = {BlockCategory.BASIC}
    static_output = True

    class Input(BlockSchema):
        input: Any = SchemaField(description="Triggers the block; passed on when `data` is not set.")
        data: Any = SchemaField(None, description="The value to store and pass on instead of `input`.")

    class Output(BlockOutput):
        output: Any = SchemaField(description="The stored value.")

    test_cases = [
        BlockTestCase({"input": "x"}, [("output", "x")]),
        BlockTestCase({"input": "x", "data": {"k": 1}}, [("output", {"k": 1})]),
    ]

    def run(self, input_data, context):
        yield "output", input_data.data if input_data.data is not None else input_data.input


@register
class NoteBlock(Block):
    """A comment on the canvas. It never runs as a step."""

    id = "cc10ff7b-7753-4ff2-9af6-9399b1a7eddc"
    name = "Note"
    categories = {BlockCategory.BASIC}
    runs = False

    class Input(BlockSchema):
        text: str = SchemaField(description="The note.")

    class Output(BlockOutput):
        output: str = SchemaField(description="The note's text.")

    test_cases = [BlockTestCase({"text": "remember"}, [("output", "remember")])]

    def run(self, input_data, context):
        yield "output", input_data.text


@register
class PrintToConsoleBlock(Block):
    """Prints its text to the worker's log and passes it on."""

    id = "f3b1c1b2-4c4f-4f0d-8d2f-4c4f0d8d2f4c"
    name = "Print To Console"
    categories = {BlockCategory.BASIC, BlockCategory.DEVELOPER_TOOLS}

    class Input(BlockSchema):
        text: Any = SchemaField(description="What to print.")

    class Output(BlockOutput):
        output: Any = SchemaField(description="The text printed.")
        status: str = SchemaField(description='"printed".')

    test_cases = [BlockTestCase({"text": "hello"}, [("output", "hello"), ("status", "printed")])]

    def run(self, input_data, context):
        logging.getLogger("agents.console").info("[%s] %s", context.node_id, input_data.text)
        yield "output", input_data.text
        yield "status", "printed"
