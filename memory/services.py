"""Writes to the per-user key-value store."""

import json
from typing import Any

from django.conf import settings

from autogpt_platform.errors import FieldError

from .models import MemoryEntry


def _stored_form(value: Any) -> Any:
    """value as it will be stored and read back (a JSON round-trip), within the block output limit."""
    try:
        text = json.dumps(value, default=str, allow_nan=False)
    except ValueError as exc:
        raise FieldError("value", f"cannot be stored: {exc}") from exc
    limit = settings.BLOCK_OUTPUT_MAX_BYTES
    if len(text.encode()) > limit:
        raise FieldError("value", f"is {len(text.encode())} bytes; at most {limit} bytes can be stored.")
    return json.loads(text.replace("\\u0000", ""))  # PostgreSQL's JSON cannot hold NUL characters


def memory_set(*, user_id: Any, scope: str, key: str, value: Any) -> Any:
    """Store value under (scope, key) for the user, replacing what was there; returns it as stored."""
    stored = _stored_form(value)
    MemoryEntry.objects.update_or_create(user_id=user_id, scope=scope, key=key, defaults={"value": stored})
    return stored
