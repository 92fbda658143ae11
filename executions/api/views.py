import django_filters
from django.db import transaction
from django.utils.decorators import method_decorator
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiKey
from agents.selectors import graph_exists
from autogpt_platform.errors import NotFoundError
from autogpt_platform.pagination import FilterSet, PageNumberPagination, paginated
from autogpt_platform.throttling import API_THROTTLES, ExecuteThrottle
from executions import selectors, services
from executions.models import ExecutionStatus, GraphExecution, TriggerKind

from .serializers import ExecuteInputSerializer, ExecutionDetailSerializer, ExecutionSummarySerializer

STATUS_PARAM = OpenApiParameter(
    "status", str, enum=ExecutionStatus.values, description="Only executions in this status."
)


class ExecutionFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=ExecutionStatus.choices)

    class Meta:
        model = GraphExecution
        fields = ["status"]


class ExecutionListView(APIView):
    required_scopes = "read_graph"
    pagination_class = PageNumberPagination

    @extend_schema(tags=["executions"], parameters=[STATUS_PARAM], responses=ExecutionSummarySerializer(many=True))
    def get(self, request):
        executions = ExecutionFilter.filtered(request, selectors.execution_list(user=request.user))
        return paginated(request, self, executions, ExecutionSummarySerializer)


class ExecutionDetailView(APIView):
    required_scopes = {"GET": "read_graph", "DELETE": "execute_graph"}

    @extend_schema(tags=["executions"], responses=ExecutionDetailSerializer)
    def get(self, request, graph_exec_id):
        graph_exec = selectors.execution_get(user=request.user, graph_exec_id=graph_exec_id)
        return Response(ExecutionDetailSerializer(graph_exec).data)

    @extend_schema(tags=["executions"], responses={204: None})
    def delete(self, request, graph_exec_id):
        services.execution_delete(user=request.user, graph_exec_id=graph_exec_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Not one transaction: the stop is committed at once, then the view waits for the engine to end it.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class ExecutionStopView(APIView):
    required_scopes = "execute_graph"

    @extend_schema(tags=["executions"], request=None, responses=ExecutionDetailSerializer)
    def post(self, request, graph_exec_id):
        """Stop the execution and its children. A queued one ends at once; a running one within
        seconds (the response waits up to EXECUTION_STOP_WAIT_SECONDS for it)."""
        services.execution_stop(user=request.user, graph_exec_id=graph_exec_id)
        graph_exec = selectors.execution_get(user=request.user, graph_exec_id=graph_exec_id)
        return Response(ExecutionDetailSerializer(graph_exec).data)


# --- a graph's executions ---------------------------------------------------------------------------
class GraphExecuteView(APIView):
    required_scopes = "execute_graph"
    throttle_classes = [*API_THROTTLES, ExecuteThrottle]

    @extend_schema(tags=["executions"], request=ExecuteInputSerializer, responses={201: ExecutionSummarySerializer})
    def post(self, request, graph_id, version=None):
        data = ExecuteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        graph_exec = services.execution_create(
            user=request.user,
            graph_id=graph_id,
            graph_version=version,
            inputs=data.validated_data["inputs"],
            trigger_kind=TriggerKind.API if isinstance(request.auth, ApiKey) else TriggerKind.MANUAL,
        )
        return Response(ExecutionSummarySerializer(graph_exec).data, status=status.HTTP_201_CREATED)


class GraphExecuteActiveView(GraphExecuteView):
    """Run the graph's active version."""

    @extend_schema(
        tags=["executions"],
        request=ExecuteInputSerializer,
        responses={201: ExecutionSummarySerializer},
        operation_id="graphs_execute_active_version",
    )
    def post(self, request, graph_id):
        return super().post(request, graph_id)


class GraphExecutionListView(APIView):
    required_scopes = "read_graph"
    pagination_class = PageNumberPagination

    @extend_schema(tags=["executions"], parameters=[STATUS_PARAM], responses=ExecutionSummarySerializer(many=True))
    def get(self, request, graph_id):
        if not graph_exists(user=request.user, graph_id=graph_id):
            raise NotFoundError("Graph not found.")  # another user's graph too
        executions = ExecutionFilter.filtered(request, selectors.execution_list(user=request.user, graph_id=graph_id))
        return paginated(request, self, executions, ExecutionSummarySerializer)
