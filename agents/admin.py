from django.contrib import admin

from .models import Graph, GraphVersion, Link, Node


class NodeInline(admin.TabularInline):
    model = Node
    extra = 0
    fields = ["node_id", "block_id", "input_default", "metadata"]


class LinkInline(admin.TabularInline):
    model = Link
    extra = 0
    fields = ["source_id", "source_name", "sink_id", "sink_name", "is_static"]


@admin.register(GraphVersion)
class GraphVersionAdmin(admin.ModelAdmin):
    list_display = ["name", "graph", "version", "created_at"]
    search_fields = ["name", "graph__id", "graph__user__email"]
    inlines = [NodeInline, LinkInline]


@admin.register(Graph)
class GraphAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "active_version", "updated_at"]
    search_fields = ["id", "user__email"]
