"""Text blocks: templates, joining, splitting, replacing and regular expressions."""

import json
from typing import Any

import regex
from django.conf import settings

from .base import (
    Block,
    BlockCategory,
    BlockError,
    BlockOutput,
    BlockSchema,
    BlockTestCase,
    ExecutionCancelled,
    SchemaField,
)
from .registry import register
from .templating import BoundedSandbox, render_bounded

_TEMPLATES = {escape_html: BoundedSandbox(autoescape=escape_html) for escape_html in (False, True)}


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _compile(pattern: str, *, case_sensitive: bool, dot_all: bool) -> regex.Pattern:
    """A user's pattern, compiled by `regex` (re's syntax), whose matching can be given a timeout."""
    flags = (0 if case_sensitive else regex.IGNORECASE) | (regex.DOTALL if dot_all else 0)
    try:
        return regex.compile(pattern, flags)
    except regex.error as exc:
        raise BlockError(f"Invalid regular expression {pattern!r}: {exc}") from exc


def _timed_out(pattern: regex.Pattern) -> BlockError:
    return BlockError(
        f"The regular expression {pattern.pattern!r} took longer than {settings.BLOCK_REGEX_TIMEOUT:g} s to match;"
        " simplify it (nested repetition such as '(a+)+' can take exponential time)."
    )


def _search(pattern: regex.Pattern, text: str) -> bool:
    # concurrent: the GIL is released while matching, so other nodes keep running meanwhile.
    try:
        return pattern.search(text, timeout=settings.BLOCK_REGEX_TIMEOUT, concurrent=True) is not None
    except TimeoutError:
        raise _timed_out(pattern) from None


def _extract(pattern: regex.Pattern, text: str, group: int, *, find_all: bool) -> list[str]:
    """The group of the first match (of every match, with find_all); one timeout for the whole search."""
    if group > pattern.groups:
        return []
    matches = []
    try:
        for match in pattern.finditer(text, timeout=settings.BLOCK_REGEX_TIMEOUT, concurrent=True):
            matches.append(match.group(group) or "")
            if not find_all:
                break
    except TimeoutError:
        raise _timed_out(pattern) from None
    return matches


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
        BlockTestCase(
            {
                "values": {},
                "format": "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            },
            [
                (
                    "error",
                    lambda e: e.startswith("Could not fill the template: the text is longer than the output limit"),
                )
            ],
            "a loop printing without end stops at the output limit",
        ),
        BlockTestCase(
            {"values": {"n": 10**10}, "format": "{{ 'x' * n }}"},
            [("error", lambda e: e.startswith("Could not fill the template: '*' would give a result over the output"))],
        ),
        BlockTestCase(
            {"values": {}, "format": "{{ 2 ** 100000000 }}"},
            [
                (
                    "error",
                    lambda e: e.startswith("Could not fill the template: '**' would give a result over the output"),
                )
            ],
        ),
        BlockTestCase({"values": {"n": 3}, "format": "{{ 'ab' * n }} {{ 2 ** 10 }}"}, [("output", "ababab 1024")]),
    ]

    def run(self, input_data, context):
        try:
            template = _TEMPLATES[input_data.escape_html].from_string(input_data.format)
            output = render_bounded(template, input_data.values, context)
        except ExecutionCancelled:
            raise
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
            [("error", "Invalid regular expression '(': missing ) at position 1")],
        ),
        BlockTestCase(
            {"text": "aaaaaaaaaaaaaaaaaaaaaaaaaaa!", "match": "(a+)+$", "data": "x"},
            [("negative", "x")],
            "the issue's pattern: `regex` does not backtrack exponentially on it",
        ),
        BlockTestCase(
            {"text": "a" * 40 + "!", "match": "(a|aa)+$", "data": "x"},
            [("error", lambda e: e.startswith("The regular expression '(a|aa)+$' took longer than"))],
            "exponential backtracking is stopped by the timeout",
        ),
    ]

    def run(self, input_data, context):
        try:
            pattern = _compile(input_data.match, case_sensitive=input_data.case_sensitive, dot_all=input_data.dot_all)
            found = _search(pattern, _as_text(input_data.text))
        except BlockError as exc:
            yield "error", str(exc)
            return
        output = input_data.text if input_data.data is None else input_data.data
        yield ("positive" if found else "negative"), output


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
            [("error", "Invalid regular expression '[a-': unterminated character set at position 3")],
        ),
        BlockTestCase(
            {"text": "a" * 40 + "!", "pattern": "(a|aa)+$", "find_all": True},
            [("error", lambda e: e.startswith("The regular expression '(a|aa)+$' took longer than"))],
        ),
    ]

    def run(self, input_data, context):
        try:
            pattern = _compile(input_data.pattern, case_sensitive=input_data.case_sensitive, dot_all=input_data.dot_all)
            matches = _extract(pattern, _as_text(input_data.text), input_data.group, find_all=input_data.find_all)
        except BlockError as exc:
            yield "error", str(exc)
            return
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
        BlockTestCase(
            {"text": "a" * 100_000, "old": "a", "new": "b" * 100_000},
            [("error", "The text would be 10000000000 characters long, over the output limit of 5242880 bytes.")],
            "refused before it is built",
        ),
    ]

    def run(self, input_data, context):
        text, old, new = input_data.text, input_data.old, input_data.new
        # Computed first: replacing every character of 100 kB by 100 kB would build 10 GB.
        length = len(text) + (text.count(old) if old else len(text) + 1) * (len(new) - len(old))
        if length > settings.BLOCK_OUTPUT_MAX_BYTES:
            yield (
                "error",
                (
                    f"The text would be {length} characters long, over the output limit of"
                    f" {settings.BLOCK_OUTPUT_MAX_BYTES} bytes."
                ),
            )
            return
        yield "output", text.replace(old, new)
