"""Chat writes: sessions, the messages of a turn, and a turn's life: started by a message, run on an
executor (chat/turns.py), ended by its worker, by a cancel, or by the reaper when its worker is lost.

A turn's state lives on its session row (status, turn_id, when it was queued and taken); every
path that ends a turn goes through turn_end(), which locks that row, so a turn ends exactly once.
"""

import logging
import time
import uuid
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from autogpt_platform.errors import FieldError
from integrations.llm.registry import PROVIDERS, UnknownModel, model_get
from integrations.selectors import credential_list_for_user

from . import streams
from .errors import TooManyTurns, TurnRunning
from .models import ChatMessage, ChatSession, MessageRole, SessionStatus
from .selectors import session_get
from .tasks import run_chat_turn

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 64_000
TITLE_CHARS = 80


def _credential_provider(*, user: User, credential_id: uuid.UUID) -> str:
    """The provider of a credential the user may use (their own, or a configured system one)."""
    for credential in credential_list_for_user(user=user):
        if credential.id == credential_id:
            if credential.provider not in PROVIDERS:
                raise FieldError("llm_credential_id", f"Credential {credential_id} is not for a language model.")
            return credential.provider
    raise FieldError(
        "llm_credential_id", f"Credential {credential_id} was not found: it was deleted, or it is not yours."
    )


# --- sessions ------------------------------------------------------------------------------------
def session_create(
    *, user: User, title: str = "", llm_credential_id: uuid.UUID | None = None, model: str = ""
) -> ChatSession:
    """A new, idle session. With llm_credential_id, turns use that credential (the user's own, or
    a system one) instead of the platform's; with model, that model instead of CHAT_MODEL."""
    provider = _credential_provider(user=user, credential_id=llm_credential_id) if llm_credential_id else None
    if model:
        try:
            known = model_get(model, provider)
        except UnknownModel as exc:
            raise FieldError("model", str(exc)) from None
        provider = known.provider
    session = ChatSession.objects.create(
        user=user,
        title=title.strip(),
        model=model,
        llm_provider=provider or "",
        llm_credential_id=llm_credential_id,
    )
    streams.session_cache_set(session_id=session.id, user_id=user.id, status=session.status, turn_id="")
    return session


def session_update(*, user: User, session_id: uuid.UUID, title: str) -> ChatSession:
    session = session_get(user=user, session_id=session_id)
    session.title = title.strip()
    session.save(update_fields=["title", "updated_at"])
    return session


def session_delete(*, user: User, session_id: uuid.UUID) -> None:
    """Delete a session and its messages; a running turn is cancelled first (its followers see it
    end, and its worker stops)."""
    session = session_get(user=user, session_id=session_id)
    turn_id = session.turn_id
    if session.status == SessionStatus.RUNNING and turn_id:
        streams.cancel_request(turn_id=turn_id)
        turn_end(session_id=session.id, turn_id=turn_id, events=[{"type": "abort", "reason": "The chat was deleted."}])
    elif turn_id:
        transaction.on_commit(lambda: streams.stream_delete(turn_id=turn_id))
    session.delete()
    transaction.on_commit(partial(streams.session_cache_delete, session_id=session_id))


# --- messages ------------------------------------------------------------------------------------
def message_append(
    *,
    session_id: uuid.UUID,
    turn_id: uuid.UUID | None,
    role: str,
    content: str = "",
    tool_calls: list[dict[str, Any]] | None = None,
    tool_call_id: str = "",
    tool_name: str = "",
    model: str = "",
    input_tokens: int = 0,
    output_tokens: int = 0,
) -> ChatMessage:
    """Add a message at the end of the session (its sequence taken under the session's lock)."""
    with transaction.atomic():
        session = ChatSession.objects.select_for_update().get(id=session_id)
        last = session.messages.aggregate(last=Max("sequence"))["last"] or 0
        message = ChatMessage.objects.create(
            session=session,
            sequence=last + 1,
            turn_id=turn_id,
            role=role,
            content=content,
            tool_calls=tool_calls or [],
            tool_call_id=tool_call_id,
            tool_name=tool_name,
            model=model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
        )
        session.save(update_fields=["updated_at"])
    return message


# --- turns ---------------------------------------------------------------------------------------
@transaction.atomic
def turn_start(*, user: User, session_id: uuid.UUID, message: str) -> ChatSession:
    """Save the user's message and queue the turn that answers it (sent after commit). The turn's
    stream starts with its `start` event at once. A session already running a turn is a 409; more
    than CHAT_MAX_CONCURRENT_TURNS running turns for the user a 429."""
    if not message.strip():
        raise FieldError("message", "The message is empty.")
    if len(message) > MAX_MESSAGE_CHARS:
        raise FieldError("message", f"The message is {len(message)} characters long; at most {MAX_MESSAGE_CHARS}.")
    # One turn start at a time per user, so that two sessions cannot both take the last slot.
    User.objects.select_for_update().only("id").get(id=user.id)
    session = ChatSession.objects.select_for_update().filter(id=session_id, user=user).first()
    if session is None:
        session_get(user=user, session_id=session_id)  # raises NotFoundError
        raise AssertionError("unreachable")
    if session.status == SessionStatus.RUNNING:
        raise TurnRunning()
    if (
        ChatSession.objects.filter(user=user, status=SessionStatus.RUNNING).count()
        >= settings.CHAT_MAX_CONCURRENT_TURNS
    ):
        raise TooManyTurns(settings.CHAT_MAX_CONCURRENT_TURNS)

    turn_id = uuid.uuid4()
    message_append(session_id=session.id, turn_id=turn_id, role=MessageRole.USER, content=message)
    session.refresh_from_db()
    session.status = SessionStatus.RUNNING
    session.turn_id = turn_id
    session.turn_queued_at = timezone.now()
    session.turn_started_at = None
    if not session.title:
        session.title = " ".join(message.split())[:TITLE_CHARS]
    session.save()

    streams.session_cache_set(session_id=session.id, user_id=user.id, status=session.status, turn_id=turn_id)
    # The message id of the assistant's answer in the UI is the turn's id.
    streams.event_append(session_id=session.id, turn_id=turn_id, event={"type": "start", "messageId": str(turn_id)})
    transaction.on_commit(lambda: run_chat_turn.delay(str(session.id), str(turn_id)))
    return session


def turn_end(*, session_id: uuid.UUID, turn_id: uuid.UUID, events: list[dict[str, Any]]) -> bool:
    """End the turn if it is still the session's running one: the session becomes idle, then (after
    commit, so that a follower who sees the end finds the session idle) `events` (an error, an
    abort), `finish` and `[DONE]` are appended. False when it had ended already."""
    with transaction.atomic():
        session = ChatSession.objects.select_for_update().filter(id=session_id).first()
        if session is None or session.turn_id != turn_id or session.status != SessionStatus.RUNNING:
            return False
        session.status = SessionStatus.IDLE
        session.save(update_fields=["status", "updated_at"])
        transaction.on_commit(partial(_publish_end, session_id=session_id, turn_id=turn_id, events=events))
    return True


def _publish_end(*, session_id: uuid.UUID, turn_id: uuid.UUID, events: list[dict[str, Any]]) -> None:
    for event in [*events, {"type": "finish"}]:
        streams.event_append(session_id=session_id, turn_id=turn_id, event=event)
    streams.event_append(session_id=session_id, turn_id=turn_id, event=streams.DONE)
    streams.session_cache_set(session_id=session_id, status=SessionStatus.IDLE, turn_id=turn_id)
    streams.stream_close(turn_id=turn_id)
    streams.heartbeat_clear(turn_id=turn_id)


def _end_if_untaken(*, session_id: uuid.UUID, turn_id: uuid.UUID, events: list[dict[str, Any]]) -> bool:
    """End a turn no worker has taken yet (the worker that takes it later finds it over)."""
    with transaction.atomic():
        untaken = (
            ChatSession.objects.select_for_update()
            .filter(id=session_id, turn_id=turn_id, status=SessionStatus.RUNNING, turn_started_at__isnull=True)
            .first()
        )
        return untaken is not None and turn_end(session_id=session_id, turn_id=turn_id, events=events)


def turn_cancel(*, user: User, session_id: uuid.UUID) -> tuple[bool, str]:
    """Cancel the session's running turn: (cancelled, why not). Its worker stops the model's stream
    and any agent run the turn started and ends the turn; this waits up to CHAT_CANCEL_WAIT_SECONDS
    for that. A turn no worker holds (still queued, or its worker lost) is ended here."""
    session = session_get(user=user, session_id=session_id)
    if session.status != SessionStatus.RUNNING or session.turn_id is None:
        return False, "No turn is running."
    turn_id = session.turn_id
    streams.cancel_request(turn_id=turn_id)
    cancelled = [{"type": "abort", "reason": "Cancelled."}]
    if _end_if_untaken(session_id=session.id, turn_id=turn_id, events=cancelled):
        return True, ""
    deadline = time.monotonic() + settings.CHAT_CANCEL_WAIT_SECONDS
    running = ChatSession.objects.filter(id=session.id, turn_id=turn_id, status=SessionStatus.RUNNING)
    while running.exists():
        if not streams.is_alive(turn_id=turn_id):
            turn_end(session_id=session.id, turn_id=turn_id, events=cancelled)
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return True, ""


def turn_reap_lost() -> dict[str, int]:
    """End running turns that no worker will finish: taken by a worker whose heartbeat stopped,
    or queued for longer than CHAT_TURN_QUEUE_TIMEOUT_SECONDS without a worker taking them. Each
    ends with an `error` event and its session becomes idle."""
    queued_before = timezone.now() - timedelta(seconds=settings.CHAT_TURN_QUEUE_TIMEOUT_SECONDS)
    reaped = 0
    for session in ChatSession.objects.filter(status=SessionStatus.RUNNING, turn_id__isnull=False):
        assert session.turn_id is not None
        if streams.is_alive(turn_id=session.turn_id):
            continue
        if session.turn_started_at is not None:
            reason = "The assistant's worker was lost in the middle of this turn. Send your message again."
        elif session.turn_queued_at is not None and session.turn_queued_at < queued_before:
            reason = "No worker took this turn in time. Send your message again."
        else:
            continue
        if turn_end(session_id=session.id, turn_id=session.turn_id, events=[{"type": "error", "errorText": reason}]):
            reaped += 1
            logger.warning("Chat reaper: turn %s of session %s ended: %s", session.turn_id, session.id, reason)
    return {"reaped": reaped}
