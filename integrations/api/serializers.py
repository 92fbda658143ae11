from rest_framework import serializers

from integrations.models import CredentialType
from integrations.services import SECRET_MAX_LENGTH, TITLE_MAX_LENGTH, USERNAME_MAX_LENGTH
from integrations.validators import (
    HEADER_VALUE_MAX_LENGTH,
    HOST_MAX_LENGTH,
    header_problems,
    host_problem,
    normalize_host,
)


# --- providers -----------------------------------------------------------------------------------
class ProviderOutputSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The provider's name in URLs and credentials.")
    description = serializers.CharField()
    supported_auth_types = serializers.ListField(
        source="credential_types",
        child=serializers.ChoiceField(choices=CredentialType.choices),
        help_text="The credential types a user can add for this provider (AutoGPT's name for them).",
    )
    models = serializers.ListField(child=serializers.CharField(), help_text="The models it offers (LLM providers).")


# --- credentials: in -----------------------------------------------------------------------------
# One choice each: the discriminator of the request body (named in SPECTACULAR_SETTINGS).
API_KEY_TYPE = [(CredentialType.API_KEY.value, CredentialType.API_KEY.label)]
USER_PASSWORD_TYPE = [(CredentialType.USER_PASSWORD.value, CredentialType.USER_PASSWORD.label)]
HOST_SCOPED_TYPE = [(CredentialType.HOST_SCOPED.value, CredentialType.HOST_SCOPED.label)]
CREATABLE_TYPES = API_KEY_TYPE + USER_PASSWORD_TYPE + HOST_SCOPED_TYPE


class CredentialTypeInputSerializer(serializers.Serializer):
    """Read first, to pick the serializer of the type."""

    type = serializers.ChoiceField(choices=CREATABLE_TYPES)


def _title() -> serializers.CharField:
    return serializers.CharField(max_length=TITLE_MAX_LENGTH, help_text="A name to recognise it by.")


class ApiKeyCredentialInputSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=API_KEY_TYPE)
    title = _title()
    api_key = serializers.CharField(max_length=SECRET_MAX_LENGTH, write_only=True)


class UserPasswordCredentialInputSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=USER_PASSWORD_TYPE)
    title = _title()
    username = serializers.CharField(max_length=USERNAME_MAX_LENGTH)
    password = serializers.CharField(max_length=SECRET_MAX_LENGTH, trim_whitespace=False, write_only=True)


class HostScopedCredentialInputSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=HOST_SCOPED_TYPE)
    title = _title()
    host = serializers.CharField(
        max_length=HOST_MAX_LENGTH, help_text="A host name (api.example.com, optionally :port): no scheme, no path."
    )
    headers = serializers.DictField(
        child=serializers.CharField(max_length=HEADER_VALUE_MAX_LENGTH, trim_whitespace=False),
        write_only=True,
        required=False,
        default=dict,
        help_text="Header names to values, sent on requests to `host` (at most 20).",
    )

    def validate_host(self, value: str) -> str:
        value = normalize_host(value)
        problem = host_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate_headers(self, value: dict) -> dict:
        problems = header_problems(value)
        if "headers" in problems:
            raise serializers.ValidationError(problems["headers"])
        if problems:
            # Keyed by header name, so that the error names `headers.<name>`.
            raise serializers.ValidationError(
                {key.removeprefix("headers."): [problem] for key, problem in problems.items()}
            )
        return value


INPUT_SERIALIZERS: dict[str, serializers.Serializer | type[serializers.Serializer]] = {
    CredentialType.API_KEY.value: ApiKeyCredentialInputSerializer,
    CredentialType.USER_PASSWORD.value: UserPasswordCredentialInputSerializer,
    CredentialType.HOST_SCOPED.value: HostScopedCredentialInputSerializer,
}


# --- credentials: out ----------------------------------------------------------------------------
class OptionalTextField(serializers.CharField):
    """Blank in the database, null in the answer: this type of credential has no such field."""

    def to_representation(self, value):
        return value or None


class CredentialOutputSerializer(serializers.Serializer):
    """A credential's metadata (AutoGPT's CredentialsMetaResponse): never a secret."""

    id = serializers.UUIDField()
    provider = serializers.CharField()
    type = serializers.ChoiceField(choices=CredentialType.choices)
    title = serializers.CharField()
    username = OptionalTextField(allow_null=True, help_text="user_password credentials; null otherwise.")
    host = OptionalTextField(allow_null=True, help_text="host_scoped credentials; null otherwise.")
    is_system = serializers.BooleanField(
        help_text="Provided by the platform: usable by every user, never readable or deletable."
    )


class CredentialDeletedOutputSerializer(serializers.Serializer):
    deleted = serializers.BooleanField()
    revoked = serializers.BooleanField(
        allow_null=True, help_text="Whether the provider revoked it too; null when that does not apply (API keys)."
    )
