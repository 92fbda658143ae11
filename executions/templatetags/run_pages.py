"""Filters for the run pages (executions/pages.py)."""

import json

from django import template

register = template.Library()


@register.filter
def pretty_json(value) -> str:
    """A block's inputs or outputs as indented JSON (escaped by the template like any text)."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


@register.filter
def duration(obj) -> str:
    """How long a run or node run took, e.g. "1.03 s"; "" while it has not ended."""
    started, ended = getattr(obj, "started_at", None), getattr(obj, "ended_at", None)
    if not (started and ended):
        return ""
    return f"{(ended - started).total_seconds():.2f} s"
