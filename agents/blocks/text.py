"""Text blocks: templates, joining, splitting, replacing and regular expressions."""

import json
import re
from typing import Any

import jinja2
import jinja2.sandbox

from .base import Block, BlockCategory, BlockOutput, BlockSchema, BlockTestCase, SchemaField
from .registry import register

_TEMPLATES = {
    escape_html: jinja2.sandbox.ImmutableSandboxedEnvironment(autoescape=escape_html) for escape_html in (False, True)
}


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _flags(case_sensitive: bool, dot_all: bool) -> int:
    return (0 if case_sensitive else re.IGNORECASE) | (re.DOTALL if dot_all else 0)


@register
class FillTextTemplateBlock(Block):
    """Fills a Jinja2 template with values: `{{ name }}` is replaced by the value named `name`,
    and loops and conditions (`{% for %}`, `{% if %}`) are available. The template runs in a
    sandbox."""

    id = "db7d8f02-2f44-4c55-ab7a-eae0941f0c30"
    name = "Fill Text Template"
    categories = {BlockCategory.TEXT}

    class Input(BlockSchema):
        values: dict[str, Any] = SchemaField(description="The values, by name, to use in the template.")
        format: str = SchemaField(description="The Jinja2 template, e.g. 'Hello {{ name }}!'.")
        escape_html: bool = SchemaField(False, description="Escape HTML in the values.", advanced=True)

    class Output(BlockOutput):
        output: str = SchemaField(description="The filled-in text.")

    test_cases = [
        BlockTestCase(
            {
                "values": {"name": "Alice", "hello": "Hello", "world": "World!"},
                "format": "{{hello}}, {{ world }} {{name}}",
            },
            [("output", "Hello, World! Alice")],
        ),
        BlockTestCase(
            {"values": {"list": ["Hello", " World!"]}, "format": "{% for item in list %}{{ item }}{% endfor %}"},
            [("output", "Hello World!")],
        ),
        BlockTestCase({"values": {"x": "<b>"}, "format": "{{ x }}", "escape_html": True}, [("output", "&lt;b&gt;")]),
        BlockTestCase(
            {"values": {}, "format": "{% if %}"},
            [("error", "Could not fill the template: Expected an expression, got 'end of statement block'")],
        ),
    ]

    def run(self, input_data, context):
        try:
            template = _TEMPLATES[input_data.escape_html].from_string(input_data.format)
            output = template.render(input_data.values)
        except Exception as exc:
            yield "error", f"Could not fill the template: {exc}"
            return
        yield "output", output


@register
class CombineTextsBlock(Block):
    """Joins a list of texts into one text, with an optional delimiter between them."""

    id = "e30a4d42-7b7d-4e6a-b36e-1f9b8e3b7d85"
    name = "Combine Texts"
    categories = {BlockCategory.TEXT}

    class Input(BlockSchema):
        input: list[str] = SchemaField(description="The texts to join.")
        delimiter: str = SchemaField("", description="What to put between them.")

    class Output(BlockOutput):
        output: str = SchemaField(description="The joined text.")

    test_cases = [
        BlockTestCase(
            {"input": ["Hello world I like ", "cake and to go for walks"]},
            [("output", "Hello world I like cake and to go for walks")],
        ),
        BlockTestCase({"input": ["This is a test", "Hi!"], "delimiter": "! "}, [("output", "This is a test! Hi!")]),
        BlockTestCase({"input": []}, [("output", "")]),
    ]

    def run(self, input_data, context):
        yield "output", input_data.delimiter.join(input_data.input)


@register
class MatchTextPatternBlock(Block):
    """Checks text against a regular expression and forwards `data` (or the text when `data`
    is empty) on `positive` when it matches, on `negative` when it does not. Non-text input is
    matched as JSON."""

    id = "3060088f-6ed9-4928-9ba7-9c92823a7ccd"
    name = "Match Text Pattern"
    categories = {BlockCategory.TEXT}

    class Input(BlockSchema):
        text: Any = SchemaField(description="The text to check.")
        match: str = SchemaField(description="The regular expression to search for.")
        data: Any = SchemaField(description="What to forward; the text when empty.")
        case_sensitive: bool = SchemaField(True, description="Match letter case exactly.")
        dot_all: bool = SchemaField(True, description="Let '.' match newlines too.")

    class Output(BlockOutput):
        positive: Any = SchemaField(description="The data, when the pattern matches.")
        negative: Any = SchemaField(description="The data, when it does not.")

    test_cases = [
        BlockTestCase({"text": "ABC", "match": "ab", "data": "X", "case_sensitive": False}, [("positive", "X")]),
        BlockTestCase({"text": "ABC", "match": "ab", "data": "Y"}, [("negative", "Y")]),
        BlockTestCase({"text": "Hello World!", "match": ".orld.+", "data": None}, [("positive", "Hello World!")]),
        BlockTestCase({"text": {"a": 1}, "match": '"a": 1', "data": "Z"}, [("positive", "Z")]),
        BlockTestCase(
            {"text": "x", "match": "(", "data": None},
            [("error", "Invalid regular expression '(': missing ), unterminated subpattern at position 0")],
        ),
    ]

    def run(self, input_data, context):
        try:
            pattern = re.compile(input_data.match, _flags(input_data.case_sensitive, input_data.dot_all))
        except re.error as exc:
            yield "error", f"Invalid regular expression {input_data.match!r}: {exc}"
            return
        output = input_data.text if input_data.data is None else input_data.data
        yield ("positive" if pattern.search(_as_text(input_data.text)) else "negative"), output


@register
class ExtractTextInformationBlock(Block):
    """Extracts text with a regular expression: the whole match or one group of it. Yields each
    match on `positive` (the first only, unless `find_all`), or the text on `negative` when
    nothing matches, then the list of matches and their count."""

    id = "3146e4fe-2cdd-4f29-bd12-0c9d5bb4deb0"
    name = "Extract Text Information"
    categories = {BlockCategory.TEXT}

    class Input(BlockSchema):
        text: Any = SchemaField(description="The text to search; non-text is searched as JSON.")
        pattern: str = SchemaField(description="The regular expression.")
        group: int = SchemaField(0, ge=0, description="The group to extract; 0 is the whole match.")
        case_sensitive: bool = SchemaField(True, description="Match letter case exactly.")
        dot_all: bool = SchemaField(True, description="Let '.' match newlines too.")
        find_all: bool = SchemaField(False, description="Extract every match, not only the first.")

    class Output(BlockOutput):
        positive: str = SchemaField(description="An extracted text.")
        negative: Any = SchemaField(description="The input text, when nothing matches.")
        matched_results: list[str] = SchemaField(description="The extracted texts.")
        matched_count: int = SchemaField(description="How many were extracted.")

    test_cases = [
        BlockTestCase(
            {"text": "Hello, World!", "pattern": "Hello, (.+)", "group": 1},
            [("positive", "World!"), ("matched_results", ["World!"]), ("matched_count", 1)],
        ),
        BlockTestCase(
            {"text": "Hello, World!", "pattern": "Hello, (.+)", "group": 2},
            [("negative", "Hello, World!"), ("matched_results", []), ("matched_count", 0)],
        ),
        BlockTestCase(
            {"text": "Hello, World!", "pattern": "hello,", "case_sensitive": False},
            [("positive", "Hello,"), ("matched_results", ["Hello,"]), ("matched_count", 1)],
        ),
        BlockTestCase(
            {"text": "Hello, World!! Hello, Earth!!", "pattern": r"Hello, (\S+)", "group": 1, "find_all": True},
            [
                ("positive", "World!!"),
                ("positive", "Earth!!"),
                ("matched_results", ["World!!", "Earth!!"]),
                ("matched_count", 2),
            ],
        ),
        BlockTestCase(
            {"text": "x", "pattern": "[a-"},
            [("error", "Invalid regular expression '[a-': unterminated character set at position 0")],
        ),
    ]

    def run(self, input_data, context):
        try:
            pattern = re.compile(input_data.pattern, _flags(input_data.case_sensitive, input_data.dot_all))
        except re.error as exc:
            yield "error", f"Invalid regular expression {input_data.pattern!r}: {exc}"
            return
        matches = []
        if input_data.group <= pattern.groups:
            for match in pattern.finditer(_as_text(input_data.text)):
                matches.append(match.group(input_data.group) or "")
                if not input_data.find_all:
                    break
        for match in matches:
            yield "positive", match
        if not matches:
            yield "negative", input_data.text
        yield "matched_results", matches
        yield "matched_count", len(matches)


@register
class TextSplitBlock(Block):
    """Splits text at a delimiter into a list of texts, stripping the spaces around each
    unless told not to. Empty text gives an empty list."""

    id = "d5ea33c8-a575-477a-b42f-2fe3be5055ec"
    name = "Text Split"
    categories = {BlockCategory.TEXT}

    class Input(BlockSchema):
        text: str = SchemaField("", description="The text to split.")
        delimiter: str = SchemaField(",", min_length=1, description="Where to split it.")
        strip: bool = SchemaField(True, description="Strip spaces around each part.")

    class Output(BlockOutput):
        texts: list[str] = SchemaField(description="The parts.")

    test_cases = [
        BlockTestCase({"text": "Hello, World!"}, [("texts", ["Hello", "World!"])]),
        BlockTestCase({"text": "Hello, World!", "delimiter": ",", "strip": False}, [("texts", ["Hello", " World!"])]),
        BlockTestCase({"text": "a | b", "delimiter": "|"}, [("texts", ["a", "b"])]),
        BlockTestCase({"text": ""}, [("texts", [])]),
    ]

    def run(self, input_data, context):
        if not input_data.text:
            yield "texts", []
            return
        texts = input_data.text.split(input_data.delimiter)
        yield "texts", [text.strip() for text in texts] if input_data.strip else texts


@register
class TextReplaceBlock(Block):
    """Replaces every occurrence of one piece of text with another."""

    id = "7e7c87ab-3469-4bcc-9abe-67705091b713"
    name = "Text Replace"
    categories = {BlockCategory.TEXT}

    class Input(BlockSchema):
        text: str = SchemaField(description="The text to change.")
        old: str = SchemaField(description="The text to replace.")
        new: str = SchemaField(description="What to replace it with.")

    class Output(BlockOutput):
        output: str = SchemaField(description="The changed text.")

    test_cases = [
        BlockTestCase({"text": "Hello, World!", "old": "Hello", "new": "Hi"}, [("output", "Hi, World!")]),
        BlockTestCase({"text": "a-b-c", "old": "-", "new": ""}, [("output", "abc")]),
    ]

    def run(self, input_data, context):
        yield "output", input_data.text.replace(input_data.old, input_data.new)
