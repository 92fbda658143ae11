"""AutoGPT's agent export format (../shared/autogpt-compat/calculator-agent.json), both ways."""

from typing import Any

from autogpt_platform.errors import ApplicationError, FieldError

from .models import GraphVersion
from .selectors import graph_input_schema, graph_output_schema


def _link_dict(link) -> dict[str, Any]:
    return {
        "id": link.link_id,
        "source_id": link.source_id,
        "sink_id": link.sink_id,
        "source_name": link.source_name,
        "sink_name": link.sink_name,
        "is_static": link.is_static,
    }


def graph_to_export(graph_version: GraphVersion) -> dict[str, Any]:
    graph = graph_version.graph
    links = [_link_dict(link) for link in graph_version.links.all()]
    nodes = [
        {
            "id": node.node_id,
            "block_id": node.block_id,
            "input_default": node.input_default,
            "metadata": node.metadata,
            "input_links": [link for link in links if link["sink_id"] == node.node_id],
            "output_links": [link for link in links if link["source_id"] == node.node_id],
            "graph_id": str(graph.id),
            "graph_version": graph_version.version,
            "webhook_id": None,
        }
        for node in graph_version.nodes.all()
    ]
    return {
        "id": str(graph.id),
        "version": graph_version.version,
        "is_active": graph.active_version == graph_version.version,
        "name": graph_version.name,
        "description": graph_version.description,
        "instructions": graph_version.instructions or None,
        "created_at": graph_version.created_at.isoformat(),
        "nodes": nodes,
        "links": links,
        "sub_graphs": [],
        "input_schema": graph_input_schema(graph_version),
        "output_schema": graph_output_schema(graph_version),
        "credentials_input_schema": {"type": "object", "properties": {}, "required": []},
    }


def graph_from_export(data: Any) -> dict[str, Any]:
    """The graph body (name, description, nodes, links) of an export; derived fields are ignored
    and the top-level links are the source of truth."""
    if not isinstance(data, dict):
        raise ApplicationError("An agent export is a JSON object.", code="validation_error")
    nodes, links = data.get("nodes"), data.get("links", [])
    if not isinstance(nodes, list) or not all(isinstance(node, dict) for node in nodes):
        raise FieldError("nodes", "An agent export needs a list of nodes.")
    if not isinstance(links, list) or not all(isinstance(link, dict) for link in links):
        raise FieldError("links", "links must be a list of objects.")
    for index, node in enumerate(nodes):
        for key in ("id", "block_id"):
            if not node.get(key):
                raise FieldError(f"nodes.{index}.{key}", "This field is required.")
    for index, link in enumerate(links):
        for key in ("source_id", "source_name", "sink_id", "sink_name"):
            if not link.get(key):
                raise FieldError(f"links.{index}.{key}", "This field is required.")
    return {
        "name": data.get("name") or "Imported agent",
        "description": data.get("description") or "",
        "instructions": data.get("instructions") or "",
        "nodes": nodes,
        "links": links,
    }
