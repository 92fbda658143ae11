"""Writes: storing and deleting a user's credentials. Secrets are encrypted before they reach the
database and are never returned: what comes back is the credential's metadata."""

import json
import uuid

from accounts.models import User
from autogpt_platform.encryption import encrypt_text
from autogpt_platform.errors import ApplicationError, FieldError

from .errors import CredentialNotFound, SystemCredentialReadOnly
from .models import Credential, CredentialType
from .providers import provider_get
from .system_credentials import system_provider_by_credential_id
from .validators import header_problems, host_problem, normalize_host

STORABLE_TYPES = (CredentialType.API_KEY, CredentialType.USER_PASSWORD, CredentialType.HOST_SCOPED)


TITLE_MAX_LENGTH = 200
USERNAME_MAX_LENGTH = 255
SECRET_MAX_LENGTH = 4096


def _required(field: str, value: str | None, max_length: int) -> str:
    if value is None or not value.strip():
        raise FieldError(field, "This field may not be blank.")
    if len(value) > max_length:
        raise FieldError(field, f"Ensure this field has no more than {max_length} characters.")
    return value


def _secrets_for(
    type: str, *, api_key: str | None, username: str | None, password: str | None, host: str | None, headers
) -> tuple[dict, dict]:
    """(plain fields, secret fields) of a credential of this type."""
    if type == CredentialType.API_KEY:
        return {}, {"api_key": _required("api_key", api_key, SECRET_MAX_LENGTH).strip()}
    if type == CredentialType.USER_PASSWORD:
        username = _required("username", username, USERNAME_MAX_LENGTH).strip()
        return {"username": username}, {"password": _required("password", password, SECRET_MAX_LENGTH)}
    host = normalize_host(host or "")
    problem = host_problem(host)
    if problem:
        raise FieldError("host", problem)
    headers = headers if headers is not None else {}
    if not isinstance(headers, dict):
        raise FieldError("headers", "An object of header names to values.")
    problems = header_problems(headers)
    if problems:
        raise ApplicationError(
            "; ".join(f"{key}: {problem}" for key, problem in problems.items()),
            code="validation_error",
            details={key: [problem] for key, problem in problems.items()},
        )
    return {"host": host}, {"headers": headers}


def credential_create(
    *,
    user: User,
    provider: str,
    type: str,
    title: str,
    api_key: str | None = None,
    username: str | None = None,
    password: str | None = None,
    host: str | None = None,
    headers: dict[str, str] | None = None,
) -> Credential:
    """Store a credential of one of the types the provider accepts: api_key (api_key),
    user_password (username, password) or host_scoped (host, headers). The secrets are encrypted;
    the returned credential carries only its metadata in the clear."""
    known = provider_get(name=provider)
    if type not in STORABLE_TYPES:
        raise FieldError("type", f"One of {', '.join(STORABLE_TYPES)}.")
    if type not in known.credential_types:
        accepted = ", ".join(known.credential_types) or "none (it needs no credential of yours)"
        raise FieldError("type", f"{known.label} credentials can be of type: {accepted}.")
    title = _required("title", title, TITLE_MAX_LENGTH).strip()
    plain, secrets = _secrets_for(
        type, api_key=api_key, username=username, password=password, host=host, headers=headers
    )
    return Credential.objects.create(
        user=user,
        provider=known.name,
        type=type,
        title=title,
        secrets_encrypted=encrypt_text(json.dumps(secrets)),
        **plain,
    )


def credential_delete(*, user: User, provider: str, credential_id: uuid.UUID) -> None:
    """Delete one of the user's credentials. A system credential: SystemCredentialReadOnly (403);
    another user's, or one of another provider: CredentialNotFound (404)."""
    known = provider_get(name=provider)
    if system_provider_by_credential_id(credential_id) is known:
        raise SystemCredentialReadOnly(credential_id=credential_id)
    deleted, _ = Credential.objects.filter(id=credential_id, user=user, provider=known.name).delete()
    if not deleted:
        raise CredentialNotFound(credential_id=credential_id, provider=provider)
