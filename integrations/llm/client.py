"""One way to call a language model, whatever serves it: `llm_complete()`.

Messages and tools are given, and tool calls come back, in OpenAI's chat shape. openai, groq,
open_router, ollama (its /v1 API), the embedded local llama.cpp server and any OpenAI-compatible
server are spoken to with the official `openai` SDK; anthropic with the official `anthropic` SDK,
messages and tools converted both ways.

- Hosts: the operator's (settings) are trusted, loopback included. A host a user supplies (a node's
  `ollama_host`, a user's credential with a host) is checked by the SSRF policy of
  `autogpt_platform.safe_http`, resolved once, and the SDK's HTTP client connects to the checked
  addresses only; unless it is one of the operator's hosts.
- Retries: 429, 5xx and lost connections are tried again, at most LLM_MAX_RETRIES times, after the
  provider's Retry-After or an exponential backoff (LLM_RETRY_MAX_WAIT_SECONDS at most). The loop
  is ours, not the SDKs' (max_retries=0), so that a wait wakes at once when the run is stopped.
  401/403 fail at once. Every request is bounded by LLM_TIMEOUT_SECONDS.
- Errors are `LlmError` subclasses whose messages are meant for the user and never hold a key:
  refused credentials are not quoted back (providers echo part of a bad key), other provider
  messages are quoted with any key-like text removed.
"""

import email.utils
import ipaddress
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anthropic
import httpcore2
import httpx2
import openai
from django.conf import settings

from autogpt_platform import safe_http
from integrations.selectors import ResolvedCredential

from .local_model import local_model_not_served_message, local_model_unavailable_message
from .registry import (
    ANTHROPIC,
    GROQ,
    LOCAL,
    OLLAMA,
    OPEN_ROUTER,
    OPENAI,
    OPENAI_COMPATIBLE,
    PROVIDER_TITLES,
    LlmModel,
    UnknownModel,
    estimate_cost,
    model_get,
)
from .results import (
    LlmBadRequest,
    LlmBadResponse,
    LlmCancelled,
    LlmCredentialsRefused,
    LlmError,
    LlmHostRefused,
    LlmNotConfigured,
    LlmRateLimited,
    LlmResponse,
    LlmServerNotRunning,
    LlmTimeout,
    LlmUnavailable,
    ToolCall,
    Usage,
)

logger = logging.getLogger(__name__)

# Providers that cannot be used without an API key.
KEYED_PROVIDERS = frozenset({OPENAI, ANTHROPIC, GROQ, OPEN_ROUTER})
# What the SDKs send as the key to servers that need none (Ollama, llama.cpp).
NO_KEY = "unused"
ANTHROPIC_DEFAULT_MAX_TOKENS = 8_192
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 8.0
_KEY_LIKE = re.compile(r"\b(?:sk|gsk|pk|rk|key)[-_][A-Za-z0-9_\-*.]{6,}", re.IGNORECASE)


# --- Hosts -------------------------------------------------------------------------------------


def _with_scheme(url: str) -> str:
    url = url.strip()
    return url if "://" in url else f"http://{url}"


def _openai_base_url(url: str) -> str:
    """A server's OpenAI-compatible base URL: `localhost:11434` -> `http://localhost:11434/v1`."""
    url = _with_scheme(url).rstrip("/")
    return url if urlsplit(url).path else f"{url}/v1"


def _host_port(url: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(_with_scheme(url))
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".").lower()
    try:
        host = str(ipaddress.ip_address(host))
    except ValueError:
        pass
    return (host, port) if host else None


def operator_hosts() -> set[tuple[str, int]]:
    """The (host, port) of every LLM server the operator configured: trusted, loopback included."""
    names = (
        "OPENAI_BASE_URL",
        "ANTHROPIC_BASE_URL",
        "GROQ_BASE_URL",
        "OPEN_ROUTER_BASE_URL",
        "OLLAMA_HOST",
        "LOCAL_LLM_BASE_URL",
    )
    hosts = {_host_port(getattr(settings, name, "") or "") for name in names if getattr(settings, name, "")}
    return {host for host in hosts if host}


def is_operator_host(url: str) -> bool:
    return _host_port(url) in operator_hosts()


class _PinnedBackend(httpcore2.SyncBackend):
    """Connects to the addresses safe_http checked, whatever the name resolves to by then."""

    def __init__(self, host: str, port: int, addresses: list[tuple[int, tuple]]):
        super().__init__()
        self.host, self.port, self.addresses = host.lower(), port, addresses

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        if (host.lower(), port) != (self.host, self.port):
            raise httpcore2.ConnectError(f"{host}:{port} was not checked; only {self.host}:{self.port} may be reached.")
        error: Exception = httpcore2.ConnectError("no address")
        for _family, sockaddr in self.addresses:
            try:
                # TLS (SNI, certificate) still uses the URL's host name: httpcore takes it from the request.
                return super().connect_tcp(sockaddr[0], sockaddr[1], timeout, local_address, socket_options)
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
                error = exc
        raise error


class _PinnedTransport(httpx2.HTTPTransport):
    def __init__(self, host: str, port: int, addresses: list[tuple[int, tuple]]):
        super().__init__(trust_env=False)
        self._pool = httpcore2.ConnectionPool(
            ssl_context=httpx2.create_ssl_context(trust_env=False),
            network_backend=_PinnedBackend(host, port, addresses),
        )


@dataclass(frozen=True)
class _Endpoint:
    base_url: str | None  # None: the SDK's default (api.openai.com, api.anthropic.com)
    http_client: httpx2.Client | None  # a pinned client for a user-supplied host


def _timeout() -> httpx2.Timeout:
    seconds = float(settings.LLM_TIMEOUT_SECONDS)
    return httpx2.Timeout(seconds, connect=min(seconds, 10.0))


def _operator_base_url(provider: str) -> str | None:
    if provider == OPENAI:
        return settings.OPENAI_BASE_URL or None
    if provider == ANTHROPIC:
        return settings.ANTHROPIC_BASE_URL or None
    if provider == GROQ:
        return settings.GROQ_BASE_URL
    if provider == OPEN_ROUTER:
        return settings.OPEN_ROUTER_BASE_URL
    if provider == OLLAMA:
        return _openai_base_url(settings.OLLAMA_HOST)
    if provider == LOCAL:
        if not settings.LOCAL_LLM_BASE_URL:
            raise LlmNotConfigured(local_model_not_served_message(), provider=provider)
        return _openai_base_url(settings.LOCAL_LLM_BASE_URL)
    raise LlmNotConfigured(
        f"No server is configured for {PROVIDER_TITLES.get(provider, provider)}: add a credential with its host.",
        provider=provider,
    )


def _user_base_url(provider: str, host: str) -> str:
    """A user's host (a credential's `host:port`, a node's ollama_host) as a base URL: https,
    except for Ollama, whose servers speak plain http; a scheme given is kept."""
    if "://" not in host:
        host = f"{'http' if provider == OLLAMA else 'https'}://{host.strip()}"
    return host.rstrip("/") if provider == ANTHROPIC else _openai_base_url(host)


def _endpoint(provider: str, credential: ResolvedCredential, base_url_override: str | None) -> _Endpoint:
    user_host = base_url_override or (credential.host if not credential.is_system else "")
    if not user_host:
        return _Endpoint(_operator_base_url(provider), None)
    base_url = _user_base_url(provider, user_host)
    if is_operator_host(base_url):
        return _Endpoint(base_url, None)
    try:
        host, port, addresses = safe_http.checked_addresses(base_url)
    except safe_http.SafeHttpError as exc:
        raise LlmHostRefused(f"The host of {PROVIDER_TITLES.get(provider, provider)} was refused: {exc}") from None
    client = httpx2.Client(
        transport=_PinnedTransport(host, port, addresses), timeout=_timeout(), follow_redirects=False, trust_env=False
    )
    return _Endpoint(base_url, client)


# --- Errors from the SDKs ----------------------------------------------------------------------


def _plain(secret: Any) -> str:
    """The text of a secret (a pydantic SecretStr, or a str), "" for none."""
    if secret is None:
        return ""
    return secret.get_secret_value() if hasattr(secret, "get_secret_value") else str(secret)


def _secrets_of(credential: ResolvedCredential) -> list[str]:
    headers = credential.headers or {}
    return [_plain(credential.api_key), _plain(credential.password), *(_plain(value) for value in headers.values())]


def redact(text: str, secrets: list[str]) -> str:
    """text without the given secrets nor anything shaped like an API key."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return _KEY_LIKE.sub("[redacted]", text)


def _retry_after(headers) -> float | None:
    """Seconds a response asks to wait (Retry-After in seconds or as a date, or retry-after-ms)."""
    if headers is None:
        return None
    try:
        if headers.get("retry-after-ms"):
            return float(headers["retry-after-ms"]) / 1000
        value = headers.get("retry-after")
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _provider_detail(exc: Exception, secrets: list[str]) -> str:
    body = getattr(exc, "body", None)
    message = None
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else error
    text = str(message or getattr(exc, "message", "") or exc)
    return redact(text, secrets)[:500]


def _is_refused(exc: BaseException) -> bool:
    """Whether a connection error was, somewhere down its causes, a refused connection."""
    current: BaseException | None = exc
    for _ in range(10):
        if current is None:
            return False
        if isinstance(current, ConnectionRefusedError) or "refused" in str(current).lower():
            return True
        current = current.__cause__ or current.__context__
    return False


def _translate(exc: Exception, *, provider: str, model: str, credential: ResolvedCredential, base_url) -> LlmError:
    title = PROVIDER_TITLES.get(provider, provider)
    secrets = _secrets_of(credential)
    if isinstance(exc, (openai.APITimeoutError, anthropic.APITimeoutError)):
        return LlmTimeout(f"{title} did not answer within {settings.LLM_TIMEOUT_SECONDS:g} s.", provider=provider)
    if isinstance(exc, (openai.APIConnectionError, anthropic.APIConnectionError)):
        where = redact(base_url or "its API", secrets)
        if _is_refused(exc):
            if provider == LOCAL:
                return LlmServerNotRunning(local_model_unavailable_message(where), provider=provider)
            return LlmServerNotRunning(
                f"Could not connect to {title} at {where}: connection refused.", provider=provider
            )
        return LlmUnavailable(f"Could not connect to {title} at {where}.", provider=provider)
    if isinstance(exc, (openai.APIStatusError, anthropic.APIStatusError)):
        status = exc.status_code
        if status in (401, 403):
            # Not quoted: providers echo part of a refused key.
            return LlmCredentialsRefused(
                f"{title} refused the credentials '{credential.title}' (HTTP {status}): "
                "check that the API key is valid and allowed to use this model.",
                provider=provider,
                status=status,
            )
        detail = _provider_detail(exc, secrets)
        retry_after = _retry_after(exc.response.headers if exc.response is not None else None)
        if status == 429:
            return LlmRateLimited(
                f"{title} is rate limiting requests (HTTP 429): {detail}",
                provider=provider,
                status=status,
                retry_after=retry_after,
            )
        if status >= 500 or status in (408, 409):
            return LlmUnavailable(
                f"{title} failed (HTTP {status}): {detail}", provider=provider, status=status, retry_after=retry_after
            )
        return LlmBadRequest(
            f"{title} refused the request for model '{model}' (HTTP {status}): {detail}",
            provider=provider,
            status=status,
        )
    return LlmBadResponse(f"{title} sent an answer that could not be read: {redact(str(exc), secrets)[:300]}")


def _call_with_retries(call: Callable[[], LlmResponse], translate, cancel_event: threading.Event | None):
    """call(), tried again after 429, 5xx and lost connections, at most LLM_MAX_RETRIES times."""
    attempts = 1 + max(0, int(settings.LLM_MAX_RETRIES))
    max_wait = float(settings.LLM_RETRY_MAX_WAIT_SECONDS)
    for attempt in range(1, attempts + 1):
        if cancel_event is not None and cancel_event.is_set():
            raise LlmCancelled("The run was stopped.")
        try:
            return call()
        except (openai.OpenAIError, anthropic.AnthropicError) as exc:
            error = translate(exc)
        if not error.retryable:
            raise error
        wait = error.retry_after
        if wait is None:
            wait = min(BACKOFF_BASE_SECONDS * 2 ** (attempt - 1), BACKOFF_MAX_SECONDS) * random.uniform(1.0, 1.25)
        if attempt == attempts:
            tries = f"{attempts} tries" if attempts > 1 else "one try"
            raise type(error)(f"{error} (gave up after {tries})", provider=error.provider, status=error.status)
        if wait > max_wait:
            raise type(error)(f"{error} (asked to wait {wait:.0f} s, longer than allowed)", provider=error.provider)
        logger.warning("%s; trying again in %.1f s (attempt %d of %d)", error, wait, attempt + 1, attempts)
        if cancel_event is not None and cancel_event.wait(wait):
            raise LlmCancelled("The run was stopped.")
        if cancel_event is None:
            time.sleep(wait)
    raise AssertionError("unreachable")


# --- OpenAI-shaped providers -----------------------------------------------------------------------


def _parse_arguments(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _openai_request(model: LlmModel, provider: str, messages, tools, response_format, max_tokens, parallel_tool_calls):
    request: dict[str, Any] = {"model": model.name, "messages": messages}
    if tools:
        request["tools"] = tools
        if parallel_tool_calls is not None and provider in (OPENAI, OPEN_ROUTER) and not model.name.startswith("o"):
            request["parallel_tool_calls"] = parallel_tool_calls
    if response_format:
        request["response_format"] = response_format
    if max_tokens:
        # OpenAI's newer models refuse max_tokens; other servers may not know max_completion_tokens.
        official_openai = provider == OPENAI and not settings.OPENAI_BASE_URL
        request["max_completion_tokens" if official_openai else "max_tokens"] = max_tokens
    return request


def _openai_complete(client: openai.OpenAI, request: dict, stream: bool, on_text_delta, cancel_event) -> LlmResponse:
    if not stream:
        completion = client.chat.completions.create(**request)
        if not completion.choices:
            raise LlmBadResponse("The model sent no answer (no choices).")
        choice = completion.choices[0]
        calls = [
            ToolCall(
                call.id, call.function.name, _parse_arguments(call.function.arguments), call.function.arguments or ""
            )
            for call in (choice.message.tool_calls or [])
            if getattr(call, "function", None) is not None
        ]
        usage = completion.usage
        return LlmResponse(
            text=choice.message.content or "",
            tool_calls=calls,
            usage=Usage(getattr(usage, "prompt_tokens", 0) or 0, getattr(usage, "completion_tokens", 0) or 0),
            raw_finish_reason=choice.finish_reason,
        )
    text: list[str] = []
    partial_calls: dict[int, dict[str, str]] = {}
    usage = Usage()
    finish_reason = None
    with client.chat.completions.create(**request, stream=True, stream_options={"include_usage": True}) as chunks:
        for chunk in chunks:
            if cancel_event is not None and cancel_event.is_set():
                raise LlmCancelled("The run was stopped.")
            if chunk.usage:
                usage = Usage(chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0)
            for choice in chunk.choices or []:
                delta = choice.delta
                if delta is not None and delta.content:
                    text.append(delta.content)
                    if on_text_delta is not None:
                        on_text_delta(delta.content)
                for call in (delta.tool_calls or []) if delta is not None else []:
                    partial = partial_calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                    partial["id"] = call.id or partial["id"]
                    if call.function is not None:
                        partial["name"] += call.function.name or ""
                        partial["arguments"] += call.function.arguments or ""
                finish_reason = choice.finish_reason or finish_reason
    calls = [
        ToolCall(p["id"], p["name"], _parse_arguments(p["arguments"]), p["arguments"])
        for _, p in sorted(partial_calls.items())
    ]
    return LlmResponse(text="".join(text), tool_calls=calls, usage=usage, raw_finish_reason=finish_reason)


# --- Anthropic -----------------------------------------------------------------------------------


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return "" if content is None else json.dumps(content)


def to_anthropic_messages(messages: list[dict]) -> tuple[str, list[dict]]:
    """(system prompt, messages) for Anthropic from OpenAI-shaped messages. Tool calls become
    tool_use blocks, tool results tool_result blocks in a user turn; turns of one role are merged.
    Content already in Anthropic's block form is passed on as it is."""
    system: list[str] = []
    converted: list[dict] = []

    def add(role: str, blocks: list[dict]) -> None:
        if converted and converted[-1]["role"] == role:
            converted[-1]["content"].extend(blocks)
        else:
            converted.append({"role": role, "content": list(blocks)})

    for message in messages:
        role, content = message.get("role"), message.get("content")
        if role in ("system", "developer"):
            if text := _text_of(content):
                system.append(text)
        elif role == "tool":
            result = content if isinstance(content, str) else json.dumps(content)
            add("user", [{"type": "tool_result", "tool_use_id": message.get("tool_call_id", ""), "content": result}])
        elif role in ("user", "assistant"):
            blocks = [dict(part) for part in content] if isinstance(content, list) else []
            if isinstance(content, str) and content:
                blocks.append({"type": "text", "text": content})
            for call in message.get("tool_calls") or []:
                function = call.get("function", {})
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": call.get("id", ""),
                        "name": function.get("name", ""),
                        "input": _parse_arguments(function.get("arguments")),
                    }
                )
            if blocks:
                add(role, blocks)
    return "\n\n".join(system), converted


def to_anthropic_tools(tools: list[dict] | None) -> list[dict]:
    converted = []
    for tool in tools or []:
        function = tool.get("function", tool)
        parameters = function.get("parameters") or {"type": "object", "properties": {}}
        converted.append(
            {"name": function["name"], "description": function.get("description", ""), "input_schema": parameters}
        )
    return converted


def _anthropic_complete(
    client: anthropic.Anthropic, request: dict, stream: bool, on_text_delta, cancel_event
) -> LlmResponse:
    if not stream:
        message = client.messages.create(**request)
        text = "".join(block.text for block in message.content if block.type == "text")
        calls = [
            ToolCall(block.id, block.name, dict(block.input or {}), json.dumps(block.input or {}))
            for block in message.content
            if block.type == "tool_use"
        ]
        return LlmResponse(
            text=text,
            tool_calls=calls,
            usage=Usage(message.usage.input_tokens or 0, message.usage.output_tokens or 0),
            raw_finish_reason=message.stop_reason,
        )
    pieces: list[str] = []
    blocks: dict[int, dict[str, str]] = {}
    input_tokens = output_tokens = 0
    stop_reason = None
    with client.messages.create(**request, stream=True) as events:
        for event in events:
            if cancel_event is not None and cancel_event.is_set():
                raise LlmCancelled("The run was stopped.")
            if event.type == "message_start":
                input_tokens = event.message.usage.input_tokens or 0
                output_tokens = event.message.usage.output_tokens or 0
            elif event.type == "content_block_start" and event.content_block.type == "tool_use":
                blocks[event.index] = {"id": event.content_block.id, "name": event.content_block.name, "json": ""}
            elif event.type == "content_block_delta":
                if event.delta.type == "text_delta":
                    pieces.append(event.delta.text)
                    if on_text_delta is not None:
                        on_text_delta(event.delta.text)
                elif event.delta.type == "input_json_delta" and event.index in blocks:
                    blocks[event.index]["json"] += event.delta.partial_json
            elif event.type == "message_delta":
                stop_reason = event.delta.stop_reason or stop_reason
                if event.usage is not None and event.usage.output_tokens is not None:
                    output_tokens = event.usage.output_tokens
    calls = [
        ToolCall(block["id"], block["name"], _parse_arguments(block["json"] or "{}"), block["json"] or "{}")
        for _, block in sorted(blocks.items())
    ]
    return LlmResponse(
        text="".join(pieces), tool_calls=calls, usage=Usage(input_tokens, output_tokens), raw_finish_reason=stop_reason
    )


# --- The entry point -------------------------------------------------------------------------------


def llm_complete(
    *,
    credential: ResolvedCredential,
    model: str,
    messages: list[dict],
    tools: list[dict] | None = None,
    response_format: dict | None = None,
    max_tokens: int | None = None,
    base_url_override: str | None = None,
    stream: bool = False,
    on_text_delta: Callable[[str], None] | None = None,
    cancel_event: threading.Event | None = None,
    parallel_tool_calls: bool | None = None,
) -> LlmResponse:
    """Ask `model` (served by `credential.provider`) to answer `messages`, optionally with `tools`
    (OpenAI's function-tool shape). `response_format={"type": "json_object"}` asks for JSON where
    the provider has a JSON mode. `base_url_override` is a user-supplied server (a node's
    ollama_host). With `stream`, text arrives piece by piece at `on_text_delta`. Raises LlmError."""
    provider = credential.provider
    try:
        llm_model = model_get(model, provider)
    except UnknownModel as exc:
        raise LlmBadRequest(str(exc), provider=provider) from None
    title = PROVIDER_TITLES.get(provider, provider)
    if tools and not llm_model.supports_tools:
        raise LlmBadRequest(f"The model '{model}' ({title}) does not call tools: choose another model.")
    if provider in KEYED_PROVIDERS and not _plain(credential.api_key) and not credential.headers:
        raise LlmNotConfigured(f"The credential '{credential.title}' has no API key for {title}.", provider=provider)
    limit = llm_model.max_output_tokens
    max_tokens = min(max_tokens, limit) if max_tokens else None
    endpoint = _endpoint(provider, credential, base_url_override)
    api_key = _plain(credential.api_key) or _plain(credential.password) or NO_KEY
    headers = {str(name): _plain(value) for name, value in (credential.headers or {}).items()}

    def translate(exc):
        return _translate(exc, provider=provider, model=model, credential=credential, base_url=endpoint.base_url)

    if provider == ANTHROPIC:
        system, converted = to_anthropic_messages(messages)
        request: dict[str, Any] = {
            "model": llm_model.name,
            "messages": converted,
            "max_tokens": max_tokens or min(limit, ANTHROPIC_DEFAULT_MAX_TOKENS),
        }
        if system.strip():
            request["system"] = system
        if tools:
            request["tools"] = to_anthropic_tools(tools)
        client: anthropic.Anthropic | openai.OpenAI = anthropic.Anthropic(
            api_key=api_key,
            base_url=endpoint.base_url,
            max_retries=0,
            timeout=_timeout(),
            http_client=endpoint.http_client,
            default_headers=headers or None,
        )

        def call():
            assert isinstance(client, anthropic.Anthropic)
            return _anthropic_complete(client, request, stream, on_text_delta, cancel_event)

    else:
        if provider == OPEN_ROUTER:
            headers.setdefault("X-Title", "AutoGPT Platform")
        request = _openai_request(
            llm_model, provider, messages, tools, response_format, max_tokens, parallel_tool_calls
        )
        client = openai.OpenAI(
            api_key=api_key,
            base_url=endpoint.base_url,
            max_retries=0,
            timeout=_timeout(),
            http_client=endpoint.http_client,
            default_headers=headers or None,
        )

        def call():
            assert isinstance(client, openai.OpenAI)
            return _openai_complete(client, request, stream, on_text_delta, cancel_event)

    with client:
        response = _call_with_retries(call, translate, cancel_event)
    response.model, response.provider = llm_model.name, provider
    response.cost = estimate_cost(llm_model, response.usage.input_tokens, response.usage.output_tokens)
    return response


__all__ = [
    "OPENAI_COMPATIBLE",
    "LlmBadRequest",
    "LlmBadResponse",
    "LlmCancelled",
    "LlmCredentialsRefused",
    "LlmError",
    "LlmHostRefused",
    "LlmNotConfigured",
    "LlmRateLimited",
    "LlmResponse",
    "LlmServerNotRunning",
    "LlmTimeout",
    "LlmUnavailable",
    "ToolCall",
    "Usage",
    "llm_complete",
]
