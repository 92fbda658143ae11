"""The Celery app: configuration the engine relies on, and queues named once."""

from autogpt_platform.celery import app
from autogpt_platform.queues import CeleryQueue


def test_every_queue_is_declared_once_with_its_own_exchange():
    declared = {queue.name: queue.exchange.name for queue in app.conf.task_queues}

    assert declared == {queue.value: queue.value for queue in CeleryQueue}
    assert app.conf.task_create_missing_queues is False


def test_delivery_settings_favour_resuming_over_losing_work():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.accept_content == ["json"]
    assert app.conf.worker_send_task_events is True


def test_every_project_task_names_a_declared_queue():
    app.loader.import_default_modules()
    project_tasks = [task for name, task in app.tasks.items() if not name.startswith("celery.")]

    for task in project_tasks:
        assert task.queue in {queue.value for queue in CeleryQueue}, f"{task.name} does not name its queue"


def test_the_broker_keeps_what_it_accepted():
    queues = {queue.name: queue for queue in app.conf.task_queues}

    assert all(queue.durable and queue.exchange.durable for queue in queues.values())
    assert app.conf.task_default_delivery_mode == "persistent"
    # Quorum queues, publisher confirms: only on RabbitMQ (make run's Redis broker has neither).
    if app.conf.broker_url.startswith("amqp"):
        assert queues[CeleryQueue.AGENT_EXECUTIONS].queue_arguments == {"x-queue-type": "quorum"}
        assert queues[CeleryQueue.NOTIFICATIONS].queue_arguments is None
        assert app.conf.broker_transport_options == {"confirm_publish": True}
    # A broker blip does not cancel running executions (their duplicates are dropped instead).
    assert app.conf.worker_cancel_long_running_tasks_on_connection_loss is False
