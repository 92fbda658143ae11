"""The Celery app: configured from Django settings (namespace CELERY), tasks autodiscovered."""

import logging
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autogpt_platform.settings.dev")

logger = logging.getLogger(__name__)

app = Celery("autogpt_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Worker liveness heartbeats for /health/ready (connects the worker signals).
import autogpt_platform.heartbeats  # noqa: E402,F401

from .broker import QUORUM_QUEUES, QueueUpgradeRefused, queues_upgrade  # noqa: E402


@signals.celeryd_after_setup.connect
def prepare_quorum_queues(sender, instance, conf, **kwargs) -> None:
    """Before the worker consumes: a worker on a quorum queue makes sure it is one (upgrading the
    classic queue of an older release) and uses per-consumer QoS, which quorum queues need; other
    workers keep global QoS (Celery would turn it off on every worker of an app with a quorum queue,
    and their countdown retries would then hold prefetch slots)."""
    consumed = [queue for name, queue in instance.app.amqp.queues.consume_from.items() if name in QUORUM_QUEUES]
    conf.worker_detect_quorum_queues = bool(consumed)
    if not consumed:
        return
    try:
        replaced = queues_upgrade(conf.broker_url, consumed)
    except QueueUpgradeRefused as refused:
        logger.error("%s", refused)
        return
    except Exception:  # the broker is not up yet: the consumer waits for it and declares the queue itself
        logger.warning("Could not check the quorum queues before starting", exc_info=True)
        return
    if replaced:
        logger.warning("Upgraded %s to quorum queues", ", ".join(replaced))
