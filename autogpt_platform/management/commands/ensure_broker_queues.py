"""Declare the broker's quorum queues before any worker or web process uses them.

An older release declared `agent_executions` as a classic queue; RabbitMQ cannot change a queue's
type, so this replaces it (when no worker consumes it) with the quorum queue this release declares.
Executor workers do the same when they start; run this once after stopping the old executors to
have it done before any of them starts (the web process only publishes, and is refused until then:
its runs wait, committed, for the dispatcher's sweep).
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from autogpt_platform.broker import QueueUpgradeRefused, is_rabbitmq, queues_upgrade


class Command(BaseCommand):
    help = "Declare the broker's quorum queues, replacing classic queues of the same name left by an older release."

    def handle(self, *args, **options):
        if not is_rabbitmq(settings.CELERY_BROKER_URL):
            self.stdout.write("The broker is not RabbitMQ: nothing to declare.")
            return
        try:
            replaced = queues_upgrade(settings.CELERY_BROKER_URL, settings.CELERY_TASK_QUEUES)
        except QueueUpgradeRefused as refused:
            raise CommandError(str(refused)) from refused
        if replaced:
            self.stdout.write(f"Replaced classic queues by quorum queues: {', '.join(replaced)}")
        else:
            self.stdout.write("The quorum queues are in place.")
