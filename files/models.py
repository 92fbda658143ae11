"""A user's file: uploaded through the API or stored by a block, kept until it expires."""

import uuid

from django.conf import settings
from django.db import models


class FileOrigin(models.TextChoices):
    UPLOAD = "upload", "Uploaded"
    BLOCK = "block", "Stored by a block"


class UserFile(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="files")
    # The name the user (or the source URL) gave it, for display and downloads; never a storage path.
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    # Where the content is in the "user_files" storage: a random name chosen by the platform.
    storage_name = models.CharField(max_length=500)
    origin = models.CharField(max_length=10, choices=FileOrigin.choices, default=FileOrigin.UPLOAD)
    # The run that stored it, for files a block stored.
    graph_exec_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"
