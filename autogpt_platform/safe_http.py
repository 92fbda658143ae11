"""The one SSRF-safe HTTP client. Everything in the platform that reaches the network on a user's
behalf goes through `request()`: blocks now, notification webhooks (Slack, DingTalk) later.

What it guarantees
- Only http and https URLs, without credentials in them.
- The host is resolved once (socket.getaddrinfo) and every address it resolves to is checked:
  loopback, private, link-local, carrier-grade NAT (100.64.0.0/10), multicast, reserved,
  unspecified, site-local and any other non-global address is refused. IPv6 forms that carry an
  IPv4 address (IPv4-mapped ::ffff:a.b.c.d, IPv4-translated, IPv4-compatible ::a.b.c.d, 6to4
  2002::/16, NAT64 64:ff9b::/96) are refused when the IPv4 address they carry is.
- The connection is pinned to the checked addresses: the socket connects to the IP itself, while
  the Host header, TLS SNI and certificate verification use the URL's hostname. A DNS answer that
  changes between the check and the connection (DNS rebinding) cannot redirect it. No proxy from
  the environment is used.
- Redirects are followed by hand, at most SAFE_HTTP_MAX_REDIRECTS, each hop checked again.
  Authorization, Cookie and Proxy-Authorization, and any header the caller names as sensitive (a
  credential's own headers), are dropped when a redirect leaves the origin (another host or port,
  or https to http).
- A timeout bounds connecting and every read, and the whole request including its redirects. The
  body is streamed; reading stops past the size limit. No compressed encodings are asked for.
- Every failure is a SafeHttpError whose message can be shown to the user as it is.

Settings, read at call time (defaults when unset or outside Django):
- SAFE_HTTP_TIMEOUT: seconds, 10.
- SAFE_HTTP_MAX_RESPONSE_BYTES: 10 MiB.
- SAFE_HTTP_MAX_REDIRECTS: 5.
- SAFE_HTTP_ALLOWED_HOSTS: a list of "host" or "host:port" entries ("[::1]:8080" for IPv6), empty by
  default. A URL whose hostname (case-insensitive; IP addresses compared as addresses) and port
  match an entry exactly is exempt from the address check; an entry without a port matches every
  port. Everything else still applies: http(s) only, resolved once and pinned, and a redirect
  away from an allowed host is checked again. It is for self-hosted internal services the platform
  must call, and for tests talking to local servers on 127.0.0.1. Every user of the platform can
  reach the hosts listed, so list only services that are safe for all of them.
- `trusted_hosts` (per request, same format): the operator's own endpoints (a provider's base URL
  from settings, as integrations/llm/client.py trusts OPENAI_BASE_URL), exempt for that request
  only; a redirect away from them is checked again.
"""

import http.client
import ipaddress
import json as jsonlib
import re
import socket
import ssl
import time
from collections.abc import Collection
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 5
USER_AGENT = "AutoGPT-Platform"

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_BODY_HEADERS = frozenset({"content-type", "content-length", "transfer-encoding"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CHUNK = 64 * 1024
_METHOD = re.compile(r"[A-Z]{1,20}")
# Characters left as they are in a request target; others (spaces, non-ASCII) are percent-encoded.
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"

_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


class SafeHttpError(Exception):
    """A request that was refused or failed. The message is meant for the user."""


class InvalidUrlError(SafeHttpError):
    """Not an http(s) URL, or not a valid one."""


class InvalidRequestError(SafeHttpError):
    """A method or header that cannot be sent."""


class BlockedAddressError(SafeHttpError):
    """The host resolves to an address that must not be reached."""


class ResolutionError(SafeHttpError):
    """The host name could not be resolved."""


class ConnectionFailedError(SafeHttpError):
    """Connecting, TLS or sending failed."""


class RequestTimeoutError(SafeHttpError):
    """No answer within the timeout."""


class InvalidResponseError(SafeHttpError):
    """The server did not answer in HTTP."""


class TooManyRedirectsError(SafeHttpError):
    """More redirects than allowed."""


class ResponseTooLargeError(SafeHttpError):
    """The response body is larger than the limit."""


@dataclass
class SafeResponse:
    """A complete response. `headers` has lower-case names; repeated headers are joined by ", "."""

    status: int
    headers: dict[str, str]
    content: bytes
    url: str
    reason: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def text(self) -> str:
        message = Message()
        message["content-type"] = self.headers.get("content-type", "")
        charset = message.get_content_charset() or "utf-8"
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON; raises ValueError when it is not JSON."""
        return jsonlib.loads(self.content)


# --- Addresses ---------------------------------------------------------------------------------


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv6 address carries, with the name of the form, if any."""
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", ip.ipv4_mapped
    if ip in _IPV4_TRANSLATED:
        return "IPv4-translated", low32
    if ip in _NAT64:
        return "NAT64", low32
    if ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:  # not :: nor ::1
        return "IPv4-compatible", low32
    return None


def address_refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why `ip` must not be reached ("a loopback address"), or None when it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            form, ipv4 = embedded
            reason = address_refusal(ipv4)
            if reason is not None:
                return f"the {form} form of {ipv4}, {reason}"
            if form != "IPv4-compatible":  # deprecated form: judged as IPv6 below (reserved)
                return None
        if ip.is_site_local:
            return "a site-local address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a carrier-grade NAT (shared) address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "a non-public address"
    return None


# --- URLs and settings -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    url: str
    scheme: str
    host: str  # for DNS, the Host header, SNI and certificate checks: IDNA-encoded, no brackets
    port: int
    path: str  # the request target: path and query


def _show(url: str) -> str:
    return url if len(url) <= 200 else url[:200] + "..."


def _normalise_host(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host.rstrip(".").lower()


def _parse(url: Any) -> _Target:
    if not isinstance(url, str) or not url.strip():
        raise InvalidUrlError("The URL is empty.")
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidUrlError(f"{_show(url)} is not a valid URL ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        shown = f"the scheme '{scheme}'" if scheme else "a URL without a scheme"
        raise InvalidUrlError(f"{_show(url)}: only http and https URLs are allowed; {shown} is refused.")
    if not parts.hostname:
        raise InvalidUrlError(f"{_show(url)} has no host.")
    if parts.username is not None or parts.password is not None:
        raise InvalidUrlError(f"{_show(url)}: credentials in the URL are refused; send them in a header instead.")
    host = parts.hostname
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidUrlError(f"{_show(url)}: '{host}' is not a valid host name.") from None
    path = quote(parts.path or "/", safe=_URL_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_URL_SAFE)
    return _Target(url, scheme, host, port if port is not None else _DEFAULT_PORTS[scheme], path)


def _setting(name: str, default: Any) -> Any:
    if not settings.configured:
        return default
    return getattr(settings, name, default)


def _parse_allowed(entry: str) -> tuple[str, int | None]:
    entry = entry.strip()
    try:
        if entry.startswith("["):
            host, _, rest = entry[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") else None
        elif entry.count(":") == 1:
            host, port_text = entry.split(":")
            port = int(port_text)
        else:
            host, port = entry, None
    except ValueError:
        raise ImproperlyConfigured(f"SAFE_HTTP_ALLOWED_HOSTS: {entry!r} is not 'host' or 'host:port'.") from None
    return _normalise_host(host), port


def _is_allowed(target: _Target, trusted_hosts: Collection[str] = ()) -> bool:
    host = _normalise_host(target.host)
    for entry in [*_setting("SAFE_HTTP_ALLOWED_HOSTS", []), *trusted_hosts]:
        allowed_host, allowed_port = _parse_allowed(entry)
        if allowed_host == host and allowed_port in (None, target.port):
            return True
    return False


def host_entry(url: str) -> str:
    """The "host:port" entry of a URL, for `trusted_hosts`."""
    target = _parse(url)
    host = f"[{target.host}]" if ":" in target.host else target.host
    return f"{host}:{target.port}"


def _checked_addresses(target: _Target, trusted_hosts: Collection[str] = ()) -> list[tuple[int, tuple]]:
    """Resolve the host once and return the (family, sockaddr) pairs to connect to, all checked."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ResolutionError(
            f"{_show(target.url)}: the host '{target.host}' could not be resolved ({reason})."
        ) from None
    addresses: list[tuple[int, tuple]] = []
    for family, _type, _proto, _name, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6) and (family, sockaddr) not in addresses:
            addresses.append((family, sockaddr))
    if not addresses:
        raise ResolutionError(f"{_show(target.url)}: the host '{target.host}' has no IP address.")
    if not _is_allowed(target, trusted_hosts):
        for _family, sockaddr in addresses:
            ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            reason = address_refusal(ip)
            if reason is not None:
                mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
                shown = f"::ffff:{mapped}" if mapped else str(ip)
                raise BlockedAddressError(
                    f"{_show(target.url)} resolves to {shown}, {reason}; requests to it are refused."
                )
    return addresses


def checked_addresses(url: str) -> tuple[str, int, list[tuple[int, tuple]]]:
    """For a client that opens its own connections (the LLM SDKs' HTTP client): the URL's host and
    port, and the (family, sockaddr) pairs it resolved to, each checked as `request()` checks them
    (SAFE_HTTP_ALLOWED_HOSTS included). The caller must connect to these addresses only."""
    target = _parse(url)
    return target.host, target.port, _checked_addresses(target)


def checked_host_addresses(host: str, port: int) -> list[tuple[int, tuple]]:
    """For a client of another protocol (SMTP): the (family, sockaddr) pairs `host` resolves to on
    `port`, each checked as `request()` checks them (SAFE_HTTP_ALLOWED_HOSTS included). Raises
    InvalidUrlError for a value that is not a host name or address."""
    host = str(host or "").strip()
    if not host or any(char in host for char in "/?#@ \t\r\n\\"):
        raise InvalidUrlError(f"'{host[:200]}' is not a host name.")
    if not 0 < int(port) < 65536:
        raise InvalidUrlError(f"{port} is not a port number.")
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    target = _parse(f"http://{shown}:{int(port)}/")
    return _checked_addresses(_Target(f"{shown}:{int(port)}", target.scheme, target.host, int(port), "/"))


# --- Connections pinned to the checked addresses ---------------------------------------------


def _open_socket(addresses: list[tuple[int, tuple]], timeout: float, deadline: float) -> socket.socket:
    """Connect to the first of the checked addresses that answers."""
    error: OSError = TimeoutError("timed out")
    for family, sockaddr in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out")
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(min(timeout, remaining))
            sock.connect(sockaddr)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: _Target, addresses, timeout: float, deadline: float, ssl_context=None):
        super().__init__(target.host, target.port, timeout=timeout)
        self._addresses, self._deadline, self._timeout = addresses, deadline, timeout

    def connect(self) -> None:
        self.sock = _open_socket(self._addresses, self._timeout, self._deadline)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: _Target, addresses, timeout: float, deadline: float, ssl_context=None):
        context = ssl_context or ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._addresses, self._deadline, self._timeout, self._ssl_context = addresses, deadline, timeout, context

    def connect(self) -> None:
        sock = _open_socket(self._addresses, self._timeout, self._deadline)
        try:
            # SNI and the certificate check use the URL's host name, not the address.
            self.sock = self._ssl_context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


# --- Requests ----------------------------------------------------------------------------------


def _without(headers: dict[str, str], names: frozenset[str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name.lower() not in names}


def _keeps_credentials(source: _Target, target: _Target) -> bool:
    """Same origin, or the same host upgraded from http to https on the default ports."""
    if _normalise_host(source.host) != _normalise_host(target.host):
        return False
    if (source.scheme, source.port) == (target.scheme, target.port):
        return True
    return (source.scheme, source.port, target.scheme, target.port) == ("http", 80, "https", 443)


def _read_body(
    response: http.client.HTTPResponse, sock, target: _Target, timeout: float, deadline: float, max_bytes: int
) -> bytes:
    too_large = f"The response from {_show(target.url)} is larger than the limit of {max_bytes} bytes."
    length = response.getheader("content-length", "")
    if length.strip().isdigit() and int(length) > max_bytes:
        raise ResponseTooLargeError(too_large)
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out")
        sock.settimeout(min(timeout, remaining))
        chunk = response.read1(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise ResponseTooLargeError(too_large)
        chunks.append(chunk)


def _send(
    method, target: _Target, headers, body, timeout, deadline, max_bytes, ssl_context, trusted_hosts
) -> SafeResponse:
    addresses = _checked_addresses(target, trusted_hosts)
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, addresses, timeout, deadline, ssl_context)
    url = _show(target.url)
    try:
        connection.request(method, target.path, body=body, headers=headers)
        sock = connection.sock  # getresponse() may hand the socket over to the response
        response = connection.getresponse()
        content = _read_body(response, sock, target, timeout, deadline, max_bytes)
        headers_out: dict[str, str] = {}
        for name, value in response.getheaders():
            name = name.lower()
            headers_out[name] = f"{headers_out[name]}, {value}" if name in headers_out else value
        return SafeResponse(response.status, headers_out, content, target.url, response.reason)
    except TimeoutError:
        raise RequestTimeoutError(f"{url} did not answer within {timeout:g} s.") from None
    except ssl.SSLCertVerificationError as exc:
        raise ConnectionFailedError(
            f"{url}: the TLS certificate of {target.host} could not be verified ({exc.verify_message})."
        ) from None
    except ssl.SSLError as exc:
        raise ConnectionFailedError(f"{url}: the TLS connection failed ({exc.reason or exc}).") from None
    except http.client.InvalidURL as exc:
        raise InvalidUrlError(f"{url} is not a valid URL ({exc}).") from None
    except http.client.HTTPException as exc:
        raise InvalidResponseError(f"{url} did not send a valid HTTP response ({type(exc).__name__}).") from None
    except ConnectionRefusedError:
        raise ConnectionFailedError(f"{url}: the connection to {target.host} port {target.port} was refused.") from None
    except OSError as exc:
        raise ConnectionFailedError(f"{url}: the connection failed ({exc.strerror or exc}).") from None
    except ValueError as exc:  # a header name or value http.client will not send
        raise InvalidRequestError(f"The request to {url} cannot be sent: {exc}.") from None
    finally:
        connection.close()


def request(
    method: str,
    url: str,
    *,
    headers: dict[str, Any] | None = None,
    body: bytes | str | None = None,
    json: Any = None,
    timeout: float | None = None,
    max_bytes: int | None = None,
    max_redirects: int | None = None,
    ssl_context: ssl.SSLContext | None = None,
    trusted_hosts: Collection[str] = (),
    sensitive_headers: Collection[str] = (),
    follow_redirects: bool = True,
) -> SafeResponse:
    """Send one request, following redirects, and return the complete response (any status).

    `json` (not None) is sent as the JSON body with Content-Type application/json unless headers
    set one; otherwise `body` is sent as it is (a str as UTF-8). `timeout` bounds connecting, each
    read and the whole request. `trusted_hosts` ("host" or "host:port") are the operator's
    endpoints, exempt from the address check for this request; `sensitive_headers` are dropped,
    with Authorization and Cookie, when a redirect leaves the origin. Without `follow_redirects`
    a redirect is returned as it is. Raises a SafeHttpError subclass on any refusal or failure.
    """
    if body is not None and json is not None:
        raise ValueError("Pass body or json, not both.")
    timeout = float(timeout if timeout is not None else _setting("SAFE_HTTP_TIMEOUT", DEFAULT_TIMEOUT))
    max_bytes = int(
        max_bytes if max_bytes is not None else _setting("SAFE_HTTP_MAX_RESPONSE_BYTES", DEFAULT_MAX_RESPONSE_BYTES)
    )
    max_redirects = int(
        max_redirects if max_redirects is not None else _setting("SAFE_HTTP_MAX_REDIRECTS", DEFAULT_MAX_REDIRECTS)
    )

    method = str(method).upper()
    if not _METHOD.fullmatch(method):
        raise InvalidRequestError(f"'{method}' is not an HTTP method.")
    sent_headers = {str(name): str(value) for name, value in (headers or {}).items()}
    names = {name.lower() for name in sent_headers}
    if json is not None:
        body = jsonlib.dumps(json).encode()
        if "content-type" not in names:
            sent_headers["Content-Type"] = "application/json"
    elif isinstance(body, str):
        body = body.encode()
    if "user-agent" not in names:
        sent_headers["User-Agent"] = USER_AGENT

    dropped_on_leaving = CREDENTIAL_HEADERS | {name.lower() for name in sensitive_headers}
    deadline = time.monotonic() + timeout
    target = _parse(url)
    redirected_from = None
    for hop in range(max_redirects + 1):
        try:
            response = _send(
                method, target, sent_headers, body, timeout, deadline, max_bytes, ssl_context, trusted_hosts
            )
        except SafeHttpError as exc:
            if redirected_from is None:
                raise
            raise type(exc)(f"{exc} (reached by a redirect from {_show(redirected_from)})") from None
        location = response.headers.get("location")
        if response.status not in REDIRECT_STATUSES or not location or not follow_redirects:
            return response
        if hop == max_redirects:
            raise TooManyRedirectsError(f"{_show(url)} redirected more than {max_redirects} times.")
        try:
            next_target = _parse(urljoin(target.url, location))
        except InvalidUrlError as exc:
            raise InvalidUrlError(f"{exc} (reached by a redirect from {_show(target.url)})") from None
        if (response.status == 303 and method != "HEAD") or (response.status in (301, 302) and method == "POST"):
            method, body = "GET", None
            sent_headers = _without(sent_headers, _BODY_HEADERS)
        if not _keeps_credentials(target, next_target):
            sent_headers = _without(sent_headers, frozenset(dropped_on_leaving))
        redirected_from, target = target.url, next_target
    raise AssertionError("unreachable")


def get(url: str, **kwargs: Any) -> SafeResponse:
    return request("GET", url, **kwargs)


def post(url: str, **kwargs: Any) -> SafeResponse:
    return request("POST", url, **kwargs)
