from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer, TemplateHTMLRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from autogpt_platform.errors import ApplicationError, error_body
from autogpt_platform.json_limits import DepthLimitedJSONParser
from autogpt_platform.pagination import PageNumberPagination, paginated
from notifications import selectors, services
from notifications.models import NotificationType

from . import serializers as s


# --- the inbox ---------------------------------------------------------------------------------------
class NotificationListView(APIView):
    required_scopes = "read_graph"
    pagination_class = PageNumberPagination

    @extend_schema(
        tags=["notifications"],
        parameters=[s.NotificationListQuerySerializer],
        responses=s.NotificationOutputSerializer(many=True),
    )
    def get(self, request):
        """The in-app notifications: unread first, then newest first."""
        query = s.NotificationListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        notifications = selectors.notification_list(user=request.user, unread_only=query.validated_data["unread"])
        return paginated(request, self, notifications, s.NotificationOutputSerializer)


class NotificationReadView(APIView):
    required_scopes = "read_graph"

    @extend_schema(tags=["notifications"], request=None, responses=s.NotificationOutputSerializer)
    def post(self, request, notification_id):
        """Mark one notification read."""
        notification = services.notification_mark_read(user=request.user, notification_id=notification_id)
        return Response(s.NotificationOutputSerializer(notification).data)


class NotificationReadAllView(APIView):
    required_scopes = "read_graph"

    @extend_schema(tags=["notifications"], request=None, responses=s.ReadAllOutputSerializer)
    def post(self, request):
        """Mark every unread notification read."""
        marked = services.notification_mark_all_read(user=request.user)
        return Response(s.ReadAllOutputSerializer({"marked": marked}).data)


# --- preferences -------------------------------------------------------------------------------------
def _preferences_body(user) -> dict:
    return s.PreferencesOutputSerializer(
        {"digest": selectors.settings_get(user=user).digest, "preferences": selectors.preferences_get(user=user)}
    ).data


class PreferencesView(APIView):
    required_scopes = {"GET": "read_integrations", "PUT": "manage_integrations"}

    @extend_schema(tags=["notifications"], responses=s.PreferencesOutputSerializer)
    def get(self, request):
        """Every notification type with every channel on or off (defaults where never changed),
        and the agent-run digest."""
        return Response(_preferences_body(request.user))

    @extend_schema(
        tags=["notifications"], request=s.PreferencesInputSerializer, responses=s.PreferencesOutputSerializer
    )
    def put(self, request):
        """Change switches and the digest; types and channels left out keep their setting."""
        data = s.PreferencesInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.preferences_update(
            user=request.user,
            switches=data.validated_data.get("preferences"),
            digest=data.validated_data.get("digest"),
        )
        return Response(_preferences_body(request.user))


# --- channels ----------------------------------------------------------------------------------------
class ChannelListCreateView(APIView):
    required_scopes = {"GET": "read_integrations", "POST": "manage_integrations"}
    pagination_class = PageNumberPagination

    @extend_schema(tags=["notifications"], responses=s.ChannelOutputSerializer(many=True))
    def get(self, request):
        """The user's Slack and DingTalk webhooks (URLs masked)."""
        return paginated(request, self, selectors.channel_list(user=request.user), s.ChannelOutputSerializer)

    @extend_schema(
        tags=["notifications"], request=s.ChannelCreateInputSerializer, responses={201: s.ChannelOutputSerializer}
    )
    def post(self, request):
        """Add a Slack incoming webhook or a DingTalk robot (with its secret when it is signed)."""
        data = s.ChannelCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        channel = services.channel_create(user=request.user, **data.validated_data)
        return Response(s.ChannelOutputSerializer(channel).data, status=status.HTTP_201_CREATED)


class ChannelDetailView(APIView):
    required_scopes = "manage_integrations"

    @extend_schema(tags=["notifications"], responses={204: None})
    def delete(self, request, channel_id):
        services.channel_delete(user=request.user, channel_id=channel_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChannelTestView(APIView):
    required_scopes = "manage_integrations"

    @extend_schema(tags=["notifications"], request=None, responses=s.ChannelTestOutputSerializer)
    def post(self, request, channel_id):
        """Send a test message now. 502 `channel_test_failed` with the webhook's answer when it is
        refused or unreachable."""
        result = services.channel_send_test(user=request.user, channel_id=channel_id)
        return Response(
            s.ChannelTestOutputSerializer({"sent": True, "status": result.status, "response": result.body}).data
        )


# --- unsubscribing (no login: the signed token is the authority) -------------------------------------
def _masked_email(address: str) -> str:
    name, _, domain = address.partition("@")
    return f"{name[:1]}***@{domain}"


class UnsubscribeView(APIView):
    """The link in every notification email. GET shows what it stops, POST stops it (the page's
    button, and mail clients' one-click unsubscribe, RFC 8058). HTML for browsers, JSON otherwise."""

    authentication_classes = []
    permission_classes = [AllowAny]
    required_scopes = None  # no credentials: the token names the user
    renderer_classes = [TemplateHTMLRenderer, JSONRenderer]
    parser_classes = [FormParser, MultiPartParser, DepthLimitedJSONParser]
    template_name = "notifications/unsubscribe.html"

    def _answer(self, user, types: list[str], unsubscribed: bool) -> Response:
        body = {
            "email": _masked_email(user.email),
            "types": types,
            "description": ", ".join(NotificationType(type_).label.lower() for type_ in types),
            "unsubscribed": unsubscribed,
        }
        return Response(s.UnsubscribeOutputSerializer(body).data, template_name=self.template_name)

    def _invalid(self, exc: ApplicationError) -> Response:
        return Response(
            error_body(exc.code, exc.message, exc.details), status=exc.status_code, template_name=self.template_name
        )

    @extend_schema(tags=["notifications"], auth=[], responses={200: s.UnsubscribeOutputSerializer})
    def get(self, request, token):
        try:
            user, types = services.unsubscribe_check(token=token)
        except ApplicationError as exc:
            return self._invalid(exc)
        return self._answer(user, types, unsubscribed=False)

    @extend_schema(
        tags=["notifications"],
        auth=[],
        request=s.UnsubscribeInputSerializer,
        responses={200: s.UnsubscribeOutputSerializer},
    )
    def post(self, request, token):
        data = s.UnsubscribeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user, types = services.email_unsubscribe(token=token, everything=data.validated_data["all"])
        except ApplicationError as exc:
            return self._invalid(exc)
        return self._answer(user, types, unsubscribed=True)
