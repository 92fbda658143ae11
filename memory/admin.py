from django.contrib import admin

from .models import MemoryEntry


@admin.register(MemoryEntry)
class MemoryEntryAdmin(admin.ModelAdmin):
    list_display = ["user", "scope", "key", "updated_at"]
    search_fields = ["user__email", "scope", "key"]
    raw_id_fields = ["user"]
