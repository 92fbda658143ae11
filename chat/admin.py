from django.contrib import admin

from .models import ChatMessage, ChatSession


class ChatMessageInline(admin.TabularInline):
    model = ChatMessage
    extra = 0
    fields = ("sequence", "role", "content", "tool_name", "input_tokens", "output_tokens", "created_at")
    readonly_fields = fields
    can_delete = False


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "title", "status", "model", "updated_at")
    list_filter = ("status",)
    search_fields = ("id", "title", "user__email")
    readonly_fields = ("id", "turn_id", "turn_queued_at", "turn_started_at", "created_at", "updated_at")
    inlines = [ChatMessageInline]
