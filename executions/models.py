import uuid

from django.conf import settings
from django.db import models


class ExecutionStatus(models.TextChoices):
    INCOMPLETE = "INCOMPLETE"  # node executions only: waiting for inputs
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    TERMINATED = "TERMINATED"


TERMINAL_STATUSES = (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.TERMINATED)


class TriggerKind(models.TextChoices):
    MANUAL = "manual"
    API = "api"
    SCHEDULE = "schedule"
    TRIGGER = "trigger"
    AGENT = "agent"  # a child execution started by an Agent Executor node
    CHAT = "chat"  # started by the chat assistant's run_agent tool (trigger_id: the chat session)


class GraphExecution(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="graph_executions")
    graph = models.ForeignKey("agents.Graph", on_delete=models.CASCADE, related_name="executions")
    graph_version = models.ForeignKey("agents.GraphVersion", on_delete=models.CASCADE, related_name="executions")
    status = models.CharField(max_length=12, choices=ExecutionStatus.choices, default=ExecutionStatus.QUEUED)
    inputs = models.JSONField(default=dict, blank=True)
    outputs = models.JSONField(default=dict, blank=True, help_text="Output name -> list of values.")
    error = models.JSONField(null=True, blank=True, help_text="{node_id, block_id, message} when FAILED.")
    trigger_kind = models.CharField(max_length=10, choices=TriggerKind.choices, default=TriggerKind.MANUAL)
    trigger_id = models.CharField(max_length=64, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    # Delivery bookkeeping: a message that keeps killing workers is failed after MAX attempts.
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["graph", "-created_at"]),
            models.Index(fields=["status", "heartbeat_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class NodeExecution(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    graph_execution = models.ForeignKey(GraphExecution, on_delete=models.CASCADE, related_name="node_executions")
    node_id = models.CharField(max_length=100)
    block_id = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=ExecutionStatus.choices, default=ExecutionStatus.INCOMPLETE)
    input_data = models.JSONField(default=dict, blank=True)
    output_data = models.JSONField(default=dict, blank=True, help_text="Pin -> list of values, in order.")
    output_count = models.PositiveIntegerField(default=0, help_text="Outputs already passed downstream.")
    error = models.TextField(blank=True)
    sequence = models.PositiveIntegerField(help_text="Creation order within the execution.")
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    stats = models.JSONField(
        default=dict, blank=True, help_text="{llm_usage: [{provider, model, input_tokens, output_tokens, cost}]}"
    )

    class Meta:
        ordering = ["graph_execution", "sequence"]
        indexes = [models.Index(fields=["graph_execution", "sequence"])]

    def __str__(self) -> str:
        return f"{self.node_id} #{self.sequence} ({self.status})"


class ScheduleStatus(models.TextChoices):
    ACTIVE = "active"
    PAUSED = "paused"
    DONE = "done"  # a one-off that has run
    DISABLED = "disabled"  # stopped after repeated failures


class Schedule(models.Model):
    """A user's schedule of a graph. What and when beat fires lives in django-celery-beat's
    PeriodicTask (with a CrontabSchedule or, for one-offs, a ClockedSchedule)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="schedules")
    graph = models.ForeignKey("agents.Graph", on_delete=models.CASCADE, related_name="schedules")
    graph_version = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    cron = models.CharField(max_length=120, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    run_at = models.DateTimeField(null=True, blank=True)
    inputs = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=ScheduleStatus.choices, default=ScheduleStatus.ACTIVE)
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agent_schedule",
    )
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_run_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"]), models.Index(fields=["graph", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.cron or self.run_at})"

    @property
    def is_one_off(self) -> bool:
        return self.run_at is not None

    @property
    def is_paused(self) -> bool:
        return self.status == ScheduleStatus.PAUSED


class WebhookTrigger(models.Model):
    """An outside system starts a graph by POSTing signed JSON to the trigger's ingress URL."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_triggers")
    graph = models.ForeignKey("agents.Graph", on_delete=models.CASCADE, related_name="webhook_triggers")
    graph_version = models.PositiveIntegerField(null=True, blank=True, help_text="None: the active version.")
    name = models.CharField(max_length=200, blank=True)
    secret_encrypted = models.TextField(help_text="The HMAC secret, encrypted with the platform's key.")
    is_paused = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"trigger {self.id} of {self.graph_id}"


class TriggerDelivery(models.Model):
    """One accepted delivery: replays of the same delivery id start nothing new."""

    trigger = models.ForeignKey(WebhookTrigger, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.CharField(max_length=200)
    graph_execution = models.ForeignKey(GraphExecution, null=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["trigger", "delivery_id"], name="unique_trigger_delivery")]
        indexes = [models.Index(fields=["received_at"])]

    def __str__(self) -> str:
        return f"{self.trigger_id}/{self.delivery_id}"
