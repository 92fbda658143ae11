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

    class Meta:
        ordering = ["graph_execution", "sequence"]
        indexes = [models.Index(fields=["graph_execution", "sequence"])]

    def __str__(self) -> str:
        return f"{self.node_id} #{self.sequence} ({self.status})"
