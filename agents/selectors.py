"""Graph reads: per-user lookups, versions, the derived input and output schemas."""

import uuid
from typing import Any

from django.db.models import F, Prefetch, QuerySet

from accounts.models import User
from autogpt_platform.errors import NotFoundError

from .blocks import get_block
from .models import Graph, GraphVersion, Link, Node
from .validation import is_input_block, is_output_block


def _with_content(queryset: QuerySet[GraphVersion]) -> QuerySet[GraphVersion]:
    return queryset.select_related("graph").prefetch_related(
        Prefetch("nodes", queryset=Node.objects.order_by("id")), Prefetch("links", queryset=Link.objects.order_by("id"))
    )


def graph_get_for_user(*, user: User, graph_id: uuid.UUID | str, version: int | None = None) -> GraphVersion:
    """A version of one of the user's graphs (the active one by default); another user's graph
    is not found."""
    queryset = GraphVersion.objects.filter(graph_id=graph_id, graph__user=user)
    queryset = (
        queryset.filter(version=version) if version is not None else queryset.filter(version=F("graph__active_version"))
    )
    graph_version = _with_content(queryset).first()
    if graph_version is None:
        raise NotFoundError("Graph not found." if version is None else f"Graph version {version} not found.")
    return graph_version


def graph_exists(*, user: User, graph_id: uuid.UUID | str) -> bool:
    return Graph.objects.filter(id=graph_id, user=user).exists()


def graph_list(*, user: User) -> QuerySet[GraphVersion]:
    """The active version of each of the user's graphs, most recently changed first."""
    return _with_content(
        GraphVersion.objects.filter(graph__user=user, version=F("graph__active_version")).order_by("-graph__updated_at")
    )


def graph_version_list(*, user: User, graph_id: uuid.UUID) -> QuerySet[GraphVersion]:
    if not Graph.objects.filter(id=graph_id, user=user).exists():
        raise NotFoundError("Graph not found.")
    return _with_content(GraphVersion.objects.filter(graph_id=graph_id).order_by("-version"))


def graph_version_content(graph_version: GraphVersion) -> dict[str, Any]:
    """What graph_create takes to make a copy of this version."""
    return {
        "name": graph_version.name,
        "description": graph_version.description,
        "instructions": graph_version.instructions,
        "nodes": [
            {"id": n.node_id, "block_id": n.block_id, "input_default": n.input_default, "metadata": n.metadata}
            for n in graph_version.nodes.all()
        ],
        "links": [
            {
                "id": link.link_id,
                "source_id": link.source_id,
                "source_name": link.source_name,
                "sink_id": link.sink_id,
                "sink_name": link.sink_name,
                "is_static": link.is_static,
            }
            for link in graph_version.links.all()
        ],
    }


def graph_input_schema(graph_version: GraphVersion) -> dict[str, Any]:
    """JSON Schema of the graph's inputs: one property per Agent Input node, keyed by its name."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for node in graph_version.nodes.all():
        block = get_block(node.block_id)
        if block is None or not is_input_block(block) or not node.input_default.get("name"):
            continue
        name = node.input_default["name"]
        default = node.input_default.get("value", block.Input.model_fields["value"].default)
        prop = {
            **block.value_type_schema(),
            "title": node.input_default.get("title") or name,
            "description": node.input_default.get("description") or "",
            "advanced": bool(node.input_default.get("advanced", False)),
            "secret": bool(node.input_default.get("secret", False)),
        }
        options = node.input_default.get("options") or node.input_default.get("placeholder_values")
        if options:
            prop["enum"] = options
        if default is not None:
            prop["default"] = default
        else:
            required.append(name)
        properties[name] = prop
    return {"type": "object", "properties": properties, "required": required}


def graph_output_schema(graph_version: GraphVersion) -> dict[str, Any]:
    """JSON Schema of the graph's outputs: one property per Agent Output node."""
    properties: dict[str, Any] = {}
    for node in graph_version.nodes.all():
        block = get_block(node.block_id)
        if block is None or not is_output_block(block) or not node.input_default.get("name"):
            continue
        name = node.input_default["name"]
        properties[name] = {
            "title": node.input_default.get("title") or name,
            "description": node.input_default.get("description") or "",
            "advanced": bool(node.input_default.get("advanced", False)),
            "secret": bool(node.input_default.get("secret", False)),
        }
    return {"type": "object", "properties": properties, "required": list(properties)}
