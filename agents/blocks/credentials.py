"""What the blocks that reach a provider share: the `credentials` pin and its resolution at run
time (integrations.selectors.credential_resolve: the only place a secret is decrypted), and
IntegrationBlock, whose failures come out on `error`.

The pin holds `{id, provider, type, title}` (AutoGPT's CredentialsMetaInput), never a secret.
Without one, the provider's system credential is used when the operator configured it.
"""

from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from integrations.errors import CredentialError
from integrations.selectors import ResolvedCredential, credential_resolve

from .base import Block, BlockContext, BlockError

# AutoGPT's id for its test cases' credentials.
TEST_CREDENTIAL_ID = "01234567-89ab-cdef-0123-456789abcdef"


class CredentialsMeta(BaseModel):
    """The `credentials` pin: which of the user's credentials to use (never the secret itself)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    provider: str = ""
    type: str = "api_key"
    title: str | None = None


def CredentialsField(provider: str, types: tuple[str, ...] = ("api_key",), description: str = "") -> Any:
    """A block's `credentials` pin for one provider; its JSON Schema names the provider and the
    credential types it takes, as AutoGPT's does (`credentials_provider`, `credentials_types`)."""
    return Field(
        None,
        description=description
        or f"Your {provider} credential ({{id, provider, type, title}}). Without one, the platform's is used.",
        json_schema_extra={
            "advanced": False,
            "secret": False,
            "credentials_provider": [provider],
            "credentials_types": list(types),
        },
    )


def credentials_provider(block_input: type[BaseModel]) -> str | None:
    """The one provider a block's `credentials` pin is for, or None (any, or no such pin)."""
    field = block_input.model_fields.get("credentials")
    extra = field.json_schema_extra if field is not None else None
    providers = extra.get("credentials_provider") if isinstance(extra, dict) else None
    return str(providers[0]) if isinstance(providers, list) and len(providers) == 1 else None


def credential_for(
    context: BlockContext, credentials: CredentialsMeta | None, *, provider: str, types: tuple[str, ...] = ("api_key",)
) -> ResolvedCredential:
    """The decrypted credential the pin names (or the provider's system credential), for this run
    only. Raises BlockError saying what is missing."""
    try:
        credential = credential_resolve(
            user_id=context.user_id, credential_id=credentials.id if credentials else None, provider=provider
        )
    except CredentialError as exc:
        raise BlockError(str(exc)) from None
    if credential.type not in types:
        raise BlockError(
            f"Credential '{credential.title}' is of type {credential.type}; this block needs {' or '.join(types)}."
        )
    return credential


def secret_text(value: Any) -> str:
    """The text of a SecretStr (or str), "" for none: only where it is sent."""
    if value is None:
        return ""
    return value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)


class IntegrationBlock(Block):
    """A block that reaches a provider with a credential of `provider`'s (through `credential()`,
    the seam test cases replace with `mock_credential`). Its BlockError is yielded on `error`
    (which fails its node all the same), so that test cases can name the failures they expect."""

    provider: ClassVar[str | None] = None
    credential_types: ClassVar[tuple[str, ...]] = ("api_key",)

    def credential(self, context: BlockContext, credentials: CredentialsMeta | None) -> ResolvedCredential:
        assert self.provider is not None, f"{self.name} names no provider"
        return credential_for(context, credentials, provider=self.provider, types=self.credential_types)

    def execute(self, input_data, context):
        try:
            yield from super().execute(input_data, context)
        except BlockError as exc:
            yield "error", str(exc)


def mock_credential(provider: str, **fields: Any) -> Callable[..., ResolvedCredential]:
    """A `credential` mock for test cases: a resolved credential without the vault."""
    fields.setdefault("api_key", SecretStr(f"mock-{provider}-api-key"))
    credential = ResolvedCredential(
        id=TEST_CREDENTIAL_ID,
        provider=provider,
        type=fields.pop("type", "api_key"),
        title=f"Mock {provider} credential",
        is_system=False,
        **fields,
    )
    return lambda *args, **kwargs: credential
