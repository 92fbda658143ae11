from django.db import transaction
from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from agents import selectors, services
from agents.autogpt_format import graph_from_export, graph_to_export
from agents.block_runner import block_execute
from agents.blocks import all_blocks
from autogpt_platform.pagination import PageNumberPagination, paginated
from autogpt_platform.throttling import API_THROTTLES, BlockExecuteThrottle

from . import serializers as s


def _version_param(request) -> int | None:
    query = s.GraphVersionQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data.get("version")


class BlockListView(APIView):
    required_scopes = "read_block"

    @extend_schema(tags=["blocks"], responses=s.BlockOutputSerializer(many=True))
    def get(self, request):
        """Every block, with its input and output pins as JSON Schema: a fixed catalog, not paginated."""
        return Response(s.BlockOutputSerializer(all_blocks(), many=True).data)


# The block runs on the executor while the view waits for it, writing nothing: no transaction
# held open meanwhile.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class BlockExecuteView(APIView):
    required_scopes = "execute_block"
    throttle_classes = [*API_THROTTLES, BlockExecuteThrottle]

    @extend_schema(tags=["blocks"], request=dict, responses={200: dict})
    def post(self, request, block_id):
        """Run one block with the given inputs on the executor; returns its outputs by pin (a
        failure on the `error` pin), or 504 when it does not finish within BLOCK_EXECUTE_TIMEOUT."""
        return Response(block_execute(user=request.user, block_id=block_id, inputs=request.data))


class GraphListCreateView(APIView):
    required_scopes = {"GET": "read_graph", "POST": "write_graph"}
    pagination_class = PageNumberPagination

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

    @extend_schema(tags=["graphs"], parameters=[s.GraphVersionQuerySerializer], responses=s.GraphOutputSerializer)
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
    pagination_class = PageNumberPagination

    @extend_schema(tags=["graphs"], responses=s.GraphSummarySerializer(many=True))
    def get(self, request, graph_id):
        """Every version of the graph, newest first."""
        versions = selectors.graph_version_list(user=request.user, graph_id=graph_id)
        return paginated(request, self, versions, s.GraphSummarySerializer)


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
        # The export's graph body, held to the same shape, types and lengths as POST /graphs.
        data = s.GraphInputSerializer(data=graph_from_export(request.data))
        data.is_valid(raise_exception=True)
        graph_version = services.graph_create(user=request.user, **data.validated_data)
        graph_version = selectors.graph_get_for_user(user=request.user, graph_id=graph_version.graph_id)
        return Response(s.GraphOutputSerializer(graph_version).data, status=status.HTTP_201_CREATED)


class GraphExportView(APIView):
    required_scopes = "read_graph"

    @extend_schema(tags=["graphs"], parameters=[s.GraphVersionQuerySerializer], responses={200: dict})
    def get(self, request, graph_id):
        """The graph in AutoGPT's agent export format."""
        graph_version = selectors.graph_get_for_user(
            user=request.user, graph_id=graph_id, version=_version_param(request)
        )
        return Response(graph_to_export(graph_version))
