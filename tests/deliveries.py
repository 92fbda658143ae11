"""Notification helpers for tests: the data of an agent-run notification, waiting for a delivery."""

import uuid

from notifications.models import Delivery
from tests.processes import wait_until


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
