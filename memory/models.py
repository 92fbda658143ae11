"""The per-user key-value store behind Persist Information and Retrieve Information."""

from django.conf import settings
from django.db import models


class MemoryEntry(models.Model):
    """One value a user's agents remembered. `scope` is AutoGPT's storage key prefix: "agent#<graph
    id>" for within_agent (every run of that agent), "global" for across_agents (every agent of the
    user)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memory_entries")
    scope = models.CharField(max_length=100)
    key = models.CharField(max_length=500)
    value = models.JSONField(null=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "scope", "key"], name="memory_entry_unique_key")]

    def __str__(self) -> str:
        return f"{self.scope}#{self.key}"
