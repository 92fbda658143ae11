"""The rates of the API's throttles (autogpt_platform/throttling.py), read by the settings.

THROTTLE_RATES in the environment overrides some of DEFAULT_THROTTLE_RATES in one variable:
`THROTTLE_RATES=login=10/min,register=20/hour,execute=600/min,api=3000/min`. A rate is
`<requests>/<period>` (period: s, sec, second, m, min, minute, h, hour, d, day), or `none` for no
limit. This module imports nothing of Django's, so that settings can use it.
"""

import re

DEFAULT_THROTTLE_RATES: dict[str, str | None] = {
    # Per email and per client IP (login_ip / register_ip, when set, rate the IP bucket apart).
    "login": "10/min",
    "register": "20/hour",
    # Per user (the refresh token's user; the client IP when the token is not valid).
    "refresh": "60/min",
    # Per user: starting graph executions, and running single blocks.
    "execute": "600/min",
    "block_execute": "600/min",
    # Every API request: per user (per client IP without login), and per API key.
    "api": "3000/min",
    "api_key": "3000/min",
}
# Scopes that may be set but have no default: they fall back to the scope named.
OPTIONAL_SCOPES = {"login_ip": "login", "register_ip": "register"}

_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
_PERIODS |= {"d": 86400, "day": 86400}
_RATE = re.compile(r"^(\d+)/([a-z]+)$")


class RateError(ValueError):
    pass


def parse_rate(rate: str) -> tuple[int, int]:
    """`10/min` as (10 requests, 60 seconds)."""
    match = _RATE.match(rate.strip().lower())
    if not match or match.group(2) not in _PERIODS or int(match.group(1)) < 1:
        raise RateError(f"{rate!r} is not a rate such as 10/min (periods: s, min, hour, day).")
    return int(match.group(1)), _PERIODS[match.group(2)]


def parse_throttle_rates(value: str) -> dict[str, str | None]:
    """DEFAULT_THROTTLE_RATES with the overrides of a THROTTLE_RATES value (`scope=rate,...`).

    Raises RateError naming an unknown scope or a malformed rate."""
    rates = dict(DEFAULT_THROTTLE_RATES)
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        scope, _, rate = (piece.strip() for piece in entry.partition("="))
        if scope not in DEFAULT_THROTTLE_RATES and scope not in OPTIONAL_SCOPES:
            known = ", ".join([*DEFAULT_THROTTLE_RATES, *OPTIONAL_SCOPES])
            raise RateError(f"THROTTLE_RATES: unknown scope {scope!r} (known: {known}).")
        if rate.lower() == "none":
            rates[scope] = None
            continue
        try:
            parse_rate(rate)
        except RateError as exc:
            raise RateError(f"THROTTLE_RATES: {scope}={exc}") from None
        rates[scope] = rate
    return rates
