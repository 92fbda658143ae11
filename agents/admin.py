from django.contrib import admin

from .models import Graph, GraphVersion, LibraryAgent, Link, Node


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


@admin.register(LibraryAgent)
class LibraryAgentAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "graph", "name", "is_favorite", "is_archived", "is_deleted", "updated_at"]
    list_filter = ["is_favorite", "is_archived", "is_deleted"]
    search_fields = ["id", "name", "user__email", "graph__id"]
    raw_id_fields = ["graph", "source_listing_version", "forked_from"]
