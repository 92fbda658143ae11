"""A worker killed mid-send: the message is delivered again, the delivery is sent again with the
same idempotency key, and it is recorded sent exactly once."""

import pytest

from autogpt_platform.celery import app
from autogpt_platform.queues import CeleryQueue
from notifications import services
from notifications.models import Delivery
from tests import processes
from tests.deliveries import run_data, wait_for_delivery
from tests.notifications.stand_ins import Reply

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_worker")]

QUEUE = CeleryQueue.NOTIFICATIONS.value


@pytest.fixture
def notification_workers(live_worker, stand_ins):
    """Start dedicated notification workers; the shared worker stops taking notifications meanwhile."""
    app.control.cancel_consumer(QUEUE, destination=[live_worker.node_name], reply=True, timeout=5)
    started = []

    def start(name: str) -> processes.PlatformProcess:
        worker = processes.celery_worker(name, [QUEUE], concurrency=1, env=stand_ins.env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
    app.control.add_consumer(QUEUE, destination=[live_worker.node_name], reply=True, timeout=5)


def test_a_worker_killed_mid_send_is_replaced_and_the_delivery_is_sent_once(user, stand_ins, notification_workers):
    url = stand_ins.http.slack(Reply(hold=True))  # the first request hangs until its worker dies
    services.channel_create(user=user, kind="slack", name="ops", webhook_url=url)
    services.preferences_update(user=user, switches={"agent_run_failed": {"email": False}})
    first = notification_workers("notify-a")
    notification = services.notification_create(user=user, type="agent_run_failed", data=run_data())
    delivery = Delivery.objects.get(notification=notification)

    stand_ins.http.wait_for(url, 1)
    first.kill()
    assert Delivery.objects.get(id=delivery.id).status == "sending"
    notification_workers("notify-b")
    delivery = wait_for_delivery(delivery.id, timeout=60)

    seen = stand_ins.http.requests(url)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "")
    assert [request.headers["idempotency-key"] for request in seen] == [delivery.idempotency_key] * 2
    assert list(delivery.attempt_log.values_list("number", "outcome")) == [(1, "lost"), (2, "sent")]
    assert Delivery.objects.filter(notification=notification, status="sent").count() == 1
