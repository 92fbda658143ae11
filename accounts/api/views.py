from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from autogpt_platform.pagination import PageNumberPagination, paginated
from autogpt_platform.throttling import (
    API_THROTTLES,
    LoginEmailThrottle,
    LoginIpThrottle,
    PasswordChangeThrottle,
    RefreshThrottle,
    RegisterEmailThrottle,
    RegisterIpThrottle,
)

from . import serializers as s


class RegisterView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [RegisterIpThrottle, RegisterEmailThrottle]

    @extend_schema(request=s.RegisterInputSerializer, responses={201: s.UserOutputSerializer}, tags=["auth"])
    def post(self, request):
        data = s.RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(**data.validated_data)
        return Response(s.UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class LoginView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginIpThrottle, LoginEmailThrottle]

    @extend_schema(request=s.LoginInputSerializer, responses={200: s.TokenPairOutputSerializer}, tags=["auth"])
    def post(self, request):
        data = s.LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.user_login(**data.validated_data))


class RefreshView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [RefreshThrottle]

    @extend_schema(request=s.RefreshInputSerializer, responses={200: s.TokenPairOutputSerializer}, tags=["auth"])
    def post(self, request):
        """A new access token and a new refresh token; the one given stops working (rotation)."""
        data = s.RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            s.TokenPairOutputSerializer(services.token_refresh(raw_refresh=data.validated_data["refresh"])).data
        )


class LogoutView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]  # the refresh token is the credential

    @extend_schema(request=s.RefreshInputSerializer, responses={204: None}, tags=["auth"])
    def post(self, request):
        """Revoke a refresh token. Access tokens already issued work until they expire."""
        data = s.RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.token_revoke(raw_refresh=data.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    throttle_classes = [*API_THROTTLES, PasswordChangeThrottle]

    @extend_schema(request=s.PasswordChangeInputSerializer, responses={200: s.TokenPairOutputSerializer}, tags=["auth"])
    def post(self, request):
        """Change the password: every refresh token of the user is revoked, and a new pair returned."""
        data = s.PasswordChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = services.user_password_change(user=request.user, **data.validated_data)
        return Response(s.TokenPairOutputSerializer(tokens).data)


class MeView(APIView):
    required_scopes = {"GET": "identity"}

    @extend_schema(responses=s.UserOutputSerializer, tags=["auth"])
    def get(self, request):
        return Response(s.UserOutputSerializer(request.user).data)

    @extend_schema(request=s.UserUpdateInputSerializer, responses=s.UserOutputSerializer, tags=["auth"])
    def patch(self, request):
        data = s.UserUpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, **data.validated_data)
        return Response(s.UserOutputSerializer(user).data)


class ApiKeyListCreateView(APIView):
    pagination_class = PageNumberPagination

    @extend_schema(responses=s.ApiKeyOutputSerializer(many=True), tags=["auth"])
    def get(self, request):
        return paginated(request, self, selectors.api_key_list(user=request.user), s.ApiKeyOutputSerializer)

    @extend_schema(
        request=s.ApiKeyCreateInputSerializer, responses={201: s.ApiKeyCreatedOutputSerializer}, tags=["auth"]
    )
    def post(self, request):
        data = s.ApiKeyCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key, raw_key = services.api_key_create(user=request.user, **data.validated_data)
        key.key = raw_key
        return Response(s.ApiKeyCreatedOutputSerializer(key).data, status=status.HTTP_201_CREATED)


class ApiKeyRevokeView(APIView):
    @extend_schema(responses={204: None}, tags=["auth"])
    def delete(self, request, key_id):
        services.api_key_revoke(user=request.user, key_id=key_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
