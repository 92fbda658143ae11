"""Operators see who holds which credential, never a secret (secrets_encrypted is left out)."""

from django.contrib import admin

from .models import Credential


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "provider", "type", "title", "created_at"]
    list_filter = ["provider", "type"]
    search_fields = ["id", "user__email", "title"]
    fields = readonly_fields = (
        "id",
        "user",
        "provider",
        "type",
        "title",
        "username",
        "host",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
