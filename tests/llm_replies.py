"""Responders for the LLM stand-in that answer the LLM blocks as a model would: JSON inside the
`<json_output id=...>` tag the block asked for, chosen by what the prompt asks."""

import json
import re
from collections.abc import Callable

from tests.stand_ins.llm import RecordedRequest, Text, last_user_text, text_of

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
