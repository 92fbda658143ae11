"""Reads from the per-user key-value store."""

from typing import Any

from .models import MemoryEntry


def memory_get(*, user_id: Any, scope: str, key: str) -> Any | None:
    """The value stored under (scope, key) for the user, or None when there is none."""
    entry = MemoryEntry.objects.filter(user_id=user_id, scope=scope, key=key).only("value").first()
    return entry.value if entry else None
