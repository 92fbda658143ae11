from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import User
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str | None = None, field: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["message"]
    if code:
        assert body["code"] == code
    if field:
        assert field in body["details"], body
        assert field in body["message"]
    return body


class TestRegister:
    def test_creates_a_user_whose_email_is_the_login(self, api_client):
        response = api_client.post(
            "/api/v1/auth/register",
            {"email": "Ada@Example.com", "password": DEFAULT_PASSWORD, "name": "Ada"},
            format="json",
        )

        assert response.status_code == 201
        assert response.json()["email"] == "ada@example.com"
        assert "password" not in response.json()
        user = User.objects.get(email="ada@example.com")
        assert user.check_password(DEFAULT_PASSWORD)
        assert user.timezone == "UTC"

    def test_refuses_a_taken_email_without_creating_anything(self, api_client, user):
        response = api_client.post(
            "/api/v1/auth/register", {"email": user.email.upper(), "password": DEFAULT_PASSWORD}, format="json"
        )

        assert_error(response, 400, "validation_error", field="email")
        assert User.objects.count() == 1

    def test_refuses_a_weak_password_naming_the_field(self, api_client):
        response = api_client.post(
            "/api/v1/auth/register", {"email": "bob@example.com", "password": "123"}, format="json"
        )

        assert_error(response, 400, field="password")
        assert not User.objects.filter(email="bob@example.com").exists()

    @pytest.mark.parametrize(
        "body, field",
        [
            ({"password": DEFAULT_PASSWORD}, "email"),
            ({"email": "not-an-email", "password": DEFAULT_PASSWORD}, "email"),
            ({"email": "c@example.com"}, "password"),
        ],
    )
    def test_refuses_missing_or_malformed_fields(self, api_client, body, field):
        assert_error(
            api_client.post("/api/v1/auth/register", body, format="json"), 400, "validation_error", field=field
        )

    def test_refuses_a_body_that_is_not_json(self, api_client):
        response = api_client.post("/api/v1/auth/register", "{not json", content_type="application/json")

        assert_error(response, 400, "parse_error")


class TestLogin:
    def test_returns_an_access_and_a_refresh_token(self, api_client, user):
        response = api_client.post(
            "/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
        )

        assert response.status_code == 200
        tokens = response.json()
        assert AccessToken(tokens["access"])["user_id"] == str(user.id)
        assert RefreshToken(tokens["refresh"])["user_id"] == str(user.id)

    def test_wrong_password_and_unknown_user_get_the_same_401(self, api_client, user):
        wrong = api_client.post(
            "/api/v1/auth/login", {"email": user.email, "password": "nope-nope-nope"}, format="json"
        )
        unknown = api_client.post(
            "/api/v1/auth/login", {"email": "ghost@example.com", "password": DEFAULT_PASSWORD}, format="json"
        )

        assert assert_error(wrong, 401, "invalid_credentials") == assert_error(unknown, 401, "invalid_credentials")

    def test_inactive_user_cannot_log_in(self, api_client, user):
        user.is_active = False
        user.save()

        assert_error(
            api_client.post("/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"),
            401,
        )


class TestRefresh:
    def test_exchanges_a_refresh_token_for_a_new_access_token(self, api_client, user):
        refresh = RefreshToken.for_user(user)

        response = api_client.post("/api/v1/auth/refresh", {"refresh": str(refresh)}, format="json")

        assert response.status_code == 200
        assert AccessToken(response.json()["access"])["user_id"] == str(user.id)

    def test_a_bad_refresh_token_is_401(self, api_client):
        assert_error(api_client.post("/api/v1/auth/refresh", {"refresh": "garbage"}, format="json"), 401)

    def test_an_access_token_is_not_a_refresh_token(self, api_client, user):
        access = AccessToken.for_user(user)

        assert_error(api_client.post("/api/v1/auth/refresh", {"refresh": str(access)}, format="json"), 401)


class TestMe:
    def test_returns_the_authenticated_user(self, auth_client, user):
        response = auth_client.get("/api/v1/auth/me")

        assert response.status_code == 200
        assert response.json()["id"] == str(user.id)
        assert response.json()["email"] == user.email

    def test_changes_name_and_timezone(self, auth_client, user):
        response = auth_client.patch("/api/v1/auth/me", {"timezone": "Europe/Berlin", "name": "New"}, format="json")

        assert response.status_code == 200
        user.refresh_from_db()
        assert (user.timezone, user.name) == ("Europe/Berlin", "New")

    def test_refuses_an_unknown_timezone(self, auth_client, user):
        assert_error(
            auth_client.patch("/api/v1/auth/me", {"timezone": "Mars/Olympus"}, format="json"), 400, field="timezone"
        )
        user.refresh_from_db()
        assert user.timezone == "UTC"

    def test_without_credentials_is_401(self, api_client):
        assert_error(api_client.get("/api/v1/auth/me"), 401, "not_authenticated")

    def test_an_expired_token_is_401_saying_so(self, api_client, user):
        token = AccessToken.for_user(user)
        token.set_exp(lifetime=-timedelta(seconds=1))
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

        body = assert_error(api_client.get("/api/v1/auth/me"), 401, "token_expired")
        assert "expired" in body["message"]

    @pytest.mark.parametrize("header", ["Bearer not.a.jwt", "Bearer a b", "Bearer " + "x" * 500])
    def test_a_malformed_token_is_401(self, api_client, header):
        api_client.credentials(HTTP_AUTHORIZATION=header)

        assert_error(api_client.get("/api/v1/auth/me"), 401)

    def test_a_token_of_a_deleted_user_is_401(self, api_client, user):
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
        user.delete()

        assert_error(api_client.get("/api/v1/auth/me"), 401)
