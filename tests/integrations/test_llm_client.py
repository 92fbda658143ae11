"""llm_complete() against the LLM stand-in on 127.0.0.1, through the official openai and anthropic
SDKs: both protocols, streaming, tool calls, retries, refusals, timeouts, hosts and secrecy."""

import logging
import socket
import threading
import time

import pytest
from pydantic import SecretStr

from integrations.llm.client import (
    LlmCancelled,
    LlmCredentialsRefused,
    LlmHostRefused,
    LlmNotConfigured,
    LlmRateLimited,
    LlmServerNotRunning,
    LlmTimeout,
    LlmUnavailable,
    llm_complete,
    to_anthropic_messages,
)
from integrations.llm.registry import (
    LOCAL_MODEL,
    MODELS,
    UnknownModel,
    estimate_cost,
    model_get,
    models_for_provider,
)
from integrations.selectors import ResolvedCredential
from tests.stand_ins.llm import Error, Hang, Text, ToolCalls

USER_KEY = "sk-user-key-abcdef123456"
CALCULATOR_TOOL = {
    "type": "function",
    "function": {
        "name": "calculator",
        "description": "Adds two numbers.",
        "parameters": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}},
    },
}
MODEL = {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-20250514"}


def credential(provider: str = "openai", *, api_key: str = USER_KEY, host: str = "", is_system=False):
    return ResolvedCredential(
        id="cred-1",
        provider=provider,
        type="api_key",
        title="My key",
        is_system=is_system,
        api_key=SecretStr(api_key) if api_key else None,
        host=host or None,
    )


def ask(provider: str = "openai", **kwargs):
    kwargs.setdefault("messages", [{"role": "user", "content": "Hello"}])
    return llm_complete(credential=kwargs.pop("credential", credential(provider)), model=MODEL[provider], **kwargs)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Both protocols --------------------------------------------------------------------------------


def test_openai_answer_with_usage_and_cost(llm):
    llm.script(Text("Paris", usage=(12, 1)))

    response = ask(
        "openai", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital?"}]
    )

    assert (response.text, response.tool_calls, response.raw_finish_reason) == ("Paris", [], "stop")
    assert (response.usage.input_tokens, response.usage.output_tokens) == (12, 1)
    assert response.cost == pytest.approx((12 * 0.15 + 1 * 0.60) / 1_000_000)
    (request,) = llm.requests
    assert request.api == "openai" and request.api_key == USER_KEY
    assert request.json["model"] == "gpt-4o-mini"
    assert request.json["messages"][0] == {"role": "system", "content": "Be brief."}


def test_anthropic_answer_takes_the_system_prompt_apart(llm):
    llm.script(Text("Paris", usage=(20, 2)))

    response = ask(
        "anthropic", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital?"}]
    )

    assert (response.text, response.provider, response.raw_finish_reason) == ("Paris", "anthropic", "end_turn")
    assert response.cost == pytest.approx((20 * 3 + 2 * 15) / 1_000_000)
    (request,) = llm.requests
    assert request.api == "anthropic" and request.api_key == USER_KEY
    assert request.json["system"] == "Be brief."
    assert request.json["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Capital?"}]}]
    assert request.json["max_tokens"] == 8192


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_tool_calls_come_back_with_their_arguments(llm, provider):
    llm.script(ToolCalls([("calculator", {"a": 2, "b": 3})]))

    response = ask(provider, tools=[CALCULATOR_TOOL])

    (call,) = response.tool_calls
    assert (call.name, call.arguments) == ("calculator", {"a": 2, "b": 3})
    assert response.assistant_message()["tool_calls"][0]["function"]["name"] == "calculator"
    sent = llm.requests[0].json["tools"][0]
    if provider == "anthropic":
        assert sent == {
            "name": "calculator",
            "description": "Adds two numbers.",
            "input_schema": CALCULATOR_TOOL["function"]["parameters"],
        }
    else:
        assert sent == CALCULATOR_TOOL


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_streamed_text_arrives_piece_by_piece(llm, provider):
    llm.script(Text("one two three", usage=(4, 3)))
    pieces = []

    response = ask(provider, stream=True, on_text_delta=pieces.append)

    assert "".join(pieces) == response.text == "one two three"
    assert len(pieces) == 3
    assert (response.usage.input_tokens, response.usage.output_tokens) == (4, 3)
    assert llm.requests[0].json["stream"] is True


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_streamed_tool_calls_are_put_together(llm, provider):
    llm.script(ToolCalls([("calculator", {"a": 2, "b": 3})]))

    response = ask(provider, stream=True, tools=[CALCULATOR_TOOL])

    assert [(c.name, c.arguments) for c in response.tool_calls] == [("calculator", {"a": 2, "b": 3})]


def test_a_tool_conversation_is_converted_for_anthropic():
    system, messages = to_anthropic_messages(
        [
            {"role": "system", "content": "Use tools."},
            {"role": "user", "content": "2+3?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "toolu_1", "type": "function", "function": {"name": "calc", "arguments": '{"a": 2}'}}
                ],
            },
            {"role": "tool", "tool_call_id": "toolu_1", "content": "5"},
            {"role": "user", "content": "Thanks"},
        ]
    )

    assert system == "Use tools."
    assert messages == [
        {"role": "user", "content": [{"type": "text", "text": "2+3?"}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "calc", "input": {"a": 2}}]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "5"},
                {"type": "text", "text": "Thanks"},
            ],
        },
    ]


def test_anthropic_accepts_the_converted_tool_conversation(llm):
    llm.script(Text("It is 5."))
    messages = [
        {"role": "user", "content": "2+3?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "toolu_1", "type": "function", "function": {"name": "calculator", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_1", "content": "5"},
    ]

    assert ask("anthropic", messages=messages, tools=[CALCULATOR_TOOL]).text == "It is 5."


# --- Retries, refusals, timeouts ----------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_429_is_retried_after_retry_after(llm, provider):
    llm.script(Error(429, headers={"Retry-After": "1"}), Text("at last"))
    started = time.monotonic()

    response = ask(provider)

    assert response.text == "at last"
    assert len(llm.requests) == 2
    assert time.monotonic() - started >= 1.0


def test_429_asking_for_too_long_a_wait_is_given_up_at_once(llm, settings):
    settings.LLM_RETRY_MAX_WAIT_SECONDS = 5
    llm.script(Error(429, headers={"Retry-After": "120"}), Text("never"))

    with pytest.raises(LlmRateLimited, match="asked to wait 120 s"):
        ask("openai")
    assert len(llm.requests) == 1


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_500_is_retried_then_given_up(llm, provider):
    llm.script(Error(500), Error(502), Error(503), Text("too late"))

    with pytest.raises(LlmUnavailable, match=r"HTTP 503.*gave up after 3 tries"):
        ask(provider)
    assert len(llm.requests) == 3  # LLM_MAX_RETRIES = 2


@pytest.mark.parametrize("provider, status", [("openai", 401), ("anthropic", 401), ("openai", 403)])
def test_refused_credentials_fail_at_once_naming_the_provider(llm, provider, status):
    llm.script(Error(status, message=f"Incorrect API key provided: {USER_KEY}"), Text("never"))

    with pytest.raises(LlmCredentialsRefused) as raised:
        ask(provider)

    title = {"openai": "OpenAI", "anthropic": "Anthropic"}[provider]
    assert str(raised.value).startswith(f"{title} refused the credentials 'My key' (HTTP {status})")
    assert USER_KEY not in str(raised.value)
    assert len(llm.requests) == 1


def test_a_hanging_provider_times_out_within_the_bound(llm, settings):
    settings.LLM_TIMEOUT_SECONDS = 1.0
    llm.script(Hang(10))
    started = time.monotonic()

    with pytest.raises(LlmTimeout, match="did not answer within 1 s"):
        ask("openai")

    assert time.monotonic() - started < 3
    assert len(llm.requests) == 1  # a timeout is not tried again


def test_stopping_the_run_ends_a_retry_wait_at_once(llm):
    llm.script(Error(429, headers={"Retry-After": "20"}), Text("never"))
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()

    with pytest.raises(LlmCancelled):
        ask("openai", cancel_event=cancel)

    assert time.monotonic() - started < 3


def test_no_key_in_errors_or_logs(llm, caplog):
    caplog.set_level(logging.DEBUG)
    llm.script(Error(429, message=f"slow down {USER_KEY}"), Error(500, message=f"boom {USER_KEY}"), Error(500))
    secret_system = "sk-proj-SYSTEMKEY0123456789"

    with pytest.raises(LlmUnavailable) as raised:
        ask("openai", credential=credential(api_key=USER_KEY))
    llm.script(Error(401, message=secret_system))
    with pytest.raises(LlmCredentialsRefused) as refused:
        ask("openai", credential=credential(api_key=secret_system, is_system=True))

    for text in (str(raised.value), str(refused.value), caplog.text):
        assert USER_KEY not in text and secret_system not in text
    assert "[redacted]" in caplog.text  # the provider's message is quoted, the key taken out


# --- Hosts ---------------------------------------------------------------------------------------------


def test_a_user_supplied_loopback_host_is_refused(llm):
    with pytest.raises(LlmHostRefused, match="loopback"):
        llm_complete(
            credential=credential("ollama", api_key=""),
            model="llama3.2",
            messages=[{"role": "user", "content": "hi"}],
            base_url_override=f"127.0.0.2:{llm.port}",
        )
    assert llm.requests == []


def test_a_user_host_allowed_by_the_operator_is_reached_pinned(llm, settings):
    settings.SAFE_HTTP_ALLOWED_HOSTS = [f"localhost:{llm.port}"]
    llm.script(Text("from my own server"))

    response = llm_complete(
        credential=credential("openai_compatible", api_key="", host=f"http://localhost:{llm.port}/v1"),
        model="my-model",
        messages=[{"role": "user", "content": "hi"}],
    )

    assert response.text == "from my own server"
    assert (response.provider, response.model, response.cost) == ("openai_compatible", "my-model", 0.0)
    assert llm.requests[0].headers["host"] == f"localhost:{llm.port}"


def test_the_operator_ollama_host_is_trusted_loopback_and_all(llm):
    llm.script(Text("local llama"))

    response = llm_complete(
        credential=credential("ollama", api_key="", is_system=True),
        model="qwen2.5:0.5b",
        messages=[{"role": "user", "content": "hi"}],
        base_url_override=llm.url,  # the same host as OLLAMA_HOST: trusted
    )

    assert response.text == "local llama"
    assert llm.requests[0].path == "/v1/chat/completions"
    assert llm.requests[0].json["model"] == "qwen2.5:0.5b"


def test_the_embedded_model_not_yet_running_says_so(llm, settings, tmp_path):
    settings.LOCAL_LLM_PORT = closed_port()
    settings.LOCAL_LLM_BASE_URL = f"http://127.0.0.1:{settings.LOCAL_LLM_PORT}/v1"  # as make run sets it
    settings.VAR_DIR = tmp_path  # no status from a make run in this checkout

    with pytest.raises(LlmServerNotRunning, match="embedded model is still being prepared"):
        llm_complete(
            credential=credential("local", api_key="", is_system=True),
            model=LOCAL_MODEL,
            messages=[{"role": "user", "content": "hi"}],
        )


def test_a_keyed_provider_without_a_key_is_not_configured(llm):
    with pytest.raises(LlmNotConfigured, match="no API key for OpenAI"):
        ask("openai", credential=credential(api_key=""))


def test_a_model_that_calls_no_tools_is_not_given_any(llm):
    with pytest.raises(Exception, match="does not call tools"):
        llm_complete(
            credential=credential("local", api_key="", is_system=True),
            model=LOCAL_MODEL,
            messages=[{"role": "user", "content": "hi"}],
            tools=[CALCULATOR_TOOL],
        )


# --- The registry -----------------------------------------------------------------------------------------


def test_registry_knows_autogpt_models_and_accepts_any_on_open_servers():
    assert model_get("gpt-4o").provider == "openai"
    assert model_get("claude-sonnet-4-20250514").context_window == 200_000
    assert model_get("llama3-8b-8192").provider == "groq"
    assert model_get(LOCAL_MODEL).provider == "local"
    assert model_get("qwen2.5:7b").provider == "ollama"  # unknown: Ollama's by default
    assert model_get("llama3.2", "openai_compatible").provider == "openai_compatible"
    with pytest.raises(UnknownModel, match="Anthropic model, not one of OpenAI"):
        model_get("claude-sonnet-4-20250514", "openai")
    with pytest.raises(UnknownModel):
        model_get("gpt-9", "openai")
    assert "gpt-4o" in models_for_provider("openai") and LOCAL_MODEL in models_for_provider("local")
    assert estimate_cost("gpt-4o", 1_000_000, 1_000_000) == 12.5
    assert estimate_cost("llama3.2", 10_000, 10_000) == 0.0
    assert all(
        model.max_output_tokens <= model.context_window or model.provider == "open_router" for model in MODELS.values()
    )
