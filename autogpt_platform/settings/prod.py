"""Production (docker/compose): every service named by the environment, secrets required."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import ENCRYPTION_KEYS, STORAGES, env

# Keys that were ever written in this code base (the old default, the tests'): never valid here.
PUBLISHED_KEYS = {
    "dev-insecure-change-me-0123456789abcdef0123456789abcdef",
    "test-only-secret-key-not-a-secret-3f9c1e7a5b2d4068a1c3e5f7b9d0c2e4",
}


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

# --- HTTPS, behind a proxy that terminates TLS ------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/middleware/#module-django.middleware.security
# The proxy says which scheme the client used; it must set X-Forwarded-Proto itself (overwriting
# any the client sent). Plain HTTP is redirected to HTTPS, except the health probes, which come
# over plain HTTP from inside the network (docker/compose.yml). HSTS then keeps browsers on HTTPS.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health(/ready)?$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Asking for the browsers' preload list binds the domain and all its subdomains to HTTPS for good,
# and anyone may submit a domain whose header asks for it: the operator's decision, off by default
# (so Django's reminder, W021, is silenced unless it is on).
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)

# Static files: what collectstatic wrote (docker/Dockerfile), with content hashes in the names
# and gzip copies; WhiteNoise serves hashed files with a far-future, immutable Cache-Control.
# https://whitenoise.readthedocs.io/en/stable/django.html#add-compression-and-caching-support
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
WHITENOISE_USE_FINDERS = False
