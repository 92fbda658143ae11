"""A chat turn, run on an executor worker (chat.tasks.run_chat_turn).

The model is called with streaming and the tools of chat/tools.py, round after round (at most
CHAT_MAX_TOOL_ROUNDS), until it answers without calling a tool. Every event goes to the turn's
Redis Stream as it happens (chat/streams.py); each assistant and tool message is saved as it
completes. A watcher thread beats the turn's heartbeat and turns a cancel request into
`cancel_event`; the model call and each tool run in a thread of their own, so that a cancel ends
the turn at once even while a call is stalled (what is left of it is dropped).
"""

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from autogpt_platform.errors import ApplicationError
from executions.services import execution_stop
from integrations.errors import CredentialError, CredentialNotConfigured
from integrations.llm.client import LlmError, LlmResponse, llm_complete
from integrations.llm.registry import PROVIDER_TITLES, UnknownModel, model_get
from integrations.selectors import credential_resolve

from . import streams
from .models import ChatSession, MessageRole, SessionStatus
from .selectors import chat_model_for, history_messages
from .services import message_append, turn_end
from .tools import ToolContext, tool_call, tool_definitions

logger = logging.getLogger(__name__)

T = TypeVar("T")
WATCH_SECONDS = 0.2

SYSTEM_PROMPT = """You are the assistant of the AutoGPT Platform, where people build AI agents and run them.
Help the user by finding and running their agents and blocks with your tools:
- find_agent searches the user's library and the store; get_agent_details shows an agent's inputs.
- run_agent runs an agent with inputs that fit its input schema and waits for its outputs; a run that
  is still going when it answers can be checked later with get_execution_results.
- find_block and run_block run a single block.
Use only ids your tools returned. Ask the user for inputs you do not know. Answer briefly."""


class TurnCancelled(Exception):
    """The user cancelled the turn (or it was ended elsewhere)."""


class TurnFailed(Exception):
    """The turn cannot go on; the message is for the user."""


# --- writing events ------------------------------------------------------------------------------
class TurnWriter:
    """Appends the turn's events; after close(), what a dropped call still produces is ignored."""

    def __init__(self, session_id: uuid.UUID, turn_id: uuid.UUID):
        self.session_id, self.turn_id = session_id, turn_id
        self._lock = threading.Lock()
        self._closed = False

    def emit(self, event: dict[str, Any]) -> None:
        with self._lock:
            if not self._closed:
                streams.event_append(session_id=self.session_id, turn_id=self.turn_id, event=event)

    def close(self) -> None:
        with self._lock:
            self._closed = True


class TextBlock:
    """One text part of the answer: text-start before its first delta, text-end once."""

    def __init__(self, writer: TurnWriter):
        self.writer = writer
        self.id = f"text-{uuid.uuid4().hex}"
        self.pieces: list[str] = []
        self._lock = threading.Lock()
        self._started = self._ended = False

    def delta(self, piece: str) -> None:
        with self._lock:
            if self._ended:
                return
            if not self._started:
                self._started = True
                self.writer.emit({"type": "text-start", "id": self.id})
            self.pieces.append(piece)
            self.writer.emit({"type": "text-delta", "id": self.id, "delta": piece})

    def end(self) -> str:
        """Close the part; the text streamed so far."""
        with self._lock:
            if self._started and not self._ended:
                self.writer.emit({"type": "text-end", "id": self.id})
            self._ended = True
            return "".join(self.pieces)


# --- liveness and cancel ------------------------------------------------------------------------
class Watcher(threading.Thread):
    """Beats the turn's heartbeat every CHAT_TURN_STALE_SECONDS / 3 and sets cancel_event when a
    cancel is requested or the turn was ended by someone else (the session's turn moved on)."""

    def __init__(self, session_id: uuid.UUID, turn_id: uuid.UUID, worker: str, cancel_event: threading.Event):
        super().__init__(daemon=True, name=f"chat-turn-{turn_id}")
        self.session_id, self.turn_id, self.worker = session_id, turn_id, worker
        self.cancel_event = cancel_event
        self.stopping = threading.Event()

    def run(self) -> None:
        beat_every = max(0.2, float(settings.CHAT_TURN_STALE_SECONDS) / 3)
        last_beat = time.monotonic()
        while not self.stopping.wait(WATCH_SECONDS):
            try:
                if time.monotonic() - last_beat >= beat_every:
                    streams.heartbeat(turn_id=self.turn_id, worker=self.worker)
                    last_beat = time.monotonic()
                live = streams.session_cache_get(session_id=self.session_id)
                ended = live.get("turn_id") not in (None, str(self.turn_id)) or live.get("status") == SessionStatus.IDLE
                if streams.is_cancel_requested(turn_id=self.turn_id) or ended:
                    self.cancel_event.set()
            except Exception:  # Redis away for a moment: the next tick tries again
                logger.warning("Chat turn %s: the watcher could not reach Redis", self.turn_id, exc_info=True)

    def stop(self) -> None:
        self.stopping.set()


def _cancellable(call: Callable[[], T], cancel_event: threading.Event) -> T:
    """call() in a thread of its own; TurnCancelled as soon as cancel_event is set, leaving the
    call to end by itself (its database connections are closed when it does)."""
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connections.close_all()  # this thread's connections only
            done.set()

    threading.Thread(target=run, daemon=True).start()
    while not done.wait(0.05):
        if cancel_event.is_set():
            raise TurnCancelled()
    if cancel_event.is_set():  # the call ended because of the cancel (LlmCancelled), or just before it
        raise TurnCancelled()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


# --- the turn ------------------------------------------------------------------------------------
def _claim(*, session_id: uuid.UUID, turn_id: uuid.UUID, worker: str) -> ChatSession | None:
    """Take the turn; None when there is nothing to do: the turn ended already (cancelled while
    queued, reaped), or this is a redelivered message whose first worker still runs it. A turn
    whose first worker was lost is ended here, with the error the reaper would give it."""
    session = ChatSession.objects.filter(id=session_id, turn_id=turn_id, status=SessionStatus.RUNNING).first()
    if session is None:
        return None
    if session.turn_started_at is not None:
        if not streams.is_alive(turn_id=turn_id):
            error = "The assistant's worker was lost in the middle of this turn. Send your message again."
            turn_end(session_id=session_id, turn_id=turn_id, events=[{"type": "error", "errorText": error}])
        return None
    streams.heartbeat(turn_id=turn_id, worker=worker)  # before the claim: a taken turn always has had one
    with transaction.atomic():
        claimed = (
            ChatSession.objects.select_for_update()
            .select_related("user")
            .filter(id=session_id, turn_id=turn_id, status=SessionStatus.RUNNING, turn_started_at__isnull=True)
            .first()
        )
        if claimed is None:
            return None
        claimed.turn_started_at = timezone.now()
        claimed.save(update_fields=["turn_started_at"])
    return claimed


def _model_and_credential(session: ChatSession):
    provider, model = chat_model_for(provider=session.llm_provider or None, model=session.model)
    try:
        credential = credential_resolve(
            user_id=session.user_id,
            credential_id=str(session.llm_credential_id) if session.llm_credential_id else None,
            provider=provider,
        )
    except CredentialNotConfigured as exc:
        title = PROVIDER_TITLES.get(provider, provider)
        setting = f"the operator sets {exc.setting}" if exc.setting else "the operator configures it"
        raise TurnFailed(
            f"The assistant has no language model to use: its model is '{model}' ({title}) and no {title} "
            f"credential is configured. To fix it, {setting}, or sets CHAT_MODEL to a model of a configured "
            "provider; or create the chat with llm_credential_id naming one of your own credentials."
        ) from None
    except CredentialError as exc:
        raise TurnFailed(exc.message) from None
    try:
        supports_tools = model_get(model, provider).supports_tools
    except UnknownModel as exc:
        raise TurnFailed(str(exc)) from None
    return credential, model, supports_tools


def _tool_round(ctx: ToolContext, writer: TurnWriter, turn_id: uuid.UUID, response: LlmResponse) -> list[dict]:
    """Run the tool calls of one answer, in order; their results as messages for the model."""
    results = []
    for call in response.tool_calls:
        writer.emit({"type": "tool-input-start", "toolCallId": call.id, "toolName": call.name})
        writer.emit(
            {"type": "tool-input-available", "toolCallId": call.id, "toolName": call.name, "input": call.arguments}
        )
        run = partial(tool_call, ctx, name=call.name, arguments=call.arguments, raw_arguments=call.raw_arguments)
        output = _cancellable(run, ctx.cancel_event)
        writer.emit({"type": "tool-output-available", "toolCallId": call.id, "output": output})
        content = json.dumps(output)
        message_append(
            session_id=ctx.session_id,
            turn_id=turn_id,
            role=MessageRole.TOOL,
            content=content,
            tool_call_id=call.id,
            tool_name=call.name,
        )
        results.append({"role": "tool", "tool_call_id": call.id, "content": content})
    return results


def _converse(session: ChatSession, ctx: ToolContext, writer: TurnWriter) -> None:
    """The rounds of one turn: the model answers, its tool calls run, until it answers in text."""
    turn_id = session.turn_id
    assert turn_id is not None
    credential, model, supports_tools = _model_and_credential(session)
    tools = tool_definitions() if supports_tools else None
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, *history_messages(session=session)]
    for _round in range(int(settings.CHAT_MAX_TOOL_ROUNDS) + 1):
        writer.emit({"type": "start-step"})
        text = TextBlock(writer)
        try:
            call = partial(
                llm_complete,
                credential=credential,
                model=model,
                messages=list(messages),
                tools=tools,
                stream=True,
                on_text_delta=text.delta,
                cancel_event=ctx.cancel_event,
            )
            response = _cancellable(call, ctx.cancel_event)
        except (TurnCancelled, LlmError):
            if streamed := text.end():  # what the user saw stays in the conversation
                message_append(
                    session_id=session.id, turn_id=turn_id, role=MessageRole.ASSISTANT, content=streamed, model=model
                )
            raise
        text.end()
        message_append(
            session_id=session.id,
            turn_id=turn_id,
            role=MessageRole.ASSISTANT,
            content=response.text,
            tool_calls=response.assistant_message().get("tool_calls", []),
            model=response.model,
            input_tokens=response.usage.input_tokens,
            output_tokens=response.usage.output_tokens,
        )
        if not response.tool_calls:
            writer.emit({"type": "finish-step"})
            return
        if _round == settings.CHAT_MAX_TOOL_ROUNDS:
            break
        messages.append(response.assistant_message())
        messages.extend(_tool_round(ctx, writer, turn_id, response))
        writer.emit({"type": "finish-step"})
    writer.emit({"type": "finish-step"})
    raise TurnFailed(
        f"The assistant stopped after {settings.CHAT_MAX_TOOL_ROUNDS} rounds of tool calls "
        "(CHAT_MAX_TOOL_ROUNDS). Ask it to go on if there is more to do."
    )


def turn_run(*, session_id: uuid.UUID, turn_id: uuid.UUID, worker: str = "") -> None:
    """Run a queued turn to its end; the session is idle again whatever happens."""
    session = _claim(session_id=session_id, turn_id=turn_id, worker=worker)
    if session is None:
        return
    ctx = ToolContext(user=session.user, session_id=session.id)
    writer = TurnWriter(session.id, turn_id)
    watcher = Watcher(session.id, turn_id, worker, ctx.cancel_event)
    watcher.start()
    ending: list[dict[str, Any]] = []
    try:
        _converse(session, ctx, writer)
    except TurnCancelled:
        ending = [{"type": "abort", "reason": "Cancelled."}]
    except (TurnFailed, LlmError) as exc:
        ending = [{"type": "error", "errorText": str(exc)}]
    except ChatSession.DoesNotExist:
        ending = []  # the session was deleted meanwhile
    except Exception:
        logger.exception("Chat turn %s of session %s failed", turn_id, session_id)
        ending = [{"type": "error", "errorText": "The assistant failed unexpectedly; try again."}]
    finally:
        watcher.stop()
        writer.close()
        turn_end(session_id=session.id, turn_id=turn_id, events=ending)
    if ctx.cancel_event.is_set():
        _stop_runs(ctx)


def _stop_runs(ctx: ToolContext) -> None:
    """Stop the agent runs a cancelled turn started."""
    for graph_exec_id in ctx.started_runs:
        try:
            execution_stop(user=ctx.user, graph_exec_id=graph_exec_id)
        except ApplicationError:
            pass
