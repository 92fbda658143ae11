"""Production (docker/compose): every service named by the environment, secrets required."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import ENCRYPTION_KEYS, STORAGES, env

SECRET_KEY = env("SECRET_KEY")
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

# Static files: what collectstatic wrote (docker/Dockerfile), with content hashes in the names
# and gzip copies; WhiteNoise serves hashed files with a far-future, immutable Cache-Control.
# https://whitenoise.readthedocs.io/en/stable/django.html#add-compression-and-caching-support
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
WHITENOISE_USE_FINDERS = False
