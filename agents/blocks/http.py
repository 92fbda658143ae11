"""Send Web Request: HTTP through the platform's SSRF-safe client (autogpt_platform/safe_http.py)."""

import json
from enum import StrEnum
from typing import Any

from autogpt_platform import safe_http

from .base import Block, BlockCategory, BlockOutput, BlockSchema, BlockTestCase, SchemaField
from .registry import register


class HttpMethod(StrEnum):
    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    DELETE = "DELETE"
    PATCH = "PATCH"
    OPTIONS = "OPTIONS"
    HEAD = "HEAD"


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _refused(message: Any) -> bool:
    return isinstance(message, str) and "refused" in message


@register
class SendWebRequestBlock(Block):
    """Sends an HTTP request and outputs the answer: parsed as JSON when `json_format` is on and it
    parses, else as text; on `response` for a 2xx status, `client_error` for 4xx and `server_error`
    for 5xx. Requests to private, loopback and other internal addresses are refused."""

    id = "6595ae1f-b924-42cb-9a41-551a0611c4b4"
    name = "Send Web Request"
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        url: str = SchemaField(description="The URL to send the request to (http or https).")
        method: HttpMethod = SchemaField(HttpMethod.POST, description="The HTTP method to use.")
        headers: dict[str, str] = SchemaField(default_factory=dict, description="The headers to send.")
        json_format: bool = SchemaField(True, description="Send the body as JSON and parse the answer as JSON.")
        body: Any = SchemaField(None, description="The body of the request.")

    class Output(BlockOutput):
        response: Any = SchemaField(description="The answer, for a 2xx status.")
        client_error: Any = SchemaField(description="The answer, for a 4xx status.")
        server_error: Any = SchemaField(description="The answer, for a 5xx status.")

    test_cases = [
        BlockTestCase({"url": "http://127.0.0.1/", "method": "GET"}, [("error", _refused)], "loopback"),
        BlockTestCase({"url": "http://169.254.169.254/latest/meta-data"}, [("error", _refused)], "cloud metadata"),
        BlockTestCase({"url": "file:///etc/passwd", "method": "GET"}, [("error", _refused)], "not http"),
        BlockTestCase({"url": "http://[::ffff:127.0.0.1]/", "body": {"a": 1}}, [("error", _refused)], "IPv4-mapped"),
    ]

    def run(self, input_data, context):
        headers = dict(input_data.headers)
        body = input_data.body
        if body is not None:
            if input_data.json_format and (not isinstance(body, str) or _is_json(body)):
                content_type = "application/json"
            else:
                content_type = "text/plain; charset=utf-8"
            if not isinstance(body, str):
                body = json.dumps(body, default=str)
            if not any(name.lower() == "content-type" for name in headers):
                headers["Content-Type"] = content_type

        try:
            answer = safe_http.request(input_data.method.value, input_data.url, headers=headers, body=body)
        except safe_http.SafeHttpError as exc:
            yield "error", str(exc)
            return

        result: Any = answer.text()
        if input_data.json_format and answer.content.strip():
            try:
                result = answer.json()
            except ValueError:
                pass
        if 200 <= answer.status < 300:
            yield "response", result
        elif 400 <= answer.status < 500:
            yield "client_error", result
        elif 500 <= answer.status < 600:
            yield "server_error", result
        else:
            yield "error", f"Unexpected status {answer.status} {answer.reason} from {input_data.url}."
