"""Chat reads: a user's sessions, their messages, the running turn a client can rejoin."""

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet, Sum

from accounts.models import User
from autogpt_platform.errors import NotFoundError
from integrations.llm.registry import ANTHROPIC, GROQ, LOCAL, LOCAL_MODEL, OLLAMA, OPEN_ROUTER, OPENAI, model_get

from . import streams
from .models import ChatMessage, ChatSession, SessionStatus

# The model a session with its own credential uses when CHAT_MODEL is another provider's.
DEFAULT_MODELS = {
    OPENAI: "gpt-4o-mini",
    ANTHROPIC: "claude-haiku-4-5-20251001",
    GROQ: "llama-3.3-70b-versatile",
    OPEN_ROUTER: "google/gemini-2.5-flash",
    OLLAMA: "llama3.2",
    LOCAL: LOCAL_MODEL,
}


def chat_model_for(*, provider: str | None, model: str = "") -> tuple[str, str]:
    """(provider, model) a session answers with: its own model, else CHAT_MODEL when that is its
    provider's (or it has none of its own), else its provider's usual chat model."""
    if model:
        return provider or model_get(model).provider, model
    default = settings.CHAT_MODEL
    default_provider = model_get(default).provider
    if provider is None or provider == default_provider:
        return default_provider, default
    return provider, DEFAULT_MODELS.get(provider, default)


def session_list(*, user: User) -> QuerySet[ChatSession]:
    """The user's sessions, the most recently active first."""
    return ChatSession.objects.filter(user=user).order_by("-updated_at", "-created_at")


def session_get(*, user: User, session_id: uuid.UUID) -> ChatSession:
    """One of the user's sessions; another user's is not found."""
    session = ChatSession.objects.filter(id=session_id, user=user).first()
    if session is None:
        raise NotFoundError("Chat session not found.")
    return session


def session_messages(*, session: ChatSession) -> QuerySet[ChatMessage]:
    return session.messages.order_by("sequence")


def session_usage(*, session: ChatSession) -> dict[str, int]:
    totals = session.messages.aggregate(input_tokens=Sum("input_tokens"), output_tokens=Sum("output_tokens"))
    return {name: int(value or 0) for name, value in totals.items()}


@dataclass(frozen=True)
class ActiveStream:
    turn_id: uuid.UUID
    last_event_id: str | None


def session_active_stream(*, session: ChatSession) -> ActiveStream | None:
    """The running turn and its last event id, for a client that wants to rejoin; None when idle."""
    if session.status != SessionStatus.RUNNING or session.turn_id is None:
        return None
    cached = streams.session_cache_get(session_id=session.id)
    last_event_id = cached.get("last_event_id") if cached.get("turn_id") == str(session.turn_id) else None
    return ActiveStream(session.turn_id, last_event_id or streams.stream_last_event_id(turn_id=session.turn_id))


@dataclass(frozen=True)
class SessionDetail:
    session: ChatSession
    model: str
    messages: list[ChatMessage]
    active_stream: ActiveStream | None
    usage: dict[str, int]


def session_model(*, session: ChatSession) -> str:
    """The model the session's next turn answers with."""
    return chat_model_for(provider=session.llm_provider or None, model=session.model)[1]


def session_detail_get(*, user: User, session_id: uuid.UUID) -> SessionDetail:
    """A session with its messages in order, and the turn a client can rejoin while one runs."""
    session = session_get(user=user, session_id=session_id)
    return SessionDetail(
        session=session,
        model=session_model(session=session),
        messages=list(session_messages(session=session)),
        active_stream=session_active_stream(session=session),
        usage=session_usage(session=session),
    )


def turn_is_running(*, session_id: uuid.UUID, turn_id: uuid.UUID) -> bool:
    return ChatSession.objects.filter(id=session_id, turn_id=turn_id, status=SessionStatus.RUNNING).exists()


def turn_to_relay(*, user: User, session_id: uuid.UUID, last_event_id: str | None) -> uuid.UUID | None:
    """The turn a GET of the session's stream relays: the running one; or, for a client that gives
    the id of the last event it saw, the turn that ended since if events after that id remain. None:
    nothing to relay (204)."""
    session = session_get(user=user, session_id=session_id)
    if session.turn_id is None:
        return None
    if session.status == SessionStatus.RUNNING:
        return session.turn_id
    if last_event_id and streams.stream_has_events_after(turn_id=session.turn_id, event_id=last_event_id):
        return session.turn_id
    return None


def history_messages(*, session: ChatSession) -> list[dict[str, Any]]:
    """The session's messages as the model is given them (OpenAI's shape). A tool call whose
    result was never saved (the turn was cancelled or its worker lost) gets a result saying so,
    since providers refuse a call without one."""
    messages: list[dict[str, Any]] = []
    pending: dict[str, str] = {}

    def settle_pending() -> None:
        for call_id in list(pending):
            messages.append(
                {"role": "tool", "tool_call_id": call_id, "content": '{"error": "The call did not complete."}'}
            )
        pending.clear()

    for message in session_messages(session=session):
        if message.role == "tool":
            if message.tool_call_id in pending:
                pending.pop(message.tool_call_id)
                messages.append({"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content})
            continue
        settle_pending()
        if message.role == "assistant":
            entry: dict[str, Any] = {"role": "assistant", "content": message.content or None}
            if message.tool_calls:
                entry["tool_calls"] = message.tool_calls
                pending.update({call["id"]: call["function"]["name"] for call in message.tool_calls})
            if entry["content"] is None and not message.tool_calls:
                continue
            messages.append(entry)
        else:
            messages.append({"role": "user", "content": message.content})
    settle_pending()
    return messages
