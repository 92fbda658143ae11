"""Shapes of what a user stores: a host (no scheme, no path) and request headers. Each check returns
what is wrong, or None; serializers and services turn that into a 400 naming the field."""

import ipaddress
import re
from urllib.parse import urlsplit

HOST_MAX_LENGTH = 300
HEADERS_MAX_COUNT = 20
HEADER_NAME_MAX_LENGTH = 100
HEADER_VALUE_MAX_LENGTH = 4096
# RFC 9110 5.1: a field name is a token.
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Framing and routing are the HTTP client's to set, not a credential's.
FORBIDDEN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "te", "upgrade"})
HOST_HINT = "Give a host name such as api.example.com, optionally with :port, without scheme or path."


def host_problem(host: str) -> str | None:
    if not host:
        return "This field may not be blank."
    if len(host) > HOST_MAX_LENGTH:
        return f"At most {HOST_MAX_LENGTH} characters."
    if "://" in host or any(char in host for char in "/?#@ \t\r\n\\"):
        return HOST_HINT
    try:
        parts = urlsplit("//" + host)
        port = parts.port
    except ValueError:
        return HOST_HINT
    name = parts.hostname or ""
    if port == 0 or (host.endswith(":") and port is None):
        return HOST_HINT
    try:
        ipaddress.ip_address(name)
        return None
    except ValueError:
        pass
    labels = name.rstrip(".").split(".")
    if len(name) > 253 or not all(_DNS_LABEL.match(label) for label in labels):
        return HOST_HINT
    return None


def normalize_host(host: str) -> str:
    return host.strip().lower().rstrip(".")


def header_problems(headers: dict) -> dict[str, str]:
    """{"headers" or "headers.<name>": what is wrong}."""
    if len(headers) > HEADERS_MAX_COUNT:
        return {"headers": f"At most {HEADERS_MAX_COUNT} headers."}
    problems = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name) or len(name) > HEADER_NAME_MAX_LENGTH:
            problems[f"headers.{name}"] = (
                f"Not a header name: letters, digits and !#$%&'*+-.^_`|~, at most {HEADER_NAME_MAX_LENGTH}."
            )
        elif name.lower() in FORBIDDEN_HEADERS:
            problems[f"headers.{name}"] = "This header is set by the HTTP client, not by a credential."
        elif not isinstance(value, str):
            problems[f"headers.{name}"] = "A header value is a string."
        elif not value or len(value) > HEADER_VALUE_MAX_LENGTH:
            problems[f"headers.{name}"] = f"A header value has 1 to {HEADER_VALUE_MAX_LENGTH} characters."
        elif any(char in value for char in "\r\n\0"):
            problems[f"headers.{name}"] = "A header value cannot contain line breaks or NUL."
    return problems
