"""Jinja2 templates written by users, rendered in a sandbox that bounds what they produce.

Jinja2's immutable sandbox keeps a template away from Python's internals and caps `range()`, but
a template can still run away: loops that print megabytes, `"x" * 10**10`, `9 ** 9 ** 9`. Here the
rendering is streamed and stops once the text passes BLOCK_OUTPUT_MAX_BYTES (the limit every block
output has), `*` and `**` refuse results past that size, and a stopped execution stops the
rendering between two pieces of output.
"""

import math
from typing import Any

import jinja2
import jinja2.sandbox
from django.conf import settings
from jinja2.exceptions import SecurityError, TemplateError

from .base import BlockContext

__all__ = ["BoundedSandbox", "TemplateError", "render_bounded"]


def _repetition_size(left: Any, right: Any) -> float:
    """The length of a text or list repeated by `*`, 0 for a product of numbers."""
    for sequence, times in ((left, right), (right, left)):
        if isinstance(sequence, (str, list, tuple)) and isinstance(times, int):
            return len(sequence) * max(times, 0)
    return 0


def _power_size(base: Any, exponent: Any) -> float:
    """About how many bytes an integer power takes (a float power overflows quickly on its own)."""
    if isinstance(base, int) and isinstance(exponent, int) and abs(base) > 1 and exponent > 0:
        return exponent * math.log2(abs(base)) / 8
    return 0


class BoundedSandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """The immutable sandbox, with `*` and `**` refusing results past the output limit."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        size = _repetition_size(left, right) if operator == "*" else _power_size(left, right)
        if size > settings.BLOCK_OUTPUT_MAX_BYTES:
            raise SecurityError(
                f"'{operator}' would give a result over the output limit of {settings.BLOCK_OUTPUT_MAX_BYTES} bytes"
            )
        return super().call_binop(context, operator, left, right)


def render_bounded(template: jinja2.Template, values: dict[str, Any], context: BlockContext) -> str:
    """The rendered text, streamed: stops past the output limit, or when the execution stops."""
    limit = settings.BLOCK_OUTPUT_MAX_BYTES
    pieces: list[str] = []
    size = 0
    for piece in template.generate(values):
        context.check_cancelled()
        size += len(piece)
        if size > limit:
            raise SecurityError(f"the text is longer than the output limit of {limit} bytes")
        pieces.append(piece)
    return "".join(pieces)
