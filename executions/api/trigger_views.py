from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from autogpt_platform.pagination import PageNumberPagination, paginated
from executions import triggers
from executions.triggers import DELIVERY_ID_HEADER, SIGNATURE_HEADER, PayloadTooLargeError

from . import trigger_serializers as s


class GraphTriggerListCreateView(APIView):
    required_scopes = "write_graph"
    pagination_class = PageNumberPagination

    @extend_schema(tags=["triggers"], responses=s.TriggerOutputSerializer(many=True))
    def get(self, request, graph_id):
        """The graph's webhook triggers (their secrets are never shown again)."""
        return paginated(
            request,
            self,
            triggers.trigger_list(user=request.user, graph_id=graph_id),
            s.TriggerOutputSerializer,
            context={"request": request},
        )

    @extend_schema(
        tags=["triggers"], request=s.TriggerCreateInputSerializer, responses={201: s.TriggerCreatedSerializer}
    )
    def post(self, request, graph_id):
        """Create a webhook trigger: the response carries its ingress URL and its secret, shown once."""
        data = s.TriggerCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        trigger, secret = triggers.trigger_create(user=request.user, graph_id=graph_id, **data.validated_data)
        body = s.TriggerCreatedSerializer(trigger, context={"request": request, "secret": secret}).data
        return Response(body, status=status.HTTP_201_CREATED)


class TriggerDetailView(APIView):
    required_scopes = "write_graph"

    @extend_schema(tags=["triggers"], responses=s.TriggerOutputSerializer)
    def get(self, request, trigger_id):
        trigger = triggers.trigger_get(user=request.user, trigger_id=trigger_id)
        return Response(s.TriggerOutputSerializer(trigger, context={"request": request}).data)

    @extend_schema(tags=["triggers"], request=s.TriggerUpdateInputSerializer, responses=s.TriggerOutputSerializer)
    def patch(self, request, trigger_id):
        """Pause or resume the trigger (`is_paused`), or rename it."""
        data = s.TriggerUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        trigger = triggers.trigger_update(user=request.user, trigger_id=trigger_id, **data.validated_data)
        return Response(s.TriggerOutputSerializer(trigger, context={"request": request}).data)

    @extend_schema(tags=["triggers"], responses={204: None})
    def delete(self, request, trigger_id):
        triggers.trigger_delete(user=request.user, trigger_id=trigger_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AnswerJson(BaseContentNegotiation):
    """Webhook senders' Accept headers are ignored: the answer is always JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class TriggerIngressView(APIView):
    """Unauthenticated by user: a delivery is authenticated by its HMAC signature."""

    authentication_classes = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = AnswerJson

    @extend_schema(
        tags=["triggers"],
        auth=[],
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter(
                SIGNATURE_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="sha256=<hex HMAC-SHA256 of the raw body, keyed with the trigger's secret>",
            ),
            OpenApiParameter(
                DELIVERY_ID_HEADER,
                str,
                OpenApiParameter.HEADER,
                description="A unique id per delivery (at most 200 characters): a replay of it within the "
                "replay window starts nothing new. Without it there is no replay protection.",
            ),
        ],
        responses={202: s.IngressOutputSerializer, 200: s.IngressOutputSerializer},
    )
    def post(self, request, trigger_id):
        """Start the trigger's graph with the JSON object mapped onto its inputs: each top-level key
        that names an input becomes that input, an input named `payload` gets the whole object,
        other keys are ignored. 202 with the new execution; 200 for a replayed delivery id."""
        trigger = triggers.trigger_get_for_ingress(trigger_id=trigger_id)
        body = _read_body(request, settings.TRIGGER_MAX_BODY_BYTES)
        result = triggers.trigger_ingress(
            trigger=trigger,
            body=body,
            signature=request.headers.get(SIGNATURE_HEADER),
            delivery_id=request.headers.get(DELIVERY_ID_HEADER),
        )
        return Response(
            s.IngressOutputSerializer(result).data,
            status=status.HTTP_200_OK if result.replayed else status.HTTP_202_ACCEPTED,
        )


def _read_body(request, limit: int) -> bytes:
    """The raw body, refused by its declared Content-Length and by what actually arrives, reading
    at most one byte past the limit."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise PayloadTooLargeError(f"The body is larger than {limit} bytes.")
    body = request._request.read(limit + 1)
    if len(body) > limit:
        raise PayloadTooLargeError(f"The body is larger than {limit} bytes.")
    return body
