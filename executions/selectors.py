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
