"""Data blocks: dictionaries, lists, type conversion, JSON and XML."""

import builtins
import json
import math
import xml.etree.ElementTree as ET
from enum import StrEnum
from typing import Any

from defusedxml import ElementTree as defused_et
from defusedxml.common import DTDForbidden, EntitiesForbidden

from .base import Block, BlockCategory, BlockOutput, BlockSchema, BlockTestCase, SchemaField
from .registry import register

MAX_XML_SIZE = 10_000_000
MAX_XML_DEPTH = 256


def _short_repr(value: Any, limit: int = 100) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@register
class CreateDictionaryBlock(Block):
    """Creates a dictionary from the given key-value pairs."""

    id = "b924ddf4-de4f-4b56-9a85-358930dcbc91"
    name = "Create Dictionary"
    categories = {BlockCategory.DATA}

    class Input(BlockSchema):
        values: dict[str, Any] = SchemaField(description="The key-value pairs.")

    class Output(BlockOutput):
        dictionary: dict[str, Any] = SchemaField(description="The dictionary.")

    test_cases = [
        BlockTestCase({"values": {"name": "Alice", "age": 25}}, [("dictionary", {"name": "Alice", "age": 25})]),
        BlockTestCase({"values": {}}, [("dictionary", {})]),
    ]

    def run(self, input_data, context):
        yield "dictionary", dict(input_data.values)


@register
class AddToDictionaryBlock(Block):
    """Adds a key-value pair, or several `entries`, to a copy of a dictionary (a new one when
    none is given)."""

    id = "31d1064e-7446-4693-a7d4-65e5ca1180d1"
    name = "Add To Dictionary"
    categories = {BlockCategory.DATA}

    class Input(BlockSchema):
        dictionary: dict[str, Any] = SchemaField(default_factory=dict, description="The dictionary to add to.")
        key: str = SchemaField("", description="The key of the new entry.")
        value: Any = SchemaField(None, description="The value of the new entry.")
        entries: dict[str, Any] = SchemaField(
            default_factory=dict, description="Several entries to add.", advanced=True
        )

    class Output(BlockOutput):
        updated_dictionary: dict[str, Any] = SchemaField(description="The dictionary with the entries added.")

    test_cases = [
        BlockTestCase(
            {"dictionary": {"existing_key": "existing_value"}, "key": "new_key", "value": "new_value"},
            [("updated_dictionary", {"existing_key": "existing_value", "new_key": "new_value"})],
        ),
        BlockTestCase(
            {"key": "first_key", "value": "first_value"}, [("updated_dictionary", {"first_key": "first_value"})]
        ),
        BlockTestCase(
            {"dictionary": {"a": 1}, "entries": {"b": 2, "c": 3}},
            [("updated_dictionary", {"a": 1, "b": 2, "c": 3})],
        ),
    ]

    def run(self, input_data, context):
        updated = dict(input_data.dictionary)
        if input_data.key and input_data.value is not None:
            updated[input_data.key] = input_data.value
        updated.update(input_data.entries)
        yield "updated_dictionary", updated


@register
class FindInDictionaryBlock(Block):
    """Looks up a key in a dictionary (or JSON text of one), an index in a list, or an
    attribute of an object. On a list of dictionaries, a text key gives the list of their
    values for it. When nothing is found, the input goes out on `missing`."""

    id = "0e50422c-6dee-4145-83d6-3a5a392f65de"
    name = "Find In Dictionary"
    categories = {BlockCategory.DATA}

    class Input(BlockSchema):
        input: Any = SchemaField(description="A dictionary, list, object or JSON text.")
        key: str | int = SchemaField(description="The key, index or attribute to look up.")

    class Output(BlockOutput):
        output: Any = SchemaField(description="The value found.")
        missing: Any = SchemaField(description="The input, when the key is not in it.")

    test_cases = [
        BlockTestCase({"input": {"apple": 1, "banana": 2}, "key": "banana"}, [("output", 2)]),
        BlockTestCase({"input": {"x": 10, "y": 20}, "key": "w"}, [("missing", {"x": 10, "y": 20})]),
        BlockTestCase({"input": [1, 2, 3], "key": 1}, [("output", 2)]),
        BlockTestCase({"input": [1, 2, 3], "key": 3}, [("missing", [1, 2, 3])]),
        BlockTestCase({"input": '{"a": {"b": 1}}', "key": "a"}, [("output", {"b": 1})]),
        BlockTestCase({"input": [{"k1": "v1"}, {"k2": "v2"}, {"k1": "v3"}], "key": "k1"}, [("output", ["v1", "v3"])]),
    ]

    def run(self, input_data, context):
        found, value = self._find(input_data.input, input_data.key)
        yield ("output", value) if found else ("missing", input_data.input)

    @staticmethod
    def _find(obj: Any, key: str | int) -> tuple[bool, Any]:
        if isinstance(obj, str):
            try:
                obj = json.loads(obj)
            except json.JSONDecodeError:
                return False, None
        if isinstance(obj, dict):
            for candidate in (key, str(key)):
                if candidate in obj:
                    return True, obj[candidate]
            return False, None
        if isinstance(obj, list):
            if isinstance(key, int):
                return (True, obj[key]) if 0 <= key < len(obj) else (False, None)
            values = [item[key] for item in obj if isinstance(item, dict) and key in item]
            return bool(values), values
        if isinstance(key, str) and not key.startswith("_") and not isinstance(obj, str | int | float | None):
            value = getattr(obj, key, None)
            if value is not None and not callable(value):
                return True, value
        return False, None


@register
class RemoveFromDictionaryBlock(Block):
    """Removes a key from a copy of a dictionary, optionally yielding the removed value."""

    id = "46afe2ea-c613-43f8-95ff-6692c3ef6876"
    name = "Remove From Dictionary"
    categories = {BlockCategory.DATA}

    class Input(BlockSchema):
        dictionary: dict[str, Any] = SchemaField(description="The dictionary.")
        key: str | int = SchemaField(description="The key to remove.")
        return_value: bool = SchemaField(False, description="Also yield the removed value.")

    class Output(BlockOutput):
        updated_dictionary: dict[str, Any] = SchemaField(description="The dictionary without the key.")
        removed_value: Any = SchemaField(description="The removed value, when asked for.")

    test_cases = [
        BlockTestCase(
            {"dictionary": {"a": 1, "b": 2, "c": 3}, "key": "b", "return_value": True},
            [("updated_dictionary", {"a": 1, "c": 3}), ("removed_value", 2)],
        ),
        BlockTestCase(
            {"dictionary": {"x": "hello", "y": "world"}, "key": "x"}, [("updated_dictionary", {"y": "world"})]
        ),
        BlockTestCase({"dictionary": {"1": "one"}, "key": 1}, [("updated_dictionary", {})]),
        BlockTestCase({"dictionary": {"a": 1}, "key": "z"}, [("error", "Key 'z' not found in the dictionary.")]),
    ]

    def run(self, input_data, context):
        updated = dict(input_data.dictionary)
        key = str(input_data.key)
        if key not in updated:
            yield "error", f"Key '{key}' not found in the dictionary."
            return
        removed = updated.pop(key)
        yield "updated_dictionary", updated
        if input_data.return_value:
            yield "removed_value", removed


@register
class CreateListBlock(Block):
    """Creates a list from the given values; with `max_size`, yields it in chunks of at most
    that many values."""

    id = "a912d5c7-6e00-4542-b2a9-8034136930e4"
    name = "Create List"
    categories = {BlockCategory.DATA}

    class Input(BlockSchema):
        values: list[Any] = SchemaField(description="The values.")
        max_size: int | None = SchemaField(
            None, ge=1, description="Yield chunks of at most this many values.", advanced=True
        )
        max_tokens: int | None = SchemaField(
            None, description="Accepted for AutoGPT compatibility; ignored.", advanced=True
        )

    class Output(BlockOutput):
        list: builtins.list[Any] = SchemaField(description="The list, or one chunk of it.")

    test_cases = [
        BlockTestCase({"values": ["Alice", 25, True]}, [("list", ["Alice", 25, True])]),
        BlockTestCase({"values": [1, 2, 3, 4, 5], "max_size": 2}, [("list", [1, 2]), ("list", [3, 4]), ("list", [5])]),
        BlockTestCase({"values": []}, [("list", [])]),
    ]

    def run(self, input_data, context):
        values, size = input_data.values, input_data.max_size
        if not size or len(values) <= size:
            yield "list", list(values)
            return
        for start in range(0, len(values), size):
            yield "list", values[start : start + size]


@register
class AddToListBlock(Block):
    """Adds an entry, or several `entries`, to a copy of a list (a new one when none is given):
    at `position` when given, else at the end."""

    id = "aeb08fc1-2fc1-4141-bc8e-f758f183a822"
    name = "Add To List"
    categories = {BlockCategory.DATA}

    class Input(BlockSchema):
        list: builtins.list[Any] = SchemaField(default_factory=builtins.list, description="The list to add to.")
        entry: Any = SchemaField(None, description="The entry to add.")
        entries: builtins.list[Any] = SchemaField(
            default_factory=builtins.list, description="Several entries to add.", advanced=True
        )
        position: int | None = SchemaField(None, description="Where to insert them; the end if not set.")

    class Output(BlockOutput):
        updated_list: list[Any] = SchemaField(description="The list with the entries added.")

    test_cases = [
        BlockTestCase(
            {
                "list": [1, "string", {"existing_key": "existing_value"}],
                "entry": {"new_key": "new_value"},
                "position": 1,
            },
            [("updated_list", [1, {"new_key": "new_value"}, "string", {"existing_key": "existing_value"}])],
        ),
        BlockTestCase({"entry": "first_entry"}, [("updated_list", ["first_entry"])]),
        BlockTestCase({"list": ["a", "b", "c"], "entry": "d"}, [("updated_list", ["a", "b", "c", "d"])]),
        BlockTestCase(
            {"entry": "e", "entries": ["f", "g"], "list": ["a", "b"], "position": 1},
            [("updated_list", ["a", "f", "g", "e", "b"])],
        ),
    ]

    def run(self, input_data, context):
        added = [*input_data.entries, *([] if input_data.entry is None else [input_data.entry])]
        updated, position = list(input_data.list), input_data.position
        if position is None:
            updated.extend(added)
        else:
            updated[position:position] = added
        yield "updated_list", updated


@register
class FindInListBlock(Block):
    """Finds a value in a list: yields its index and `found` true, or `found` false and the
    value on `not_found_value`."""

    id = "5e2c6d0a-1e37-489f-b1d0-8e1812b23333"
    name = "Find In List"
    categories = {BlockCategory.DATA}

    class Input(BlockSchema):
        list: builtins.list[Any] = SchemaField(description="The list to search.")
        value: Any = SchemaField(description="The value to find.")

    class Output(BlockOutput):
        index: int = SchemaField(description="The index of its first occurrence.")
        found: bool = SchemaField(description="Whether it is in the list.")
        not_found_value: Any = SchemaField(description="The value, when it is not in the list.")

    test_cases = [
        BlockTestCase({"list": [1, 2, 3, 4, 5], "value": 3}, [("index", 2), ("found", True)]),
        BlockTestCase({"list": [1, 2, 3, 4, 5], "value": 6}, [("found", False), ("not_found_value", 6)]),
    ]

    def run(self, input_data, context):
        if input_data.value in input_data.list:
            yield "index", input_data.list.index(input_data.value)
            yield "found", True
        else:
            yield "found", False
            yield "not_found_value", input_data.value


@register
class GetListItemBlock(Block):
    """Gets the item at an index of a list; negative indexes count from the end."""

    id = "262ca24c-1025-43cf-a578-534e23234e97"
    name = "Get List Item"
    categories = {BlockCategory.DATA}

    class Input(BlockSchema):
        list: builtins.list[Any] = SchemaField(description="The list.")
        index: int = SchemaField(description="The 0-based index; -1 is the last item.")

    class Output(BlockOutput):
        item: Any = SchemaField(description="The item at the index.")

    test_cases = [
        BlockTestCase({"list": [1, 2, 3], "index": 1}, [("item", 2)]),
        BlockTestCase({"list": [1, 2, 3], "index": -1}, [("item", 3)]),
        BlockTestCase({"list": [1, 2, 3], "index": 3}, [("error", "Index out of range")]),
    ]

    def run(self, input_data, context):
        if -len(input_data.list) <= input_data.index < len(input_data.list):
            yield "item", input_data.list[input_data.index]
        else:
            yield "error", "Index out of range"


@register
class RemoveFromListBlock(Block):
    """Removes an item from a copy of a list, by index (negative counts from the end) or else
    by value, optionally yielding the removed item."""

    id = "d93c5a93-ac7e-41c1-ae5c-ef67e6e9b826"
    name = "Remove From List"
    categories = {BlockCategory.DATA}

    class Input(BlockSchema):
        list: builtins.list[Any] = SchemaField(description="The list.")
        value: Any = SchemaField(None, description="The value to remove (its first occurrence).")
        index: int | None = SchemaField(None, description="The index of the item to remove.")
        return_item: bool = SchemaField(False, description="Also yield the removed item.")

    class Output(BlockOutput):
        updated_list: list[Any] = SchemaField(description="The list without the item.")
        removed_item: Any = SchemaField(description="The removed item, when asked for.")

    test_cases = [
        BlockTestCase(
            {"list": [1, 2, 3], "index": 1, "return_item": True}, [("updated_list", [1, 3]), ("removed_item", 2)]
        ),
        BlockTestCase({"list": ["a", "b", "c"], "value": "b"}, [("updated_list", ["a", "c"])]),
        BlockTestCase({"list": [1, 2], "index": 5}, [("error", "Index out of range")]),
        BlockTestCase({"list": [1, 2], "value": 9}, [("error", "Value 9 not found in the list.")]),
        BlockTestCase({"list": [1, 2]}, [("error", "Give an index or a value to remove.")]),
    ]

    def run(self, input_data, context):
        updated = list(input_data.list)
        if input_data.index is not None:
            if not -len(updated) <= input_data.index < len(updated):
                yield "error", "Index out of range"
                return
            removed = updated.pop(input_data.index)
        elif input_data.value is not None:
            if input_data.value not in updated:
                yield "error", f"Value {_short_repr(input_data.value)} not found in the list."
                return
            updated.remove(input_data.value)
            removed = input_data.value
        else:
            yield "error", "Give an index or a value to remove."
            return
        yield "updated_list", updated
        if input_data.return_item:
            yield "removed_item", removed


@register
class ConcatenateListsBlock(Block):
    """Joins several lists into one, in order; optionally drops empty (null) values and
    repeated values."""

    id = "3cf9298b-5817-4141-9d80-7c2cc5199c8e"
    name = "Concatenate Lists"
    categories = {BlockCategory.DATA}

    class Input(BlockSchema):
        lists: list[list[Any]] = SchemaField(description="The lists to join, e.g. [[1, 2], [3]].")
        deduplicate: bool = SchemaField(False, description="Keep only the first of repeated values.", advanced=True)
        remove_none: bool = SchemaField(False, description="Drop null values.", advanced=True)

    class Output(BlockOutput):
        concatenated_list: list[Any] = SchemaField(description="All the items, in order.")
        length: int = SchemaField(description="How many items it has.")

    test_cases = [
        BlockTestCase({"lists": [[1, 2, 3], [4, 5, 6]]}, [("concatenated_list", [1, 2, 3, 4, 5, 6]), ("length", 6)]),
        BlockTestCase({"lists": []}, [("concatenated_list", []), ("length", 0)]),
        BlockTestCase(
            {"lists": [[1, None, 2, 2], [None, {"a": 1}, {"a": 1}]], "deduplicate": True, "remove_none": True},
            [("concatenated_list", [1, 2, {"a": 1}]), ("length", 3)],
        ),
    ]

    def run(self, input_data, context):
        items = [item for items in input_data.lists for item in items]
        if input_data.remove_none:
            items = [item for item in items if item is not None]
        if input_data.deduplicate:
            seen: set[str] = set()
            unique = []
            for item in items:
                marker = json.dumps(item, sort_keys=True, default=repr)
                if marker not in seen:
                    seen.add(marker)
                    unique.append(item)
            items = unique
        yield "concatenated_list", items
        yield "length", len(items)


@register
class ListIsEmptyBlock(Block):
    """Checks whether a list is empty."""

    id = "896ed73b-27d0-41be-813c-c1c1dc856c03"
    name = "List Is Empty"
    categories = {BlockCategory.DATA}

    class Input(BlockSchema):
        list: builtins.list[Any] = SchemaField(description="The list to check.")

    class Output(BlockOutput):
        is_empty: bool = SchemaField(description="Whether the list is empty.")

    test_cases = [
        BlockTestCase({"list": []}, [("is_empty", True)]),
        BlockTestCase({"list": [1]}, [("is_empty", False)]),
    ]

    def run(self, input_data, context):
        yield "is_empty", not input_data.list


class TargetType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    LIST = "list"
    DICTIONARY = "dictionary"


_TRUE_WORDS, _FALSE_WORDS = {"true", "yes", "1"}, {"false", "no", "0"}


def _to_number(value: Any) -> int | float:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        for parse in (int, float):
            try:
                number = parse(value.strip())
            except ValueError:
                continue
            if math.isfinite(number):
                return number
    raise ValueError


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool | int | float):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE_WORDS | _FALSE_WORDS:
        return value.strip().lower() in _TRUE_WORDS
    raise ValueError


def _from_json(value: Any, kind: type) -> Any:
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        parsed = json.loads(value)
        if isinstance(parsed, kind):
            return parsed
    raise ValueError


_CONVERTERS = {
    TargetType.STRING: lambda value: (
        value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    ),
    TargetType.NUMBER: _to_number,
    TargetType.BOOLEAN: _to_boolean,
    TargetType.LIST: lambda value: _from_json(value, list),
    TargetType.DICTIONARY: lambda value: _from_json(value, dict),
}


@register
class UniversalTypeConverterBlock(Block):
    """Converts a value to a string, number, boolean, list or dictionary. Text converts by its
    content: "42" to a number, "true"/"false"/"yes"/"no"/"1"/"0" to a boolean, JSON text to a
    list or dictionary; anything else to a string becomes JSON text."""

    id = "95d1b990-ce13-4d88-9737-ba5c2070c97b"
    name = "Universal Type Converter"
    categories = {BlockCategory.DATA}

    class Input(BlockSchema):
        value: Any = SchemaField(description="The value to convert.")
        type: TargetType = SchemaField(description="The type to convert it to.")

    class Output(BlockOutput):
        value: Any = SchemaField(description="The converted value.")

    test_cases = [
        BlockTestCase({"value": " 42 ", "type": "number"}, [("value", 42)]),
        BlockTestCase({"value": "2.5", "type": "number"}, [("value", 2.5)]),
        BlockTestCase({"value": "Yes", "type": "boolean"}, [("value", True)]),
        BlockTestCase({"value": "0", "type": "boolean"}, [("value", False)]),
        BlockTestCase({"value": {"a": ["é"]}, "type": "string"}, [("value", '{"a": ["é"]}')]),
        BlockTestCase({"value": "[1, 2]", "type": "list"}, [("value", [1, 2])]),
        BlockTestCase({"value": '{"a": 1}', "type": "dictionary"}, [("value", {"a": 1})]),
        BlockTestCase({"value": "abc", "type": "number"}, [("error", "Cannot convert 'abc' to number.")]),
        BlockTestCase({"value": "[1, 2]", "type": "dictionary"}, [("error", "Cannot convert '[1, 2]' to dictionary.")]),
    ]

    def run(self, input_data, context):
        try:
            yield "value", _CONVERTERS[input_data.type](input_data.value)
        except ValueError:
            yield "error", f"Cannot convert {_short_repr(input_data.value)} to {input_data.type.value}."


@register
class ParseJsonBlock(Block):
    """Parses JSON text into its value: an object, list, text, number, boolean or null."""

    id = "88475177-a149-4e2d-993e-503db28e53e7"
    name = "Parse JSON"
    categories = {BlockCategory.DATA}

    class Input(BlockSchema):
        json_string: str = SchemaField(description="The JSON text.")

    class Output(BlockOutput):
        parsed: Any = SchemaField(description="The parsed value.")

    test_cases = [
        BlockTestCase({"json_string": '{"a": [1, 2], "b": null}'}, [("parsed", {"a": [1, 2], "b": None})]),
        BlockTestCase({"json_string": "42"}, [("parsed", 42)]),
        BlockTestCase(
            {"json_string": '{"a": 1,}'},
            [
                (
                    "error",
                    "Invalid JSON at line 1, column 9 (character 8): Expecting property name enclosed in double quotes",
                )
            ],
        ),
    ]

    def run(self, input_data, context):
        try:
            parsed = json.loads(input_data.json_string)
        except json.JSONDecodeError as exc:
            yield "error", f"Invalid JSON at line {exc.lineno}, column {exc.colno} (character {exc.pos}): {exc.msg}"
            return
        yield "parsed", parsed


@register
class FormatJsonBlock(Block):
    """Formats a value as JSON text, indented and optionally with its keys sorted."""

    id = "275dc81c-2c15-423d-b741-e2dc85d81913"
    name = "Format JSON"
    categories = {BlockCategory.DATA}

    class Input(BlockSchema):
        value: Any = SchemaField(description="The value to format.")
        indent: int = SchemaField(
            2, ge=0, le=16, description="Spaces per indentation level; 0 puts items on their own lines unindented."
        )
        sort_keys: bool = SchemaField(False, description="Sort object keys.")

    class Output(BlockOutput):
        json_string: str = SchemaField(description="The JSON text.")

    test_cases = [
        BlockTestCase({"value": {"b": 1, "a": [1]}}, [("json_string", '{\n  "b": 1,\n  "a": [\n    1\n  ]\n}')]),
        BlockTestCase(
            {"value": {"b": 1, "a": "é"}, "indent": 0, "sort_keys": True}, [("json_string", '{\n"a": "é",\n"b": 1\n}')]
        ),
        BlockTestCase(
            {"value": float("nan")},
            [("error", "Cannot format as JSON: Out of range float values are not JSON compliant: nan")],
        ),
    ]

    def run(self, input_data, context):
        try:
            text = json.dumps(
                input_data.value,
                indent=input_data.indent,
                sort_keys=input_data.sort_keys,
                ensure_ascii=False,
                allow_nan=False,
            )
        except (TypeError, ValueError) as exc:
            yield "error", f"Cannot format as JSON: {exc}"
            return
        yield "json_string", text


def _xml_to_value(element: ET.Element, depth: int = 1) -> Any:
    if depth > MAX_XML_DEPTH:
        raise ValueError(f"XML is nested deeper than {MAX_XML_DEPTH} levels.")
    children = list(element)
    text = "".join([element.text or "", *(child.tail or "" for child in children)]).strip()
    if not children and not element.attrib:
        return text
    result: dict[str, Any] = {f"@{name}": value for name, value in element.attrib.items()}
    for child in children:
        value = _xml_to_value(child, depth + 1)
        if child.tag not in result:
            result[child.tag] = value
        elif isinstance(result[child.tag], list):
            result[child.tag].append(value)
        else:
            result[child.tag] = [result[child.tag], value]
    if text:
        result["#text"] = text
    return result


@register
class XmlParserBlock(Block):
    """Parses XML into a dictionary: each element becomes a key holding its text, or a
    dictionary of its children (repeated children become a list), attributes as "@name" and
    mixed text as "#text". Documents with DOCTYPE or ENTITY declarations are refused."""

    id = "286380af-9529-4b55-8be0-1d7c854abdb5"
    name = "XML Parser"
    categories = {BlockCategory.DATA}

    class Input(BlockSchema):
        input_xml: str = SchemaField(description="The XML text.")

    class Output(BlockOutput):
        parsed_xml: dict[str, Any] = SchemaField(description="The XML as a dictionary.")

    test_cases = [
        BlockTestCase(
            {"input_xml": "<tag1><tag2>content</tag2></tag1>"}, [("parsed_xml", {"tag1": {"tag2": "content"}})]
        ),
        BlockTestCase(
            {"input_xml": '<list kind="a"><i>1</i><i>2</i><empty/></list>'},
            [("parsed_xml", {"list": {"@kind": "a", "i": ["1", "2"], "empty": ""}})],
        ),
        BlockTestCase({"input_xml": "<a><b></a>"}, [("error", "Invalid XML: mismatched tag: line 1, column 8")]),
        BlockTestCase(
            {"input_xml": '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'},
            [("error", "XML with DOCTYPE or ENTITY declarations is not accepted.")],
        ),
    ]

    def run(self, input_data, context):
        xml = input_data.input_xml
        if len(xml) > MAX_XML_SIZE:
            yield "error", f"XML is too large: more than {MAX_XML_SIZE} characters."
            return
        try:
            # defusedxml refuses DTDs and entities: no billion laughs, no external entities.
            root = defused_et.fromstring(xml, forbid_dtd=True)
            parsed = {root.tag: _xml_to_value(root)}
        except (DTDForbidden, EntitiesForbidden):
            yield "error", "XML with DOCTYPE or ENTITY declarations is not accepted."
            return
        except ET.ParseError as exc:
            yield "error", f"Invalid XML: {exc}"
            return
        except ValueError as exc:
            yield "error", str(exc)
            return
        yield "parsed_xml", parsed
