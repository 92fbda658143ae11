from django.contrib import admin

from .models import UserFile


@admin.register(UserFile)
class UserFileAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "content_type", "size", "origin", "created_at", "expires_at"]
    list_filter = ["origin"]
    search_fields = ["name", "user__email", "sha256"]
    raw_id_fields = ["user"]
    readonly_fields = ["id", "sha256", "storage_name", "size", "created_at"]
