"""AutoGPT's integrations endpoints: providers, and the credentials a user can use. Lists are plain
JSON arrays, as AutoGPT answers them (a user has a handful of credentials; providers are a fixed
registry). No response ever carries a secret."""

from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations import selectors, services
from integrations.providers import provider_get, provider_list

from . import serializers as s

PROVIDER_PARAMETER = OpenApiParameter(
    "provider", str, OpenApiParameter.PATH, description="A provider name from GET /integrations/providers."
)
CREDENTIAL_INPUT = PolymorphicProxySerializer(
    component_name="CredentialCreateInput",
    serializers=s.INPUT_SERIALIZERS,
    resource_type_field_name="type",
)


class ProviderListView(APIView):
    required_scopes = "read_integrations"

    @extend_schema(tags=["integrations"], responses=s.ProviderOutputSerializer(many=True))
    def get(self, request):
        """Every provider: the credential types it accepts and the models it offers. A plain list."""
        return Response(s.ProviderOutputSerializer(provider_list(), many=True).data)


class CredentialListView(APIView):
    required_scopes = "read_integrations"

    @extend_schema(tags=["integrations"], responses=s.CredentialOutputSerializer(many=True))
    def get(self, request):
        """Every credential the user can use: their own, then the platform's (`is_system`).
        Metadata only, as a plain list (AutoGPT's shape)."""
        credentials = selectors.credential_list_for_user(user=request.user)
        return Response(s.CredentialOutputSerializer(credentials, many=True).data)


class ProviderCredentialsView(APIView):
    """GET lists one provider's credentials; POST adds one."""

    required_scopes = {"GET": "read_integrations", "POST": "manage_integrations"}

    @extend_schema(
        tags=["integrations"],
        operation_id="integrations_provider_credentials_list",
        parameters=[PROVIDER_PARAMETER],
        responses=s.CredentialOutputSerializer(many=True),
    )
    def get(self, request, provider):
        """The user's credentials for one provider, and the platform's. A plain list."""
        provider_get(name=provider)
        credentials = selectors.credential_list_for_user(user=request.user, provider=provider)
        return Response(s.CredentialOutputSerializer(credentials, many=True).data)

    @extend_schema(
        tags=["integrations"],
        parameters=[PROVIDER_PARAMETER],
        request=CREDENTIAL_INPUT,
        responses={201: s.CredentialOutputSerializer},
    )
    def post(self, request, provider):
        """Add a credential: `{type: "api_key", api_key, title}`, `{type: "user_password", username,
        password, title}` or `{type: "host_scoped", host, headers, title}`. The secret is stored
        encrypted and never shown again; the answer is the credential's metadata."""
        provider_get(name=provider)
        kind = s.CredentialTypeInputSerializer(data=request.data)
        kind.is_valid(raise_exception=True)
        data = s.INPUT_SERIALIZERS[kind.validated_data["type"]](data=request.data)
        data.is_valid(raise_exception=True)
        credential = services.credential_create(user=request.user, provider=provider, **data.validated_data)
        return Response(s.CredentialOutputSerializer(credential).data, status=status.HTTP_201_CREATED)


class CredentialDetailView(APIView):
    required_scopes = {"GET": "read_integrations", "DELETE": "manage_integrations"}

    @extend_schema(tags=["integrations"], parameters=[PROVIDER_PARAMETER], responses=s.CredentialOutputSerializer)
    def get(self, request, provider, credential_id):
        """One credential's metadata. Another user's credential is a 404."""
        credential = selectors.credential_get_for_user(
            user=request.user, provider=provider, credential_id=credential_id
        )
        return Response(s.CredentialOutputSerializer(credential).data)

    @extend_schema(
        tags=["integrations"], parameters=[PROVIDER_PARAMETER], responses={200: s.CredentialDeletedOutputSerializer}
    )
    def delete(self, request, provider, credential_id):
        """Delete one of your credentials: 200 `{deleted: true, revoked: null}` (AutoGPT's answer).
        A system credential is a 403 `system_credential`; another user's a 404."""
        services.credential_delete(user=request.user, provider=provider, credential_id=credential_id)
        return Response(s.CredentialDeletedOutputSerializer({"deleted": True, "revoked": None}).data)
