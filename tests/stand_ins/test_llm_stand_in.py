"""The LLM stand-in, driven by the official openai and anthropic SDKs as the platform drives them."""

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import anthropic
import openai
import pytest

from tests.processes import ROOT, free_port
from tests.stand_ins.llm import Error, Hang, LlmStandIn, Text, ToolCalls, last_user_text, reply_from_json

CLAUDE = "claude-sonnet-4-5"
WEATHER = {"city": "Paris", "days": 3, "units": "metric", "hours": [6, 12, 18]}


@pytest.fixture
def llm():
    with LlmStandIn() as stand_in:
        yield stand_in


def openai_client(llm: LlmStandIn, **options) -> openai.OpenAI:
    return openai.OpenAI(base_url=llm.openai_base_url, api_key="sk-test-openai", **{"max_retries": 0, **options})


def anthropic_client(llm: LlmStandIn, **options) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=llm.anthropic_base_url, api_key="sk-ant-test", **{"max_retries": 0, **options})


def ask(client: openai.OpenAI, text: str, **options):
    return client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": text}], **options)


def ask_claude(client: anthropic.Anthropic, text: str, **options):
    return client.messages.create(model=CLAUDE, max_tokens=256, messages=[{"role": "user", "content": text}], **options)


# --- OpenAI ---------------------------------------------------------------------------------------
def test_openai_plain_echoes_the_last_user_message_and_records_the_request(llm):
    messages = [
        {"role": "system", "content": "You answer briefly."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": "What is the capital of France?"},
    ]

    completion = openai_client(llm).chat.completions.create(model="gpt-4o-mini", messages=messages)

    choice = completion.choices[0]
    assert choice.message.content == "echo: What is the capital of France?"
    assert (choice.finish_reason, completion.model, completion.object) == ("stop", "gpt-4o-mini", "chat.completion")
    # 3 + 2 + 2 + 6 words asked, 7 answered
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens, completion.usage.total_tokens) == (
        13,
        7,
        20,
    )
    [request] = llm.requests
    assert (request.method, request.path, request.api) == ("POST", "/v1/chat/completions", "openai")
    assert request.headers["authorization"] == "Bearer sk-test-openai"
    assert request.api_key == "sk-test-openai"
    assert request.json["messages"] == messages


def test_openai_scripted_replies_are_answered_in_order_then_the_responder_then_echo(llm):
    client = openai_client(llm)
    llm.script(Text("first", usage=(100, 20)), Text("second"))

    answers = [ask(client, "one"), ask(client, "two")]
    llm.respond_with(lambda request: Text(f"responder saw {last_user_text(request)}"))
    answers.append(ask(client, "three"))
    llm.reset()
    answers.append(ask(client, "four"))

    assert [answer.choices[0].message.content for answer in answers] == [
        "first",
        "second",
        "responder saw three",
        "echo: four",
    ]
    assert (answers[0].usage.prompt_tokens, answers[0].usage.completion_tokens) == (100, 20)
    assert [request.json["messages"][0]["content"] for request in llm.requests] == ["four"]  # reset() forgot the rest


def test_openai_stream_sends_text_in_the_given_number_of_deltas_and_usage_last(llm):
    llm.script(Text("The quick brown fox jumps", chunks=3, usage=(9, 5)))

    stream = ask(openai_client(llm), "go", stream=True, stream_options={"include_usage": True})
    chunks = list(stream)

    deltas = [chunk.choices[0].delta.content for chunk in chunks if chunk.choices and chunk.choices[0].delta.content]
    assert deltas == ["The quic", "k brown ", "fox jumps"]
    assert [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (9, 5)
    assert all(chunk.usage is None for chunk in chunks[:-1])


def test_openai_stream_without_include_usage_has_no_usage_chunk(llm):
    chunks = list(ask(openai_client(llm), "hello there friend", stream=True))

    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks) == "echo: hello there friend"
    assert len(chunks) == 1 + 4 + 1  # role, one delta per word, finish
    assert all(chunk.choices and chunk.usage is None for chunk in chunks)


def test_openai_stream_chunks_arrive_as_they_are_sent(llm):
    llm.script(Text("a b c", chunks=3, chunk_delay=0.3))

    arrivals = [
        time.monotonic() for chunk in ask(openai_client(llm), "go", stream=True) if chunk.choices[0].delta.content
    ]

    assert len(arrivals) == 3
    assert arrivals[-1] - arrivals[0] >= 0.5  # not buffered until the end


def test_openai_tool_calls(llm):
    llm.script(ToolCalls([("get_weather", WEATHER), ("get_time", {"zone": "Europe/Paris"})]))

    completion = ask(openai_client(llm), "weather and time in Paris?")

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls
    assert [(call.function.name, json.loads(call.function.arguments)) for call in calls] == [
        ("get_weather", WEATHER),
        ("get_time", {"zone": "Europe/Paris"}),
    ]
    assert all(call.id.startswith("call_") and call.type == "function" for call in calls)
    assert calls[0].id != calls[1].id


def test_openai_streamed_tool_calls_are_accumulated_by_the_sdk(llm):
    llm.script(ToolCalls([("get_weather", WEATHER), ("get_time", {"zone": "UTC"})], text="Checking."))
    client = openai_client(llm)

    with client.chat.completions.stream(model="gpt-4o", messages=[{"role": "user", "content": "go"}]) as stream:
        argument_deltas = [event for event in stream if event.type == "tool_calls.function.arguments.delta"]
        completion = stream.get_final_completion()

    assert len(argument_deltas) > 4  # the arguments really came in fragments
    message = completion.choices[0].message
    assert message.content == "Checking."
    assert [(call.function.name, json.loads(call.function.arguments)) for call in message.tool_calls] == [
        ("get_weather", WEATHER),
        ("get_time", {"zone": "UTC"}),
    ]
    assert completion.choices[0].finish_reason == "tool_calls"


def test_openai_response_format_json_is_answered_with_json(llm):
    completion = ask(openai_client(llm), "list three colours", response_format={"type": "json_object"})

    assert json.loads(completion.choices[0].message.content) == {"echo": "list three colours"}
    assert llm.requests[0].json["response_format"] == {"type": "json_object"}


def test_openai_429_with_retry_after_is_retried_by_the_sdk(llm):
    llm.script(Error(429, "Rate limit reached", headers={"Retry-After": "1"}), Text("after the wait"))

    started = time.monotonic()
    completion = ask(openai_client(llm, max_retries=1), "hi")

    assert completion.choices[0].message.content == "after the wait"
    assert time.monotonic() - started >= 0.9  # the SDK waited as Retry-After said
    assert [request.headers["x-stainless-retry-count"] for request in llm.requests] == ["0", "1"]


def test_openai_429_body_shape(llm):
    llm.script(Error(429, "Rate limit reached"))

    with pytest.raises(openai.RateLimitError) as raised:
        ask(openai_client(llm), "hi")

    assert raised.value.status_code == 429
    assert raised.value.body == {
        "message": "Rate limit reached",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }


def test_openai_401_raises_authentication_error_without_retry(llm):
    llm.script(Error(401, "Incorrect API key provided"))

    with pytest.raises(openai.AuthenticationError) as raised:
        ask(openai_client(llm, max_retries=2), "hi")

    assert raised.value.status_code == 401
    assert raised.value.code == "invalid_api_key"
    assert "Incorrect API key provided" in str(raised.value)
    assert len(llm.requests) == 1


def test_openai_500_is_retried_then_raised(llm):
    llm.script(Error(500), Error(500, "The server had an error"))

    with pytest.raises(openai.InternalServerError) as raised:
        ask(openai_client(llm, max_retries=1), "hi")

    assert raised.value.status_code == 500
    assert raised.value.type == "server_error"
    assert "The server had an error" in str(raised.value)
    assert len(llm.requests) == 2


def test_openai_lists_models(llm):
    models = [model.id for model in openai_client(llm).models.list()]

    assert "gpt-4o" in models


def test_a_request_without_an_api_key_is_refused_as_openai_does(llm):
    llm.script(Text("kept for the next request"))
    request = urllib.request.Request(
        f"{llm.openai_base_url}/chat/completions",
        data=json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}).encode(),
        headers={"Content-Type": "application/json"},
    )

    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)

    assert raised.value.code == 401
    assert json.loads(raised.value.read())["error"]["type"] == "invalid_request_error"
    assert ask(openai_client(llm), "hi").choices[0].message.content == "kept for the next request"


# --- Anthropic ------------------------------------------------------------------------------------
def test_anthropic_plain_with_a_system_prompt(llm):
    message = ask_claude(anthropic_client(llm), "Name a prime number", system="You are terse.")

    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == "echo: Name a prime number"
    assert (message.stop_reason, message.role, message.model) == ("end_turn", "assistant", CLAUDE)
    assert (message.usage.input_tokens, message.usage.output_tokens) == (3 + 4, 5)
    [request] = llm.requests
    assert (request.path, request.api) == ("/v1/messages", "anthropic")
    # anthropic 2.x sends the API key as a bearer token; older SDKs and curl use x-api-key
    assert request.headers["authorization"] == "Bearer sk-ant-test"
    assert request.api_key == "sk-ant-test"
    assert request.headers["anthropic-version"]
    assert request.json["system"] == "You are terse."


def test_anthropic_tool_use(llm):
    llm.script(ToolCalls([("get_weather", WEATHER)], text="Let me look.", usage=(40, 12)))

    message = ask_claude(anthropic_client(llm), "weather?", tools=[weather_tool()])

    assert message.stop_reason == "tool_use"
    text, tool_use = message.content
    assert (text.type, text.text) == ("text", "Let me look.")
    assert (tool_use.type, tool_use.name, tool_use.input) == ("tool_use", "get_weather", WEATHER)
    assert tool_use.id.startswith("toolu_")
    assert (message.usage.input_tokens, message.usage.output_tokens) == (40, 12)


def test_anthropic_stream_text(llm):
    llm.script(Text("one two three four", chunks=2, usage=(7, 4)))
    client = anthropic_client(llm)

    with client.messages.stream(model=CLAUDE, max_tokens=64, messages=[{"role": "user", "content": "go"}]) as stream:
        pieces = list(stream.text_stream)
        message = stream.get_final_message()

    assert pieces == ["one two t", "hree four"]
    assert message.content[0].text == "one two three four"
    assert (message.stop_reason, message.usage.input_tokens, message.usage.output_tokens) == ("end_turn", 7, 4)


def test_anthropic_stream_tool_use(llm):
    llm.script(ToolCalls([("get_weather", WEATHER), ("get_time", {"zone": "UTC"})]))
    client = anthropic_client(llm)

    with client.messages.stream(
        model=CLAUDE, max_tokens=64, messages=[{"role": "user", "content": "go"}], tools=[weather_tool()]
    ) as stream:
        event_types = [event.type for event in stream]
        message = stream.get_final_message()

    assert event_types.count("input_json") > 4  # the input really came in fragments
    assert message.stop_reason == "tool_use"
    assert [(block.type, block.name, block.input) for block in message.content] == [
        ("tool_use", "get_weather", WEATHER),
        ("tool_use", "get_time", {"zone": "UTC"}),
    ]


def test_anthropic_raw_stream_follows_the_documented_event_order(llm):
    llm.script(Text("hi there"))

    events = list(
        anthropic_client(llm).messages.create(
            model=CLAUDE, max_tokens=64, messages=[{"role": "user", "content": "go"}], stream=True
        )
    )

    assert [event.type for event in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert events[-2].delta.stop_reason == "end_turn"


@pytest.mark.parametrize(
    ("status", "exception", "error_type"),
    [
        (400, anthropic.BadRequestError, "invalid_request_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
    ],
)
def test_anthropic_errors_map_to_the_sdk_exceptions(llm, status, exception, error_type):
    llm.script(Error(status, "scripted failure"))

    with pytest.raises(exception) as raised:
        ask_claude(anthropic_client(llm), "hi")

    assert raised.value.status_code == status
    assert raised.value.body["type"] == "error"
    assert raised.value.body["error"] == {"type": error_type, "message": "scripted failure"}


def test_anthropic_429_with_retry_after_is_retried_by_the_sdk(llm):
    llm.script(Error(429, headers={"Retry-After": "1"}), Text("after the wait"))

    started = time.monotonic()
    message = ask_claude(anthropic_client(llm, max_retries=1), "hi")

    assert message.content[0].text == "after the wait"
    assert time.monotonic() - started >= 0.9
    assert len(llm.requests) == 2


def test_anthropic_refuses_a_system_role_among_messages(llm):
    with pytest.raises(anthropic.BadRequestError) as raised:
        anthropic_client(llm).messages.create(
            model=CLAUDE,
            max_tokens=64,
            messages=[{"role": "system", "content": "be terse"}, {"role": "user", "content": "hi"}],
        )

    assert "system" in raised.value.body["error"]["message"]


def test_anthropic_lists_models(llm):
    models = [model.id for model in anthropic_client(llm).models.list()]

    assert CLAUDE in models
    assert llm.requests[0].api == "anthropic"


def weather_tool() -> dict:
    return {"name": "get_weather", "description": "The forecast", "input_schema": {"type": "object", "properties": {}}}


# --- Concurrency, hangs and stopping ----------------------------------------------------------------
def test_concurrent_requests_are_served_at_once_and_each_gets_its_own_answer(llm):
    llm.respond_with(lambda request: Text(f"answer to {last_user_text(request)}", delay=0.5))
    client = openai_client(llm)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda n: ask(client, f"question {n}").choices[0].message.content, range(8)))

    assert answers == [f"answer to question {n}" for n in range(8)]
    assert time.monotonic() - started < 3  # one after the other would take 4 s
    assert len(llm.requests) == 8


def test_a_hang_runs_into_the_client_timeout(llm):
    llm.script(Hang(30))

    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        ask(openai_client(llm, timeout=0.5), "hi")

    assert time.monotonic() - started < 5


def test_stop_returns_promptly_during_a_hang_and_the_client_sees_the_connection_end(llm):
    llm.script(Hang(60))
    client = anthropic_client(llm)
    outcome = []
    caller = threading.Thread(target=lambda: outcome.append(call_and_catch(lambda: ask_claude(client, "hi"))))
    caller.start()
    deadline = time.monotonic() + 5
    while not llm.requests and time.monotonic() < deadline:
        time.sleep(0.02)

    started = time.monotonic()
    llm.stop()

    assert time.monotonic() - started < 2
    caller.join(timeout=5)
    assert isinstance(outcome[0], anthropic.APIConnectionError)


def test_after_stop_a_kept_alive_connection_is_not_served(llm):
    client = openai_client(llm)
    ask(client, "hi")  # leaves a pooled keep-alive connection

    llm.stop()

    with pytest.raises(openai.APIConnectionError):
        ask(client, "hi again")


def call_and_catch(call):
    try:
        return call()
    except Exception as exc:
        return exc


# --- Async clients -------------------------------------------------------------------------------
def test_async_clients_stream_one_answer_after_another(llm):
    llm.script(Text("first stream", chunks=2), Text("second stream", chunks=2))
    llm.script(Text("third stream", chunks=2), Text("fourth stream", chunks=2))

    async def both() -> list[str]:
        texts = []
        client = openai.AsyncOpenAI(base_url=llm.openai_base_url, api_key="sk-test", max_retries=0)
        for question in ("a", "b"):
            stream = await client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": question}], stream=True
            )
            texts.append("".join([chunk.choices[0].delta.content or "" async for chunk in stream]))
        claude = anthropic.AsyncAnthropic(base_url=llm.anthropic_base_url, api_key="sk-ant-test", max_retries=0)
        for question in ("c", "d"):
            async with claude.messages.stream(
                model=CLAUDE, max_tokens=64, messages=[{"role": "user", "content": question}]
            ) as stream:
                texts.append((await stream.get_final_message()).content[0].text)
        return texts

    assert asyncio.run(both()) == ["first stream", "second stream", "third stream", "fourth stream"]
    assert [last_user_text(request) for request in llm.requests] == ["a", "b", "c", "d"]


# --- As a process ---------------------------------------------------------------------------------
def test_script_files_name_every_kind_of_reply():
    replies = [
        {"type": "text", "text": "hi", "usage": [3, 1], "chunks": 2},
        {"type": "tool_calls", "calls": [["get_weather", {"city": "Oslo"}]], "text": "Looking."},
        {"type": "error", "status": 429, "headers": {"Retry-After": "1"}},
        {"type": "hang", "seconds": 5},
    ]

    assert [reply_from_json(reply) for reply in replies] == [
        Text("hi", usage=(3, 1), chunks=2),
        ToolCalls([("get_weather", {"city": "Oslo"})], text="Looking."),
        Error(429, headers={"Retry-After": "1"}),
        Hang(5),
    ]


def test_process_mode_serves_the_script_then_echoes_and_stops_on_sigterm(tmp_path):
    script = tmp_path / "replies.json"
    script.write_text(json.dumps([{"type": "tool_calls", "calls": [["get_weather", {"city": "Oslo"}]]}]))
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.stand_ins.llm", "--port", str(port), "--script", str(script)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == f"listening on http://127.0.0.1:{port}"
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-test", max_retries=0)

        [call] = ask(client, "weather in Oslo?").choices[0].message.tool_calls
        echoed = ask(client, "and now?").choices[0].message.content

        assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"city": "Oslo"})
        assert echoed == "echo: and now?"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
