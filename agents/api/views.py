from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiKey
from agents import selectors, services
from agents.autogpt_format import graph_to_export
from agents.block_runner import block_execute
from agents.blocks import all_blocks
from autogpt_platform.pagination import PageNumberPagination, paginated
from autogpt_platform.throttling import API_THROTTLES, BlockExecuteThrottle, ExecuteThrottle
from executions.api.serializers import ExecutionSummarySerializer
from executions.api.views import STATUS_PARAM, ExecutionFilter
from executions.models import TriggerKind
from executions.selectors import execution_list
from executions.services import execution_create

from . import serializers as s

VERSION_PARAM = OpenApiParameter("version", int, description="A version other than the active one.")


def _version_param(request) -> int | None:
    raw = request.query_params.get("version")
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise serializers.ValidationError({"version": ["A version is a whole number from 1."]})
    return int(raw)


class BlockListView(APIView):
    required_scopes = "read_block"

    @extend_schema(tags=["blocks"], responses={200: dict})
    def get(self, request):
        return Response([block.to_dict() for block in all_blocks()])


class BlockExecuteView(APIView):
    required_scopes = "execute_block"
    throttle_classes = [*API_THROTTLES, BlockExecuteThrottle]

    @extend_schema(tags=["blocks"], request=dict, responses={200: dict})
    def post(self, request, block_id):
        """Run one block with the given inputs; returns its outputs by pin."""
        return Response(block_execute(user=request.user, block_id=block_id, inputs=request.data))


class GraphListCreateView(APIView):
    required_scopes = {"GET": "read_graph", "POST": "write_graph"}

    @extend_schema(tags=["graphs"], responses=s.GraphSummarySerializer(many=True))
    def get(self, request):
        return paginated(request, self, selectors.graph_list(user=request.user), s.GraphSummarySerializer)

    @extend_schema(tags=["graphs"], request=s.GraphInputSerializer, responses={201: s.GraphOutputSerializer})
    def post(self, request):
        data = s.GraphInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        graph_version = services.graph_create(user=request.user, **data.validated_data)
        graph_version = selectors.graph_get_for_user(user=request.user, graph_id=graph_version.graph_id)
        return Response(s.GraphOutputSerializer(graph_version).data, status=status.HTTP_201_CREATED)


class GraphDetailView(APIView):
    required_scopes = {"GET": "read_graph", "PUT": "write_graph", "DELETE": "write_graph"}

    @extend_schema(tags=["graphs"], parameters=[VERSION_PARAM], responses=s.GraphOutputSerializer)
    def get(self, request, graph_id):
        graph_version = selectors.graph_get_for_user(
            user=request.user, graph_id=graph_id, version=_version_param(request)
        )
        return Response(s.GraphOutputSerializer(graph_version).data)

    @extend_schema(tags=["graphs"], request=s.GraphUpdateInputSerializer, responses=s.GraphOutputSerializer)
    def put(self, request, graph_id):
        """Save a new version of the graph."""
        data = s.GraphUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        graph_version = services.graph_version_create(user=request.user, graph_id=graph_id, **data.validated_data)
        graph_version = selectors.graph_get_for_user(
            user=request.user, graph_id=graph_id, version=graph_version.version
        )
        return Response(s.GraphOutputSerializer(graph_version).data)

    @extend_schema(tags=["graphs"], responses={204: None})
    def delete(self, request, graph_id):
        services.graph_delete(user=request.user, graph_id=graph_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GraphVersionListView(APIView):
    required_scopes = "read_graph"

    @extend_schema(tags=["graphs"], responses=s.GraphSummarySerializer(many=True))
    def get(self, request, graph_id):
        versions = selectors.graph_version_list(user=request.user, graph_id=graph_id)
        return Response(s.GraphSummarySerializer(versions, many=True).data)


class GraphActiveVersionView(APIView):
    required_scopes = "write_graph"

    @extend_schema(tags=["graphs"], request=s.ActiveVersionInputSerializer, responses=s.GraphOutputSerializer)
    def put(self, request, graph_id):
        data = s.ActiveVersionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.graph_activate_version(
            user=request.user, graph_id=graph_id, version=data.validated_data["active_graph_version"]
        )
        return Response(
            s.GraphOutputSerializer(selectors.graph_get_for_user(user=request.user, graph_id=graph_id)).data
        )


class GraphImportView(APIView):
    required_scopes = "write_graph"

    @extend_schema(tags=["graphs"], request=dict, responses={201: s.GraphOutputSerializer})
    def post(self, request):
        """Import an AutoGPT agent export as a new graph."""
        graph_version = services.graph_import(user=request.user, data=request.data)
        graph_version = selectors.graph_get_for_user(user=request.user, graph_id=graph_version.graph_id)
        return Response(s.GraphOutputSerializer(graph_version).data, status=status.HTTP_201_CREATED)


class GraphExportView(APIView):
    required_scopes = "read_graph"

    @extend_schema(tags=["graphs"], parameters=[VERSION_PARAM], responses={200: dict})
    def get(self, request, graph_id):
        """The graph in AutoGPT's agent export format."""
        graph_version = selectors.graph_get_for_user(
            user=request.user, graph_id=graph_id, version=_version_param(request)
        )
        return Response(graph_to_export(graph_version))


class GraphExecuteView(APIView):
    required_scopes = "execute_graph"
    throttle_classes = [*API_THROTTLES, ExecuteThrottle]

    @extend_schema(tags=["executions"], request=s.ExecuteInputSerializer, responses={201: ExecutionSummarySerializer})
    def post(self, request, graph_id, version=None):
        data = s.ExecuteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        graph_exec = execution_create(
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
        request=s.ExecuteInputSerializer,
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
        selectors.graph_get_for_user(user=request.user, graph_id=graph_id)  # another user's graph: 404
        executions = ExecutionFilter.filtered(request, execution_list(user=request.user, graph_id=graph_id))
        return paginated(request, self, executions, ExecutionSummarySerializer)
