import pytest
from rest_framework.test import APIClient

from accounts.models import ApiKey
from tests.accounts.test_auth_api import assert_error
from tests.clients import client_for

pytestmark = pytest.mark.django_db


def create_key(client, scopes, name="ci key") -> dict:
    response = client.post("/api/v1/auth/api-keys", {"name": name, "scopes": scopes}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def key_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_key)
    return client


def test_the_key_is_shown_once_and_stored_hashed(auth_client):
    created = create_key(auth_client, ["identity", "read_graph"])

    assert created["key"].startswith("agpt_")
    assert created["scopes"] == ["identity", "read_graph"]
    stored = ApiKey.objects.get(id=created["id"])
    assert created["key"] not in (stored.key_hash, stored.prefix)
    listed = auth_client.get("/api/v1/auth/api-keys").json()["results"]
    assert [key["id"] for key in listed] == [created["id"]]
    assert "key" not in listed[0] and "key_hash" not in listed[0]


def test_a_key_authenticates_as_its_owner_within_its_scopes(auth_client, user):
    created = create_key(auth_client, ["identity"])

    response = key_client(created["key"]).get("/api/v1/auth/me")

    assert response.status_code == 200
    assert response.json()["id"] == str(user.id)
    assert ApiKey.objects.get(id=created["id"]).last_used_at is not None


def test_a_key_without_the_scope_is_403_naming_the_scope(auth_client):
    created = create_key(auth_client, ["read_graph"])

    body = assert_error(key_client(created["key"]).get("/api/v1/auth/me"), 403, "permission_denied")
    assert "identity" in body["message"]


def test_a_key_cannot_manage_keys(auth_client):
    created = create_key(auth_client, ["identity", "read_graph", "write_graph"])

    assert_error(
        key_client(created["key"]).post("/api/v1/auth/api-keys", {"name": "x", "scopes": ["identity"]}, format="json"),
        403,
    )
    assert ApiKey.objects.count() == 1


def test_a_revoked_key_is_401(auth_client):
    created = create_key(auth_client, ["identity"])

    assert auth_client.delete(f"/api/v1/auth/api-keys/{created['id']}").status_code == 204

    body = assert_error(key_client(created["key"]).get("/api/v1/auth/me"), 401, "api_key_revoked")
    assert "revoked" in body["message"]
    assert auth_client.get("/api/v1/auth/api-keys").json()["results"] == []


@pytest.mark.parametrize(
    "raw_key, code",
    [("not-a-key", "api_key_malformed"), ("agpt_" + "A" * 43, "api_key_invalid"), ("", "api_key_malformed")],
)
def test_a_malformed_or_unknown_key_is_401(api_client, raw_key, code):
    api_client.credentials(HTTP_X_API_KEY=raw_key)

    assert_error(api_client.get("/api/v1/auth/me"), 401, code)


def test_an_unknown_scope_is_400_naming_scopes(auth_client):
    response = auth_client.post("/api/v1/auth/api-keys", {"name": "x", "scopes": ["identity", "root"]}, format="json")

    assert_error(response, 400, "validation_error", field="scopes.1")
    assert ApiKey.objects.count() == 0


def test_another_users_key_cannot_be_revoked(auth_client, other_user):
    others = create_key(client_for(other_user), ["identity"])

    assert_error(auth_client.delete(f"/api/v1/auth/api-keys/{others['id']}"), 404, "not_found")
    assert ApiKey.objects.get(id=others["id"]).revoked_at is None


def test_the_documented_scopes_are_accepted(auth_client):
    scopes = [
        "identity",
        "read_graph",
        "write_graph",
        "execute_graph",
        "read_block",
        "execute_block",
        "read_store",
        "write_library",
        "read_integrations",
        "manage_integrations",
    ]

    assert create_key(auth_client, scopes)["scopes"] == sorted(scopes)
