from django.contrib import admin

from .models import GraphExecution, NodeExecution


class NodeExecutionInline(admin.TabularInline):
    model = NodeExecution
    extra = 0
    fields = readonly_fields = ("sequence", "node_id", "block_id", "status", "error", "started_at", "ended_at")
    can_delete = False


@admin.register(GraphExecution)
class GraphExecutionAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "graph", "status", "trigger_kind", "attempts", "created_at", "ended_at"]
    list_filter = ["status", "trigger_kind"]
    search_fields = ["id", "user__email", "graph__id"]
    readonly_fields = ["attempts", "worker", "heartbeat_at", "dispatched_at"]
    inlines = [NodeExecutionInline]
