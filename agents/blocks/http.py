"""Send Web Request and Send Authenticated Web Request: HTTP through the platform's SSRF-safe client
(autogpt_platform/safe_http.py); the authenticated one adds the headers of an `http` host_scoped
credential, only on requests to that credential's host."""

import ipaddress
import json
from collections.abc import Collection
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from autogpt_platform import safe_http

from .base import Block, BlockCategory, BlockOutput, BlockSchema, BlockTestCase, SchemaField
from .credentials import TEST_CREDENTIAL_ID, CredentialsField, CredentialsMeta, IntegrationBlock, mock_credential
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
        yield from self.send(input_data, dict(input_data.headers))

    def send(self, input_data, headers: dict[str, str], sensitive_headers: Collection[str] = ()):
        """Send the request with `headers`; `sensitive_headers` are dropped, as Authorization is,
        on a redirect to another origin."""
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
            answer = safe_http.request(
                input_data.method.value,
                input_data.url,
                headers=headers,
                body=body,
                sensitive_headers=sensitive_headers,
            )
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


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _normal_host(host: str) -> str:
    host = host.strip("[]").rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def host_matches(credential_host: str, url: str) -> bool:
    """Whether a host_scoped credential (`host` or `host:port`) is for this URL: the same host,
    and the credential's port, or without one a default port (80, 443), as AutoGPT matches them."""
    try:
        parts, scope = urlsplit(url.strip()), urlsplit("//" + credential_host)
        port, scope_port = parts.port, scope.port
    except ValueError:
        return False
    if not parts.hostname or not scope.hostname or parts.scheme.lower() not in _DEFAULT_PORTS:
        return False
    port = port if port is not None else _DEFAULT_PORTS[parts.scheme.lower()]
    if scope_port is not None and port != scope_port:
        return False
    if scope_port is None and port not in (80, 443):
        return False
    return _normal_host(parts.hostname) == _normal_host(scope.hostname)


def _echo_headers(*args, **kwargs):
    """A test seam: what `send` would send, as the response."""
    _input_data, headers, sensitive = args
    yield "response", {"headers": headers, "sensitive": sorted(sensitive)}


TEST_HTTP_CREDENTIAL = {"id": TEST_CREDENTIAL_ID, "provider": "http", "type": "host_scoped", "title": "Mock"}
MOCK_HTTP_CREDENTIAL = mock_credential(
    "http",
    type="host_scoped",
    api_key=None,
    host="api.example.com",
    headers={"Authorization": SecretStr("Bearer test-token"), "X-API-Key": SecretStr("test-api-key")},
)


@register
class SendAuthenticatedWebRequestBlock(IntegrationBlock, SendWebRequestBlock):
    """Sends an HTTP request as Send Web Request does, with the headers of your HTTP credential
    added when the URL is on that credential's host (your own headers win), and never sent to any
    other host, redirects included."""

    id = "fff86bcd-e001-4bad-a7f6-2eae4720c8dc"
    name = "Send Authenticated Web Request"
    provider = "http"
    credential_types = ("host_scoped",)
    categories = {BlockCategory.OUTPUT}

    class Input(SendWebRequestBlock.Input):
        credentials: CredentialsMeta | None = CredentialsField(
            "http",
            ("host_scoped",),
            description="Your HTTP credential: headers sent only to its host.",
        )

    test_cases = [
        BlockTestCase(
            {"url": "https://api.example.com/v1/items", "method": "GET", "credentials": TEST_HTTP_CREDENTIAL},
            [
                (
                    "response",
                    {
                        "headers": {"Authorization": "Bearer test-token", "X-API-Key": "test-api-key"},
                        "sensitive": ["Authorization", "X-API-Key"],
                    },
                )
            ],
            description="the credential's headers on a request to its host",
            mocks={"credential": MOCK_HTTP_CREDENTIAL, "send": _echo_headers},
        ),
        BlockTestCase(
            {
                "url": "https://API.example.com:443/",
                "headers": {"X-API-Key": "mine"},
                "credentials": TEST_HTTP_CREDENTIAL,
            },
            [
                (
                    "response",
                    {
                        "headers": {"Authorization": "Bearer test-token", "X-API-Key": "mine"},
                        "sensitive": ["Authorization", "X-API-Key"],
                    },
                )
            ],
            description="the node's own headers win",
            mocks={"credential": MOCK_HTTP_CREDENTIAL, "send": _echo_headers},
        ),
        BlockTestCase(
            {"url": "https://api.example.com.evil.test/", "credentials": TEST_HTTP_CREDENTIAL},
            [("response", {"headers": {}, "sensitive": []})],
            description="another host gets none of them",
            mocks={"credential": MOCK_HTTP_CREDENTIAL, "send": _echo_headers},
        ),
        BlockTestCase(
            {"url": "https://api.example.com:8443/", "credentials": TEST_HTTP_CREDENTIAL},
            [("response", {"headers": {}, "sensitive": []})],
            description="nor another port than the credential's",
            mocks={"credential": MOCK_HTTP_CREDENTIAL, "send": _echo_headers},
        ),
    ]

    def run(self, input_data, context):
        credential = self.credential(context, input_data.credentials)
        scoped = credential.headers_dict() if credential.host and host_matches(credential.host, input_data.url) else {}
        own = {name.lower() for name in input_data.headers}
        headers = {name: value for name, value in scoped.items() if name.lower() not in own}
        yield from self.send(input_data, {**headers, **input_data.headers}, scoped.keys())
