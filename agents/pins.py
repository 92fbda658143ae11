"""Pins, and AutoGPT's dynamic pin names that address part of a value.

`values_#_name` is key `name` of the dict pin `values`, `items_$_0` is element 0 of the list pin
`items`, `obj_@_attr` is attribute `attr` of the object pin `obj`. As a link's sink, such names
build the pin's value out of parts before the block runs; as a source, they pick a part of the
output value.

Tool pins (Smart Decision Maker) work the other way round: a link from `tools_^_{tool}_~_{arg}`
(or from `tools`) leads to the input pin of a block the model may call, and the block yields each
argument of a call on `tools_^_{tool}_~_{arg}`, exactly the link's name, or on
`tools_^_{sink node id}_~_{sink pin}`, which reaches that one node's pin whatever the link is named
(AutoGPT's newer form, used when two tools would have the same name).
"""

import functools
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

DICT_SEPARATOR = "_#_"
LIST_SEPARATOR = "_$_"
OBJECT_SEPARATOR = "_@_"
SEPARATORS = (DICT_SEPARATOR, LIST_SEPARATOR, OBJECT_SEPARATOR)
TOOLS_PIN = "tools"
TOOL_PREFIX = "tools_^_"
TOOL_ARG_SEPARATOR = "_~_"


def is_tool_pin(name: str) -> bool:
    return name == TOOLS_PIN or name.startswith(TOOL_PREFIX)


def tool_pin(target: str, arg: str) -> str:
    """`tools_^_{target}_~_{arg}`: target is a tool name, or a sink node id."""
    return f"{TOOL_PREFIX}{target}{TOOL_ARG_SEPARATOR}{arg}"


def parse_tool_pin(name: str) -> tuple[str, str] | None:
    """(target, arg) of `tools_^_{target}_~_{arg}`, or None."""
    if not name.startswith(TOOL_PREFIX) or TOOL_ARG_SEPARATOR not in name:
        return None
    target, _, arg = name[len(TOOL_PREFIX) :].partition(TOOL_ARG_SEPARATOR)
    return (target, arg) if target and arg else None


def base_pin(name: str) -> str:
    """The pin a (possibly dynamic) pin name belongs to: `values_#_name` -> `values`,
    `tools_^_calculator_~_a` -> `tools`."""
    if name.startswith(TOOL_PREFIX):
        return TOOLS_PIN
    cut = min((name.find(sep) for sep in SEPARATORS if sep in name), default=-1)
    return name[:cut] if cut > 0 else name


def _split(name: str) -> tuple[str, str, str] | None:
    """(base, separator, rest) for the first separator in name, or None."""
    found = [(name.find(sep), sep) for sep in SEPARATORS if name.find(sep) > 0]
    if not found:
        return None
    index, sep = min(found)
    return name[:index], sep, name[index + len(sep) :]


def pick(value: Any, path: str) -> tuple[bool, Any]:
    """As a source: the part of value that `path` (the text after the base pin) names.
    Returns (found, part)."""
    current = value
    while path:
        sep = next((s for s in SEPARATORS if path.startswith(s)), None)
        if sep is None:
            return False, None
        path = path[len(sep) :]
        following = [path.find(s) for s in SEPARATORS if s in path]
        key, path = (path[: min(following)], path[min(following) :]) if following else (path, "")
        try:
            if sep == DICT_SEPARATOR:
                current = current[key]
            elif sep == LIST_SEPARATOR:
                current = current[int(key)]
            else:
                current = getattr(current, key) if not isinstance(current, dict) else current[key]
        except (KeyError, IndexError, ValueError, TypeError, AttributeError):
            return False, None
    return True, current


def source_value(
    output_pin: str, value: Any, link_source_name: str, sink_id: str = "", sink_name: str = ""
) -> tuple[bool, Any]:
    """Whether a value yielded on output_pin travels along a link whose source is
    link_source_name (and whose sink is sink_id's pin sink_name), and which part of it does."""
    if output_pin.startswith(TOOL_PREFIX) and is_tool_pin(link_source_name):
        matches = output_pin == link_source_name or parse_tool_pin(output_pin) == (sink_id, sink_name)
        return (True, value) if matches else (False, None)
    if link_source_name == output_pin:
        return True, value
    if base_pin(link_source_name) != output_pin:
        return False, None
    return pick(value, link_source_name[len(output_pin) :])


def merge_dynamic_inputs(data: dict[str, Any]) -> dict[str, Any]:
    """Fold `values_#_k`, `items_$_0` and `obj_@_a` entries into their base pins."""
    merged: dict[str, Any] = {}
    dynamic: list[tuple[str, Any]] = []
    for name, value in data.items():
        if _split(name):
            dynamic.append((name, value))
        else:
            merged[name] = value
    for name, value in dynamic:
        base, sep, key = _split(name) or (name, "", "")
        if sep == DICT_SEPARATOR:
            target = merged.get(base)
            merged[base] = {**(target if isinstance(target, dict) else {}), key: value}
        elif sep == LIST_SEPARATOR:
            target = list(merged.get(base) or []) if isinstance(merged.get(base), list) else []
            index = int(key) if key.isdigit() else len(target)
            target.extend([None] * (index + 1 - len(target)))
            target[index] = value
            merged[base] = target
        else:
            target = merged.get(base)
            merged[base] = {**(target if isinstance(target, dict) else {}), key: value}
    return merged


@functools.cache
def _adapter(annotation: Any) -> TypeAdapter:  # annotations are hashable types
    return TypeAdapter(annotation)


def pin_type_error(schema: type[BaseModel], pin: str, value: Any) -> str | None:
    """What is wrong with value for the pin of a block's Input schema, or None."""
    field = schema.model_fields.get(pin)
    if field is None:
        return None
    try:
        _adapter(field.annotation).validate_python(value)  # type: ignore[arg-type]  # a type, so hashable
    except ValidationError as exc:
        return "; ".join(error["msg"] for error in exc.errors())
    except TypeError:
        return None
    return None
