import uuid
from dataclasses import dataclass, field

from django.db.models import Count, Max, Q, QuerySet

from accounts.models import User
from agents.blocks import get_block
from agents.selectors import graph_get_for_user
from autogpt_platform.errors import NotFoundError

from .models import ExecutionStatus, GraphExecution, NodeExecution


def execution_list(*, user: User, graph_id: uuid.UUID | None = None) -> QuerySet[GraphExecution]:
    queryset = GraphExecution.objects.filter(user=user).select_related("graph_version")
    if graph_id is not None:
        queryset = queryset.filter(graph_id=graph_id)
    return queryset.order_by("-created_at")


def execution_get(*, user: User, graph_exec_id: uuid.UUID) -> GraphExecution:
    graph_exec = (
        GraphExecution.objects.filter(id=graph_exec_id, user=user)
        .select_related("graph_version")
        .prefetch_related("node_executions")
        .first()
    )
    if graph_exec is None:
        raise NotFoundError("Execution not found.")
    return graph_exec


@dataclass
class ExecutionNode:
    """A node of the executed graph version, with its executions in this run (in order)."""

    node_id: str
    block_id: str
    block_name: str
    runs: list[NodeExecution] = field(default_factory=list)


def execution_nodes(*, user: User, graph_exec: GraphExecution) -> list[ExecutionNode]:
    """Every node of the run's graph version, upstream before downstream, each with its node
    executions in this run; a node that has not run yet has none."""
    graph_version = graph_get_for_user(
        user=user, graph_id=graph_exec.graph_id, version=graph_exec.graph_version.version
    )
    nodes = {
        node.node_id: ExecutionNode(
            node_id=node.node_id,
            block_id=node.block_id,
            block_name=getattr(get_block(node.block_id), "name", node.block_id),
        )
        for node in graph_version.nodes.all()
    }
    for run in graph_exec.node_executions.all():
        if run.node_id not in nodes:  # not expected: runs follow their version's nodes
            nodes[run.node_id] = ExecutionNode(node_id=run.node_id, block_id=run.block_id, block_name=run.block_id)
        nodes[run.node_id].runs.append(run)
    links = [(link.source_id, link.sink_id) for link in graph_version.links.all()]
    return [nodes[node_id] for node_id in _upstream_first(list(nodes), links)]


def _upstream_first(node_ids: list[str], links: list[tuple[str, str]]) -> list[str]:
    """The nodes in link order (Kahn's algorithm, ties kept in the graph's order); the nodes of a
    cycle follow in the graph's order."""
    waiting_on = {node_id: 0 for node_id in node_ids}
    for source, sink in links:
        if source != sink and source in waiting_on and sink in waiting_on:
            waiting_on[sink] += 1
    ordered: list[str] = []
    ready = [node_id for node_id in node_ids if waiting_on[node_id] == 0]
    while ready:
        node_id = ready.pop(0)
        ordered.append(node_id)
        for source, sink in links:
            if source == node_id and source != sink and sink in waiting_on:
                waiting_on[sink] -= 1
                if waiting_on[sink] == 0:
                    ready.append(sink)
    return ordered + [node_id for node_id in node_ids if node_id not in ordered]


def execution_exists(*, user: User, graph_exec_id: uuid.UUID) -> bool:
    return GraphExecution.objects.filter(id=graph_exec_id, user=user).exists()


def execution_counts(*, user: User, since, until) -> dict:
    """The user's top-level executions that ended in [since, until): counts by status, and per
    agent (most runs first). For notification summaries."""
    ended = GraphExecution.objects.filter(user=user, parent__isnull=True, ended_at__gte=since, ended_at__lt=until)
    by_status = {row["status"]: row["count"] for row in ended.order_by().values("status").annotate(count=Count("id"))}
    agents = (
        ended.order_by()
        .values("graph_id")
        .annotate(
            runs=Count("id"),
            failed=Count("id", filter=Q(status=ExecutionStatus.FAILED)),
            graph_name=Max("graph_version__name"),
        )
        .order_by("-runs", "graph_name")
    )
    return {
        "runs_total": sum(by_status.values()),
        "runs_completed": by_status.get(ExecutionStatus.COMPLETED, 0),
        "runs_failed": by_status.get(ExecutionStatus.FAILED, 0),
        "runs_terminated": by_status.get(ExecutionStatus.TERMINATED, 0),
        "agents": [
            {"graph_id": str(a["graph_id"]), "graph_name": a["graph_name"], "runs": a["runs"], "failed": a["failed"]}
            for a in agents[:10]
        ],
    }


def execution_llm_stats(*, node_executions) -> dict:
    """The model calls of an execution's node executions, summed: tokens and estimated cost in
    total and per (provider, model)."""
    by_model: dict[tuple[str, str], dict] = {}
    for node_exec in node_executions:
        for usage in (node_exec.stats or {}).get("llm_usage", []):
            key = (usage.get("provider", ""), usage.get("model", ""))
            entry = by_model.setdefault(
                key,
                {
                    "provider": key[0],
                    "model": key[1],
                    "llm_calls": 0,
                    "input_tokens": 0,
                    "output_tokens": 0,
                    "cost": 0.0,
                },
            )
            entry["llm_calls"] += 1
            entry["input_tokens"] += int(usage.get("input_tokens") or 0)
            entry["output_tokens"] += int(usage.get("output_tokens") or 0)
            entry["cost"] += float(usage.get("cost") or 0.0)
    models = sorted(by_model.values(), key=lambda entry: (entry["provider"], entry["model"]))
    for entry in models:
        entry["cost"] = round(entry["cost"], 8)
    return {
        "llm_calls": sum(entry["llm_calls"] for entry in models),
        "input_tokens": sum(entry["input_tokens"] for entry in models),
        "output_tokens": sum(entry["output_tokens"] for entry in models),
        "cost": round(sum(entry["cost"] for entry in models), 8),
        "by_model": models,
    }
