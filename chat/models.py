import uuid

from django.conf import settings
from django.db import models


class SessionStatus(models.TextChoices):
    IDLE = "idle"
    RUNNING = "running"  # a turn is queued or running on an executor


class ChatSession(models.Model):
    """A conversation with the assistant. PostgreSQL holds the truth; the live state of a running
    session is mirrored in Redis under `session:{id}` (chat/streams.py)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_sessions")
    title = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=SessionStatus.choices, default=SessionStatus.IDLE)
    model = models.CharField(max_length=200, help_text="The language model the assistant answers with.")
    llm_provider = models.CharField(max_length=64)
    llm_credential_id = models.UUIDField(
        null=True, blank=True, help_text="The user's own credential (or a system one); none: the platform's."
    )
    # The latest turn: running while status is running, else the one that ended last.
    turn_id = models.UUIDField(null=True, blank=True)
    turn_queued_at = models.DateTimeField(null=True, blank=True)
    turn_started_at = models.DateTimeField(null=True, blank=True, help_text="When a worker took the turn.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-created_at"]
        indexes = [
            models.Index(fields=["user", "-updated_at"]),
            models.Index(fields=["status", "turn_queued_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.title or self.id} ({self.status})"


class MessageRole(models.TextChoices):
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class ChatMessage(models.Model):
    """One message of a session, in OpenAI's chat shape: what the model is given back next turn."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="messages")
    sequence = models.PositiveIntegerField(help_text="Order within the session, from 1.")
    turn_id = models.UUIDField(null=True, blank=True)
    role = models.CharField(max_length=10, choices=MessageRole.choices)
    content = models.TextField(blank=True)
    tool_calls = models.JSONField(
        default=list, blank=True, help_text="Assistant messages: [{id, type, function: {name, arguments}}]."
    )
    tool_call_id = models.CharField(max_length=200, blank=True, help_text="Tool messages: the call answered.")
    tool_name = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=200, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session", "sequence"]
        constraints = [models.UniqueConstraint(fields=["session", "sequence"], name="unique_chat_message_sequence")]

    def __str__(self) -> str:
        return f"{self.session_id} #{self.sequence} {self.role}"
