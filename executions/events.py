"""Execution events: the shapes of graph_execution_event and node_execution_event, and their
publication (live updates over WebSockets build on this)."""
from typing import Any


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def graph_event(graph_exec) -> dict[str, Any]:
    return {
        "event_type": "graph_execution_event",
        "id": str(graph_exec.id),
        "graph_id": str(graph_exec.graph_id),
        "user_id": str(graph_exec.user_id),
        "status": graph_exec.status,
        "started_at": _iso(graph_exec.started_at),
        "ended_at": _iso(graph_exec.ended_at),
        "outputs": graph_exec.outputs if graph_exec.ended_at else {},
        "error": graph_exec.error,
    }


def node_event(graph_exec, run, status: str | None = None) -> dict[str, Any]:
    return {
        "event_type": "node_execution_event",
        "graph_exec_id": str(graph_exec.id),
        "graph_id": str(graph_exec.graph_id),
        "user_id": str(graph_exec.user_id),
        "node_exec_id": str(run.id),
        "node_id": run.node.node_id,
        "block_id": run.node.block_id,
        "status": status or run.status,
        "input_data": run.input_data,
        "output_data": run.output_data,
        "error": run.error or None,
        "queued_at": _iso(run.queued_at),
        "started_at": _iso(run.started_at),
        "ended_at": _iso(run.ended_at),
    }


def publish(events: list[dict[str, Any]]) -> None:
    """Publish events, in order, once their rows are committed. Nothing listens yet: live updates
    over WebSockets subscribe to these."""
    return None
