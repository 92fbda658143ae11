import uuid

from django.db.models import Count, Max, Q, QuerySet

from accounts.models import User
from autogpt_platform.errors import NotFoundError

from .models import ExecutionStatus, GraphExecution


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
