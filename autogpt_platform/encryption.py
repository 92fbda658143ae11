"""Secrets at rest: cryptography's MultiFernet (AES-128-CBC + HMAC-SHA256) under ENCRYPTION_KEYS.

ENCRYPTION_KEYS is a list of Fernet keys: the first encrypts, every one decrypts. To rotate, an
operator puts a new key first, runs `manage.py rotate_encryption_keys` (every stored secret is
re-encrypted under the first key) and then drops the old key.

Before ENCRYPTION_KEYS, trigger secrets and notification webhook URLs were encrypted under a key
derived per purpose: SHA-256(purpose + ":" + material), the material being TRIGGER_SECRET_KEY or
NOTIFICATION_SECRET_KEY, or SECRET_KEY when that is empty. Decrypting those kinds falls back to
that derived key, so rows stored before the change keep working until the rotation re-encrypts them.
"""

import base64
import binascii
import hashlib
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = [
    "LEGACY_NOTIFICATION_WEBHOOK",
    "LEGACY_TRIGGER_SECRET",
    "InvalidToken",
    "decrypt_text",
    "encrypt_text",
    "generate_key",
    "is_under_first_key",
    "key_file_load_or_create",
    "parse_encryption_keys",
    "reencrypt_text",
    "secret_file_load_or_create",
]

# The purposes that had a derived key of their own before ENCRYPTION_KEYS, and the setting that
# held each one's key material.
LEGACY_TRIGGER_SECRET = "webhook-trigger-secret"
LEGACY_NOTIFICATION_WEBHOOK = "notification-webhook"
_LEGACY_KEY_MATERIAL_SETTINGS = {
    LEGACY_TRIGGER_SECRET: "TRIGGER_SECRET_KEY",
    LEGACY_NOTIFICATION_WEBHOOK: "NOTIFICATION_SECRET_KEY",
}


# --- configuration -------------------------------------------------------------------------------
def generate_key() -> str:
    return Fernet.generate_key().decode()


def parse_encryption_keys(value: str) -> list[str]:
    """The keys of a comma-separated ENCRYPTION_KEYS (whitespace and newlines also separate).

    Raises ImproperlyConfigured naming the bad key by its position, never by its value."""
    keys = [key for key in value.replace(",", " ").split() if key]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, binascii.Error):
            raise ImproperlyConfigured(
                f"ENCRYPTION_KEYS: key {position} of {len(keys)} is not a Fernet key (32 url-safe "
                "base64-encoded bytes). Generate one with: python -c "
                '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
            ) from None
    return keys


def secret_file_load_or_create(path: Path, *, generate: Callable[[], str]) -> str:
    """The secret kept in path, made with generate() the first time (for `make run`).

    The file (mode 0600) is written whole under a temporary name and linked into place, so that
    processes starting at the same moment all end up with the same secret and never read a
    half-written file."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(generate() + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            temporary.unlink()
    secret = path.read_text().strip()
    if not secret:
        raise ImproperlyConfigured(f"{path} is empty; delete it to have a new one made.")
    return secret


def key_file_load_or_create(path: Path) -> list[str]:
    """The encryption keys kept in path, created with one new key the first time (for `make run`)."""
    keys = parse_encryption_keys(secret_file_load_or_create(path, generate=generate_key))
    if not keys:
        raise ImproperlyConfigured(f"{path} holds no encryption key; delete it to have one made.")
    return keys


# --- encrypting and decrypting -------------------------------------------------------------------
@lru_cache(maxsize=8)
def _fernets(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    fernets = [Fernet(key) for key in keys]
    return MultiFernet(fernets), fernets[0]


def _current() -> tuple[MultiFernet, Fernet]:
    keys = tuple(settings.ENCRYPTION_KEYS)
    if not keys:
        raise ImproperlyConfigured("ENCRYPTION_KEYS is empty: secrets can be neither stored nor read.")
    return _fernets(keys)


def _legacy_fernet(purpose: str) -> Fernet:
    material = getattr(settings, _LEGACY_KEY_MATERIAL_SETTINGS[purpose], "") or settings.SECRET_KEY
    digest = hashlib.sha256(f"{purpose}:".encode() + material.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_text(value: str) -> str:
    """value encrypted under the first key of ENCRYPTION_KEYS."""
    return _current()[0].encrypt(value.encode()).decode()


def decrypt_text(token: str, *, legacy_purpose: str | None = None) -> str:
    """The plain text of a token made by encrypt_text under any key of ENCRYPTION_KEYS, or, given
    legacy_purpose, under that purpose's key from before ENCRYPTION_KEYS.

    Raises InvalidToken when no key decrypts it (its key was dropped from ENCRYPTION_KEYS)."""
    try:
        return _current()[0].decrypt(token.encode()).decode()
    except InvalidToken:
        if legacy_purpose is None:
            raise
    return _legacy_fernet(legacy_purpose).decrypt(token.encode()).decode()


def is_under_first_key(token: str) -> bool:
    try:
        _current()[1].decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def reencrypt_text(token: str, *, legacy_purpose: str | None = None) -> str | None:
    """token encrypted again under the first key, or None when it already is (nothing to do).
    Raises InvalidToken when no key decrypts it."""
    if is_under_first_key(token):
        return None
    return encrypt_text(decrypt_text(token, legacy_purpose=legacy_purpose))
