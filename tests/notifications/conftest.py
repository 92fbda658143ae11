import uuid

import pytest

from notifications.models import Delivery
from tests.processes import wait_until


@pytest.fixture(autouse=True)
def stand_in_settings(settings, notification_stand_ins):
    """This process reaches the stand-ins as the workers do (channel tests send from here)."""
    settings.NOTIFICATION_WEBHOOK_ALLOWED_HOSTS = [notification_stand_ins.allowed_host]
    settings.SAFE_HTTP_ALLOWED_HOSTS = [notification_stand_ins.allowed_host]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", notification_stand_ins.smtp.port


@pytest.fixture
def stand_ins(notification_stand_ins):
    return notification_stand_ins


def run_data(**overrides) -> dict:
    """The data the engine gives an agent-run notification."""
    return {
        "execution_id": str(uuid.uuid4()),
        "graph_id": str(uuid.uuid4()),
        "graph_name": "Weather digest",
        "graph_version": 2,
        "status": "FAILED",
        "duration_seconds": 3.5,
        "trigger_kind": "manual",
        "error_message": "Index 5 is out of range",
        **overrides,
    }


def wait_for_delivery(delivery_id, statuses=("sent", "failed", "skipped"), timeout: float = 30) -> Delivery:
    def done():
        delivery = Delivery.objects.get(id=delivery_id)
        return delivery if delivery.status in statuses else None

    return wait_until(done, timeout=timeout, message=f"delivery {delivery_id} to be one of {statuses}")
