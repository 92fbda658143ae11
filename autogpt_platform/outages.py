"""Outages of the platform's dependencies (PostgreSQL, Redis, the broker): which errors they are,
what to call them, and retrying through them with backoff (tenacity).

A transient error is a lost or refused connection, not a bad query: retrying the same work once the
dependency is back is right. Workers retry through an outage for a bounded time; the web does not
wait: a request that needs a dependency that is down answers 503 in the one error shape.
"""

import logging
from collections.abc import Callable
from typing import TypeVar

import redis
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from kombu.exceptions import OperationalError as BrokerOperationalError
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential_jitter,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

DATABASE_ERRORS = (OperationalError, InterfaceError)
REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError)
BROKER_ERRORS = (BrokerOperationalError,)
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (*DATABASE_ERRORS, *REDIS_ERRORS, *BROKER_ERRORS)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT_ERRORS)


def dependency_of(exc: BaseException) -> str:
    """The dependency a transient error comes from, as people call it."""
    if isinstance(exc, DatabaseError):
        return "the database"
    if isinstance(exc, redis.RedisError):
        return "Redis"
    return "the message broker"


def describe(exc: BaseException) -> str:
    """A short account of the error, with no connection string in it."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


class DependencyOutage(Exception):
    """A dependency stayed unreachable for longer than the retry bound."""

    def __init__(self, cause: BaseException, seconds: float):
        self.cause = cause
        self.dependency = dependency_of(cause)
        super().__init__(
            f"{self.dependency[0].upper()}{self.dependency[1:]} was unreachable for {seconds:g} s ({describe(cause)})."
        )


def reset_connection(exc: BaseException) -> None:
    if isinstance(exc, DatabaseError):
        # Django keeps a broken connection until closed; the next query opens a new one.
        try:
            connection.close()
        except DatabaseError:
            pass


def retry_through_outage(fn: Callable[[], T], *, seconds: float, what: str, max_wait: float = 2.0) -> T:
    """Call fn until it stops raising transient errors, with exponential backoff (jittered, at most
    max_wait between tries) for at most `seconds`; then raise DependencyOutage. Other errors pass
    through at once. fn must be safe to call again after a failure (one transaction, say)."""

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if exc is None:
            return
        reset_connection(exc)
        log = logger.warning if state.attempt_number == 1 else logger.info
        log(
            "%s: %s is unreachable (%s); trying again (attempt %d)",
            what,
            dependency_of(exc),
            describe(exc),
            state.attempt_number,
        )

    retrying = Retrying(
        retry=retry_if_exception_type(TRANSIENT_ERRORS),
        wait=wait_exponential_jitter(initial=0.1, max=max_wait, jitter=0.1),
        stop=stop_after_delay(seconds),
        before_sleep=before_sleep,
    )
    try:
        return retrying(fn)
    except RetryError as exhausted:
        cause = exhausted.last_attempt.exception()
        assert cause is not None
        reset_connection(cause)
        raise DependencyOutage(cause, seconds) from cause
