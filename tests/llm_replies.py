"""The LLM stand-in as tests use it: the settings that point a platform process at it, and
responders that answer the LLM blocks as a model would (JSON inside the `<json_output id=...>`
tag the block asked for, chosen by what the prompt asks)."""

import json
import re
from collections.abc import Callable

from tests.stand_ins.llm import RecordedRequest, Text, last_user_text, text_of

# The operator's keys the worker gets, as OPENAI_API_KEY etc. would be set in production.
SYSTEM_OPENAI_KEY = "sk-system-openai-0123456789"
SYSTEM_ANTHROPIC_KEY = "sk-ant-system-0123456789"


def llm_env(stand_in) -> dict[str, str]:
    """The LLM settings of a platform process that talks to the stand-in."""
    return {
        "OPENAI_BASE_URL": stand_in.openai_base_url,
        "OPENAI_API_KEY": SYSTEM_OPENAI_KEY,
        "ANTHROPIC_BASE_URL": stand_in.anthropic_base_url,
        "ANTHROPIC_API_KEY": SYSTEM_ANTHROPIC_KEY,
        "OLLAMA_HOST": stand_in.url,
        "LOCAL_LLM_BASE_URL": stand_in.url,
        "LLM_TIMEOUT_SECONDS": "3",
        "LLM_MAX_RETRIES": "2",
    }


TAG = re.compile(r'<json_output id="([0-9a-f]+)">')


def asked_tag(request: RecordedRequest) -> str | None:
    body = request.json or {}
    texts = [text_of(m.get("content")) for m in body.get("messages") or []] + [str(body.get("system") or "")]
    for text in texts:
        if found := TAG.search(text):
            return found[1]
    return None


def tagged(tag: str, answer) -> Text:
    return Text(f'Here it is.\n<json_output id="{tag}">{json.dumps(answer)}</json_output>', usage=(100, 20))


def block_responder(answer_for: Callable[[str], object] | None = None) -> Callable[[RecordedRequest], Text]:
    """Answers every LLM block: a summary for a summarizer's chunk, a final summary, a list for the
    list generator, answer_for(prompt) (a dict) for other structured requests, and plain text for
    text requests (`answer: <prompt>`)."""

    def respond(request: RecordedRequest) -> Text:
        prompt = last_user_text(request)
        tag = asked_tag(request)
        if tag is None:
            return Text(f"answer: {prompt}", usage=(50, 10))
        if "final summary" in prompt:
            return tagged(tag, {"final_summary": "All of it, briefly."})
        if prompt.startswith("Summarize the following text"):
            return tagged(tag, {"summary": f"A part of {len(prompt.split())} words."})
        if prompt.startswith(("Generate a list", "Extract the main focus", "Generate a random list")):
            return tagged(tag, {"list": ["Mercury", "Venus", "Earth"]})
        return tagged(tag, answer_for(prompt) if answer_for else {})

    return respond
