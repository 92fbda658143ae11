"""The providers credentials are for: one entry each, in PROVIDERS.

A provider says which credential types a user may store for it and where its system credential
comes from: a setting holding an API key (OPENAI_API_KEY, ...), present only when the operator set
it, or `system_always` for providers that need no key (Ollama). To add a provider, add an entry
(and, for a system credential, the setting in settings/base.py and a row in the README).
"""

import uuid
from dataclasses import dataclass

from rest_framework import status

from autogpt_platform.errors import NotFoundError

from .llm.registry import models_for_provider
from .models import CredentialType

API_KEY = CredentialType.API_KEY.value
USER_PASSWORD = CredentialType.USER_PASSWORD.value
HOST_SCOPED = CredentialType.HOST_SCOPED.value


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    description: str
    credential_types: tuple[str, ...]
    # The setting whose value is the system credential's API key; unset or empty: none.
    system_api_key_setting: str | None = None
    # A system credential even without a key (a local server the operator runs).
    system_always: bool = False
    # The setting naming where the system credential points (Ollama: OLLAMA_HOST).
    system_base_url_setting: str | None = None
    # AutoGPT's id for its system credential, so that agents exported from AutoGPT keep theirs;
    # None: a uuid5 of the provider's name.
    system_credential_id: str | None = None

    @property
    def has_system_credential_definition(self) -> bool:
        return self.system_always or self.system_api_key_setting is not None

    @property
    def system_id(self) -> uuid.UUID:
        if self.system_credential_id:
            return uuid.UUID(self.system_credential_id)
        return uuid.uuid5(uuid.NAMESPACE_URL, f"autogpt-platform:system-credential:{self.name}")

    @property
    def models(self) -> list[str]:
        return models_for_provider(self.name)


PROVIDERS: dict[str, Provider] = {
    provider.name: provider
    for provider in (
        Provider(
            name="openai",
            label="OpenAI",
            description="OpenAI: GPT and o-series models.",
            credential_types=(API_KEY,),
            system_api_key_setting="OPENAI_API_KEY",
            system_credential_id="53c25cb8-e3ee-465c-a4d1-e75a4c899c2a",
        ),
        Provider(
            name="anthropic",
            label="Anthropic",
            description="Anthropic: Claude models.",
            credential_types=(API_KEY,),
            system_api_key_setting="ANTHROPIC_API_KEY",
            system_credential_id="24e5d942-d9e3-4798-8151-90143ee55629",
        ),
        Provider(
            name="groq",
            label="Groq",
            description="Groq: open models on fast inference hardware.",
            credential_types=(API_KEY,),
            system_api_key_setting="GROQ_API_KEY",
            system_credential_id="4ec22295-8f97-4dd1-b42b-2c6957a02545",
        ),
        Provider(
            name="open_router",
            label="OpenRouter",
            description="OpenRouter: many providers' models behind one API.",
            credential_types=(API_KEY,),
            system_api_key_setting="OPEN_ROUTER_API_KEY",
            system_credential_id="b5a0e27d-0c98-4df3-a4b9-10193e1f3c40",
        ),
        Provider(
            name="ollama",
            label="Ollama",
            description="Ollama: open models on an Ollama server (the operator's at OLLAMA_HOST, or your own).",
            credential_types=(API_KEY, HOST_SCOPED),
            system_always=True,
            system_base_url_setting="OLLAMA_HOST",
            system_credential_id="744fdc56-071a-4761-b5a5-0af0ce10a2b5",
        ),
        Provider(
            name="local",
            label="Local models",
            description="Models the platform runs itself: no account needed.",
            credential_types=(),
            system_always=True,
        ),
        Provider(
            name="openai_compatible",
            label="OpenAI-compatible server",
            description="Any server that speaks OpenAI's API (vLLM, LM Studio, Together, ...): its host and headers.",
            credential_types=(HOST_SCOPED, API_KEY),
        ),
        # The integrations' providers, with AutoGPT's names and system credential ids.
        Provider(
            name="jina",
            label="Jina",
            description="Jina AI: the Reader (a web page as text) and web search.",
            credential_types=(API_KEY,),
            system_api_key_setting="JINA_API_KEY",
            system_credential_id="7f26de70-ba0d-494e-ba76-238e65e7b45f",
        ),
        Provider(
            name="google_maps",
            label="Google Maps",
            description="Google Maps Platform: Places text search.",
            credential_types=(API_KEY,),
            system_api_key_setting="GOOGLE_MAPS_API_KEY",
        ),
        Provider(
            name="ideogram",
            label="Ideogram",
            description="Ideogram: image generation.",
            credential_types=(API_KEY,),
            system_api_key_setting="IDEOGRAM_API_KEY",
            system_credential_id="760f84fc-b270-42de-91f6-08efe1b512d0",
        ),
        Provider(
            name="replicate",
            label="Replicate",
            description="Replicate: models run in the cloud (Flux image generation).",
            credential_types=(API_KEY,),
            system_api_key_setting="REPLICATE_API_KEY",
            system_credential_id="6b9fc200-4726-4973-86c9-cd526f5ce5db",
        ),
        Provider(
            name="smtp",
            label="SMTP",
            description="An SMTP server's username and password, for Send Email.",
            credential_types=(USER_PASSWORD,),
        ),
        Provider(
            name="http",
            label="HTTP",
            description="Headers sent only to one host, for Send Authenticated Web Request.",
            credential_types=(HOST_SCOPED,),
        ),
    )
}


class UnknownProvider(NotFoundError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "unknown_provider"

    def __init__(self, name: str):
        problem = f"Unknown provider '{name}'. Known: {', '.join(PROVIDERS)}."
        super().__init__(f"provider: {problem}", details={"provider": [problem]})


def provider_get(*, name: str) -> Provider:
    """The provider called name; raises UnknownProvider (404 naming `provider`)."""
    provider = PROVIDERS.get(name)
    if provider is None:
        raise UnknownProvider(name)
    return provider


def provider_list() -> list[Provider]:
    return list(PROVIDERS.values())
