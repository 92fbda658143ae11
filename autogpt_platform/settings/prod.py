"""Production (docker/compose): every service named by the environment, secrets required."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import ENCRYPTION_KEYS, env

# Keys that were ever written in this code base: never valid in production.
PUBLISHED_KEYS = {"dev-insecure-change-me-0123456789abcdef0123456789abcdef"}


def _refuse_weak_key(name: str, key: str) -> None:
    # A key that was published (the one the code once defaulted to) or can be guessed would let
    # anyone sign sessions and tokens, an admin's included: refuse to start rather than serve.
    if key in PUBLISHED_KEYS or key.startswith(("django-insecure", "dev-insecure")) or len(set(key)) < 5:
        raise ImproperlyConfigured(f"{name} is a published or trivial key: set a long random one (see README).")
    if len(key) < 50:
        raise ImproperlyConfigured(f"{name} is shorter than 50 characters: set a long random one (see README).")


SECRET_KEY = env("SECRET_KEY")
JWT_SIGNING_KEY = env("JWT_SIGNING_KEY", default="")
_refuse_weak_key("SECRET_KEY", SECRET_KEY)
if JWT_SIGNING_KEY:
    _refuse_weak_key("JWT_SIGNING_KEY", JWT_SIGNING_KEY)
if not ENCRYPTION_KEYS:
    # Secrets stored under a key nobody kept would be lost: refuse to start rather than make one up.
    raise ImproperlyConfigured(
        "ENCRYPTION_KEYS is required: one or more comma-separated Fernet keys (the first encrypts). "
        'Generate one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
    )
DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
