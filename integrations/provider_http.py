"""Requests to the integration blocks' providers (Jina, Google Maps, Ideogram, Replicate, YouTube),
all through the SSRF-safe client (autogpt_platform/safe_http.py).

Each provider's base URL is a setting (JINA_READER_BASE_URL, ...): the operator's, so its host is
trusted for requests to it (loopback included), as integrations/llm/client.py trusts
OPENAI_BASE_URL; tests and self-hosters point them at their own servers. Any other URL (a page a
user asks for, an image a provider links to, a redirect elsewhere) goes through the SSRF policy.

Failures are ProviderError, whose message names the provider and never holds a key.
"""

import secrets as secrets_module
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from autogpt_platform import safe_http

from .llm.client import redact


class ProviderError(Exception):
    """A provider could not be reached or refused the request; the message is for the user."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ProviderApi:
    """One provider's HTTP API at the base URL its setting names."""

    title: str
    base_url_setting: str

    @property
    def base_url(self) -> str:
        return str(getattr(settings, self.base_url_setting)).rstrip("/")

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        url: str,
        *,
        secrets: Iterable[str] = (),
        headers: dict[str, str] | None = None,
        json: Any = None,
        body: bytes | str | None = None,
        follow_redirects: bool = True,
    ) -> safe_http.SafeResponse:
        """One request to `url` (usually self.url(path)); the base URL's host is trusted. `secrets`
        are kept out of any message."""
        try:
            return safe_http.request(
                method,
                url,
                headers=headers,
                json=json,
                body=body,
                timeout=settings.INTEGRATION_TIMEOUT_SECONDS,
                trusted_hosts=(safe_http.host_entry(self.base_url),),
                follow_redirects=follow_redirects,
            )
        except safe_http.SafeHttpError as exc:
            raise ProviderError(f"{self.title}: {redact(str(exc), list(secrets))}") from None

    def refused(self, response: safe_http.SafeResponse, doing: str, secrets: Iterable[str] = ()) -> ProviderError:
        """The error for a response that is not a success: 401/403 name the credentials without
        quoting the provider (which may echo part of a key), others quote what it said."""
        status = response.status
        if status in (401, 403):
            return ProviderError(
                f"{self.title} refused the credentials (HTTP {status}) while {doing}: check that the API key "
                "is valid and allowed to do this.",
                status=status,
            )
        detail = redact(error_detail(response), list(secrets))[:500] or response.reason or "no details given"
        if status == 429:
            return ProviderError(f"{self.title} is rate limiting requests (HTTP 429): {detail}", status=status)
        if status >= 500:
            return ProviderError(f"{self.title} failed (HTTP {status}) while {doing}: {detail}", status=status)
        return ProviderError(f"{self.title} refused {doing} (HTTP {status}): {detail}", status=status)


def error_detail(response: safe_http.SafeResponse) -> str:
    """What a provider said about an error: a JSON body's message, else the text."""
    try:
        body = response.json()
    except ValueError:
        return " ".join(response.text().split())
    if isinstance(body, dict):
        for key in ("error", "detail", "message"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("detail") or value
            if value:
                return str(value)
    return str(body)


def multipart_body(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body and its Content-Type: text `fields`, and `files` as
    (file name, content, content type) by field name."""
    boundary = secrets_module.token_hex(16)
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content, content_type) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


JINA_READER = ProviderApi("Jina Reader", "JINA_READER_BASE_URL")
JINA_SEARCH = ProviderApi("Jina Search", "JINA_SEARCH_BASE_URL")
GOOGLE_MAPS = ProviderApi("Google Maps", "GOOGLE_MAPS_BASE_URL")
IDEOGRAM = ProviderApi("Ideogram", "IDEOGRAM_BASE_URL")
REPLICATE = ProviderApi("Replicate", "REPLICATE_BASE_URL")
YOUTUBE = ProviderApi("YouTube", "YOUTUBE_BASE_URL")
