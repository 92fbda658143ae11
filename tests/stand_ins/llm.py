"""A stand-in for LLM providers on 127.0.0.1: one HTTP server that speaks OpenAI's chat-completions
protocol (`POST /v1/chat/completions`, `GET /v1/models`) and Anthropic's messages protocol
(`POST /v1/messages`), plain and streamed as server-sent events, so that code using the official
`openai` and `anthropic` SDKs runs unchanged against it.

    with LlmStandIn() as llm:
        llm.script(Text("Paris", usage=(12, 1)), ToolCalls([("get_weather", {"city": "Paris"})]))
        client = openai.OpenAI(base_url=llm.openai_base_url, api_key="sk-test")

Each completion request takes the next scripted reply; when none is left, the responder given to
`respond_with`, else the echo responder ("echo: <last user message>"). Requests the real service
would refuse (no API key, no model, a "system" role among Anthropic's messages...) are answered
with its error and take no reply.

As a process (for a platform started by hand):
    python -m tests.stand_ins.llm --port 8100 [--script replies.json]
where replies.json is a list such as
    [{"type": "text", "text": "hi", "usage": [3, 1]},
     {"type": "tool_calls", "calls": [["get_weather", {"city": "Paris"}]]},
     {"type": "error", "status": 429, "headers": {"Retry-After": "1"}}, {"type": "hang", "seconds": 5}]
"""

import argparse
import json
import re
import secrets
import select
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


# --- Replies -------------------------------------------------------------------------------------
@dataclass
class Text:
    """An assistant message. A stream splits it into `chunks` deltas (default: one per word)."""

    text: str
    usage: tuple[int, int] | None = None  # (input tokens, output tokens); default: words counted
    chunks: int | None = None
    delay: float = 0.0  # seconds before the answer starts
    chunk_delay: float = 0.0  # seconds between streamed events


@dataclass
class ToolCalls:
    """The model asks for tools: (function name, arguments) pairs, after `text` when given."""

    calls: list[tuple[str, dict]]
    text: str = ""
    usage: tuple[int, int] | None = None


@dataclass
class Error:
    """An HTTP error in the provider's own body shape, e.g. Error(429, headers={"Retry-After": "1"})."""

    status: int
    message: str = ""
    headers: dict[str, str] | None = None


@dataclass
class Hang:
    """Hold the request unanswered for `seconds` (less if the client leaves or the stand-in stops),
    then close the connection."""

    seconds: float


Reply = Text | ToolCalls | Error | Hang


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    json: Any  # the parsed body; None when empty, the raw text when not JSON
    api: str  # "openai" or "anthropic"

    @property
    def api_key(self) -> str:
        """The key sent: `x-api-key`, else the bearer token (anthropic 2.x sends its key that way)."""
        return self.headers.get("x-api-key") or self.headers.get("authorization", "").removeprefix("Bearer ").strip()


def reply_from_json(item: dict) -> Reply:
    """A reply from its JSON form in a --script file: {"type": "text" | "tool_calls" | "error" | "hang", ...}."""
    kind, fields = item["type"], {key: value for key, value in item.items() if key != "type"}
    if fields.get("usage") is not None:
        fields["usage"] = tuple(fields["usage"])
    if "calls" in fields:
        fields["calls"] = [(name, arguments) for name, arguments in fields["calls"]]
    return {"text": Text, "tool_calls": ToolCalls, "error": Error, "hang": Hang}[kind](**fields)


# --- What was asked -------------------------------------------------------------------------------
def text_of(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p["text"] for p in content if isinstance(p, dict) and p.get("type") == "text" and "text" in p)
    return ""


def last_user_text(request: RecordedRequest) -> str:
    for message in reversed((request.json or {}).get("messages") or []):
        if message.get("role") == "user":
            return text_of(message.get("content"))
    return ""


def echo(request: RecordedRequest) -> Reply:
    """The default responder; a JSON object when the request asked for JSON."""
    said = last_user_text(request)
    if ((request.json or {}).get("response_format") or {}).get("type") in ("json_object", "json_schema"):
        return Text(json.dumps({"echo": said}))
    return Text(f"echo: {said}")


def count_words(text: str) -> int:
    return len(text.split())


def prompt_words(body: dict) -> int:
    return count_words(text_of(body.get("system"))) + sum(
        count_words(text_of(message.get("content"))) for message in body["messages"]
    )


# --- Protocol checks: what the real services refuse -------------------------------------------------
OPENAI_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}


def auth_problem(api: str, headers: dict[str, str]) -> Error | None:
    if api == "openai" and not headers.get("authorization", "").removeprefix("Bearer").strip():
        return Error(401, "You didn't provide an API key.")
    if api == "anthropic" and not (headers.get("x-api-key") or headers.get("authorization")):
        return Error(401, "x-api-key header is required")
    return None


def request_problem(api: str, headers: dict[str, str], body: Any) -> Error | None:
    if problem := auth_problem(api, headers):
        return problem
    if not isinstance(body, dict):
        return Error(400, "The request body is not a JSON object.")
    if api == "anthropic" and not headers.get("anthropic-version"):
        return Error(400, "anthropic-version: header is required")
    required = ("model", "messages", "max_tokens") if api == "anthropic" else ("model", "messages")
    if missing := [name for name in required if name not in body]:
        return Error(400, f"{missing[0]}: Field required")
    roles = {"user", "assistant"} if api == "anthropic" else OPENAI_ROLES
    messages = body["messages"]
    if not isinstance(messages, list) or not messages or any(not isinstance(m, dict) for m in messages):
        return Error(400, "messages: a non-empty list of messages is required")
    if bad := [m.get("role") for m in messages if m.get("role") not in roles]:
        where = ' (a system prompt is the top-level "system" parameter)' if api == "anthropic" else ""
        return Error(400, f"messages: unexpected role {bad[0]!r}{where}")
    return None


# --- Answers --------------------------------------------------------------------------------------
@dataclass
class Answer:
    """A Text or ToolCalls made concrete for one request: ids generated, usage counted."""

    text: str
    calls: list[tuple[str, str, str]]  # (id, function name, arguments as JSON)
    usage: tuple[int, int]
    chunks: int | None
    model: str

    @classmethod
    def of(cls, reply: Text | ToolCalls, body: dict, api: str) -> "Answer":
        prefix = "toolu_" if api == "anthropic" else "call_"
        calls = [(new_id(prefix), name, json.dumps(arguments)) for name, arguments in getattr(reply, "calls", [])]
        said = " ".join([reply.text, *(arguments for _, _, arguments in calls)])
        usage = reply.usage or (prompt_words(body), count_words(said))
        return cls(reply.text, calls, usage, getattr(reply, "chunks", None), str(body["model"]))


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


def split(text: str, chunks: int | None) -> list[str]:
    """Text in `chunks` pieces (default one per word, spaces kept) that join back to it."""
    if not text:
        return []
    if chunks is None:
        return re.findall(r"\s*\S+\s*", text) or [text]
    count = max(1, min(chunks, len(text)))
    bounds = [i * len(text) // count for i in range(count + 1)]
    return [text[start:end] for start, end in zip(bounds, bounds[1:], strict=False)]


def fragments(arguments: str) -> list[str]:
    """Tool arguments in small pieces, as models stream them."""
    return [arguments[i : i + 8] for i in range(0, len(arguments), 8)]


# OpenAI: https://platform.openai.com/docs/api-reference/chat
def openai_error(error: Error) -> dict:
    kind, code = {401: ("invalid_request_error", "invalid_api_key"), 429: ("requests", "rate_limit_exceeded")}.get(
        error.status, ("server_error" if error.status >= 500 else "invalid_request_error", None)
    )
    return {"error": {"message": error.message or phrase(error.status), "type": kind, "param": None, "code": code}}


def openai_usage(answer: Answer) -> dict:
    prompt, completion = answer.usage
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def openai_completion(answer: Answer) -> dict:
    message = {"role": "assistant", "content": answer.text or (None if answer.calls else ""), "refusal": None}
    if answer.calls:
        message["tool_calls"] = [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
            for call_id, name, arguments in answer.calls
        ]
    return {
        **openai_envelope(answer, "chat.completion"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if answer.calls else "stop",
            }
        ],
        "usage": openai_usage(answer),
    }


def openai_envelope(answer: Answer, kind: str) -> dict:
    return {
        "id": new_id("chatcmpl-"),
        "object": kind,
        "created": int(time.time()),
        "model": answer.model,
        "system_fingerprint": "fp_stand_in",
    }


def openai_chunks(answer: Answer, include_usage: bool) -> Iterator[dict]:
    envelope = {**openai_envelope(answer, "chat.completion.chunk"), **({"usage": None} if include_usage else {})}

    def chunk(delta: dict, finish_reason: str | None = None) -> dict:
        return {**envelope, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}

    yield chunk({"role": "assistant", "content": "" if answer.text or not answer.calls else None, "refusal": None})
    for piece in split(answer.text, answer.chunks):
        yield chunk({"content": piece})
    for index, (call_id, name, arguments) in enumerate(answer.calls):
        function = {"name": name, "arguments": ""}
        yield chunk({"tool_calls": [{"index": index, "id": call_id, "type": "function", "function": function}]})
        for fragment in fragments(arguments):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})
    yield chunk({}, "tool_calls" if answer.calls else "stop")
    if include_usage:
        yield {**envelope, "choices": [], "usage": openai_usage(answer)}


def openai_models() -> dict:
    names = ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3-mini"]
    return {"object": "list", "data": [{"id": n, "object": "model", "created": 0, "owned_by": "openai"} for n in names]}


# Anthropic: https://docs.anthropic.com/en/api/messages and .../messages-streaming
ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def anthropic_error(error: Error) -> dict:
    kind = ANTHROPIC_ERROR_TYPES.get(error.status, "api_error" if error.status >= 500 else "invalid_request_error")
    return {
        "type": "error",
        "error": {"type": kind, "message": error.message or phrase(error.status)},
        "request_id": new_id("req_"),
    }


def anthropic_message(answer: Answer, streaming: bool = False) -> dict:
    """The message; as message_start has it when streaming: no content or stop reason yet."""
    return {
        "id": new_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": answer.model,
        "content": [] if streaming else anthropic_content(answer),
        "stop_reason": None if streaming else anthropic_stop_reason(answer),
        "stop_sequence": None,
        "usage": {"input_tokens": answer.usage[0], "output_tokens": 1 if streaming else answer.usage[1]},
    }


def anthropic_stop_reason(answer: Answer) -> str:
    return "tool_use" if answer.calls else "end_turn"


def anthropic_content(answer: Answer) -> list[dict]:
    text = [{"type": "text", "text": answer.text}] if answer.text or not answer.calls else []
    tools = [{"type": "tool_use", "id": i, "name": n, "input": json.loads(a)} for i, n, a in answer.calls]
    return text + tools


def anthropic_events(answer: Answer) -> Iterator[tuple[str, dict]]:
    yield "message_start", {"type": "message_start", "message": anthropic_message(answer, streaming=True)}
    for index, block in enumerate(anthropic_content(answer)):
        if block["type"] == "text":
            start = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": piece} for piece in split(answer.text, answer.chunks)]
        else:
            arguments = json.dumps(block["input"])
            start = {**block, "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": piece} for piece in ["", *fragments(arguments)]]
        yield "content_block_start", {"type": "content_block_start", "index": index, "content_block": start}
        if index == 0:
            yield "ping", {"type": "ping"}
        for delta in deltas:
            yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    delta = {"stop_reason": anthropic_stop_reason(answer), "stop_sequence": None}
    yield "message_delta", {"type": "message_delta", "delta": delta, "usage": {"output_tokens": answer.usage[1]}}
    yield "message_stop", {"type": "message_stop"}


def anthropic_models() -> dict:
    names = ["claude-sonnet-4-5", "claude-opus-4-1", "claude-3-5-haiku-latest"]
    data = [{"type": "model", "id": n, "display_name": n, "created_at": "2025-01-01T00:00:00Z"} for n in names]
    return {"data": data, "has_more": False, "first_id": names[0], "last_id": names[-1]}


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Overloaded" if status == 529 else "Error"


# --- The server -----------------------------------------------------------------------------------
class LlmStandIn:
    """OpenAI- and Anthropic-compatible server on 127.0.0.1 for tests."""

    def __init__(self, port: int = 0):
        self._lock = threading.Lock()
        self._queue: list[Reply] = []
        self._responder: Callable[[RecordedRequest], Reply] | None = None
        self._requests: list[RecordedRequest] = []
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._server.stand_in = self
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.openai_base_url = f"{self.url}/v1"
        self.anthropic_base_url = self.url
        serve = threading.Thread(target=self._server.serve_forever, args=(0.1,), daemon=True, name="llm-stand-in")
        serve.start()

    # --- set-up by tests ---
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def respond_with(self, fn: Callable[[RecordedRequest], Reply]) -> None:
        with self._lock:
            self._responder = fn

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._responder = None
            self._requests.clear()

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()  # ends hangs, delays and streams in progress
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:  # keep-alive connections would otherwise still be served
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> "LlmStandIn":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- serving ---
    def _track(self, connection: socket.socket, open_: bool) -> None:
        with self._lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.pop(0)
            responder = self._responder or echo
        try:
            return responder(request)
        except Exception as exc:  # a broken responder shows up in the test as a 500 saying why
            return Error(500, f"the stand-in's responder raised {exc!r}")


class _Handler(BaseHTTPRequestHandler):
    """One connection: reads a request, answers it as JSON, an event stream, an error, or not at all."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' pooled clients use it
    api = "openai"

    @property
    def stand_in(self) -> LlmStandIn:
        return self.server.stand_in  # type: ignore[attr-defined]

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = urlsplit(self.path).path
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.api = "anthropic" if path.startswith("/v1/messages") or "anthropic-version" in headers else "openai"
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        request = RecordedRequest(self.command, path, headers, body, self.api)
        self.stand_in._record(request)

        route = (self.command, path)
        if route == ("GET", "/v1/models"):
            if problem := auth_problem(self.api, headers):
                return self.answer_error(problem)
            return self.answer_json(anthropic_models() if self.api == "anthropic" else openai_models())
        if route not in {("POST", "/v1/chat/completions"), ("POST", "/v1/messages")}:
            return self.answer_error(Error(404, f"Unknown request URL: {self.command} {path}"))
        if problem := request_problem(self.api, headers, body):
            return self.answer_error(problem)

        reply = self.stand_in._next_reply(request)
        if isinstance(reply, Hang):
            return self.hang(reply.seconds)
        if isinstance(reply, Error):
            return self.answer_error(reply)
        if getattr(reply, "delay", 0) and self.stand_in._stopping.wait(reply.delay):
            return self.hang(0)
        answer = Answer.of(reply, body, self.api)
        if not body.get("stream"):
            return self.answer_json(anthropic_message(answer) if self.api == "anthropic" else openai_completion(answer))
        if self.api == "anthropic":
            events = [f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in anthropic_events(answer)]
        else:
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            events = [f"data: {json.dumps(chunk)}\n\n" for chunk in openai_chunks(answer, include_usage)]
            events.append("data: [DONE]\n\n")
        self.answer_stream(events, getattr(reply, "chunk_delay", 0.0))

    do_GET = do_POST

    def _head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        request_id = "request-id" if self.api == "anthropic" else "x-request-id"
        for name, value in {request_id: new_id("req_"), **headers}.items():
            self.send_header(name, value)
        self.end_headers()

    def answer_json(self, payload: dict, status: int = 200, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(payload).encode()
        self._head(status, {"Content-Type": "application/json", "Content-Length": str(len(raw)), **(headers or {})})
        self.wfile.write(raw)

    def answer_error(self, error: Error) -> None:
        payload = anthropic_error(error) if self.api == "anthropic" else openai_error(error)
        self.answer_json(payload, error.status, error.headers)

    def answer_stream(self, events: list[str], chunk_delay: float) -> None:
        self._head(
            200,
            {
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                "Transfer-Encoding": "chunked",
            },
        )
        for number, event in enumerate(events):
            if number and chunk_delay and self.stand_in._stopping.wait(chunk_delay):
                return self.hang(0)
            data = event.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.write(b"0\r\n\r\n")

    def hang(self, seconds: float) -> None:
        """Wait until the client leaves, the stand-in stops or `seconds` pass; then close, answering nothing."""
        deadline, stopping = time.monotonic() + seconds, self.stand_in._stopping
        while not stopping.is_set() and (left := deadline - time.monotonic()) > 0:
            if select.select([self.connection], [], [], min(0.1, left))[0]:
                if not self.connection.recv(1, socket.MSG_PEEK):  # b"": the client closed
                    break
                stopping.wait(0.1)  # unexpected bytes on a held request: wait without spinning
        self.close_connection = True

    def setup(self) -> None:
        super().setup()
        self.stand_in._track(self.connection, True)

    def finish(self) -> None:
        self.stand_in._track(self.connection, False)
        try:
            super().finish()
        except OSError:
            pass

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except OSError:  # the client went away, or stop() closed the connection
            self.close_connection = True

    def log_message(self, *args) -> None:
        pass


# --- As a process ---------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.stand_ins.llm", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", type=Path, help="a JSON file holding a list of replies, answered in order")
    args = parser.parse_args(argv)
    stand_in = LlmStandIn(port=args.port)
    if args.script:
        stand_in.script(*(reply_from_json(item) for item in json.loads(args.script.read_text())))
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    print(f"listening on {stand_in.url}", flush=True)
    while not stopping.wait(0.5):
        pass
    stand_in.stop()


if __name__ == "__main__":
    main()
