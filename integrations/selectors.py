"""Reads: the credentials a user may use (their own and the system's), and the one place that hands
a decrypted secret to a block: credential_resolve()."""

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from accounts.models import User
from autogpt_platform.encryption import InvalidToken, decrypt_text
from autogpt_platform.errors import FieldError

from .errors import CredentialNotConfigured, CredentialNotFound, CredentialUnreadable
from .models import Credential
from .providers import PROVIDERS, Provider, provider_get
from .system_credentials import (
    SystemCredential,
    is_configured,
    system_api_key,
    system_base_url,
    system_credential_get,
    system_credential_list,
    system_provider_by_credential_id,
)

CredentialMeta = Credential | SystemCredential


# --- what the API lists --------------------------------------------------------------------------
def credential_list_for_user(*, user: User, provider: str | None = None) -> list[CredentialMeta]:
    """Every credential the user can use: their own (oldest first), then the system's. Metadata
    only; nothing here is decrypted."""
    own = Credential.objects.filter(user=user)
    system = system_credential_list()
    if provider is not None:
        own = own.filter(provider=provider)
        system = [credential for credential in system if credential.provider == provider]
    return [*own, *system]


def credential_get_for_user(*, user: User, provider: str, credential_id: uuid.UUID) -> CredentialMeta:
    """One credential's metadata. Unknown provider: UnknownProvider; someone else's credential, or
    one of another provider: CredentialNotFound (404)."""
    known = provider_get(name=provider)
    system = system_credential_get(provider=known)
    if system is not None and system.id == credential_id:
        return system
    credential = Credential.objects.filter(id=credential_id, user=user, provider=provider).first()
    if credential is None:
        raise CredentialNotFound(credential_id=credential_id, provider=provider)
    return credential


# --- what a block gets at run time ---------------------------------------------------------------
@dataclass(frozen=True)
class ResolvedCredential:
    """A credential ready for one block run. The secrets are pydantic SecretStr: repr(), str() and
    log lines show '**********'; call .get_secret_value() where the secret is sent, and only there.

    `host` is set for host_scoped credentials (a host name, optionally with :port, no scheme);
    `base_url` for system credentials whose endpoint the operator chose (Ollama: OLLAMA_HOST)."""

    id: str
    provider: str
    type: str
    title: str
    is_system: bool
    api_key: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    host: str | None = None
    headers: Mapping[str, SecretStr] = field(default_factory=dict)
    base_url: str | None = None

    def headers_dict(self) -> dict[str, str]:
        """The headers in plain text, to put on a request to `host`."""
        return {name: value.get_secret_value() for name, value in self.headers.items()}


def _parse_id(credential_id: Any) -> uuid.UUID | None:
    if isinstance(credential_id, uuid.UUID):
        return credential_id
    try:
        return uuid.UUID(str(credential_id))
    except ValueError:
        return None


def _resolve_system(provider: Provider) -> ResolvedCredential:
    system = system_credential_get(provider=provider)
    if system is None:
        raise CredentialNotConfigured(provider=provider.name, setting=provider.system_api_key_setting)
    api_key = system_api_key(provider)
    return ResolvedCredential(
        id=str(system.id),
        provider=provider.name,
        type=system.type,
        title=system.title,
        is_system=True,
        api_key=SecretStr(api_key) if api_key else None,
        base_url=system_base_url(provider),
    )


def _resolve_own(credential: Credential) -> ResolvedCredential:
    try:
        secrets: dict[str, Any] = json.loads(decrypt_text(credential.secrets_encrypted))
    except InvalidToken:
        raise CredentialUnreadable(credential_id=credential.id, provider=credential.provider) from None
    api_key, password = secrets.get("api_key"), secrets.get("password")
    return ResolvedCredential(
        id=str(credential.id),
        provider=credential.provider,
        type=credential.type,
        title=credential.title,
        is_system=False,
        api_key=SecretStr(api_key) if api_key is not None else None,
        username=credential.username or None,
        password=SecretStr(password) if password is not None else None,
        host=credential.host or None,
        headers={name: SecretStr(value) for name, value in (secrets.get("headers") or {}).items()},
    )


def credential_resolve(*, user_id: Any, credential_id: str | None, provider: str) -> ResolvedCredential:
    """The credential a block run uses, decrypted.

    - credential_id names one of the user's own credentials: it must belong to user_id and be for
      `provider`, else CredentialNotFound (also when it was deleted);
    - credential_id is a system credential's fixed id: that one, if the operator configured it
      (CredentialNotConfigured naming the setting otherwise);
    - credential_id is None: the provider's system credential, or CredentialNotConfigured.

    Call it inside the run that needs the secret, and pass the result to nothing that is stored,
    logged, sent to a task or returned by the API."""
    known = PROVIDERS.get(provider)
    if credential_id is None:
        if known is None:
            raise CredentialNotConfigured(provider=provider, setting=None)
        return _resolve_system(known)
    parsed = _parse_id(credential_id)
    if parsed is None or known is None:
        raise CredentialNotFound(credential_id=credential_id, provider=provider)
    if system_provider_by_credential_id(parsed) is known:
        return _resolve_system(known)
    credential = Credential.objects.filter(id=parsed, user_id=user_id, provider=provider).first()
    if credential is None:
        raise CredentialNotFound(credential_id=credential_id, provider=provider)
    return _resolve_own(credential)


def credential_check_owned(
    *, user_id: Any, credential_id: Any, provider: str | None = None, field: str = "credentials"
) -> None:
    """For saving a graph: the user may use this credential (their own, or a configured system
    credential), for `provider` when given. Raises FieldError naming `field` otherwise."""
    parsed = _parse_id(credential_id)
    if parsed is None:
        raise FieldError(field, f"'{credential_id}' is not a credential id.")
    system_provider = system_provider_by_credential_id(parsed)
    if system_provider is not None:
        if provider is not None and system_provider.name != provider:
            raise FieldError(field, f"Credential {parsed} is for '{system_provider.name}', not '{provider}'.")
        if not is_configured(system_provider):
            raise FieldError(
                field,
                f"The platform's {system_provider.label} credential is not configured "
                f"(the operator sets {system_provider.system_api_key_setting}); choose one of your credentials.",
            )
        return
    credential = Credential.objects.filter(id=parsed, user_id=user_id).only("provider").first()
    if credential is None:
        raise FieldError(field, f"Credential {parsed} was not found: it was deleted, or it is not yours.")
    if provider is not None and credential.provider != provider:
        raise FieldError(field, f"Credential {parsed} is for '{credential.provider}', not '{provider}'.")
