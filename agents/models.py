import uuid

from django.conf import settings
from django.db import models


class Graph(models.Model):
    """An agent: its identity, owner and which version is active. The content lives in versions."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="graphs")
    active_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-updated_at"])]

    def __str__(self) -> str:
        return str(self.id)


class GraphVersion(models.Model):
    """One saved version of a graph: (graph id, version) with its nodes and links."""

    graph = models.ForeignKey(Graph, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    instructions = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["graph", "-version"]
        constraints = [models.UniqueConstraint(fields=["graph", "version"], name="unique_graph_version")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def is_active(self) -> bool:
        return self.graph.active_version == self.version


class Node(models.Model):
    graph_version = models.ForeignKey(GraphVersion, on_delete=models.CASCADE, related_name="nodes")
    node_id = models.CharField(max_length=100, help_text="The node's id within the graph.")
    block_id = models.CharField(max_length=64)
    input_default = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["graph_version", "node_id"], name="unique_node_per_version")]

    def __str__(self) -> str:
        return f"{self.node_id} ({self.block_id})"


class Link(models.Model):
    graph_version = models.ForeignKey(GraphVersion, on_delete=models.CASCADE, related_name="links")
    link_id = models.CharField(max_length=100)
    source_id = models.CharField(max_length=100)
    source_name = models.CharField(max_length=200)
    sink_id = models.CharField(max_length=100)
    sink_name = models.CharField(max_length=200)
    is_static = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.source_id}.{self.source_name} -> {self.sink_id}.{self.sink_name}"


class LibraryAgent(models.Model):
    """A graph in its owner's library: one they built, added from the store or forked.

    Deleting it from the library is soft: the graph, its runs and schedules stay.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="library_agents")
    graph = models.OneToOneField(Graph, on_delete=models.CASCADE, related_name="library_agent")
    name = models.CharField(max_length=200, blank=True, help_text="The user's own name for it; blank: the graph's.")
    is_favorite = models.BooleanField(default=False)
    is_archived = models.BooleanField(default=False)
    is_deleted = models.BooleanField(default=False)
    source_listing_version = models.ForeignKey(
        "store.StoreListingVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="library_agents",
        help_text="The store version this agent was added from (or last updated to).",
    )
    forked_from = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="forks")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["user", "is_deleted", "-updated_at"])]

    def __str__(self) -> str:
        return f"{self.name or self.graph_id} ({self.user_id})"
