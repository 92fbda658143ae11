"""Rate limits (DRF throttles) kept in Redis, so that every web process counts the same requests.

Each throttle counts requests in a sliding window: a Redis sorted set per scope and identity (an
IP, an email, a user, an API key) holding one member per allowed request. One Lua script checks and
records atomically, so concurrent requests to several processes cannot slip past the limit. A
refused request is not recorded: a client that waits as told by `Retry-After` gets through.

The rates are the THROTTLE_RATES setting, read at request time: the defaults of throttle_rates.py,
overridable from the environment as one variable (`THROTTLE_RATES=login=10/min,api=3000/min`).
"""

import hashlib
import logging
import secrets
from functools import cache

import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.throttling import BaseThrottle
from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.state import token_backend

from accounts.models import ApiKey

from .redis_client import get_redis
from .throttle_rates import parse_rate

logger = logging.getLogger(__name__)

KEY_PREFIX = "autogpt:throttle"

# KEYS[1]: the window's sorted set. ARGV: window seconds, allowed requests, a unique member.
# Returns {1, 0} when allowed (and recorded), {0, seconds until a slot frees} when not. The time is
# the Redis server's, so that web processes on several hosts share one clock.
_SLIDING_WINDOW = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
    redis.call('ZADD', KEYS[1], now, ARGV[3])
    redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
    return {1, '0'}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tostring(tonumber(oldest[2]) + window - now)}
"""


def _digest(value: str) -> str:
    # Keys name no email address or token: a digest is enough to tell them apart.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class RedisRateThrottle(BaseThrottle):
    """A sliding-window throttle in Redis. Subclasses name a scope and say whom a request counts
    against (`identity`, None: not throttled by this one)."""

    scope: str = ""

    def __init__(self) -> None:
        self.rate = self.get_rate()
        self.seconds_to_wait: float | None = None

    def get_rate(self) -> str | None:
        return settings.THROTTLE_RATES.get(self.scope)

    def identity(self, request, view) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        identity = self.identity(request, view)
        if identity is None:
            return True
        num_requests, duration = parse_rate(self.rate)
        key = f"{KEY_PREFIX}:{self.scope}:{identity}"
        try:
            allowed, wait = _script()(keys=[key], args=[duration, num_requests, secrets.token_hex(8)])
        except redis.RedisError:
            # Redis down: serve rather than refuse everything; the outage shows in /health/ready.
            logger.warning("Throttle %s not checked: Redis is unreachable.", self.scope, exc_info=True)
            return True
        if allowed:
            return True
        self.seconds_to_wait = max(float(wait), 1.0)
        return False

    def wait(self) -> float | None:
        return self.seconds_to_wait


@cache
def _script():
    return get_redis().register_script(_SLIDING_WINDOW)


class ClientIpThrottle(RedisRateThrottle):
    """Per client IP: REMOTE_ADDR, or the address NUM_PROXIES hops back in X-Forwarded-For."""

    def identity(self, request, view) -> str | None:
        return f"ip:{self.get_ident(request)}"


class EmailThrottle(RedisRateThrottle):
    """Per email address given in the body, normalized as the login normalizes it."""

    def identity(self, request, view) -> str | None:
        email = request.data.get("email") if hasattr(request.data, "get") else None
        if not isinstance(email, str) or not email.strip():
            return None  # the serializer says what is wrong; the IP bucket still counts it
        normalized = get_user_model().objects.normalize_email(email.strip()).lower()
        return f"email:{_digest(normalized)}"


class LoginIpThrottle(ClientIpThrottle):
    scope = "login"

    def get_rate(self) -> str | None:
        rates = settings.THROTTLE_RATES
        return rates["login_ip"] if "login_ip" in rates else rates.get("login")


class LoginEmailThrottle(EmailThrottle):
    scope = "login"

    def identity(self, request, view) -> str | None:
        # Apart from the IP bucket (same scope name, different identity prefix).
        identity = super().identity(request, view)
        return identity and f"login-{identity}"


class RegisterIpThrottle(ClientIpThrottle):
    scope = "register"

    def get_rate(self) -> str | None:
        rates = settings.THROTTLE_RATES
        return rates["register_ip"] if "register_ip" in rates else rates.get("register")


class RegisterEmailThrottle(EmailThrottle):
    scope = "register"


class RefreshThrottle(RedisRateThrottle):
    """Per user of the refresh token (its signature checked, so nobody fills another user's
    bucket); per client IP when the token is not valid."""

    scope = "refresh"

    def identity(self, request, view) -> str | None:
        raw = request.data.get("refresh") if hasattr(request.data, "get") else None
        if isinstance(raw, str) and len(raw) < 4096:
            try:
                claims = token_backend.decode(raw, verify=True)  # type: ignore[arg-type]  # stubs say Token; it takes the raw string
                user_id = claims.get(jwt_settings.USER_ID_CLAIM)
            except TokenBackendError:
                user_id = None
            if user_id:
                return f"user:{user_id}"
        return f"ip:{self.get_ident(request)}"


class UserThrottle(RedisRateThrottle):
    """Per authenticated user."""

    def identity(self, request, view) -> str | None:
        user = getattr(request, "user", None)
        return f"user:{user.pk}" if user is not None and user.is_authenticated else None


class PasswordChangeThrottle(UserThrottle):
    """Guesses at the current password count like logins, per user."""

    scope = "login"

    def identity(self, request, view) -> str | None:
        identity = super().identity(request, view)
        return identity and f"password-{identity}"


class ExecuteThrottle(UserThrottle):
    scope = "execute"


class BlockExecuteThrottle(UserThrottle):
    scope = "block_execute"


class ApiThrottle(RedisRateThrottle):
    """Every API request: per user, or per client IP without login."""

    scope = "api"

    def identity(self, request, view) -> str | None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"user:{user.pk}"
        return f"ip:{self.get_ident(request)}"


class ApiKeyThrottle(RedisRateThrottle):
    """Every request made with an API key, per key."""

    scope = "api_key"

    def identity(self, request, view) -> str | None:
        auth = getattr(request, "auth", None)
        return f"key:{auth.pk}" if isinstance(auth, ApiKey) else None


# The throttles every API view has (REST_FRAMEWORK's DEFAULT_THROTTLE_CLASSES); views that add
# one of their own list these too.
API_THROTTLES: list[type[BaseThrottle]] = [ApiThrottle, ApiKeyThrottle]
