"""Stand-in for the credentials vault's selector until the `integrations` branch is merged: only
system credentials from the operator's environment, no user credentials. Same signature."""

from dataclasses import dataclass, field

from django.conf import settings


class CredentialNotFound(Exception):
    """The credential does not exist, or belongs to someone else."""


class CredentialNotConfigured(Exception):
    """No credential was given and the operator configured none for the provider."""


@dataclass(frozen=True)
class ResolvedCredential:
    id: str
    provider: str
    type: str
    title: str
    is_system: bool
    api_key: str = field(default="", repr=False)
    username: str = ""
    password: str = field(default="", repr=False)
    host: str = ""
    headers: dict = field(default_factory=dict, repr=False)


_SYSTEM_KEYS = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "groq": "GROQ_API_KEY",
    "open_router": "OPEN_ROUTER_API_KEY",
}
_SYSTEM_HOSTS = {"ollama": "OLLAMA_HOST", "local": "LOCAL_LLM_BASE_URL"}


def credential_resolve(*, user_id, credential_id: str | None, provider: str) -> ResolvedCredential:
    if credential_id:
        raise CredentialNotFound(f"The credential {credential_id} does not exist.")
    if provider in _SYSTEM_KEYS and getattr(settings, _SYSTEM_KEYS[provider], ""):
        return ResolvedCredential(
            id=f"system-{provider}",
            provider=provider,
            type="api_key",
            title=f"{provider} (system)",
            is_system=True,
            api_key=getattr(settings, _SYSTEM_KEYS[provider]),
        )
    if provider in _SYSTEM_HOSTS and getattr(settings, _SYSTEM_HOSTS[provider], ""):
        return ResolvedCredential(
            id=f"system-{provider}",
            provider=provider,
            type="host_scoped",
            title=f"{provider} (system)",
            is_system=True,
            host=getattr(settings, _SYSTEM_HOSTS[provider]),
        )
    raise CredentialNotConfigured(f"No credential for {provider} is configured.")
