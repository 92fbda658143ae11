"""Signed unsubscribe links: every email carries one that needs no login (RFC 2369, and RFC 8058's
one-click POST). A token names the user and the notification type, and does not expire."""

from typing import Any

from django.conf import settings
from django.core import signing

from accounts.models import User
from autogpt_platform.errors import ApplicationError

from .models import DIGEST_TYPES, NotificationType, notification_types

UNSUBSCRIBE_SALT = "notifications.unsubscribe"


class InvalidUnsubscribeLink(ApplicationError):
    code = "invalid_token"


def unsubscribe_token(*, user_id: Any, type: str) -> str:
    return signing.dumps({"u": str(user_id), "t": type}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(*, user_id: Any, type: str) -> str:
    return (
        f"{settings.PLATFORM_BASE_URL}/api/v1/notifications/unsubscribe/{unsubscribe_token(user_id=user_id, type=type)}"
    )


def _types_of(type_: str) -> list[str]:
    """The preference types an unsubscribe link covers: a digest stands for the agent-run types."""
    return [str(t) for t in DIGEST_TYPES] if type_ == NotificationType.AGENT_RUN_DIGEST else [type_]


def unsubscribe_check(*, token: str) -> tuple[User, list[str]]:
    """The user and the types an unsubscribe token names; InvalidUnsubscribeLink when it is not one."""
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        user = User.objects.filter(id=payload["u"], is_active=True).first()
        types = _types_of(payload["t"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise InvalidUnsubscribeLink("This unsubscribe link is not valid.") from None
    if user is None or not set(types) <= set(notification_types):
        raise InvalidUnsubscribeLink("This unsubscribe link is not valid.")
    return user, types
