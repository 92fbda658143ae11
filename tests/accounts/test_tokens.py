"""Refresh tokens: rotated on use (a used one is refused), revoked by logout and by a password
change; the admin never shows one."""

import json
import threading
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts import services
from tests.accounts.test_api_keys import create_key, key_client
from tests.accounts.test_auth_api import assert_error
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-horse-battery-7"


def login(client, user, password=DEFAULT_PASSWORD) -> dict:
    response = client.post("/api/v1/auth/login", {"email": user.email, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def refresh(client, token: str):
    return client.post("/api/v1/auth/refresh", {"refresh": token}, format="json")


class TestRotation:
    def test_refresh_answers_a_new_access_and_a_new_refresh_token(self, api_client, user):
        tokens = login(api_client, user)

        response = refresh(api_client, tokens["refresh"])

        assert response.status_code == 200
        assert set(response.json()) == {"access", "refresh"}
        assert response.json()["refresh"] != tokens["refresh"]
        assert AccessToken(response.json()["access"])["user_id"] == str(user.id)
        assert RefreshToken(response.json()["refresh"])["user_id"] == str(user.id)

    def test_a_used_refresh_token_is_refused(self, api_client, user):
        tokens = login(api_client, user)
        rotated = refresh(api_client, tokens["refresh"]).json()

        again = refresh(api_client, tokens["refresh"])

        assert_error(again, 401, "token_invalid")
        assert refresh(api_client, rotated["refresh"]).status_code == 200

    def test_a_missing_refresh_token_is_a_400_naming_it(self, api_client):
        assert_error(
            api_client.post("/api/v1/auth/refresh", {}, format="json"), 400, "validation_error", field="refresh"
        )

    def test_an_inactive_users_refresh_token_is_refused(self, api_client, user):
        tokens = login(api_client, user)
        user.is_active = False
        user.save()

        assert_error(refresh(api_client, tokens["refresh"]), 401, "token_invalid")

    def test_expired_tokens_are_flushed(self, api_client, user):
        login(api_client, user)
        expired = login(api_client, user)
        OutstandingToken.objects.filter(jti=RefreshToken(expired["refresh"])["jti"]).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )

        assert services.tokens_flush_expired() == 1
        assert OutstandingToken.objects.filter(user=user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_refresh_token_used_by_ten_requests_at_once_works_once(live_server_url, user):
    tokens = login(APIClient(), user)
    statuses: list[int] = []
    lock = threading.Lock()

    def use():
        request = urllib.request.Request(
            f"http://{live_server_url}/api/v1/auth/refresh",
            data=json.dumps({"refresh": tokens["refresh"]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=use) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200] + [401] * 9


class TestLogout:
    def test_logout_revokes_the_refresh_token(self, api_client, user):
        tokens = login(api_client, user)

        response = api_client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json")

        assert response.status_code == 204
        assert_error(refresh(api_client, tokens["refresh"]), 401, "token_invalid")

    def test_other_sessions_stay_logged_in(self, api_client, user):
        mine, other = login(api_client, user), login(api_client, user)

        api_client.post("/api/v1/auth/logout", {"refresh": mine["refresh"]}, format="json")

        assert refresh(api_client, other["refresh"]).status_code == 200

    @pytest.mark.parametrize("body", [{}, {"refresh": ""}, {"refresh": "garbage"}, {"refresh": ["x"]}])
    def test_a_missing_or_invalid_token_is_a_400_naming_it(self, api_client, body):
        assert_error(api_client.post("/api/v1/auth/logout", body, format="json"), 400, field="refresh")

    def test_an_access_token_is_not_a_refresh_token(self, api_client, user):
        access = login(api_client, user)["access"]

        assert_error(api_client.post("/api/v1/auth/logout", {"refresh": access}, format="json"), 400, field="refresh")

    def test_a_revoked_token_cannot_log_out_again(self, api_client, user):
        tokens = login(api_client, user)
        api_client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json")

        again = api_client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json")

        assert_error(again, 400, field="refresh")


class TestPasswordChange:
    def change(self, client, old=DEFAULT_PASSWORD, new=NEW_PASSWORD):
        return client.post("/api/v1/auth/password", {"old_password": old, "new_password": new}, format="json")

    def test_revokes_every_refresh_token_and_answers_a_new_pair(self, api_client, auth_client, user):
        sessions = [login(api_client, user) for _ in range(3)]
        rotated = refresh(api_client, sessions[2]["refresh"]).json()

        response = self.change(auth_client)

        assert response.status_code == 200
        for tokens in [*sessions, rotated]:
            assert_error(refresh(api_client, tokens["refresh"]), 401, "token_invalid")
        assert refresh(api_client, response.json()["refresh"]).status_code == 200
        assert login(api_client, user, NEW_PASSWORD)
        assert_error(
            api_client.post("/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"),
            401,
        )

    def test_a_wrong_current_password_changes_nothing(self, api_client, auth_client, user):
        tokens = login(api_client, user)

        assert_error(self.change(auth_client, old="not-my-password"), 400, "validation_error", field="old_password")

        user.refresh_from_db()
        assert user.check_password(DEFAULT_PASSWORD)
        assert refresh(api_client, tokens["refresh"]).status_code == 200

    def test_a_weak_new_password_is_a_400_naming_it(self, auth_client, user):
        assert_error(self.change(auth_client, new="123"), 400, field="new_password")

        user.refresh_from_db()
        assert user.check_password(DEFAULT_PASSWORD)

    def test_needs_a_login(self, api_client):
        assert_error(self.change(api_client), 401)

    def test_is_closed_to_api_keys(self, auth_client):
        client = key_client(create_key(auth_client, ["identity"])["key"])

        assert_error(self.change(client), 403)


def test_the_admin_never_shows_a_refresh_token(user, client, admin_user):
    tokens = login(APIClient(), user)
    outstanding = OutstandingToken.objects.get(jti=RefreshToken(tokens["refresh"])["jti"])
    client.force_login(admin_user)

    page = client.get(f"/admin/token_blacklist/outstandingtoken/{outstanding.pk}/change/")

    assert page.status_code == 200
    assert outstanding.jti in page.content.decode()
    assert tokens["refresh"] not in page.content.decode()
