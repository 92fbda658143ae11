"""`make test`: the real PostgreSQL, RabbitMQ, Redis and clamd on 127.0.0.1."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/autogpt_platform")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
os.environ.setdefault("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
os.environ.setdefault("CLAMAV_REQUIRED", "true")
# Blocks that only tests use: side-effect counters, a worker killer, oversized outputs.
os.environ.setdefault("EXTRA_BLOCK_MODULES", "tests.blocks")
# Short heartbeats, so that a lost engine is noticed within seconds.
os.environ.setdefault("EXECUTION_HEARTBEAT_SECONDS", "1")

from .base import *  # noqa: E402,F401,F403

# Hashing cost is not what the tests are about.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
