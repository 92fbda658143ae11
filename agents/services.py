"""Graph writes: create, new versions, activate, delete."""

import uuid
from typing import Any

from django.db import transaction
from django.db.models import Max

from accounts.models import User
from autogpt_platform.errors import FieldError, NotFoundError
from executions.services import execution_stop_all_for_graph

from .blocks.registry import canonical_block_id
from .models import Graph, GraphVersion, LibraryAgent, Link, Node
from .selectors import graph_get_for_user
from .validation import validate_graph


def _normalised(nodes: list[dict[str, Any]], links: list[dict[str, Any]]) -> tuple[list[dict], list[dict]]:
    nodes = [
        {
            "id": str(node["id"]),
            "block_id": canonical_block_id(str(node["block_id"])),
            "input_default": node.get("input_default") or {},
            "metadata": node.get("metadata") or {},
        }
        for node in nodes
    ]
    links = [
        {
            "id": str(link.get("id") or uuid.uuid4()),
            "source_id": str(link["source_id"]),
            "source_name": link["source_name"],
            "sink_id": str(link["sink_id"]),
            "sink_name": link["sink_name"],
            "is_static": bool(link.get("is_static", False)),
        }
        for link in links
    ]
    return nodes, links


def _version_create(
    *, graph: Graph, version: int, name: str, description: str, instructions: str, nodes: list, links: list
) -> GraphVersion:
    nodes, links = _normalised(nodes, links)
    validate_graph(name=name, nodes=nodes, links=links, user_id=graph.user_id)
    graph_version = GraphVersion.objects.create(
        graph=graph, version=version, name=name.strip(), description=description or "", instructions=instructions or ""
    )
    Node.objects.bulk_create(
        Node(
            graph_version=graph_version,
            node_id=node["id"],
            block_id=node["block_id"],
            input_default=node["input_default"],
            metadata=node["metadata"],
        )
        for node in nodes
    )
    Link.objects.bulk_create(
        Link(
            graph_version=graph_version,
            link_id=link["id"],
            source_id=link["source_id"],
            source_name=link["source_name"],
            sink_id=link["sink_id"],
            sink_name=link["sink_name"],
            is_static=link["is_static"],
        )
        for link in links
    )
    return graph_version


@transaction.atomic
def graph_create(
    *,
    user: User,
    name: str,
    description: str = "",
    instructions: str = "",
    nodes: list[dict[str, Any]],
    links: list[dict[str, Any]],
) -> GraphVersion:
    """Create a graph and its version 1, active, in the user's library. Nothing is saved when the
    graph is invalid."""
    graph = Graph.objects.create(user=user, active_version=1)
    LibraryAgent.objects.create(user=user, graph=graph)
    return _version_create(
        graph=graph, version=1, name=name, description=description, instructions=instructions, nodes=nodes, links=links
    )


@transaction.atomic
def graph_version_create(
    *,
    user: User,
    graph_id: uuid.UUID,
    name: str,
    description: str = "",
    instructions: str = "",
    nodes: list[dict[str, Any]],
    links: list[dict[str, Any]],
    is_active: bool = True,
) -> GraphVersion:
    """Save a new version of a graph (PUT); it becomes the active one unless is_active is false."""
    graph = Graph.objects.select_for_update().filter(id=graph_id, user=user).first()
    if graph is None:
        raise NotFoundError("Graph not found.")
    latest = graph.versions.aggregate(latest=Max("version"))["latest"] or 0
    graph_version = _version_create(
        graph=graph,
        version=latest + 1,
        name=name,
        description=description,
        instructions=instructions,
        nodes=nodes,
        links=links,
    )
    if is_active:
        graph.active_version = graph_version.version
        graph.save(update_fields=["active_version", "updated_at"])
    return graph_version


@transaction.atomic
def graph_activate_version(*, user: User, graph_id: uuid.UUID, version: int) -> GraphVersion:
    graph_version = graph_get_for_user(user=user, graph_id=graph_id)
    chosen = graph_version.graph.versions.filter(version=version).first()
    if chosen is None:
        raise FieldError("active_graph_version", f"Graph has no version {version}.")
    Graph.objects.filter(pk=graph_version.graph_id).update(active_version=version)
    return chosen


@transaction.atomic
def graph_delete(*, user: User, graph_id: uuid.UUID) -> None:
    """Delete a graph, every version and every execution of it; running ones are stopped first."""
    graph = Graph.objects.filter(id=graph_id, user=user).first()
    if graph is None:
        raise NotFoundError("Graph not found.")
    execution_stop_all_for_graph(graph=graph)
    graph.delete()
