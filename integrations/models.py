import uuid

from django.conf import settings
from django.db import models


class CredentialType(models.TextChoices):
    """AutoGPT's credential types."""

    API_KEY = "api_key", "API key"
    USER_PASSWORD = "user_password", "Username and password"
    HOST_SCOPED = "host_scoped", "Headers for one host"
    OAUTH2 = "oauth2", "OAuth 2 (reserved)"


class Credential(models.Model):
    """A user's credential for one provider. What is secret (api_key, password, headers) is one
    JSON object encrypted under ENCRYPTION_KEYS; username and host are shown, so kept plain."""

    is_system = False  # system credentials come from the operator's environment, never from here

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credentials")
    provider = models.CharField(max_length=64, help_text="A name from integrations.providers.")
    type = models.CharField(max_length=20, choices=CredentialType.choices)
    title = models.CharField(max_length=200)
    # Blank: this type of credential has none (user_password has a username, host_scoped a host).
    username = models.CharField(max_length=255, blank=True, default="")
    host = models.CharField(max_length=300, blank=True, default="")
    secrets_encrypted = models.TextField(help_text="The secret fields as JSON, encrypted (Fernet).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["user", "provider"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.provider})"
