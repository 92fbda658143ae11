"""The integration blocks' providers in the credentials API: their types, and system credentials
from the operator's keys with AutoGPT's ids."""

import pytest

from integrations.selectors import credential_resolve

BASE = "/api/v1/integrations"
JINA_SYSTEM_ID = "7f26de70-ba0d-494e-ba76-238e65e7b45f"
IDEOGRAM_SYSTEM_ID = "760f84fc-b270-42de-91f6-08efe1b512d0"
REPLICATE_SYSTEM_ID = "6b9fc200-4726-4973-86c9-cd526f5ce5db"

pytestmark = pytest.mark.django_db


def test_the_providers_and_the_types_they_take(auth_client):
    providers = {p["name"]: p["supported_auth_types"] for p in auth_client.get(f"{BASE}/providers").json()}

    assert {name: providers[name] for name in ("jina", "google_maps", "ideogram", "replicate", "smtp", "http")} == {
        "jina": ["api_key"],
        "google_maps": ["api_key"],
        "ideogram": ["api_key"],
        "replicate": ["api_key"],
        "smtp": ["user_password"],
        "http": ["host_scoped"],
    }


def test_system_credentials_follow_the_operators_keys_with_autogpts_ids(auth_client, settings):
    settings.JINA_API_KEY, settings.IDEOGRAM_API_KEY = "jina-op-key", "ideo-op-key"
    settings.REPLICATE_API_KEY, settings.GOOGLE_MAPS_API_KEY = "", "maps-op-key"

    body = auth_client.get(f"{BASE}/credentials").json()

    system = {c["provider"]: c["id"] for c in body if c["is_system"]}
    assert (system["jina"], system["ideogram"]) == (JINA_SYSTEM_ID, IDEOGRAM_SYSTEM_ID)
    assert "google_maps" in system and "replicate" not in system
    assert not any(key in str(body) for key in ("jina-op-key", "ideo-op-key", "maps-op-key"))
    resolved = credential_resolve(user_id=None, credential_id=JINA_SYSTEM_ID, provider="jina")
    assert (resolved.is_system, resolved.api_key.get_secret_value()) == (True, "jina-op-key")


def test_smtp_and_http_credentials_are_stored_without_showing_their_secrets(auth_client):
    smtp = auth_client.post(
        f"{BASE}/smtp/credentials",
        {"type": "user_password", "title": "Mail", "username": "me@example.com", "password": "p4ssw0rd-smtp"},
        format="json",
    )
    http = auth_client.post(
        f"{BASE}/http/credentials",
        {"type": "host_scoped", "title": "API", "host": "api.example.com", "headers": {"X-Api-Key": "k-12345"}},
        format="json",
    )
    wrong = auth_client.post(
        f"{BASE}/smtp/credentials", {"type": "api_key", "title": "x", "api_key": "k"}, format="json"
    )

    assert (smtp.status_code, http.status_code) == (201, 201)
    assert (smtp.json()["username"], http.json()["host"]) == ("me@example.com", "api.example.com")
    assert "p4ssw0rd-smtp" not in smtp.content.decode() and "k-12345" not in http.content.decode()
    assert wrong.status_code == 400 and "user_password" in wrong.json()["details"]["type"][0]
