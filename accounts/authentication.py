"""DRF authentication: JWT bearer tokens with clear failure reasons, and X-API-Key."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.tokens import AccessToken

from autogpt_platform.errors import ApplicationError

from . import services

API_KEY_HEADER = "HTTP_X_API_KEY"


def validated_access_token(raw_token: bytes | str) -> AccessToken:
    """An access token, or AuthenticationFailed saying whether it is expired or invalid."""
    try:
        return AccessToken(raw_token)  # type: ignore[arg-type]  # the stubs omit the raw token form
    except ExpiredTokenError as exc:
        raise exceptions.AuthenticationFailed("Access token has expired.", code="token_expired") from exc
    except TokenError as exc:
        raise exceptions.AuthenticationFailed("Access token is invalid.", code="token_invalid") from exc


class BearerTokenAuthentication(JWTAuthentication):
    def get_validated_token(self, raw_token: bytes) -> AccessToken:
        return validated_access_token(raw_token)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`X-API-Key: agpt_...`; request.auth is the ApiKey, whose scopes limit the request."""

    def authenticate(self, request):
        raw_key = request.META.get(API_KEY_HEADER)
        if raw_key is None:
            return None
        try:
            key = services.api_key_authenticate(raw_key=raw_key.strip())
        except ApplicationError as exc:
            raise exceptions.AuthenticationFailed(exc.message, code=exc.code) from exc
        return key.user, key

    def authenticate_header(self, request) -> str:
        return "X-API-Key"


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-API-Key"}


class BearerTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "BearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
