"""The chat endpoints. Sessions and cancel are ordinary DRF views; the two stream endpoints are
async (AsyncAPIView): they relay a turn's Redis Stream as server-sent events without holding a
thread. The turn itself runs on an executor (chat/turns.py)."""

import uuid
from functools import partial

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from autogpt_platform.pagination import PageNumberPagination, paginated
from chat import selectors, services, streams

from . import serializers as s
from .async_views import AsyncAPIView

TAGS = ["chat"]
EVENT_STREAM = OpenApiResponse(
    response=OpenApiTypes.STR,
    description="`text/event-stream` in the AI SDK UI message stream protocol (header "
    "`x-vercel-ai-ui-message-stream: v1`): `id: <event id>` and `data: <json>` per event (`start`, "
    "`start-step`, `text-start`, `text-delta`, `text-end`, `tool-input-start`, `tool-input-available`, "
    "`tool-output-available`, `finish-step`, `error`, `abort`, `finish`), then `data: [DONE]`; "
    "a `: heartbeat` comment every 15 s of silence.",
)
LAST_EVENT_ID = OpenApiParameter(
    "Last-Event-ID",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The id of the last event received: only the events after it are sent.",
)


def event_stream_response(session_id: uuid.UUID, turn_id: uuid.UUID, after: str) -> StreamingHttpResponse:
    is_running = partial(sync_to_async(selectors.turn_is_running), session_id=session_id, turn_id=turn_id)
    events = streams.relay(turn_id=turn_id, after=after, is_running=is_running)
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass events on at once
    response["x-vercel-ai-ui-message-stream"] = "v1"
    return response


class SessionListCreateView(APIView):
    required_scopes = "use_chat"
    pagination_class = PageNumberPagination

    @extend_schema(tags=TAGS, responses=s.SessionSummaryOutputSerializer(many=True))
    def get(self, request):
        """Your chat sessions, the most recently active first."""
        return paginated(request, self, selectors.session_list(user=request.user), s.SessionSummaryOutputSerializer)

    @extend_schema(tags=TAGS, request=s.SessionCreateInputSerializer, responses={201: s.SessionOutputSerializer})
    def post(self, request):
        """Start a session. `llm_credential_id` picks one of your own credentials for the model."""
        data = s.SessionCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.session_create(user=request.user, **data.validated_data)
        return Response(s.SessionOutputSerializer(session).data, status=status.HTTP_201_CREATED)


class SessionDetailView(APIView):
    required_scopes = "use_chat"

    @extend_schema(tags=TAGS, responses=s.SessionDetailOutputSerializer)
    def get(self, request, session_id):
        """The session with its messages in order, and `active_stream` while a turn runs."""
        detail = selectors.session_detail_get(user=request.user, session_id=session_id)
        return Response(s.SessionDetailOutputSerializer(detail).data)

    @extend_schema(tags=TAGS, request=s.SessionUpdateInputSerializer, responses=s.SessionOutputSerializer)
    def patch(self, request, session_id):
        """Rename the session."""
        data = s.SessionUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.session_update(user=request.user, session_id=session_id, **data.validated_data)
        return Response(s.SessionOutputSerializer(session).data)

    @extend_schema(tags=TAGS, responses={204: None})
    def delete(self, request, session_id):
        """Delete the session and its messages (a running turn is cancelled)."""
        services.session_delete(user=request.user, session_id=session_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionStreamView(AsyncAPIView):
    required_scopes = "use_chat"

    @extend_schema(
        tags=TAGS,
        operation_id="chat_sessions_stream_create",
        request=s.MessageInputSerializer,
        responses={
            (200, "text/event-stream"): EVENT_STREAM,
            400: OpenApiResponse(description="The message is empty or longer than 64,000 characters."),
            404: OpenApiResponse(description="No such session of yours."),
            409: OpenApiResponse(description="A turn is already running in this session."),
            429: OpenApiResponse(description="CHAT_MAX_CONCURRENT_TURNS of your turns are running."),
        },
    )
    async def post(self, request, session_id):
        """Send a message: it is saved, the turn that answers it is queued on an executor, and
        the turn's events stream back as they happen."""
        session = await sync_to_async(self._start_turn)(request, session_id)
        assert session.turn_id is not None
        return event_stream_response(session.id, session.turn_id, "0-0")

    @staticmethod
    def _start_turn(request, session_id):
        data = s.MessageInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return services.turn_start(user=request.user, session_id=session_id, message=data.validated_data["message"])

    @extend_schema(
        tags=TAGS,
        operation_id="chat_sessions_stream_retrieve",
        parameters=[LAST_EVENT_ID],
        responses={
            (200, "text/event-stream"): EVENT_STREAM,
            204: OpenApiResponse(description="No turn is running."),
            404: OpenApiResponse(description="No such session of yours."),
        },
    )
    async def get(self, request, session_id):
        """Rejoin the running turn: with `Last-Event-ID`, the events after it; without, the whole
        turn from its start. 204 when no turn is running."""
        last_event_id = request.headers.get("Last-Event-ID", "").strip() or None
        if last_event_id is not None and not streams.EVENT_ID.match(last_event_id):
            raise serializers.ValidationError({"Last-Event-ID": ["Not an event id of this stream."]})
        turn_id = await sync_to_async(selectors.turn_to_relay)(
            user=request.user, session_id=session_id, last_event_id=last_event_id
        )
        if turn_id is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return event_stream_response(session_id, turn_id, last_event_id or "0-0")


class SessionCancelView(APIView):
    required_scopes = "use_chat"

    @extend_schema(tags=TAGS, request=None, responses=s.CancelOutputSerializer)
    def post(self, request, session_id):
        """Cancel the running turn: the model's stream and the agent runs it started stop, and
        the turn ends (this waits up to CHAT_CANCEL_WAIT_SECONDS for it)."""
        cancelled, reason = services.turn_cancel(user=request.user, session_id=session_id)
        return Response(s.CancelOutputSerializer({"cancelled": cancelled, "reason": reason or None}).data)
