"""Account writes: registration, tokens and API keys."""

import hashlib
import secrets

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from autogpt_platform.errors import ApplicationError, FieldError, NotFoundError

from .models import ApiKey, ApiKeyScope, User

API_KEY_PREFIX = "agpt_"


class AuthenticationError(ApplicationError):
    status_code = 401
    code = "authentication_failed"


def user_register(*, email: str, password: str, name: str = "") -> User:
    email = get_user_model().objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise FieldError("email", "A user with this email address already exists.")
    try:
        validate_password(password, user=User(email=email, name=name))
    except DjangoValidationError as exc:
        raise ApplicationError(
            f"password: {' '.join(exc.messages)}",
            code="validation_error",
            details={"password": exc.messages},
        ) from exc
    return User.objects.create_user(email=email, password=password, name=name)


def user_login(*, email: str, password: str) -> dict[str, str]:
    """Check the credentials and return a JWT access + refresh pair."""
    user = authenticate(username=email.lower(), password=password)
    if user is None:
        # One message for a wrong password and an unknown user: do not reveal which accounts exist.
        raise AuthenticationError("Email or password is incorrect.", code="invalid_credentials")
    return token_pair_for(user)


def token_pair_for(user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _refresh_token(raw_token: str) -> RefreshToken:
    """A valid refresh token (signature, expiry, type, not revoked), or TokenError."""
    return RefreshToken(raw_token)  # type: ignore[arg-type]  # the stubs omit the raw token form


def _outstanding_locked(token: RefreshToken) -> OutstandingToken:
    """The token's row, locked until the transaction ends: two requests with one token take turns."""
    token.outstand()  # a token issued before revocation existed has no row yet
    return OutstandingToken.objects.select_for_update().get(jti=token["jti"])


@transaction.atomic
def token_refresh(*, raw_refresh: str) -> dict[str, str]:
    """A new access + refresh pair for a refresh token, which is revoked: each works once."""
    invalid = AuthenticationError("Refresh token is invalid, expired or already used.", code="token_invalid")
    try:
        token = _refresh_token(raw_refresh)
    except TokenError:
        raise invalid from None
    outstanding = _outstanding_locked(token)
    # Looked at again under the lock: a concurrent use of the same token has committed by now.
    if BlacklistedToken.objects.filter(token=outstanding).exists():
        raise invalid
    user = User.objects.filter(id=token.get("user_id"), is_active=True).first()
    if user is None:
        raise AuthenticationError("The token's user does not exist or is inactive.", code="token_invalid")
    BlacklistedToken.objects.create(token=outstanding)
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


@transaction.atomic
def token_revoke(*, raw_refresh: str) -> None:
    """Log out: the refresh token stops working (access tokens expire on their own)."""
    try:
        token = _refresh_token(raw_refresh)
    except TokenError:
        raise FieldError("refresh", "Not a valid refresh token (or already revoked).") from None
    BlacklistedToken.objects.get_or_create(token=_outstanding_locked(token))


def user_tokens_revoke(*, user: User) -> int:
    """Revoke every refresh token of user still outstanding; returns how many."""
    live = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True)
    revoked = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
    )
    return len(revoked)


@transaction.atomic
def user_password_change(*, user: User, old_password: str, new_password: str) -> dict[str, str]:
    """Change the password and revoke every refresh token of the user; returns a new pair, so
    that whoever changed it stays logged in while every other session has to log in again."""
    if not user.check_password(old_password):
        raise FieldError("old_password", "The current password is not correct.")
    try:
        validate_password(new_password, user=user)
    except DjangoValidationError as exc:
        raise ApplicationError(
            f"new_password: {' '.join(exc.messages)}", code="validation_error", details={"new_password": exc.messages}
        ) from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    user_tokens_revoke(user=user)
    return token_pair_for(user)


def tokens_flush_expired() -> int:
    """Forget refresh tokens past their expiry (revoked or not): they are refused anyway."""
    deleted, _ = OutstandingToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def _hash_key(raw_key: str) -> str:
    # Keys are 256 random bits, so a fast digest is enough: no dictionary attack is possible.
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_create(*, user: User, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """Create a key; the raw key is returned once and only its digest is kept."""
    unknown = sorted(set(scopes) - set(ApiKeyScope.values))
    if unknown:
        raise FieldError("scopes", f"Unknown scope(s): {', '.join(unknown)}. Allowed: {', '.join(ApiKeyScope.values)}.")
    raw_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        user=user,
        name=name,
        prefix=raw_key[: len(API_KEY_PREFIX) + 6],
        key_hash=_hash_key(raw_key),
        scopes=sorted(set(scopes)),
    )
    return key, raw_key


def api_key_revoke(*, user: User, key_id) -> ApiKey:
    key = ApiKey.objects.filter(user=user, id=key_id, revoked_at__isnull=True).first()
    if key is None:
        raise NotFoundError("API key not found.")
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    return key


def api_key_authenticate(*, raw_key: str) -> ApiKey:
    """The active key for a raw key, or AuthenticationError saying why not."""
    if not raw_key.startswith(API_KEY_PREFIX) or len(raw_key) > 200:
        raise AuthenticationError("API key is malformed.", code="api_key_malformed")
    key = ApiKey.objects.select_related("user").filter(key_hash=_hash_key(raw_key)).first()
    if key is None:
        raise AuthenticationError("API key is not valid.", code="api_key_invalid")
    if key.is_revoked:
        raise AuthenticationError("API key has been revoked.", code="api_key_revoked")
    if not key.user.is_active:
        raise AuthenticationError("The key's owner is inactive.", code="user_inactive")
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return key


def user_update(*, user: User, name: str | None = None, timezone: str | None = None) -> User:
    if name is not None:
        user.name = name
    if timezone is not None:
        user.timezone = timezone
    user.save(update_fields=["name", "timezone"])
    return user
