"""Text helpers AutoGPT has: escape sequences in and out, word and character counts, and the code
blocks of a (model's) answer by language."""

import codecs
import re

from .base import Block, BlockCategory, BlockError, BlockOutput, BlockSchema, BlockTestCase, SchemaField
from .registry import register


@register
class TextEncoderBlock(Block):
    """Turns special characters into escape sequences: a newline becomes `\\n`, a tab `\\t`,
    characters outside ASCII `\\xe9` or `\\u2192`. The inverse of Text Decoder."""

    id = "5185f32e-4b65-4ecf-8fbb-873f003f09d6"
    name = "Text Encoder"
    categories = {BlockCategory.TEXT}

    class Input(BlockSchema):
        text: str = SchemaField(description="The text to encode.")

    class Output(BlockOutput):
        encoded_text: str = SchemaField(description="The text with escape sequences.")

    test_cases = [
        BlockTestCase(
            {"text": 'Hello\nWorld!\nThis is a "quoted" string.'},
            [("encoded_text", 'Hello\\nWorld!\\nThis is a "quoted" string.')],
        ),
        BlockTestCase({"text": "tab\tcafé →"}, [("encoded_text", "tab\\tcaf\\xe9 \\u2192")]),
    ]

    def run(self, input_data, context):
        yield "encoded_text", codecs.encode(input_data.text, "unicode_escape").decode("ascii")


@register
class TextDecoderBlock(Block):
    """Turns escape sequences (`\\n`, `\\t`, `\\"`, `\\u2192`...) into the characters they stand for."""

    id = "2570e8fe-8447-43ed-84c7-70d657923231"
    name = "Text Decoder"
    categories = {BlockCategory.TEXT}

    class Input(BlockSchema):
        text: str = SchemaField(description="Text with escape sequences, e.g. Hello\\nWorld.")

    class Output(BlockOutput):
        decoded_text: str = SchemaField(description="The text with the escape sequences decoded.")

    test_cases = [
        BlockTestCase(
            {"text": 'Hello\\nWorld!\\nThis is a \\"quoted\\" string.'},
            [("decoded_text", 'Hello\nWorld!\nThis is a "quoted" string.')],
        ),
        BlockTestCase({"text": "caf\\xe9 → \\u2192"}, [("decoded_text", "café → →")], "characters beyond Latin-1 kept"),
        BlockTestCase({"text": "bad \\x4"}, [("error", lambda message: message.startswith("Cannot decode"))]),
    ]

    def run(self, input_data, context):
        # unicode_escape reads bytes as Latin-1: other characters go in as \\u escapes and come back.
        raw = input_data.text.encode("latin-1", "backslashreplace")
        try:
            decoded = raw.decode("unicode_escape")
        except UnicodeDecodeError as exc:
            raise BlockError(f"Cannot decode the escape sequences: {exc.reason} at position {exc.start}.") from None
        yield "decoded_text", decoded


@register
class WordCharacterCountBlock(Block):
    """Counts the words (separated by whitespace) and the characters of a text."""

    id = "ab2a782d-22cf-4587-8a70-55b59b3f9f90"
    name = "Word Character Count"
    categories = {BlockCategory.TEXT}

    class Input(BlockSchema):
        text: str = SchemaField(description="The text to count.")

    class Output(BlockOutput):
        word_count: int = SchemaField(description="How many words it has.")
        character_count: int = SchemaField(description="How many characters it has.")

    test_cases = [
        BlockTestCase({"text": "Hello, how are you?"}, [("word_count", 4), ("character_count", 19)]),
        BlockTestCase({"text": ""}, [("word_count", 0), ("character_count", 0)]),
    ]

    def run(self, input_data, context):
        yield "word_count", len(input_data.text.split())
        yield "character_count", len(input_data.text)


# Output pin -> the language names a fenced code block may carry for it.
LANGUAGE_ALIASES = {
    "html": ["html", "htm"],
    "css": ["css"],
    "javascript": ["javascript", "js"],
    "python": ["python", "py"],
    "sql": ["sql"],
    "java": ["java"],
    "cpp": ["cpp", "c++"],
    "csharp": ["csharp", "c#", "cs"],
    "json_code": ["json"],
    "bash": ["bash", "shell", "sh"],
    "php": ["php"],
    "ruby": ["ruby", "rb"],
    "yaml": ["yaml", "yml"],
    "markdown": ["markdown", "md"],
    "typescript": ["typescript", "ts"],
    "xml": ["xml"],
}
_ANY_FENCE = re.compile(
    r"```(?:"
    + "|".join(re.escape(alias) for aliases in LANGUAGE_ALIASES.values() for alias in aliases)
    + r")[ \t]*\n[\s\S]*?```"
)
_FENCES = {
    alias: re.compile(rf"```{re.escape(alias)}[ \t]*\n(.*?)\n```", re.DOTALL | re.IGNORECASE)
    for aliases in LANGUAGE_ALIASES.values()
    for alias in aliases
}


@register
class CodeExtractionBlock(Block):
    """Takes the fenced code blocks (```python ... ```) out of a text, such as a model's answer:
    the code of each language on its own pin (several blocks of one language joined by a blank
    line), and the text around them on `remaining_text`. Pins without code do not fire."""

    id = "d3a7d896-3b78-4f44-8b4b-48fbf4f0bcd8"
    name = "Code Extraction"
    categories = {BlockCategory.TEXT}

    class Input(BlockSchema):
        text: str = SchemaField(description="Text holding fenced code blocks, e.g. a model's answer.")

    class Output(BlockOutput):
        html: str = SchemaField(description="HTML code.")
        css: str = SchemaField(description="CSS code.")
        javascript: str = SchemaField(description="JavaScript code.")
        python: str = SchemaField(description="Python code.")
        sql: str = SchemaField(description="SQL code.")
        java: str = SchemaField(description="Java code.")
        cpp: str = SchemaField(description="C++ code.")
        csharp: str = SchemaField(description="C# code.")
        json_code: str = SchemaField(description="JSON code.")
        bash: str = SchemaField(description="Bash code.")
        php: str = SchemaField(description="PHP code.")
        ruby: str = SchemaField(description="Ruby code.")
        yaml: str = SchemaField(description="YAML code.")
        markdown: str = SchemaField(description="Markdown code.")
        typescript: str = SchemaField(description="TypeScript code.")
        xml: str = SchemaField(description="XML code.")
        remaining_text: str = SchemaField(description="The text without the code blocks.")

    test_cases = [
        BlockTestCase(
            {
                "text": "Here's a Python example:\n```python\nprint('Hello World')\n```\n"
                "And some HTML:\n```html\n<h1>Title</h1>\n```"
            },
            [
                ("html", "<h1>Title</h1>"),
                ("python", "print('Hello World')"),
                ("remaining_text", "Here's a Python example:\nAnd some HTML:"),
            ],
            "AutoGPT's case",
        ),
        BlockTestCase(
            # AutoGPT's order: by alias ("javascript" before "js"), not by position.
            {"text": '```js\nlet a = 1\n```\n\n```javascript\nlet b = 2\n```\n```json\n{"a": 1}\n```'},
            [("javascript", "let b = 2\n\nlet a = 1"), ("json_code", '{"a": 1}')],
        ),
    ]

    def run(self, input_data, context):
        text = input_data.text
        for pin, aliases in LANGUAGE_ALIASES.items():
            blocks = [match.group(1).strip() for alias in aliases for match in _FENCES[alias].finditer(text)]
            if code := "\n\n".join(block for block in blocks if block):
                yield pin, code
        remaining = re.sub(r"\n\s*\n", "\n", _ANY_FENCE.sub("", text).strip())
        if remaining:
            yield "remaining_text", remaining
