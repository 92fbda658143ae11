"""`make test`: the real PostgreSQL, RabbitMQ, Redis and clamd on 127.0.0.1."""

import os
from pathlib import Path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/autogpt_platform")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
os.environ.setdefault("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
os.environ.setdefault("CLAMAV_REQUIRED", "true")
# Fixed keys, so that tokens signed here are valid in the servers the tests start. Not secrets.
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-a-secret-3f9c1e7a5b2d4068a1c3e5f7b9d0c2e4")
# A fixed key, so that workers and servers the tests start read what the tests stored. Not a secret.
os.environ.setdefault("ENCRYPTION_KEYS", "pqKQmmByVGaSur3Z84iNk0J1SldczPbjBX7i6DQ54qI=")
# Blocks that only tests use: side-effect counters, a worker killer, oversized outputs.
os.environ.setdefault("EXTRA_BLOCK_MODULES", "tests.blocks")
# A runaway regular expression fails its node in half a second.
os.environ.setdefault("BLOCK_REGEX_TIMEOUT", "0.5")
# Short heartbeats, so that a lost engine is noticed within seconds.
os.environ.setdefault("EXECUTION_HEARTBEAT_SECONDS", "1")
# Notifications: retries, claims and time limits in seconds rather than minutes, a small email cap.
os.environ.setdefault("NOTIFICATION_RETRY_BASE_SECONDS", "0.5")
os.environ.setdefault("NOTIFICATION_MAX_ATTEMPTS", "4")
os.environ.setdefault("NOTIFICATION_SEND_TIMEOUT", "2")
os.environ.setdefault("NOTIFICATION_TASK_SOFT_TIME_LIMIT", "3")
os.environ.setdefault("NOTIFICATION_TASK_TIME_LIMIT", "4")
os.environ.setdefault("NOTIFICATION_CLAIM_SECONDS", "5")
os.environ.setdefault("NOTIFICATION_EMAIL_DAILY_CAP", "3")
# Rate limits far above what the suite does (it logs in and runs a lot from one address); the
# throttling tests set tight rates of their own.
os.environ.setdefault(
    "THROTTLE_RATES",
    "login=100000/min,register=100000/min,refresh=100000/min,execute=100000/min,"
    "block_execute=100000/min,api=100000/min,api_key=100000/min",
)

# Users' files of this checkout's test runs, shared by the test process and the workers it starts.
os.environ.setdefault("FILES_ROOT", str(Path(__file__).resolve().parent.parent.parent / "var" / "test-files"))

from .base import *  # noqa: E402,F401,F403

# Hashing cost is not what the tests are about.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
