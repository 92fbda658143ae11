"""The cache of the store's public pages (Redis, through Django's cache).

Every key carries a generation number; changing what the public sees (a review decision, a
rating, a creator's profile) bumps the generation after commit, which drops every cached page at
once. Run counts are the one figure that may lag, by up to STORE_CACHE_SECONDS.
"""

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

GENERATION_KEY = "store:generation"


def _generation() -> int:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        # A clock value, not 1: a lost counter must never come back to a number used before.
        cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
        generation = cache.get(GENERATION_KEY, 0)
    return generation


def public_cached(key: str, build: Callable[[], Any]) -> Any:
    """The cached value for key, built and stored when missing or out of date."""
    full_key = f"store:public:{_generation()}:{key}"
    value = cache.get(full_key)
    if value is None:
        value = build()
        cache.set(full_key, value, timeout=settings.STORE_CACHE_SECONDS)
    return value


def _bump() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not there (evicted, or never read): a fresh clock value drops the old keys
        cache.set(GENERATION_KEY, time.time_ns(), timeout=None)


def public_cache_invalidate() -> None:
    """Drop every cached public page once the current transaction commits."""
    transaction.on_commit(_bump)
