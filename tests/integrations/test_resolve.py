"""credential_resolve, what blocks call at run time, and credential_check_owned, what saving a graph
calls: own, system, foreign, deleted and unconfigured credentials."""

import logging
import uuid

import pytest

from autogpt_platform.errors import FieldError
from integrations.errors import CredentialError, CredentialNotConfigured, CredentialNotFound, CredentialUnreadable
from integrations.models import Credential
from integrations.providers import PROVIDERS
from integrations.selectors import ResolvedCredential, credential_check_owned, credential_resolve
from integrations.services import credential_create, credential_delete

pytestmark = pytest.mark.django_db

OPENAI_SYSTEM_ID = "53c25cb8-e3ee-465c-a4d1-e75a4c899c2a"
OLLAMA_SYSTEM_ID = "744fdc56-071a-4761-b5a5-0af0ce10a2b5"


@pytest.fixture(autouse=True)
def system_keys(settings):
    settings.OPENAI_API_KEY = "sk-system-openai"
    settings.ANTHROPIC_API_KEY = settings.GROQ_API_KEY = settings.OPEN_ROUTER_API_KEY = ""
    settings.OLLAMA_HOST = "http://127.0.0.1:11434"


@pytest.fixture
def own_key(user) -> Credential:
    return credential_create(user=user, provider="anthropic", type="api_key", title="Mine", api_key="sk-ant-own")


class TestResolve:
    def test_own_credential_by_id(self, user, own_key):
        resolved = credential_resolve(user_id=user.id, credential_id=str(own_key.id), provider="anthropic")

        assert isinstance(resolved, ResolvedCredential)
        assert (resolved.id, resolved.provider, resolved.type, resolved.title) == (
            str(own_key.id),
            "anthropic",
            "api_key",
            "Mine",
        )
        assert resolved.is_system is False
        assert resolved.api_key.get_secret_value() == "sk-ant-own"
        assert resolved.password is None and resolved.host is None and resolved.headers == {}

    def test_the_secrets_never_show_in_repr_str_or_logs(self, user, caplog):
        credential = credential_create(
            user=user,
            provider="openai_compatible",
            type="host_scoped",
            title="vLLM",
            host="llm.example.com",
            headers={"Authorization": "Bearer hdr-secret-1"},
        )
        resolved = credential_resolve(user_id=user.id, credential_id=str(credential.id), provider="openai_compatible")

        with caplog.at_level(logging.INFO):
            logging.getLogger("test").info("resolved %s / %r", resolved, resolved)

        assert resolved.host == "llm.example.com"
        assert resolved.headers_dict() == {"Authorization": "Bearer hdr-secret-1"}
        for text in (repr(resolved), str(resolved), caplog.text):
            assert "hdr-secret-1" not in text
        assert "llm.example.com" in repr(resolved)

    def test_a_system_credential_by_its_fixed_id_or_by_default(self, user):
        by_id = credential_resolve(user_id=user.id, credential_id=OPENAI_SYSTEM_ID, provider="openai")
        by_default = credential_resolve(user_id=user.id, credential_id=None, provider="openai")

        assert by_id == by_default
        assert by_id.is_system is True and by_id.id == OPENAI_SYSTEM_ID
        assert by_id.api_key.get_secret_value() == "sk-system-openai"
        assert "sk-system-openai" not in repr(by_id)

    def test_ollamas_system_credential_points_at_ollama_host_with_no_key(self, user, settings):
        settings.OLLAMA_HOST = "http://127.0.0.1:5999"

        resolved = credential_resolve(user_id=user.id, credential_id=None, provider="ollama")

        assert (resolved.id, resolved.is_system, resolved.api_key) == (OLLAMA_SYSTEM_ID, True, None)
        assert resolved.base_url == "http://127.0.0.1:5999"

    def test_another_users_credential_is_not_found_naming_it(self, user, other_user):
        theirs = credential_create(user=other_user, provider="openai", type="api_key", title="T", api_key="sk-theirs")

        with pytest.raises(CredentialNotFound) as raised:
            credential_resolve(user_id=user.id, credential_id=str(theirs.id), provider="openai")

        assert str(theirs.id) in raised.value.message and "openai" in raised.value.message
        assert "sk-theirs" not in raised.value.message
        assert raised.value.status_code == 404

    def test_a_deleted_credential_is_not_found(self, user, own_key):
        credential_delete(user=user, provider="anthropic", credential_id=own_key.id)

        with pytest.raises(CredentialNotFound, match=str(own_key.id)):
            credential_resolve(user_id=user.id, credential_id=str(own_key.id), provider="anthropic")

    @pytest.mark.parametrize("credential_id", ["not-a-uuid", str(uuid.uuid4()), OPENAI_SYSTEM_ID])
    def test_unknown_ids_and_other_providers_ids_are_not_found(self, user, own_key, credential_id):
        with pytest.raises(CredentialNotFound):
            credential_resolve(user_id=user.id, credential_id=credential_id, provider="anthropic")
        with pytest.raises(CredentialNotFound):
            credential_resolve(user_id=user.id, credential_id=str(own_key.id), provider="openai")

    def test_no_credential_and_no_system_one_names_the_setting(self, user):
        with pytest.raises(CredentialNotConfigured) as raised:
            credential_resolve(user_id=user.id, credential_id=None, provider="groq")

        assert "GROQ_API_KEY" in raised.value.message
        assert raised.value.setting == "GROQ_API_KEY"
        assert isinstance(raised.value, CredentialError)

    def test_an_unconfigured_system_credential_by_id_names_the_setting(self, user, settings):
        settings.OPENAI_API_KEY = ""

        with pytest.raises(CredentialNotConfigured, match="OPENAI_API_KEY"):
            credential_resolve(user_id=user.id, credential_id=OPENAI_SYSTEM_ID, provider="openai")

    def test_a_credential_under_a_dropped_key_is_unreadable_not_a_crash(self, user, own_key, settings):
        settings.ENCRYPTION_KEYS = ["ZmRzYWZkc2FmZHNhZmRzYWZkc2FmZHNhZmRzYWZkc2E="]

        with pytest.raises(CredentialUnreadable, match="ENCRYPTION_KEYS"):
            credential_resolve(user_id=user.id, credential_id=str(own_key.id), provider="anthropic")

    def test_a_resolved_credential_is_frozen(self, user, own_key):
        resolved = credential_resolve(user_id=user.id, credential_id=str(own_key.id), provider="anthropic")

        with pytest.raises(AttributeError):
            resolved.api_key = None


class TestCheckOwned:
    def test_own_and_configured_system_credentials_pass(self, user, own_key):
        credential_check_owned(user_id=user.id, credential_id=own_key.id, provider="anthropic")
        credential_check_owned(user_id=user.id, credential_id=str(own_key.id))
        credential_check_owned(user_id=user.id, credential_id=OPENAI_SYSTEM_ID, provider="openai")
        credential_check_owned(user_id=user.id, credential_id=OLLAMA_SYSTEM_ID)

    @pytest.mark.parametrize(
        "make_id, provider, words",
        [
            (lambda own, theirs: "nope", None, "not a credential id"),
            (lambda own, theirs: theirs.id, None, "not yours"),
            (lambda own, theirs: uuid.uuid4(), "openai", "not yours"),
            (lambda own, theirs: own.id, "openai", "is for 'anthropic'"),
            (lambda own, theirs: OPENAI_SYSTEM_ID, "anthropic", "is for 'openai'"),
            (lambda own, theirs: PROVIDERS["groq"].system_id, "groq", "GROQ_API_KEY"),
        ],
    )
    def test_anything_else_is_a_field_error(self, user, other_user, own_key, make_id, provider, words):
        theirs = credential_create(user=other_user, provider="openai", type="api_key", title="T", api_key="k")

        with pytest.raises(FieldError) as raised:
            credential_check_owned(
                user_id=user.id, credential_id=make_id(own_key, theirs), provider=provider, field="nodes.n1.credentials"
            )

        assert words in raised.value.message
        assert list(raised.value.details) == ["nodes.n1.credentials"]
