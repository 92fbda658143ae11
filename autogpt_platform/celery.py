"""The Celery app: configured from Django settings (namespace CELERY), tasks autodiscovered."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autogpt_platform.settings.dev")

app = Celery("autogpt_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Worker liveness heartbeats for /health/ready (connects the worker signals).
import autogpt_platform.heartbeats  # noqa: E402,F401
