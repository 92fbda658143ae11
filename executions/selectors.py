import uuid

from django.db.models import QuerySet

from accounts.models import User
from autogpt_platform.errors import NotFoundError

from .models import GraphExecution


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
