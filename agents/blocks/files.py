"""File blocks: Agent File Input, File Store, File Read and Read Spreadsheet.

A file on a pin is AutoGPT's MediaFileType: a reference to one of the running user's stored files
(`workspace://<id>`, what these blocks output), a data URI, or an http(s) URL fetched through the
SSRF-safe client (files/media.py). A block reads only the running user's files, never another
user's and never a path on the server.
"""

import csv
import datetime
import io
import zipfile
from collections.abc import Iterator
from typing import Any

import openpyxl
from django.conf import settings

from files.media import MediaContent, media_load, media_store

from .base import Block, BlockCategory, BlockContext, BlockError, BlockOutput, BlockSchema, BlockTestCase, SchemaField
from .io import AgentInputBlock
from .registry import register

# A spreadsheet may expand far past its compressed size: a bound on the cells read from one.
MAX_SPREADSHEET_CELLS = 1_000_000
_XLSX_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel.sheet.macroenabled.12",
}


def _load(value: str, context: BlockContext, *, max_bytes: int | None = None) -> MediaContent:
    if not context.user_id:
        raise BlockError("Files can only be read for a user.")
    return media_load(user_id=context.user_id, value=value, max_bytes=max_bytes)


def _store(value: str, context: BlockContext, *, return_content: bool) -> str:
    if not context.user_id:
        raise BlockError("Files can only be stored for a user.")
    return media_store(
        user_id=context.user_id, value=value, graph_exec_id=context.graph_exec_id, return_content=return_content
    )


def _text(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("latin-1")


@register
class AgentFileInputBlock(AgentInputBlock):
    """A file as a graph input: give the `reference` of a file you uploaded (POST
    /api/v1/files/upload), a data URI or a URL. The file is stored as one of your files and its
    reference (`workspace://<id>`) passed on, or its content as a data URI with `base_64`."""

    id = "95ead23f-8283-4654-aef3-10c053b74a31"
    name = "Agent File Input"
    categories = {BlockCategory.INPUT, BlockCategory.BASIC}
    value_schema = {"type": "string", "format": "file"}

    class Input(AgentInputBlock.Input):
        value: str | None = SchemaField(None, description="A file reference (workspace://...), data URI or URL.")
        base_64: bool = SchemaField(
            False,
            description="Output the content as a data URI rather than a reference (not recommended).",
            advanced=True,
            title="Produce Base64 Output",
        )

    class Output(AgentInputBlock.Output):
        result: str = SchemaField(description="The file's reference, or its content as a data URI.")

    test_cases = [
        BlockTestCase(
            {"name": "file_upload_1", "value": "data:image/png;base64,MQ==", "base_64": True},
            [("result", "data:image/png;base64,MQ==")],
        ),
        BlockTestCase({"name": "f", "value": None}, [], "no value: nothing is yielded"),
        BlockTestCase(
            {"name": "f", "value": "/etc/passwd"}, [("error", lambda message: "Paths on the server" in message)]
        ),
    ]

    def run(self, input_data, context):
        if input_data.value:
            yield "result", _store(input_data.value, context, return_content=input_data.base_64)


@register
class FileStoreBlock(Block):
    """Stores a file (a data URI, a URL, or one of your files) as one of your files and outputs
    its reference (`workspace://<id>`), which you can download (GET /api/v1/files/{id}) and other
    blocks read; with `base_64`, its content as a data URI instead."""

    id = "cbb50872-625b-42f0-8203-a2ae78242d8a"
    name = "File Store"
    categories = {BlockCategory.BASIC}
    static_output = True

    class Input(BlockSchema):
        file_in: str = SchemaField(description="The file: a reference (workspace://...), a data URI or a URL.")
        base_64: bool = SchemaField(
            False,
            description="Output the content as a data URI rather than a reference (not recommended).",
            advanced=True,
            title="Produce Base64 Output",
        )

    class Output(BlockOutput):
        file_out: str = SchemaField(description="The stored file's reference, or its content as a data URI.")

    test_cases = [
        BlockTestCase(
            {"file_in": "data:text/plain;base64,SGVsbG8=", "base_64": True},
            [("file_out", "data:text/plain;base64,SGVsbG8=")],
        ),
        BlockTestCase({"file_in": "file:///etc/passwd"}, [("error", lambda message: "Paths on the server" in message)]),
    ]

    def run(self, input_data, context):
        yield "file_out", _store(input_data.file_in, context, return_content=input_data.base_64)


def _chunks(text: str, size: int) -> list[str]:
    if size <= 0:
        return [text] if text else []
    return [text[start : start + size] for start in range(0, len(text), size)]


@register
class FileReadBlock(Block):
    """Reads a text file (text, CSV, JSON...) of at most FILE_READ_MAX_BYTES and outputs its
    content; with `delimiter`, `skip_rows` and `row_limit` only some of its rows, and with
    `size_limit` in chunks of that many characters, one output each."""

    id = "3735a31f-7e18-4aca-9e90-08a7120674bc"
    name = "File Read"
    categories = {BlockCategory.TEXT, BlockCategory.DATA}

    class Input(BlockSchema):
        file_input: str = SchemaField(description="The file: a reference (workspace://...), a data URI or a URL.")
        delimiter: str = SchemaField("", description="Splits the content into rows (e.g. '\\n').", advanced=True)
        size_limit: int = SchemaField(0, description="Characters per chunk output (0: no chunks).", advanced=True)
        row_limit: int = SchemaField(0, description="At most this many rows (0: all; needs delimiter).", advanced=True)
        skip_size: int = SchemaField(0, description="Characters to skip at the start.", advanced=True)
        skip_rows: int = SchemaField(0, description="Rows to skip at the start (needs delimiter).", advanced=True)

    class Output(BlockOutput):
        content: str = SchemaField(description="The content, or one chunk of it.")

    test_cases = [
        BlockTestCase({"file_input": "data:text/plain;base64,SGVsbG8gV29ybGQ="}, [("content", "Hello World")]),
        BlockTestCase(
            {"file_input": "data:text/csv,a%0Ab%0Ac%0Ad", "delimiter": "\n", "skip_rows": 1, "row_limit": 2},
            [("content", "b\nc")],
        ),
        BlockTestCase(
            {"file_input": "data:text/plain;base64,SGVsbG8gV29ybGQ=", "size_limit": 4},
            [("content", "Hell"), ("content", "o Wo"), ("content", "rld")],
        ),
        BlockTestCase({"file_input": "data:text/plain,"}, [("content", "")]),
        BlockTestCase({"file_input": "/etc/passwd"}, [("error", lambda message: "Paths on the server" in message)]),
    ]

    def run(self, input_data, context):
        content = _text(_load(input_data.file_input, context, max_bytes=settings.FILE_READ_MAX_BYTES).content)
        if input_data.skip_size > 0:
            content = content[input_data.skip_size :]
        rows = content.split(input_data.delimiter) if input_data.delimiter else [content]
        if input_data.skip_rows > 0:
            rows = rows[input_data.skip_rows :]
        if input_data.row_limit > 0:
            rows = rows[: input_data.row_limit]
        if not rows:
            yield "content", ""
            return
        chunks = _chunks(input_data.delimiter.join(rows), input_data.size_limit)
        for chunk in chunks or [""]:
            yield "content", chunk


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


def _xlsx_rows(content: bytes) -> Iterator[list[str]]:
    """The first sheet's rows as text, within MAX_SPREADSHEET_CELLS."""
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise BlockError(f"Unable to read the spreadsheet: {exc}") from exc
    cells = 0
    try:
        for row in workbook.worksheets[0].iter_rows(values_only=True):
            cells += len(row)
            if cells > MAX_SPREADSHEET_CELLS:
                raise BlockError(f"The spreadsheet has more than {MAX_SPREADSHEET_CELLS} cells.")
            yield [_cell(value) for value in row]
    finally:
        workbook.close()


def _is_xlsx(media: MediaContent) -> bool:
    name = media.name.lower()
    return media.content_type in _XLSX_TYPES or name.endswith((".xlsx", ".xlsm")) or media.content[:4] == b"PK\x03\x04"


@register
class ReadSpreadsheetBlock(Block):
    """Reads a CSV text (`contents`) or a CSV or Excel (XLSX, first sheet) file and outputs its rows
    as dictionaries keyed by the header: all of them on `rows`, or one by one on `row` with
    `produce_singular_result`."""

    id = "acf7625e-d2cb-4941-bfeb-2819fc6fc015"
    name = "Read Spreadsheet"
    categories = {BlockCategory.TEXT, BlockCategory.DATA}

    class Input(BlockSchema):
        contents: str | None = SchemaField(None, description="CSV text to read, e.g. 'a,b\\n1,2'.")
        file_input: str | None = SchemaField(
            None, description="A CSV or XLSX file: a reference (workspace://...), a data URI or a URL."
        )
        delimiter: str = SchemaField(",", description="The CSV delimiter.")
        quotechar: str = SchemaField('"', description="The CSV quote character.")
        escapechar: str = SchemaField("\\", description="The CSV escape character.")
        has_header: bool = SchemaField(True, description="Whether the first row names the columns.")
        skip_rows: int = SchemaField(0, description="Rows to skip after the header.")
        strip: bool = SchemaField(True, description="Strip whitespace around values.")
        skip_columns: list[str] = SchemaField(
            default_factory=list, description="Columns to leave out, by header name (or index without header)."
        )
        produce_singular_result: bool = SchemaField(
            False, description="Output each row on `row` instead of all of them on `rows`."
        )

    class Output(BlockOutput):
        row: dict[str, str] = SchemaField(description="One row.")
        rows: list[dict[str, str]] = SchemaField(description="Every row.")

    test_cases = [
        BlockTestCase(
            {"contents": "a, b, c\n1,2,3\n4,5,6", "produce_singular_result": False},
            [("rows", [{"a": "1", "b": "2", "c": "3"}, {"a": "4", "b": "5", "c": "6"}])],
            "AutoGPT's case",
        ),
        BlockTestCase(
            {"contents": "a, b, c\n1,2,3\n4,5,6", "produce_singular_result": True},
            [("row", {"a": "1", "b": "2", "c": "3"}), ("row", {"a": "4", "b": "5", "c": "6"})],
            "AutoGPT's case, one by one",
        ),
        BlockTestCase(
            {
                "file_input": "data:text/csv;base64,bmFtZSxhZ2UsY2l0eQpBZGEsMzYsTG9uZG9uCkJvYiw0MCxQYXJpcwo=",
                "skip_columns": ["city"],
                "skip_rows": 1,
            },
            [("rows", [{"name": "Bob", "age": "40"}])],
        ),
        BlockTestCase(
            {"contents": "x;y\n1;2", "delimiter": ";", "has_header": False},
            [("rows", [{"0": "x", "1": "y"}, {"0": "1", "1": "2"}])],
        ),
        BlockTestCase({}, [("error", "Either 'contents' or 'file_input' must be provided")]),
    ]

    def run(self, input_data, context):
        if input_data.file_input:
            media = _load(input_data.file_input, context, max_bytes=settings.FILE_READ_MAX_BYTES)
            if media.name.lower().endswith(".xls") and not _is_xlsx(media):
                raise BlockError("Old Excel files (.xls) cannot be read; save the file as XLSX or CSV.")
            reader: Iterator[list[str]] = (
                _xlsx_rows(media.content) if _is_xlsx(media) else self._csv(_text(media.content), input_data)
            )
        elif input_data.contents:
            reader = self._csv(input_data.contents, input_data)
        else:
            raise BlockError("Either 'contents' or 'file_input' must be provided")
        rows = self._rows(reader, input_data)
        if input_data.produce_singular_result:
            for row in rows:
                yield "row", row
        else:
            yield "rows", rows

    @staticmethod
    def _csv(text: str, input_data) -> Iterator[list[str]]:
        try:
            yield from csv.reader(
                io.StringIO(text),
                delimiter=input_data.delimiter,
                quotechar=input_data.quotechar or None,
                escapechar=input_data.escapechar or None,
            )
        except (csv.Error, TypeError) as exc:
            raise BlockError(f"Unable to read the CSV: {exc}") from exc

    @staticmethod
    def _rows(reader: Iterator[list[str]], input_data) -> list[dict[str, str]]:
        def clean(value: str) -> str:
            return value.strip() if input_data.strip else value

        header = [clean(name) for name in next(reader, [])] if input_data.has_header else []
        for _ in range(input_data.skip_rows):
            next(reader, None)
        skipped = set(input_data.skip_columns)
        rows = []
        for row in reader:
            if not any(value.strip() for value in row):
                continue  # blank lines, and the empty rows a sheet's formatting leaves
            record = {}
            for index, value in enumerate(row):
                column = header[index] if index < len(header) else str(index)
                if column not in skipped:
                    record[column] = clean(value)
            rows.append(record)
        return rows
