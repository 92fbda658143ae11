"""The integrations API: providers, and the credentials a user can use (their own and the system's),
through AutoGPT's paths. Every test also checks that no secret reaches a response body."""

import json
import uuid

import pytest
from cryptography.fernet import Fernet

from integrations.models import Credential
from integrations.providers import PROVIDERS, Provider
from tests.accounts.test_api_keys import create_key, key_client
from tests.accounts.test_auth_api import assert_error
from tests.clients import client_for

pytestmark = pytest.mark.django_db

BASE = "/api/v1/integrations"
OPENAI_SYSTEM_ID = "53c25cb8-e3ee-465c-a4d1-e75a4c899c2a"  # AutoGPT's id for the same credential
OLLAMA_SYSTEM_ID = "744fdc56-071a-4761-b5a5-0af0ce10a2b5"
SYSTEM_OPENAI_KEY = "sk-system-0123456789-never-shown"
METADATA_FIELDS = {"id", "provider", "type", "title", "username", "host", "is_system"}


@pytest.fixture(autouse=True)
def only_openai_configured(settings):
    settings.OPENAI_API_KEY = SYSTEM_OPENAI_KEY
    settings.ANTHROPIC_API_KEY = settings.GROQ_API_KEY = settings.OPEN_ROUTER_API_KEY = ""


class SecretWatch:
    """Every response body a test saw, to assert no secret is in any of them."""

    def __init__(self, client):
        self.client = client
        self.bodies: list[str] = []

    def __getattr__(self, method):
        def call(*args, **kwargs):
            response = getattr(self.client, method)(*args, **kwargs)
            self.bodies.append(response.content.decode())
            return response

        return call

    def assert_never_shown(self, *secrets: str) -> None:
        assert self.bodies
        for secret in (*secrets, SYSTEM_OPENAI_KEY):
            assert all(secret not in body for body in self.bodies), secret


@pytest.fixture
def password_provider(monkeypatch) -> str:
    """No provider takes usernames and passwords yet (SMTP will): one for these tests."""
    monkeypatch.setitem(
        PROVIDERS,
        "test_smtp",
        Provider(name="test_smtp", label="Test SMTP", description="t", credential_types=("user_password",)),
    )
    return "test_smtp"


@pytest.fixture
def client(auth_client):
    return SecretWatch(auth_client)


def add(client, provider: str, body: dict, status: int = 201) -> dict:
    response = client.post(f"{BASE}/{provider}/credentials", body, format="json")
    assert response.status_code == status, response.content
    return response.json()


class TestProviders:
    def test_lists_every_provider_with_its_types_and_models(self, client):
        response = client.get(f"{BASE}/providers")

        assert response.status_code == 200
        body = response.json()
        assert [p["name"] for p in body] == list(PROVIDERS)
        openai = next(p for p in body if p["name"] == "openai")
        assert set(openai) == {"name", "description", "supported_auth_types", "models"}
        assert openai["supported_auth_types"] == ["api_key"]
        assert isinstance(openai["models"], list)
        assert {"openai", "anthropic", "groq", "open_router", "ollama", "local", "openai_compatible"} <= {
            p["name"] for p in body
        }
        client.assert_never_shown()


class TestCreate:
    def test_an_api_key_credential_answers_201_with_metadata_only(self, client, user):
        body = add(client, "openai", {"type": "api_key", "api_key": "sk-user-abcdef123456", "title": "My key"})

        assert set(body) == METADATA_FIELDS
        assert body["provider"] == "openai" and body["type"] == "api_key" and body["title"] == "My key"
        assert (body["username"], body["host"], body["is_system"]) == (None, None, False)
        stored = Credential.objects.get(id=body["id"])
        assert stored.user == user
        assert "sk-user-abcdef123456" not in stored.secrets_encrypted
        assert stored.secrets_encrypted.startswith("gAAAAA")  # a Fernet token
        client.get(f"{BASE}/credentials")
        client.get(f"{BASE}/openai/credentials/{body['id']}")
        client.assert_never_shown("sk-user-abcdef123456")

    def test_a_user_password_credential_shows_the_username_not_the_password(self, client, password_provider):
        body = add(
            client, password_provider, {"type": "user_password", "username": "ada", "password": " pw 1 ", "title": "t"}
        )

        assert (body["type"], body["username"], body["host"]) == ("user_password", "ada", None)
        client.get(f"{BASE}/credentials")
        client.assert_never_shown(" pw 1 ")

    @pytest.mark.parametrize(
        "body, field",
        [
            ({"type": "user_password", "password": "p", "title": "t"}, "username"),
            ({"type": "user_password", "username": " ", "password": "p", "title": "t"}, "username"),
            ({"type": "user_password", "username": "ada", "title": "t"}, "password"),
            ({"type": "user_password", "username": "ada", "password": "", "title": "t"}, "password"),
        ],
    )
    def test_a_user_password_credential_needs_both(self, client, password_provider, body, field):
        response = client.post(f"{BASE}/{password_provider}/credentials", body, format="json")

        assert_error(response, 400, "validation_error", field)

    def test_a_host_scoped_credential_shows_the_host_not_the_headers(self, client):
        body = add(
            client,
            "openai_compatible",
            {
                "type": "host_scoped",
                "host": "LLM.Example.com:8443",
                "headers": {"Authorization": "Bearer tok-secret-987"},
                "title": "vLLM",
            },
        )

        assert (body["type"], body["host"], body["username"]) == ("host_scoped", "llm.example.com:8443", None)
        client.get(f"{BASE}/credentials")
        client.assert_never_shown("tok-secret-987", "Bearer")

    @pytest.mark.parametrize(
        "body, field",
        [
            ({"type": "api_key", "api_key": "k", "title": ""}, "title"),
            ({"type": "api_key", "api_key": "k", "title": "   "}, "title"),
            ({"type": "api_key", "api_key": "k"}, "title"),
            ({"type": "api_key", "api_key": "k", "title": "x" * 201}, "title"),
            ({"type": "api_key", "api_key": "", "title": "t"}, "api_key"),
            ({"type": "api_key", "api_key": "   ", "title": "t"}, "api_key"),
            ({"type": "api_key", "title": "t"}, "api_key"),
            ({"type": "api_key", "api_key": "k" * 4097, "title": "t"}, "api_key"),
            ({"api_key": "k", "title": "t"}, "type"),
            ({"type": "password", "api_key": "k", "title": "t"}, "type"),
            ({"type": "oauth2", "title": "t"}, "type"),
        ],
    )
    def test_bad_input_is_400_naming_the_field(self, client, body, field):
        assert_error(client.post(f"{BASE}/openai/credentials", body, format="json"), 400, "validation_error", field)
        assert not Credential.objects.exists()
        client.assert_never_shown()

    @pytest.mark.parametrize(
        "host",
        [
            "https://api.example.com",
            "api.example.com/v1",
            "user@api.example.com",
            "api.example.com:99999",
            "api.example.com:0",
            "api..example.com",
            "-bad.example.com",
            "api example.com",
            "api.example.com?x=1",
            "",
        ],
    )
    def test_a_host_with_scheme_path_or_bad_name_is_400_naming_host(self, client, host):
        body = {"type": "host_scoped", "host": host, "headers": {"X-Key": "v"}, "title": "t"}

        assert_error(client.post(f"{BASE}/openai_compatible/credentials", body, format="json"), 400, field="host")

    @pytest.mark.parametrize("host", ["api.example.com", "10.0.0.5:8000", "[::1]:11434", "localhost"])
    def test_plain_hosts_are_accepted(self, client, host):
        body = {"type": "host_scoped", "host": host, "headers": {"X-Key": "v"}, "title": "t"}

        assert add(client, "openai_compatible", body)["host"] == host

    @pytest.mark.parametrize(
        "headers, field",
        [
            ({"Bad Name": "v"}, "headers.Bad Name"),
            ({"X-Key": ""}, "headers.X-Key"),
            ({"X-Key": "a\r\nInjected: 1"}, "headers.X-Key"),
            ({"Host": "evil.example.com"}, "headers.Host"),
            ({"X-Key": None}, "headers.X-Key"),
            ({"X-Key": "v" * 4097}, "headers.X-Key"),
            ({f"X-{i}": "v" for i in range(21)}, "headers"),
            (["X-Key", "v"], "headers"),
            ("X-Key: v", "headers"),
        ],
    )
    def test_bad_headers_are_400_naming_the_header(self, client, headers, field):
        body = {"type": "host_scoped", "host": "api.example.com", "headers": headers, "title": "t"}

        assert_error(client.post(f"{BASE}/openai_compatible/credentials", body, format="json"), 400, field=field)
        assert not Credential.objects.exists()

    def test_an_unknown_provider_is_404_naming_provider(self, client):
        body = assert_error(
            client.post(
                f"{BASE}/no_such/credentials", {"type": "api_key", "api_key": "k", "title": "t"}, format="json"
            ),
            404,
            "unknown_provider",
            "provider",
        )

        assert "no_such" in body["message"]

    def test_a_type_the_provider_does_not_accept_is_400_naming_type(self, client):
        body = {"type": "host_scoped", "host": "api.openai.com", "headers": {"X": "v"}, "title": "t"}

        error = assert_error(client.post(f"{BASE}/openai/credentials", body, format="json"), 400, field="type")

        assert "api_key" in error["message"]
        assert not Credential.objects.exists()


class TestList:
    def test_lists_own_credentials_then_configured_system_ones_never_a_key(self, client, user, other_user):
        mine = add(client, "anthropic", {"type": "api_key", "api_key": "sk-ant-mine-42", "title": "Mine"})
        add(SecretWatch(client_for(other_user)), "openai", {"type": "api_key", "api_key": "sk-theirs", "title": "x"})

        response = client.get(f"{BASE}/credentials")

        assert response.status_code == 200
        body = response.json()
        assert isinstance(body, list)  # AutoGPT's shape: a plain list
        assert all(set(item) == METADATA_FIELDS for item in body)
        assert [(c["id"], c["is_system"]) for c in body] == [
            (mine["id"], False),
            (OPENAI_SYSTEM_ID, True),
            (OLLAMA_SYSTEM_ID, True),
            (str(PROVIDERS["local"].system_id), True),
        ]
        system_openai = body[1]
        assert (system_openai["provider"], system_openai["type"]) == ("openai", "api_key")
        assert system_openai["host"] is None  # the operator's hosts are not shown
        client.assert_never_shown("sk-ant-mine-42", "sk-theirs")

    def test_system_credentials_follow_the_settings(self, client, settings):
        settings.OPENAI_API_KEY = ""
        settings.GROQ_API_KEY = "gsk-system"

        providers = {(c["provider"], c["is_system"]) for c in client.get(f"{BASE}/credentials").json()}

        assert ("openai", True) not in providers
        assert {("groq", True), ("ollama", True)} <= providers
        client.assert_never_shown("gsk-system")

    def test_one_providers_list(self, client):
        add(client, "anthropic", {"type": "api_key", "api_key": "sk-a", "title": "A"})
        add(client, "openai", {"type": "api_key", "api_key": "sk-o", "title": "O"})

        body = client.get(f"{BASE}/openai/credentials").json()

        assert [(c["title"], c["is_system"]) for c in body] == [
            ("O", False),
            ("OpenAI (provided by the platform)", True),
        ]
        assert_error(client.get(f"{BASE}/nope/credentials"), 404, "unknown_provider", "provider")
        client.assert_never_shown("sk-a", "sk-o")


class TestGetAndDelete:
    def test_get_shows_metadata_and_delete_removes_it(self, client):
        created = add(client, "openai", {"type": "api_key", "api_key": "sk-delete-me", "title": "Old"})

        got = client.get(f"{BASE}/openai/credentials/{created['id']}")
        deleted = client.delete(f"{BASE}/openai/credentials/{created['id']}")

        assert got.status_code == 200 and got.json() == created
        assert deleted.status_code == 200
        assert deleted.json() == {"deleted": True, "revoked": None}
        assert not Credential.objects.filter(id=created["id"]).exists()
        assert_error(client.get(f"{BASE}/openai/credentials/{created['id']}"), 404, "credential_not_found")
        assert_error(client.delete(f"{BASE}/openai/credentials/{created['id']}"), 404, "credential_not_found")
        client.assert_never_shown("sk-delete-me")

    def test_another_users_credential_is_404_on_get_and_delete(self, client, other_user):
        theirs = add(
            SecretWatch(client_for(other_user)), "openai", {"type": "api_key", "api_key": "sk-x", "title": "T"}
        )

        assert_error(client.get(f"{BASE}/openai/credentials/{theirs['id']}"), 404, "credential_not_found")
        assert_error(client.delete(f"{BASE}/openai/credentials/{theirs['id']}"), 404, "credential_not_found")
        assert Credential.objects.filter(id=theirs["id"]).exists()
        client.assert_never_shown("sk-x")

    def test_the_wrong_provider_or_an_unknown_id_is_404(self, client):
        created = add(client, "openai", {"type": "api_key", "api_key": "sk-y", "title": "T"})

        assert_error(client.get(f"{BASE}/anthropic/credentials/{created['id']}"), 404)
        assert_error(client.delete(f"{BASE}/anthropic/credentials/{created['id']}"), 404)
        assert_error(client.get(f"{BASE}/openai/credentials/{uuid.uuid4()}"), 404)
        assert_error(client.get(f"{BASE}/openai/credentials/not-a-uuid"), 404)
        assert Credential.objects.filter(id=created["id"]).exists()

    def test_a_system_credential_can_be_read_as_metadata_but_never_deleted(self, client, settings):
        got = client.get(f"{BASE}/openai/credentials/{OPENAI_SYSTEM_ID}")
        deleted = client.delete(f"{BASE}/openai/credentials/{OPENAI_SYSTEM_ID}")

        assert got.status_code == 200
        assert got.json()["is_system"] is True
        assert_error(deleted, 403, "system_credential")
        assert_error(client.delete(f"{BASE}/ollama/credentials/{OLLAMA_SYSTEM_ID}"), 403, "system_credential")
        settings.OPENAI_API_KEY = ""
        assert_error(client.get(f"{BASE}/openai/credentials/{OPENAI_SYSTEM_ID}"), 404)
        client.assert_never_shown()


class TestScopes:
    def test_api_keys_need_read_integrations_to_read_and_manage_integrations_to_change(self, auth_client):
        reader = key_client(create_key(auth_client, ["read_integrations"])["key"])
        manager = key_client(create_key(auth_client, ["manage_integrations"])["key"])
        other = key_client(create_key(auth_client, ["read_graph"])["key"])
        body = {"type": "api_key", "api_key": "sk-scoped", "title": "T"}

        created = manager.post(f"{BASE}/openai/credentials", body, format="json")
        assert created.status_code == 201, created.content
        path = f"{BASE}/openai/credentials/{created.json()['id']}"

        assert reader.get(f"{BASE}/providers").status_code == 200
        assert reader.get(f"{BASE}/credentials").status_code == 200
        assert reader.get(f"{BASE}/openai/credentials").status_code == 200
        assert reader.get(path).status_code == 200
        assert (
            "manage_integrations"
            in assert_error(reader.post(f"{BASE}/openai/credentials", body, format="json"), 403)["message"]
        )
        assert "manage_integrations" in assert_error(reader.delete(path), 403)["message"]
        assert "read_integrations" in assert_error(manager.get(f"{BASE}/credentials"), 403)["message"]
        for response in (other.get(f"{BASE}/providers"), other.get(f"{BASE}/credentials"), other.get(path)):
            assert_error(response, 403)
        assert manager.delete(path).status_code == 200

    def test_anonymous_requests_are_401(self, api_client):
        assert_error(api_client.get(f"{BASE}/credentials"), 401)
        assert_error(api_client.post(f"{BASE}/openai/credentials", {}, format="json"), 401)


def test_a_stored_secret_is_json_under_the_first_key(client, settings):
    created = add(client, "groq", {"type": "api_key", "api_key": "gsk-first-key", "title": "G"})
    stored = Credential.objects.get(id=created["id"])

    assert json.loads(Fernet(settings.ENCRYPTION_KEYS[0]).decrypt(stored.secrets_encrypted.encode())) == {
        "api_key": "gsk-first-key"
    }
