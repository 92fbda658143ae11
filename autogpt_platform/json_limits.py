"""JSON from clients, with a nesting limit: request bodies (DRF's parser) and WebSocket messages.

Deep nesting is never useful in this API, and everything that walks a value recursively
(validation, rendering, the engine) would hit Python's recursion limit on it: JSON nested deeper
than JSON_MAX_DEPTH levels is refused as bad input. A level is one object or array: `{"a": 1}` is
one level deep, `{"a": [1]}` two.
"""

import codecs
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings
from rest_framework.utils import json

# The body as a whole, when no member of it can be named.
BODY = "body"
# A path names at most this many steps (what the error names is meant for people).
_MAX_PATH_STEPS = 8


class JsonTooDeepError(ValueError):
    """The value nests deeper than allowed; `field` names where the deep part starts."""

    def __init__(self, field: str, max_depth: int):
        self.field = field
        self.max_depth = max_depth
        self.problem = f"JSON is nested deeper than {max_depth} levels."
        super().__init__(f"{field}: {self.problem}")


class _Step:
    """One step of a path, linked to its parent: no path is copied while walking."""

    __slots__ = ("key", "parent", "named")

    def __init__(self, key: str | int | None, parent: "_Step | None", named: "_Step | None"):
        self.key = key
        self.parent = parent
        # The deepest step at or above this one whose container had more than one member: where a
        # single chain of nesting starts, which is what the error names.
        self.named = named

    def dotted(self) -> str:
        keys: list[str] = []
        step: _Step | None = self
        while step is not None and step.key is not None:
            keys.append(str(step.key))
            step = step.parent
        keys.reverse()
        return ".".join(keys[:_MAX_PATH_STEPS]) or BODY


def check_depth(value: Any, *, max_depth: int | None = None) -> None:
    """Raise JsonTooDeepError when value (parsed JSON) nests deeper than max_depth levels.

    Walks with a stack of its own, so any depth is checked without recursion. The error names the
    member where the too-deep part starts: for `{"nodes": [{"input_default": {"a": {"a": ...}}}]}`
    that is `nodes.0.input_default`, the point below which the value is one single chain."""
    limit = settings.JSON_MAX_DEPTH if max_depth is None else max_depth
    root = _Step(None, None, None)
    stack: list[tuple[Any, int, _Step]] = [(value, 1, root)]
    while stack:
        container, depth, step = stack.pop()
        if isinstance(container, dict):
            members: Any = container.items()
        elif isinstance(container, list):
            members = enumerate(container)
        else:
            continue
        if depth > limit:
            raise JsonTooDeepError((step.named or root).dotted(), limit)
        branches = len(container) > 1
        for key, child in members:
            if isinstance(child, (dict, list)):
                child_step = _Step(key, step, None)
                child_step.named = child_step if branches or step.named is None else step.named
                stack.append((child, depth + 1, child_step))


def json_loads_limited(text: str, *, max_depth: int | None = None) -> Any:
    """json.loads, refusing nesting deeper than max_depth (JSON_MAX_DEPTH) with JsonTooDeepError.

    Python's decoder recurses: input deep enough raises RecursionError before any check could
    run, which is the same refusal."""
    limit = settings.JSON_MAX_DEPTH if max_depth is None else max_depth
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonTooDeepError(BODY, limit) from None
    check_depth(value, max_depth=limit)
    return value


class DepthLimitedJSONParser(JSONParser):
    """DRF's JSON parser with the nesting limit: too deep is a 400 naming where, not a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            parse_constant = json.strict_constant if api_settings.STRICT_JSON else None
            value = json.loads(text, parse_constant=parse_constant)
        except RecursionError:
            raise ValidationError({BODY: [JsonTooDeepError(BODY, settings.JSON_MAX_DEPTH).problem]}) from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        try:
            check_depth(value)
        except JsonTooDeepError as exc:
            raise ValidationError({exc.field: [exc.problem]}) from None
        return value
