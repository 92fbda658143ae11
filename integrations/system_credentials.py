"""System credentials: one per provider the operator configured (OPENAI_API_KEY, ...), usable by every
user, readable by none. Computed from settings on every call, never stored."""

import uuid
from dataclasses import dataclass

from django.conf import settings

from .models import CredentialType
from .providers import PROVIDERS, Provider

SYSTEM_TITLE = "{label} (provided by the platform)"


@dataclass(frozen=True)
class SystemCredential:
    """What anyone may know about a system credential: the same fields as a user's Credential."""

    id: uuid.UUID
    provider: str
    type: str
    title: str
    username: str = ""
    host: str = ""  # not shown: the operator's hosts are none of the users' business
    is_system: bool = True


def _as_credential(provider: Provider) -> SystemCredential:
    return SystemCredential(
        id=provider.system_id,
        provider=provider.name,
        type=CredentialType.API_KEY.value,
        title=SYSTEM_TITLE.format(label=provider.label),
    )


def system_api_key(provider: Provider) -> str:
    if provider.system_api_key_setting is None:
        return ""
    return getattr(settings, provider.system_api_key_setting, "") or ""


def system_base_url(provider: Provider) -> str | None:
    if provider.system_base_url_setting is None:
        return None
    return getattr(settings, provider.system_base_url_setting, "") or None


def is_configured(provider: Provider) -> bool:
    return provider.system_always or bool(system_api_key(provider))


def system_credential_list() -> list[SystemCredential]:
    return [_as_credential(provider) for provider in PROVIDERS.values() if is_configured(provider)]


def system_provider_by_credential_id(credential_id: uuid.UUID) -> Provider | None:
    """The provider whose system credential has this id, configured or not."""
    for provider in PROVIDERS.values():
        if provider.has_system_credential_definition and provider.system_id == credential_id:
            return provider
    return None


def system_credential_get(*, provider: Provider) -> SystemCredential | None:
    """The provider's system credential, or None when the operator did not configure one."""
    if not (provider.has_system_credential_definition and is_configured(provider)):
        return None
    return _as_credential(provider)
