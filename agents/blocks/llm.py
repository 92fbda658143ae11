"""LLM blocks: AutoGPT's six, with its ids, pins and defaults (backend/blocks/llm.py and
smart_decision_maker.py), on our one model client (integrations/llm/client.py).

Every model call goes through `LlmBlock.llm_call`: the seam that a test case replaces (its
`mocks`, as AutoGPT's test_mock) so that the cases run without a network. Each call's tokens and
estimated cost are recorded on the node execution. `prompt_values` fill `{{ name }}` placeholders
of the prompt and the system prompt in a Jinja2 sandbox, as Fill Text Template does.
"""

import json
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import jinja2
import jinja2.sandbox

from agents.pins import base_pin, parse_tool_pin, tool_pin
from integrations.errors import CredentialError, CredentialNotConfigured
from integrations.llm.registry import DEFAULT_MODEL, LOCAL_MODEL, MODELS, PROVIDER_TITLES, UnknownModel, model_get
from integrations.llm.results import LlmCancelled, LlmError, LlmResponse, ToolCall, Usage
from integrations.selectors import credential_resolve

from .base import (
    Block,
    BlockCategory,
    BlockContext,
    BlockError,
    BlockOutput,
    BlockSchema,
    BlockTestCase,
    ExecutionCancelled,
    SchemaField,
    ToolSink,
)
from .credentials import CredentialsMeta
from .registry import get_block, register

# AutoGPT's default for `ollama_host`: exports carry it; it means "the operator's OLLAMA_HOST".
AUTOGPT_OLLAMA_HOST = "localhost:11434"
SYSTEM_KEYS = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "groq": "GROQ_API_KEY",
    "open_router": "OPEN_ROUTER_API_KEY",
}
_TEMPLATES = jinja2.sandbox.ImmutableSandboxedEnvironment(autoescape=False)
_PLACEHOLDER = re.compile(r"\{\{\s*([\w.-]+)\s*\}\}")


def CredentialsField() -> Any:
    return SchemaField(
        None,
        description="Your credential for the model's provider ({id, provider, type, title}). "
        "Without one, the platform's own credential for that provider is used.",
    )


def ModelField(default: str = DEFAULT_MODEL, description: str = "The language model to use.") -> Any:
    return SchemaField(
        default,
        description=description + " Any model name is accepted for Ollama and OpenAI-compatible servers.",
        examples=sorted(MODELS),
    )


def OllamaHostField() -> Any:
    return SchemaField(
        AUTOGPT_OLLAMA_HOST,
        description="Your Ollama server (host:port), for Ollama models; the default is the platform's.",
        advanced=True,
    )


def MaxTokensField() -> Any:
    return SchemaField(None, description="The most tokens the model may write.", advanced=True)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def fill_prompt(text: str, values: dict[str, Any] | None) -> str:
    """`{{ name }}` replaced by values[name], rendered in a Jinja2 sandbox. A prompt that is not a
    valid template (JSON examples with braces...) gets plain `{{ name }}` replacement instead."""
    if not values or not text:
        return text
    values = {str(name): _as_text(value) for name, value in values.items()}
    try:
        return _TEMPLATES.from_string(text).render(values)
    except jinja2.TemplateError:
        return _PLACEHOLDER.sub(lambda match: values.get(match[1], match[0]), text)


def trim_prompt(text: str) -> str:
    """Drop the indentation up to and including `|` of each line of a multi-line prompt."""
    return "\n".join(line.strip().removeprefix("|") for line in text.strip().split("\n"))


def _usage_mock(text: str = "", *, tool_calls: list[ToolCall] | None = None, usage=(10, 5)) -> LlmResponse:
    """A model answer for test cases."""
    return LlmResponse(
        text=text,
        tool_calls=tool_calls or [],
        usage=Usage(*usage),
        model=DEFAULT_MODEL,
        provider="openai",
        cost=0.0000375,
    )


def _scripted(*answers: str):
    """A mock llm_call answering each call with the next of answers (the first again when a case
    is run once more)."""
    calls = []

    def llm_call(context, **kwargs):
        calls.append(kwargs)
        return _usage_mock(answers[(len(calls) - 1) % len(answers)])

    return llm_call


# --- The model call every block makes -----------------------------------------------------------


class LlmBlock(Block):
    """Shared by the LLM blocks: which provider, which credential, one recorded model call."""

    categories = {BlockCategory.AI}

    def llm_call(
        self,
        context: BlockContext,
        *,
        model: str,
        credentials: CredentialsMeta | None,
        messages: list[dict],
        tools: list[dict] | None = None,
        response_format: dict | None = None,
        max_tokens: int | None = None,
        ollama_host: str | None = None,
        parallel_tool_calls: bool | None = None,
    ) -> LlmResponse:
        """Resolve the credential and ask the model. Test cases replace this method."""
        try:
            provider = model_get(model, credentials.provider if credentials and credentials.provider else None).provider
        except UnknownModel as exc:
            raise BlockError(str(exc)) from None
        try:
            credential = credential_resolve(
                user_id=context.user_id, credential_id=credentials.id if credentials else None, provider=provider
            )
        except CredentialNotConfigured:
            raise BlockError(not_configured_message(provider, model)) from None
        except CredentialError as exc:  # deleted since the graph was saved, or unreadable
            raise BlockError(str(exc)) from None
        host = (ollama_host or "").strip()
        override = host if provider == "ollama" and host and host != AUTOGPT_OLLAMA_HOST else None
        # The provider SDKs cost seconds to import: only a process that calls a model pays for it
        # (workers import it before forking), not every process that lists the blocks.
        from integrations.llm.client import llm_complete  # noqa: PLC0415

        return llm_complete(
            credential=credential,
            model=model,
            messages=messages,
            tools=tools,
            response_format=response_format,
            max_tokens=max_tokens,
            base_url_override=override,
            cancel_event=context.cancel_event,
            parallel_tool_calls=parallel_tool_calls,
        )

    def ask(self, context: BlockContext, **kwargs: Any) -> LlmResponse:
        """llm_call, with its usage recorded and its errors turned into the node's failure."""
        try:
            response = self.llm_call(context, **kwargs)
        except LlmCancelled:
            raise ExecutionCancelled() from None
        except LlmError as exc:
            raise BlockError(str(exc)) from None
        context.record_llm_usage(
            provider=response.provider,
            model=response.model or kwargs.get("model", ""),
            input_tokens=response.usage.input_tokens,
            output_tokens=response.usage.output_tokens,
            cost=response.cost,
        )
        return response

    def output_tag_id(self) -> str:
        """A one-time id for the `<json_output id=...>` tag, so the model's other text cannot collide."""
        return secrets.token_hex(8)

    def generate(
        self,
        context: BlockContext,
        *,
        prompt: str,
        model: str,
        credentials: CredentialsMeta | None,
        expected_format: dict[str, str] | None = None,
        list_result: bool = False,
        force_json_output: bool = False,
        sys_prompt: str = "",
        conversation_history: list[dict] | None = None,
        retry: int = 3,
        prompt_values: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        ollama_host: str | None = None,
    ) -> tuple[Any, list[dict]]:
        """AI Structured Response Generator's work, which the other blocks build on: returns the
        parsed answer (or {"response": text} without expected_format) and the messages sent last."""
        messages = [dict(message) for message in conversation_history or [] if message]
        prompt, sys_prompt = fill_prompt(prompt, prompt_values), fill_prompt(sys_prompt, prompt_values)
        if sys_prompt:
            messages.append({"role": "system", "content": sys_prompt})
        tag = f'<json_output id="{self.output_tag_id()}">'
        if expected_format:
            instructions = format_instructions(expected_format, list_result, force_json_output, tag)
            messages.append({"role": "system", "content": instructions})
        if prompt:
            messages.append({"role": "user", "content": prompt})
        if not any(message.get("content") for message in messages):
            raise BlockError("There is nothing to send to the model: the prompt and the messages are empty.")
        feedback = ""
        for _attempt in range(max(1, retry)):
            sent = list(messages)
            response = self.ask(
                context,
                model=model,
                credentials=credentials,
                messages=sent,
                response_format={"type": "json_object"} if force_json_output and expected_format else None,
                max_tokens=max_tokens,
                ollama_host=ollama_host,
            )
            if not expected_format:
                return {"response": response.text}, sent
            try:
                parsed = parse_json_answer(response.text, pure_json=force_json_output, tag=tag)
            except ValueError as exc:
                feedback = invalid_answer_feedback(exc, False, list_result, force_json_output, tag)
                messages += [{"role": "assistant", "content": response.text}, {"role": "user", "content": feedback}]
                continue
            if list_result and isinstance(parsed, dict):
                if isinstance(parsed.get("results"), list):
                    parsed = parsed["results"]
                else:
                    feedback = f"Expected an array of objects in the 'results' key, but got: {parsed}"
                    messages += [{"role": "assistant", "content": response.text}, {"role": "user", "content": feedback}]
                    continue
            items = parsed if isinstance(parsed, list) else [parsed]
            problems = [problem for item in items if (problem := missing_keys_problem(item, expected_format))]
            if not problems:
                return parsed, sent
            feedback = invalid_answer_feedback("\n".join(problems), True, list_result, force_json_output, tag)
            messages += [{"role": "assistant", "content": response.text}, {"role": "user", "content": feedback}]
        raise BlockError(
            f"The model's answer did not match the expected format after {max(1, retry)} tries: {feedback}"
        )


def not_configured_message(provider: str, model: str) -> str:
    title = PROVIDER_TITLES.get(provider, provider)
    if provider in SYSTEM_KEYS:
        how = f"add a {title} credential, or have the operator set {SYSTEM_KEYS[provider]}"
    elif provider == "local":
        how = "have the operator set LOCAL_LLM_BASE_URL (make run starts the embedded model)"
    elif provider == "ollama":
        how = "have the operator set OLLAMA_HOST"
    else:
        how = f"add a {title} credential with the server's host"
    return (
        f"No credentials for {title}, which serves the model '{model}': {how}. The platform can use "
        f"{', '.join(SYSTEM_KEYS.values())}, or OLLAMA_HOST / LOCAL_LLM_BASE_URL for a local model "
        f"(the embedded one is '{LOCAL_MODEL}', which make run serves when no key is set, unless LOCAL_LLM=off)."
    )


def format_instructions(expected_format: dict[str, str], list_mode: bool, pure_json: bool, tag: str) -> str:
    """AutoGPT's instructions for a JSON answer in the expected format."""
    shape = json.dumps(expected_format, indent=2)
    output_type = "array" if list_mode else "object"
    outer_type = "object" if pure_json else output_type
    if list_mode:
        shape = "[\n  " + shape.replace("\n", "\n  ") + ",\n  ...\n]"
        if pure_json:
            shape = '{\n  "reasoning": "... (optional)",\n  "results": ' + shape.replace("\n", "\n  ") + "\n}"
    shape = shape.replace("\n", "\n|")
    if not pure_json:
        shape = f"{tag}\n{shape}\n</json_output>"
    instructions = f"""
        |In your response you MUST include a valid JSON {outer_type} strictly following this format:
        |{shape}
        |
        |If you cannot provide all the keys, you MUST provide an empty string for the values you cannot answer.
    """
    if not pure_json:
        instructions += f"""
        |
        |You MUST enclose your final JSON answer in {tag}...</json_output> tags, even if the user specifies a different tag.
        |There MUST be exactly ONE {tag}...</json_output> block in your response, which MUST ONLY contain the JSON {outer_type} and nothing else. Other text outside this block is allowed.
        """  # noqa: E501
    return trim_prompt(instructions)


def invalid_answer_feedback(error: Any, parseable: bool, list_mode: bool, pure_json: bool, tag: str) -> str:
    outer_type = "object" if not list_mode or pure_json else "array"
    complaint = (
        f"Your previous response did not match the expected {outer_type} format."
        if parseable
        else f"Your previous response did not contain a parseable JSON {outer_type}."
    )
    ask = (f"Please provide a {tag}...</json_output> block containing a" if not pure_json else "Please provide a") + (
        f" valid JSON {outer_type} that matches the expected format."
    )
    return f"{complaint}\n\n{error}\n\n{ask}"


def parse_json_answer(text: str, *, pure_json: bool, tag: str) -> Any:
    """The JSON in a model's answer: the whole answer (or its outermost braces) in pure-JSON mode,
    else the content of the answer's tagged block. Raises ValueError."""
    if pure_json:
        try:
            return json.loads(text)
        except ValueError as first_error:
            start, end = text.find("{"), text.rfind("}")
            try:
                return json.loads(text[start : end + 1])
            except ValueError:
                raise first_error from None
    if tag not in text:
        raise ValueError(f"Response does not contain the expected {tag}...</json_output> block.")
    return json.loads(text.split(tag, 1)[1].rsplit("</json_output>", 1)[0].strip())


def missing_keys_problem(item: Any, expected_format: dict[str, str]) -> str | None:
    if not isinstance(item, dict):
        return f"Expected a dictionary, but got {type(item).__name__}"
    missing = sorted(set(expected_format) - set(item))
    return f"Missing keys: {missing}" if missing else None


# --- AI Structured Response Generator -------------------------------------------------------------


@register
class AIStructuredResponseGeneratorBlock(LlmBlock):
    """Asks a language model for a JSON answer with the keys of `expected_format` (each key's
    value describes what it should hold), or a list of such objects with `list_result`. The answer
    is parsed and its keys checked; a malformed answer is sent back to the model with what was
    wrong, up to `retry` tries."""

    id = "ed55ac19-356e-4243-a6cb-bc599e9b716f"
    name = "AI Structured Response Generator"

    class Input(BlockSchema):
        prompt: str = SchemaField(description="The prompt to send to the language model.")
        expected_format: dict[str, str] = SchemaField(
            description="The keys the answer must have, each with a description of its value."
        )
        list_result: bool = SchemaField(False, description="Whether the answer is a list of such objects.")
        model: str = ModelField()
        force_json_output: bool = SchemaField(
            False, description="Ask for pure JSON (the provider's JSON mode): more reliable, less reasoning."
        )
        credentials: CredentialsMeta | None = CredentialsField()
        sys_prompt: str = SchemaField("", description="The system prompt.")
        conversation_history: list[dict] | None = SchemaField(
            default_factory=list, description="Earlier messages, sent before the prompt."
        )
        retry: int = SchemaField(3, description="Tries when the answer does not match the expected format.")
        prompt_values: dict[str, Any] = SchemaField(
            default_factory=dict, description="Values for the {{name}} placeholders of the prompt."
        )
        max_tokens: int | None = MaxTokensField()
        compress_prompt_to_fit: bool = SchemaField(
            True, description="Accepted for AutoGPT's exports; prompts are sent whole.", advanced=True
        )
        ollama_host: str = OllamaHostField()

    class Output(BlockOutput):
        response: dict[str, Any] | list[dict[str, Any]] = SchemaField(description="The parsed answer.")
        prompt: list = SchemaField(description="The messages sent to the model.")

    test_cases = [
        BlockTestCase(
            {"prompt": "User prompt", "expected_format": {"key1": "value1", "key2": "value2"}},
            [("response", {"key1": "key1Value", "key2": "key2Value"}), ("prompt", lambda p: p[-1]["role"] == "user")],
            mocks={
                "llm_call": lambda context, **kw: _usage_mock(
                    '<json_output id="test123456">{"key1": "key1Value", "key2": "key2Value"}</json_output>'
                ),
                "output_tag_id": lambda: "test123456",
            },
        ),
        BlockTestCase(
            {
                "prompt": "Name {{n}} cities",
                "prompt_values": {"n": 2},
                "expected_format": {"city": "a city"},
                "list_result": True,
            },
            [("response", [{"city": "Paris"}, {"city": "Rome"}]), ("prompt", lambda p: len(p) == 4)],
            description="list_result: a wrong first answer is sent back, the second is accepted",
            mocks={
                "llm_call": _scripted(
                    '<json_output id="t">{"town": "Paris"}</json_output>',
                    '<json_output id="t">[{"city": "Paris"}, {"city": "Rome"}]</json_output>',
                ),
                "output_tag_id": lambda: "t",
            },
        ),
    ]

    def run(self, input_data, context):
        response, prompt = self.generate(
            context,
            prompt=input_data.prompt,
            model=input_data.model,
            credentials=input_data.credentials,
            expected_format=input_data.expected_format,
            list_result=input_data.list_result,
            force_json_output=input_data.force_json_output,
            sys_prompt=input_data.sys_prompt,
            conversation_history=input_data.conversation_history,
            retry=input_data.retry,
            prompt_values=input_data.prompt_values,
            max_tokens=input_data.max_tokens,
            ollama_host=input_data.ollama_host,
        )
        yield "response", response
        yield "prompt", prompt


# --- AI Text Generator ---------------------------------------------------------------------------------


@register
class AITextGeneratorBlock(LlmBlock):
    """Sends a prompt (and an optional system prompt) to a language model and yields its answer
    as text. `{{name}}` placeholders in the prompts are filled from `prompt_values`."""

    id = "1f292d4a-41a4-4977-9684-7c8d560b9f91"
    name = "AI Text Generator"

    class Input(BlockSchema):
        prompt: str = SchemaField(description="The prompt; {{name}} placeholders are filled from prompt_values.")
        model: str = ModelField()
        credentials: CredentialsMeta | None = CredentialsField()
        sys_prompt: str = SchemaField("", description="The system prompt.")
        retry: int = SchemaField(3, description="Tries (kept for AutoGPT's exports; a text answer needs one).")
        prompt_values: dict[str, Any] = SchemaField(
            default_factory=dict, description="Values for the {{name}} placeholders of the prompts."
        )
        ollama_host: str = OllamaHostField()
        max_tokens: int | None = MaxTokensField()

    class Output(BlockOutput):
        response: str = SchemaField(description="The model's answer.")
        prompt: list = SchemaField(description="The messages sent to the model.")

    test_cases = [
        BlockTestCase(
            {
                "prompt": "Say hi to {{ name }}",
                "sys_prompt": "Be {{tone}}",
                "prompt_values": {"name": "Ada", "tone": "brief"},
            },
            [
                ("response", "Hi Ada"),
                (
                    "prompt",
                    [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Say hi to Ada"}],
                ),
            ],
            mocks={"llm_call": lambda context, **kw: _usage_mock("Hi Ada")},
        ),
    ]

    def run(self, input_data, context):
        response, prompt = self.generate(
            context,
            prompt=input_data.prompt,
            model=input_data.model,
            credentials=input_data.credentials,
            sys_prompt=input_data.sys_prompt,
            retry=input_data.retry,
            prompt_values=input_data.prompt_values,
            max_tokens=input_data.max_tokens,
            ollama_host=input_data.ollama_host,
        )
        yield "response", response["response"]
        yield "prompt", prompt


# --- AI Text Summarizer --------------------------------------------------------------------------------


class SummaryStyle(StrEnum):
    CONCISE = "concise"
    DETAILED = "detailed"
    BULLET_POINTS = "bullet points"
    NUMBERED_LIST = "numbered list"


MAX_SUMMARY_TEXT_CHARS = 1_000_000
MAX_SUMMARY_CHUNKS = 100
MAX_SUMMARY_DEPTH = 5


def split_text(text: str, max_tokens: int, overlap: int) -> list[str]:
    """Chunks of at most max_tokens words, each starting `overlap` words before the previous one
    ended (AutoGPT counts words as tokens). At most MAX_SUMMARY_CHUNKS chunks."""
    words = text[:MAX_SUMMARY_TEXT_CHARS].split()
    overlap = min(overlap, max(0, max_tokens - 1))
    step = max(1, max_tokens - overlap)
    chunks: list[str] = []
    for start in range(0, len(words), step):
        if len(chunks) >= MAX_SUMMARY_CHUNKS:
            break
        chunks.append(" ".join(words[start : start + max_tokens]))
        if start + max_tokens >= len(words):
            break
    return chunks


@register
class AITextSummarizerBlock(LlmBlock):
    """Summarizes a long text with a language model: the text is cut into chunks of `max_tokens`
    words overlapping by `chunk_overlap`, each chunk is summarized, and the summaries are combined
    into one (summarized again while they are still too long)."""

    id = "a0a69be1-4528-491c-a85a-a4ab6873e3f0"
    name = "AI Text Summarizer"
    categories = {BlockCategory.AI, BlockCategory.TEXT}

    class Input(BlockSchema):
        text: str = SchemaField(description="The text to summarize.")
        model: str = ModelField()
        focus: str = SchemaField("general information", description="The topic to focus the summary on.")
        style: SummaryStyle = SchemaField(SummaryStyle.CONCISE, description="The style of the summary.")
        credentials: CredentialsMeta | None = CredentialsField()
        max_tokens: int = SchemaField(4096, ge=1, description="The size of a chunk, in tokens (words).")
        chunk_overlap: int = SchemaField(100, ge=0, description="Tokens (words) shared by consecutive chunks.")
        ollama_host: str = OllamaHostField()

    class Output(BlockOutput):
        summary: str = SchemaField(description="The summary.")
        prompt: list = SchemaField(description="The messages sent to the model last.")

    test_cases = [
        BlockTestCase(
            {"text": "Lorem ipsum dolor sit amet. " * 30, "max_tokens": 100, "chunk_overlap": 10},
            [("summary", "Final summary of a long text"), ("prompt", list)],
            mocks={
                "generate": lambda context, **kw: (
                    {"final_summary": "Final summary of a long text"}
                    if "final_summary" in kw["expected_format"]
                    else {"summary": "Summary of a chunk"},
                    [{"role": "user", "content": kw["prompt"]}],
                )
            },
        ),
    ]

    def run(self, input_data, context):
        summary, prompt = self._summarize(input_data.text, input_data, context, depth=1)
        yield "summary", summary
        yield "prompt", prompt

    def _summarize(self, text: str, input_data, context, depth: int) -> tuple[str, list]:
        style = SummaryStyle(input_data.style).value
        summaries = []
        for chunk in split_text(text, input_data.max_tokens, input_data.chunk_overlap):
            prompt = (
                f"Summarize the following text in a {style} form. Focus your summary on the topic of "
                f"`{input_data.focus}` if present, otherwise just provide a general summary:\n\n```{chunk}```"
            )
            answer, _ = self._ask_for(context, input_data, prompt, {"summary": "The summary of the given text."})
            summaries.append(self._text(answer, "summary"))
        combined = "\n\n".join(summaries)
        if len(combined.split()) > input_data.max_tokens and depth < MAX_SUMMARY_DEPTH:
            return self._summarize(combined, input_data, context, depth + 1)
        prompt = (
            f"Provide a final summary of the following section summaries in a {style} form, focus your "
            f"summary on the topic of `{input_data.focus}` if present:\n\n ```{combined}```\n\n Just respond "
            "with the final_summary in the format specified."
        )
        expected = {"final_summary": "The final summary of all provided summaries."}
        answer, sent = self._ask_for(context, input_data, prompt, expected)
        return self._text(answer, "final_summary"), sent

    def _ask_for(self, context, input_data, prompt: str, expected_format: dict[str, str]):
        return self.generate(
            context,
            prompt=prompt,
            model=input_data.model,
            credentials=input_data.credentials,
            expected_format=expected_format,
            ollama_host=input_data.ollama_host,
        )

    @staticmethod
    def _text(answer: dict, key: str) -> str:
        value = answer[key]
        if not isinstance(value, str):
            raise BlockError(f"The model answered a {type(value).__name__} where a text {key} was expected.")
        return value


# --- AI Conversation -------------------------------------------------------------------------------------


@register
class AIConversationBlock(LlmBlock):
    """Continues a conversation: sends the `messages` (each `{role, content}`) and an optional
    new `prompt` to a language model and yields its answer."""

    id = "32a87eab-381e-4dd4-bdb8-4c47151be35a"
    name = "AI Conversation"

    class Input(BlockSchema):
        prompt: str = SchemaField("", description="A new user message, after the conversation.")
        messages: list[Any] = SchemaField(description="The conversation: messages with a role and a content.")
        model: str = ModelField()
        credentials: CredentialsMeta | None = CredentialsField()
        max_tokens: int | None = MaxTokensField()
        ollama_host: str = OllamaHostField()

    class Output(BlockOutput):
        response: str = SchemaField(description="The model's answer.")
        prompt: list = SchemaField(description="The messages sent to the model.")

    test_cases = [
        BlockTestCase(
            {
                "messages": [
                    {"role": "system", "content": "You are a helpful assistant."},
                    {"role": "user", "content": "Who won the world series in 2020?"},
                    {"role": "assistant", "content": "The Los Angeles Dodgers won the World Series in 2020."},
                    {"role": "user", "content": "Where was it played?"},
                ]
            },
            [
                ("response", "The 2020 World Series was played at Globe Life Field in Arlington, Texas."),
                ("prompt", lambda p: len(p) == 4),
            ],
            mocks={
                "llm_call": lambda context, **kw: _usage_mock(
                    "The 2020 World Series was played at Globe Life Field in Arlington, Texas."
                )
            },
        ),
        BlockTestCase(
            {"messages": [], "prompt": "  "},
            [("error", "Cannot call the model with no messages and no prompt: give at least one of them.")],
        ),
    ]

    def run(self, input_data, context):
        has_messages = any(
            isinstance(m, dict) and isinstance(m.get("content"), str) and m["content"].strip()
            for m in input_data.messages or []
        )
        if not has_messages and not input_data.prompt.strip():
            yield "error", "Cannot call the model with no messages and no prompt: give at least one of them."
            return
        response, prompt = self.generate(
            context,
            prompt=input_data.prompt,
            model=input_data.model,
            credentials=input_data.credentials,
            conversation_history=[m for m in input_data.messages if isinstance(m, dict)],
            max_tokens=input_data.max_tokens,
            ollama_host=input_data.ollama_host,
        )
        yield "response", response["response"]
        yield "prompt", prompt


# --- AI List Generator -------------------------------------------------------------------------------------


LIST_SYSTEM_PROMPT = trim_prompt("""
    |You are a JSON array generator. Your task is to generate a JSON array of string values based on the user's prompt.
    |
    |The 'list' field should contain a JSON array with the generated string values.
    |The array can contain ONLY strings.
    |
    |Valid JSON array formats include:
    |• ["string1", "string2", "string3"]
    |
    |Ensure you provide a proper JSON array with only string values in the 'list' field.
""")


@register
class AIListGeneratorBlock(LlmBlock):
    """Has a language model write a list (of texts) about a `focus`, from `source_data` when
    given, and yields the whole list, then each item on its own."""

    id = "9c0b0450-d199-458b-a731-072189dd6593"
    name = "AI List Generator"
    categories = {BlockCategory.AI, BlockCategory.TEXT}

    class Input(BlockSchema):
        focus: str | None = SchemaField(None, description="What the list is about.")
        source_data: str | None = SchemaField(None, description="The data to make the list from.")
        model: str = ModelField()
        credentials: CredentialsMeta | None = CredentialsField()
        max_retries: int = SchemaField(3, ge=1, le=5, description="Tries when the answer is not a valid list.")
        force_json_output: bool = SchemaField(False, description="Ask for pure JSON (the provider's JSON mode).")
        max_tokens: int | None = MaxTokensField()
        ollama_host: str = OllamaHostField()

    class Output(BlockOutput):
        generated_list: list[str] = SchemaField(description="The list.")
        list_item: str = SchemaField(description="Each item of the list, one at a time.")
        prompt: list = SchemaField(description="The messages sent to the model.")

    test_cases = [
        BlockTestCase(
            {"focus": "planets", "source_data": "Zylora Prime and Kharon-9 are planets."},
            [
                ("generated_list", ["Zylora Prime", "Kharon-9"]),
                ("prompt", lambda p: p[0] == {"role": "system", "content": LIST_SYSTEM_PROMPT}),
                ("list_item", "Zylora Prime"),
                ("list_item", "Kharon-9"),
            ],
            mocks={
                "llm_call": lambda context, **kw: _usage_mock(
                    '<json_output id="t">{"list": ["Zylora Prime", "Kharon-9"]}</json_output>'
                ),
                "output_tag_id": lambda: "t",
            },
        ),
    ]

    def run(self, input_data, context):
        expected_format = {"list": "A JSON array containing the generated string values"}
        if input_data.force_json_output:
            expected_format = {"reasoning": "... (optional)", **expected_format}
        if input_data.focus:
            prompt = f"Generate a list with the following focus:\n<focus>\n\n{input_data.focus}</focus>"
        elif input_data.source_data:
            prompt = (
                "Extract the main focus of the source data to a list.\ni.e if the source data is a news website, "
                "the focus would be the news stories rather than the social links in the footer."
            )
        else:
            prompt = "Generate a random list."
        if input_data.source_data:
            prompt += (
                "\n\nUse the following source data to generate the list from:\n\n<source_data>\n\n"
                f"{input_data.source_data}</source_data>\n\nDo not invent fictional data that is not present in "
                "the source data."
            )
        else:
            prompt += "\n\nInvent the data to generate the list from."
        answer, sent = self.generate(
            context,
            prompt=prompt,
            sys_prompt=LIST_SYSTEM_PROMPT,
            model=input_data.model,
            credentials=input_data.credentials,
            expected_format=expected_format,
            force_json_output=input_data.force_json_output,
            retry=input_data.max_retries,
            max_tokens=input_data.max_tokens,
            ollama_host=input_data.ollama_host,
        )
        items = answer.get("list") if isinstance(answer, dict) and "list" in answer else answer
        if not isinstance(items, list):
            raise BlockError(f"Expected a list, but the model answered a {type(items).__name__}: {items}")
        items = [item if isinstance(item, str) else _as_text(item) for item in items]
        yield "generated_list", items
        yield "prompt", sent
        for item in items:
            yield "list_item", item


# --- Smart Decision Maker ----------------------------------------------------------------------------------


def _tool_calls_of(message: dict) -> list[str]:
    """Ids of the tool calls an assistant message makes (OpenAI's or Anthropic's shape)."""
    if message.get("role") != "assistant":
        return []
    ids = [call.get("id") for call in message.get("tool_calls") or [] if isinstance(call, dict) and call.get("id")]
    content = message.get("content")
    if isinstance(content, list):
        ids += [part.get("id") for part in content if isinstance(part, dict) and part.get("type") == "tool_use"]
    return [call_id for call_id in ids if call_id]


def _tool_results_of(message: dict) -> list[str]:
    """Ids of the tool calls a message answers (OpenAI's or Anthropic's shape)."""
    if message.get("role") == "tool" and message.get("tool_call_id"):
        return [str(message["tool_call_id"])]
    content = message.get("content")
    if message.get("role") == "user" and isinstance(content, list):
        return [
            str(part["tool_use_id"])
            for part in content
            if isinstance(part, dict) and part.get("type") == "tool_result" and part.get("tool_use_id")
        ]
    return []


def pending_tool_calls(conversation: list[Any]) -> dict[str, int]:
    """Tool calls of the conversation that no message has answered yet, in order."""
    pending: Counter = Counter()
    for message in conversation or []:
        if not isinstance(message, dict):
            continue
        for call_id in _tool_calls_of(message):
            pending[call_id] += 1
        for call_id in _tool_results_of(message):
            pending[call_id] -= 1
    return {call_id: count for call_id, count in pending.items() if count > 0}


def _conversation_finished(conversation: list[Any]) -> bool:
    last = conversation[-1] if conversation else None
    return isinstance(last, dict) and last.get("role") == "assistant" and not _tool_calls_of(last)


def cleanup(name: str) -> str:
    """A tool or argument name models accept: letters, digits, _ and -, lower case."""
    return re.sub(r"[^a-zA-Z0-9_-]", "_", name).lower()


def _inline_refs(schema: Any, defs: dict[str, Any], depth: int = 0) -> Any:
    """The schema with `$ref`s to `$defs` replaced by what they name (models want them inline)."""
    if depth > 20:
        return {}
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = defs.get(ref.removeprefix("#/$defs/"), {})
            return _inline_refs({**target, **{k: v for k, v in schema.items() if k != "$ref"}}, defs, depth + 1)
        return {
            key: _inline_refs(value, defs, depth + 1)
            for key, value in schema.items()
            if key not in ("advanced", "secret", "$defs")
        }
    if isinstance(schema, list):
        return [_inline_refs(item, defs, depth + 1) for item in schema]
    return schema


@dataclass
class Tool:
    """A function the model may call: the block a node's tool links lead to, and, per argument,
    the pins a call's value is yielded on."""

    function: dict[str, Any]
    pins: dict[str, list[str]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.function["function"]["name"]

    @property
    def parameters(self) -> dict[str, Any]:
        return self.function["function"]["parameters"]


def build_tools(tool_sinks: list[ToolSink]) -> list[Tool]:
    """One function per node the tool links lead to, named as the links name it
    (`tools_^_{tool}_~_{arg}`), its parameters the linked input pins with their JSON Schema."""
    by_node: dict[str, list[ToolSink]] = {}
    for sink in tool_sinks:
        by_node.setdefault(sink.sink_node_id, []).append(sink)
    tools: list[Tool] = []
    for node_id, sinks in by_node.items():
        block = get_block(sinks[0].sink_block_id)
        defaults = sinks[0].sink_input_default or {}
        agent_schema = defaults.get("input_schema") if block is not None and block.dynamic_input_pins else None
        parsed = parse_tool_pin(sinks[0].source_name)
        fallback = defaults.get("agent_name") or (block.name if block else "tool")
        name = parsed[0] if parsed else cleanup(fallback)
        unique, number = name, 2
        while unique in {tool.name for tool in tools}:
            unique, number = f"{name}_{number}", number + 1
        if block is not None and not agent_schema:
            schema = block.Input.model_json_schema()
            description = block.description()
        else:
            schema = agent_schema if isinstance(agent_schema, dict) else {}
            description = schema.get("description") or f"Runs the agent {fallback}."
        properties_in, required_in = schema.get("properties", {}), set(schema.get("required", []))
        tool = Tool(function={})
        properties: dict[str, Any] = {}
        required: set[str] = set()
        for sink in sinks:
            parsed_sink = parse_tool_pin(sink.source_name)
            arg = parsed_sink[1] if parsed_sink else cleanup(sink.sink_pin)
            # A link named after a tool that another node also claims reaches its node by id.
            pin = sink.source_name if parsed_sink and unique == name else tool_pin(node_id, sink.sink_pin)
            tool.pins.setdefault(arg, []).append(pin)
            pin_base = base_pin(sink.sink_pin)
            if sink.sink_pin in properties_in:
                properties[arg] = _inline_refs(properties_in[sink.sink_pin], schema.get("$defs", {}))
            else:
                properties[arg] = {"type": "string", "description": f"Value for {sink.sink_pin}"}
            if pin_base in required_in:
                required.add(arg)
        tool.function = {
            "type": "function",
            "function": {
                "name": unique,
                "description": description,
                "parameters": {
                    "type": "object",
                    "properties": properties,
                    "required": sorted(required),
                    "additionalProperties": False,
                },
            },
        }
        tools.append(tool)
    return tools


def tool_call_problems(calls: list[ToolCall], tools: list[Tool]) -> list[str]:
    by_name = {tool.name: tool for tool in tools}
    problems = []
    for call in calls:
        tool = by_name.get(call.name) or (tools[0] if len(tools) == 1 else None)
        if tool is None:
            problems.append(f"There is no tool named '{call.name}'; the tools are {sorted(by_name)}.")
            continue
        if call.raw_arguments and not call.arguments and call.raw_arguments.strip() not in ("", "{}"):
            problems.append(f"Tool call '{call.name}' has arguments that are not a JSON object.")
            continue
        expected = set(tool.parameters["properties"])
        unexpected = sorted(set(call.arguments) - expected)
        missing = sorted(set(tool.parameters["required"]) - set(call.arguments))
        if unexpected or missing:
            problem = f"Tool call '{call.name}' has parameter errors:"
            if unexpected:
                problem += f" Unknown parameters: {unexpected}."
            if missing:
                problem += f" Missing required parameters: {missing}."
            problems.append(problem + f" Expected parameters: {sorted(expected)}.")
    return problems


SDM_SYSTEM_PROMPT = (
    "Thinking carefully step by step decide which function to call. "
    "Always choose a function call from the list of function signatures, "
    "and always provide the complete argument provided with the type "
    "matching the required jsonschema signature, no missing argument is allowed. "
    "If you have already completed the task objective, you can end the task "
    "by providing the end result of your work as a finish message. "
    "Function parameters that has no default value and not optional typed has to be provided. "
)
OBJECTIVE_PREFIX = "[Main Objective Prompt]: "


def _calculator_sinks() -> list[ToolSink]:
    calculator = "b1ab9b19-67a6-406d-abf5-2dba76d00c79"
    return [ToolSink(f"tools_^_calculator_~_{pin}", "calc-node", calculator, pin) for pin in ("operation", "a", "b")]


@register
class SmartDecisionMakerBlock(LlmBlock):
    """Lets a language model decide which tool to use. The tools are the blocks its
    `tools_^_{tool}_~_{arg}` pins are linked to (their linked input pins are the function's
    parameters); a call's arguments are yielded on those pins, the tool's result comes back on
    `last_tool_output` with the conversation on `conversation_history`, and `finished` carries the
    model's answer once it calls no more tools."""

    id = "3b191d9f-356f-482d-8238-ba04b6d18381"
    name = "Smart Decision Maker"
    dynamic_output_pins = False
    optional_linked_pins = frozenset({"conversation_history", "last_tool_output"})

    class Input(BlockSchema):
        prompt: str = SchemaField(description="The objective: what the model should get done with its tools.")
        model: str = ModelField()
        credentials: CredentialsMeta | None = CredentialsField()
        multiple_tool_calls: bool = SchemaField(
            False, description="Whether the model may call several tools in one answer.", advanced=True
        )
        sys_prompt: str = SchemaField(SDM_SYSTEM_PROMPT, description="The system prompt.")
        conversation_history: list[dict] = SchemaField(
            default_factory=list, description="The conversation so far (link `conversations` back here)."
        )
        last_tool_output: Any = SchemaField(None, description="The output of the tool called last.")
        retry: int = SchemaField(3, description="Tries when the model's tool calls are malformed.")
        prompt_values: dict[str, Any] = SchemaField(
            default_factory=dict, description="Values for the {{name}} placeholders of the prompts."
        )
        max_tokens: int | None = MaxTokensField()
        ollama_host: str = OllamaHostField()

    class Output(BlockOutput):
        tools: Any = SchemaField(description="The tool calls' arguments, on `tools_^_{tool}_~_{arg}`.")
        finished: str = SchemaField(description="The model's answer when it calls no more tools.")
        conversations: list[Any] = SchemaField(description="The conversation, to link back to conversation_history.")

    test_cases = [
        BlockTestCase(
            {"prompt": "What is 2 + 3?"},
            [
                ("conversations", lambda c: c[-1]["tool_calls"][0]["function"]["name"] == "calculator"),
                ("tools_^_calculator_~_operation", "Add"),
                ("tools_^_calculator_~_a", 2),
                ("tools_^_calculator_~_b", 3),
            ],
            description="a tool call: its arguments on the tool pins",
            context={"tool_sinks": _calculator_sinks()},
            mocks={
                "llm_call": lambda context, **kw: _usage_mock(
                    tool_calls=[ToolCall("call_1", "calculator", {"operation": "Add", "a": 2, "b": 3})]
                )
            },
        ),
        BlockTestCase(
            {
                "prompt": "What is 2 + 3?",
                "conversation_history": [
                    {"role": "user", "content": "[Main Objective Prompt]: What is 2 + 3?"},
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {"id": "call_1", "type": "function", "function": {"name": "calculator", "arguments": "{}"}}
                        ],
                    },
                ],
                "last_tool_output": 5,
            },
            [
                ("finished", "2 + 3 = 5"),
                ("conversations", lambda c: c[2] == {"role": "tool", "tool_call_id": "call_1", "content": "5"}),
            ],
            description="the tool's output answered, the model finishes",
            context={"tool_sinks": _calculator_sinks()},
            mocks={"llm_call": lambda context, **kw: _usage_mock("2 + 3 = 5")},
        ),
        BlockTestCase(
            {"prompt": "What is 2 + 3?"},
            [("error", "Smart Decision Maker has no tools: link its tools pins to the blocks the model may call.")],
            description="no tool links",
        ),
    ]

    @classmethod
    def missing_inputs(cls, input_data: dict[str, Any], linked_pins: set[str]) -> set[str]:
        history = input_data.get("conversation_history") or []
        pending = pending_tool_calls(history)
        has_output = input_data.get("last_tool_output") is not None
        loop_linked = "conversation_history" in linked_pins
        if pending and not has_output:
            return {"last_tool_output"}  # a tool is running: wait for its output
        if has_output and not pending and loop_linked:
            return {"conversation_history"}  # the output came before the conversation
        if not has_output and not pending and loop_linked and _conversation_finished(history):
            return {"last_tool_output"}  # the model has answered: the loop is over
        return set()

    def run(self, input_data, context):
        tools = build_tools(context.tool_sinks)
        if not tools:
            yield "error", "Smart Decision Maker has no tools: link its tools pins to the blocks the model may call."
            return
        conversation = [dict(message) for message in input_data.conversation_history or [] if message]
        if self._add_tool_output(conversation, input_data.last_tool_output):
            yield "conversations", conversation  # more calls of the last answer are still running
            return
        self._add_objective(conversation, input_data)
        response = self._ask_for_calls(context, input_data, conversation, tools)
        calls = response.tool_calls if input_data.multiple_tool_calls else response.tool_calls[:1]
        response.tool_calls = calls
        conversation.append(response.assistant_message())
        if not calls:
            yield "finished", response.text
            yield "conversations", conversation
            return
        yield "conversations", conversation
        by_name = {tool.name: tool for tool in tools}
        for call in calls:
            tool = by_name.get(call.name) or tools[0]
            for arg, pins in tool.pins.items():
                for pin in pins:
                    yield pin, call.arguments.get(arg)

    @staticmethod
    def _add_tool_output(conversation: list[dict], output: Any) -> bool:
        """Put the last tool's output into the conversation, answering the oldest open call (outputs
        come back one at a time). True when calls are still open after it."""
        pending = pending_tool_calls(conversation)
        if pending and output is None:
            raise BlockError(f"The tool calls {sorted(pending)} have no output yet (last_tool_output).")
        if pending:
            conversation.append({"role": "tool", "tool_call_id": next(iter(pending)), "content": _as_text(output)})
            return bool(pending_tool_calls(conversation))
        if output is not None:
            conversation.append({"role": "user", "content": f"Last tool output: {_as_text(output)}"})
        return False

    @staticmethod
    def _add_objective(conversation: list[dict], input_data) -> None:
        """The system prompt and the prompt, marked, unless the conversation has them already."""
        sys_prompt = input_data.sys_prompt + (
            "\nYou can call a tool (different tools) multiple times in a single response."
            if input_data.multiple_tool_calls
            else "\nOnly provide EXACTLY one function call, multiple tool calls is strictly prohibited."
        )
        for role, text in (
            ("system", fill_prompt(sys_prompt, input_data.prompt_values)),
            ("user", fill_prompt(input_data.prompt, input_data.prompt_values)),
        ):
            has_it = any(
                m.get("role") == role
                and isinstance(m.get("content"), str)
                and m["content"].startswith(OBJECTIVE_PREFIX)
                for m in conversation
            )
            if text and not has_it:
                conversation.append({"role": role, "content": OBJECTIVE_PREFIX + text})

    def _ask_for_calls(self, context, input_data, conversation: list[dict], tools: list[Tool]) -> LlmResponse:
        """The model's answer; malformed tool calls are sent back with what was wrong, `retry` tries."""
        messages, problems = list(conversation), []
        for _attempt in range(max(1, input_data.retry)):
            response = self.ask(
                context,
                model=input_data.model,
                credentials=input_data.credentials,
                messages=messages,
                tools=[tool.function for tool in tools],
                max_tokens=input_data.max_tokens,
                ollama_host=input_data.ollama_host,
                parallel_tool_calls=input_data.multiple_tool_calls,
            )
            problems = tool_call_problems(response.tool_calls, tools)
            if not problems:
                return response
            feedback = (
                "Your tool call had parameter errors. Please fix the following issues and try again:\n- "
                + "\n- ".join(problems)
                + "\n\nPlease make sure to use the exact parameter names as specified in the function schema."
            )
            messages = [*messages, {"role": "user", "content": feedback}]
        raise BlockError("The model's tool calls stayed malformed: " + " ".join(problems))
