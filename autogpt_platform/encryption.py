"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from key material.

Each use names its purpose, so that one platform key yields a different Fernet key per use:
webhook trigger secrets, notification webhook URLs. The key is SHA-256(purpose + ":" + material),
where material is a setting of its own (TRIGGER_SECRET_KEY, NOTIFICATION_SECRET_KEY) or, when
that is empty, SECRET_KEY. Changing the material makes what was stored under it undecryptable.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

__all__ = ["InvalidToken", "decrypt_text", "encrypt_text"]


def _fernet(purpose: str, key_material: str) -> Fernet:
    material = key_material or settings.SECRET_KEY
    digest = hashlib.sha256(f"{purpose}:".encode() + material.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_text(value: str, *, purpose: str, key_material: str = "") -> str:
    return _fernet(purpose, key_material).encrypt(value.encode()).decode()


def decrypt_text(token: str, *, purpose: str, key_material: str = "") -> str:
    """The plain text; raises InvalidToken when the key material changed since it was stored."""
    return _fernet(purpose, key_material).decrypt(token.encode()).decode()
