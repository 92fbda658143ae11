"""The SSRF-safe HTTP client against real servers on 127.0.0.1, started here in threads.

Local servers are reachable only through SAFE_HTTP_ALLOWED_HOSTS; anything else local is refused.
Where a test needs DNS to say something else, socket.getaddrinfo is replaced (a stand-in for DNS).
"""

import datetime
import ipaddress
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.test import override_settings

from autogpt_platform import safe_http


class _Handler(BaseHTTPRequestHandler):
    """/json, /echo, /status/<code>, /redirect?to=&code=, /big?n=&length=0|1, /drip."""

    def log_message(self, *args):
        pass

    def _reply(self, status, body=b"", content_type="application/json", headers=(), length=True):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length:
            self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self):
        self.server.seen.append((self.command, self.path))
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if url.path == "/json":
            self._reply(200, b'{"hello": "world"}')
        elif url.path == "/echo":
            headers = {name.lower(): value for name, value in self.headers.items()}
            payload = {"method": self.command, "path": self.path, "headers": headers, "body": body.decode()}
            self._reply(200, json.dumps(payload).encode())
        elif url.path.startswith("/status/"):
            status = int(url.path.rsplit("/", 1)[1])
            if status == 404:
                self._reply(404, b"not here", "text/plain")
            else:
                self._reply(status, json.dumps({"status": status}).encode())
        elif url.path == "/redirect":
            self._reply(int(query.get("code", 302)), headers=[("Location", query["to"])])
        elif url.path == "/big":
            size = int(query["n"])
            self.send_response(200)
            if query.get("length", "1") == "1":
                self.send_header("Content-Length", str(size))
            self.end_headers()
            try:
                for start in range(0, size, 65536):
                    self.wfile.write(b"x" * min(65536, size - start))
            except OSError:
                pass
        elif url.path == "/drip":  # one byte every 0.1 s, for 10 s at most
            self.send_response(200)
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                pass
        else:
            self._reply(404, b"no route", "text/plain")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _handle


class LocalServer:
    """An HTTP server on 127.0.0.1 in a thread; `seen` lists the (method, path) it received."""

    def __init__(self, server_class=ThreadingHTTPServer, wrap=None):
        self.httpd = server_class(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.seen = []
        if wrap is not None:
            self.httpd.socket = wrap(self.httpd.socket)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def seen(self):
        return self.httpd.seen

    def url(self, path="/", host="127.0.0.1", scheme="http"):
        return f"{scheme}://{host}:{self.port}{path}"

    def allowed(self, host="127.0.0.1"):
        return override_settings(SAFE_HTTP_ALLOWED_HOSTS=[f"{host}:{self.port}"])

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def server():
    local = LocalServer()
    yield local
    local.close()


@pytest.fixture
def other_server():
    local = LocalServer()
    yield local
    local.close()


def fake_dns(monkeypatch, answers):
    """Replace DNS: `answers` maps a host name to a list of IP strings. Returns the list of calls."""
    calls = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        calls.append(host)
        if host not in answers:
            return real(host, port, *args, **kwargs)
        result = []
        for address in answers[host]:
            if ipaddress.ip_address(address).version == 6:
                result.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                result.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return result

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return calls


# --- Refused addresses -------------------------------------------------------------------------

REFUSED = [
    ("127.0.0.1", "127.0.0.1, a loopback address"),
    ("127.1.2.3", "a loopback address"),
    ("[::1]", "::1, a loopback address"),
    ("10.0.0.1", "10.0.0.1, a private address"),
    ("172.16.0.1", "a private address"),
    ("172.31.255.254", "a private address"),
    ("192.168.1.1", "a private address"),
    ("169.254.169.254", "169.254.169.254, a link-local address"),
    ("100.64.0.1", "100.64.0.1, a carrier-grade NAT (shared) address"),
    ("224.0.0.1", "a multicast address"),
    ("0.0.0.0", "0.0.0.0, an unspecified address"),
    ("240.0.0.1", "a reserved address"),
    ("255.255.255.255", "a reserved address"),
    ("[::]", "an unspecified address"),
    ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1, the IPv4-mapped form of 127.0.0.1, a loopback address"),
    ("[::ffff:10.0.0.1]", "the IPv4-mapped form of 10.0.0.1, a private address"),
    ("[::ffff:169.254.169.254]", "the IPv4-mapped form of 169.254.169.254, a link-local address"),
    ("[64:ff9b::7f00:1]", "64:ff9b::7f00:1, the NAT64 form of 127.0.0.1, a loopback address"),
    ("[64:ff9b::a9fe:a9fe]", "the NAT64 form of 169.254.169.254, a link-local address"),
    ("[2002:7f00:1::1]", "the 6to4 form of 127.0.0.1, a loopback address"),
    ("[::7f00:1]", "the IPv4-compatible form of 127.0.0.1, a loopback address"),
    ("[::ffff:0:a00:1]", "the IPv4-translated form of 10.0.0.1, a private address"),
    ("[fe80::1]", "fe80::1, a link-local address"),
    ("[fc00::1]", "fc00::1, a private address"),
    ("[fd12:3456::1]", "a private address"),
    ("[fec0::1]", "a site-local address"),
    ("[ff02::1]", "a multicast address"),
    ("[2001:db8::1]", "a private address"),
]


@pytest.mark.parametrize("host, reason", REFUSED)
def test_internal_addresses_are_refused(host, reason):
    url = f"http://{host}/latest/meta-data"
    with pytest.raises(safe_http.BlockedAddressError) as caught:
        safe_http.request("GET", url)
    message = str(caught.value)
    assert message.startswith(f"{url} resolves to ")
    assert reason in message
    assert message.endswith("; requests to it are refused.")


def test_the_message_is_clear():
    with pytest.raises(safe_http.SafeHttpError) as caught:
        safe_http.get("http://127.0.0.1/")
    assert (
        str(caught.value) == "http://127.0.0.1/ resolves to 127.0.0.1, a loopback address; requests to it are refused."
    )


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"],
)
def test_public_addresses_pass_the_check(address):
    assert safe_http.address_refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url, phrase",
    [
        ("file:///etc/passwd", "the scheme 'file' is refused"),
        ("ftp://example.com/file", "the scheme 'ftp' is refused"),
        ("gopher://example.com:70/_hello", "the scheme 'gopher' is refused"),
        ("dict://127.0.0.1:6379/info", "the scheme 'dict' is refused"),
        ("javascript:alert(1)", "the scheme 'javascript' is refused"),
        ("example.com/path", "a URL without a scheme is refused"),
        ("http:///path", "has no host"),
        ("http://user:secret@example.com/", "credentials in the URL are refused"),
        ("http://example.com:99999/", "is not a valid URL"),
        ("", "The URL is empty"),
    ],
)
def test_bad_urls_are_refused(url, phrase):
    with pytest.raises(safe_http.InvalidUrlError) as caught:
        safe_http.request("GET", url)
    assert phrase in str(caught.value)


def test_a_host_name_resolving_to_a_private_address_is_refused(monkeypatch):
    fake_dns(monkeypatch, {"internal.example": ["10.1.2.3"]})
    with pytest.raises(safe_http.BlockedAddressError) as caught:
        safe_http.get("http://internal.example/admin")
    assert (
        str(caught.value)
        == "http://internal.example/admin resolves to 10.1.2.3, a private address; requests to it are refused."
    )


def test_every_resolved_address_is_checked(monkeypatch):
    fake_dns(monkeypatch, {"mixed.example": ["93.184.215.14", "127.0.0.1"]})
    with pytest.raises(safe_http.BlockedAddressError, match="resolves to 127.0.0.1, a loopback address"):
        safe_http.get("http://mixed.example/")


def test_numeric_host_spellings_are_judged_by_their_address():
    for url in ["http://2130706433/", "http://0x7f.0.0.1/", "http://0177.0.0.1/", "http://127.1/"]:
        with pytest.raises(safe_http.BlockedAddressError, match="a loopback address"):
            safe_http.get(url)


def test_an_unresolvable_host_is_an_error(monkeypatch):
    def getaddrinfo(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(safe_http.ResolutionError, match="the host 'nowhere.invalid' could not be resolved"):
        safe_http.get("http://nowhere.invalid/")


# --- The allow-list ----------------------------------------------------------------------------


def test_a_local_server_is_refused_unless_allowed(server):
    with pytest.raises(safe_http.BlockedAddressError):
        safe_http.get(server.url("/json"))
    assert server.seen == []

    with server.allowed():
        response = safe_http.get(server.url("/json"))
    assert (response.status, response.ok, response.json()) == (200, True, {"hello": "world"})
    assert response.headers["content-type"] == "application/json"
    assert response.url == server.url("/json")


def test_allow_list_matching(server):
    with override_settings(SAFE_HTTP_ALLOWED_HOSTS=["127.0.0.1"]):  # no port: every port
        assert safe_http.get(server.url("/json")).status == 200
    with override_settings(SAFE_HTTP_ALLOWED_HOSTS=[f"127.0.0.1:{server.port + 1 if server.port < 65535 else 1}"]):
        with pytest.raises(safe_http.BlockedAddressError):
            safe_http.get(server.url("/json"))
    with override_settings(SAFE_HTTP_ALLOWED_HOSTS=[f"LOCALHOST:{server.port}"]):
        assert safe_http.get(server.url("/json", host="localhost")).status == 200
    with override_settings(SAFE_HTTP_ALLOWED_HOSTS=["[::1]:8080", "::1"]):
        with pytest.raises(safe_http.BlockedAddressError):  # allowing ::1 does not allow 127.0.0.1
            safe_http.get(server.url("/json"))


# --- Requests and responses ----------------------------------------------------------------------


def test_json_and_headers_are_sent(server):
    with server.allowed():
        response = safe_http.request(
            "post",
            server.url("/echo?q=a b"),
            json={"a": [1, 2]},
            headers={"X-Custom": "yes", "Authorization": "Bearer t"},
        )
    echo = response.json()
    assert echo["method"] == "POST"
    assert echo["path"] == "/echo?q=a%20b"
    assert json.loads(echo["body"]) == {"a": [1, 2]}
    assert echo["headers"]["content-type"] == "application/json"
    assert echo["headers"]["x-custom"] == "yes"
    assert echo["headers"]["authorization"] == "Bearer t"
    assert echo["headers"]["host"] == f"127.0.0.1:{server.port}"
    assert echo["headers"]["accept-encoding"] == "identity"


def test_text_and_status(server):
    with server.allowed():
        missing = safe_http.get(server.url("/status/404"))
        failing = safe_http.get(server.url("/status/500"))
        head = safe_http.request("HEAD", server.url("/json"))
    assert (missing.status, missing.text()) == (404, "not here")
    assert (failing.status, failing.json()) == (500, {"status": 500})
    assert (head.status, head.content) == (200, b"")


def test_invalid_header_is_an_error(server):
    with server.allowed(), pytest.raises(safe_http.InvalidRequestError):
        safe_http.get(server.url("/echo"), headers={"X-Bad": "a\r\nInjected: yes"})


# --- Redirects ---------------------------------------------------------------------------------


def test_a_redirect_to_a_local_address_is_refused(server, other_server):
    target = other_server.url("/json")
    with server.allowed(), pytest.raises(safe_http.BlockedAddressError) as caught:
        safe_http.get(server.url(f"/redirect?to={quote(target)}"))
    message = str(caught.value)
    assert message.startswith(f"{target} resolves to 127.0.0.1, a loopback address; requests to it are refused.")
    assert "reached by a redirect from" in message
    assert other_server.seen == []


def test_a_redirect_to_another_scheme_is_refused(server):
    with server.allowed(), pytest.raises(safe_http.InvalidUrlError, match="the scheme 'file' is refused"):
        safe_http.get(server.url("/redirect?to=file:///etc/passwd"))


def test_a_redirect_to_another_host_drops_credentials(server, other_server):
    secrets = {
        "Authorization": "Bearer secret",
        "Cookie": "session=1",
        "Proxy-Authorization": "Basic x",
        "X-Custom": "kept",
    }
    allowed = [f"127.0.0.1:{server.port}", f"localhost:{other_server.port}"]
    with override_settings(SAFE_HTTP_ALLOWED_HOSTS=allowed):
        elsewhere = safe_http.get(
            server.url(f"/redirect?to={quote(other_server.url('/echo', host='localhost'))}"), headers=secrets
        )
        same_host = safe_http.get(server.url("/redirect?to=/echo"), headers=secrets)

    assert elsewhere.url == other_server.url("/echo", host="localhost")
    headers = elsewhere.json()["headers"]
    assert "authorization" not in headers and "cookie" not in headers and "proxy-authorization" not in headers
    assert headers["x-custom"] == "kept"
    assert headers["host"] == f"localhost:{other_server.port}"

    headers = same_host.json()["headers"]
    assert (headers["authorization"], headers["cookie"], headers["x-custom"]) == ("Bearer secret", "session=1", "kept")


def test_a_redirect_to_another_port_of_the_same_host_drops_credentials(server, other_server):
    with override_settings(SAFE_HTTP_ALLOWED_HOSTS=["127.0.0.1"]):
        response = safe_http.get(
            server.url(f"/redirect?to={quote(other_server.url('/echo'))}"), headers={"Authorization": "t"}
        )
    assert "authorization" not in response.json()["headers"]


def test_redirect_methods(server):
    with server.allowed():
        see_other = safe_http.post(server.url("/redirect?code=303&to=/echo"), json={"a": 1})
        temporary = safe_http.post(server.url("/redirect?code=307&to=/echo"), json={"a": 1})
    assert (see_other.json()["method"], see_other.json()["body"]) == ("GET", "")
    assert "content-type" not in see_other.json()["headers"]
    assert (temporary.json()["method"], json.loads(temporary.json()["body"])) == ("POST", {"a": 1})


def test_redirects_are_bounded(server):
    loop = server.url("/redirect?to=/redirect%3Fto%3D/json")  # two hops, then /json
    with server.allowed():
        assert safe_http.get(loop, max_redirects=2).status == 200
        with pytest.raises(safe_http.TooManyRedirectsError, match="redirected more than 1 times"):
            safe_http.get(loop, max_redirects=1)
        with override_settings(SAFE_HTTP_MAX_REDIRECTS=0), pytest.raises(safe_http.TooManyRedirectsError):
            safe_http.get(loop)


# --- Limits ------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_length", ["1", "0"])
def test_the_size_limit(server, with_length):
    with server.allowed():
        assert len(safe_http.get(server.url(f"/big?n=1000&length={with_length}"), max_bytes=1000).content) == 1000
        with pytest.raises(safe_http.ResponseTooLargeError) as caught:
            safe_http.get(server.url(f"/big?n=5000000&length={with_length}"), max_bytes=100_000)
        with override_settings(SAFE_HTTP_MAX_RESPONSE_BYTES=999), pytest.raises(safe_http.ResponseTooLargeError):
            safe_http.get(server.url(f"/big?n=1000&length={with_length}"))
    assert "is larger than the limit of 100000 bytes" in str(caught.value)


def test_a_server_that_never_answers_times_out():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # connections complete in the backlog; nothing is ever read or answered
    port = silent.getsockname()[1]
    try:
        with override_settings(SAFE_HTTP_ALLOWED_HOSTS=[f"127.0.0.1:{port}"]):
            started = time.monotonic()
            with pytest.raises(safe_http.RequestTimeoutError) as caught:
                safe_http.get(f"http://127.0.0.1:{port}/", timeout=0.5)
            assert time.monotonic() - started < 3
    finally:
        silent.close()
    assert str(caught.value) == f"http://127.0.0.1:{port}/ did not answer within 0.5 s."


def test_the_timeout_bounds_the_whole_request(server):
    # /drip sends a byte every 0.1 s: each read is quick, the whole body never ends.
    with server.allowed():
        started = time.monotonic()
        with pytest.raises(safe_http.RequestTimeoutError):
            safe_http.get(server.url("/drip"), timeout=0.5)
        assert time.monotonic() - started < 2


def test_a_refused_connection_is_an_error():
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with override_settings(SAFE_HTTP_ALLOWED_HOSTS=[f"127.0.0.1:{port}"]):
        with pytest.raises(safe_http.ConnectionFailedError, match="was refused"):
            safe_http.get(f"http://127.0.0.1:{port}/", timeout=2)


# --- Pinning -----------------------------------------------------------------------------------


def test_the_connection_goes_to_the_checked_address(monkeypatch, server):
    """DNS answers a public address, then (a rebind) a loopback one. The host is resolved once,
    the socket connects to the public address it checked, and Host still names the host."""
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])
    calls = []

    def getaddrinfo(host, port, *args, **kwargs):
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in next(answers)]

    connected = []
    real_connect = socket.socket.connect

    def connect(sock, address):
        connected.append(address)
        # No network here: the "public" address is served by the local server.
        return real_connect(sock, ("127.0.0.1", address[1]))

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    response = safe_http.get(f"http://public.example:{server.port}/echo")

    assert calls == ["public.example"]
    assert connected == [("93.184.215.14", server.port)]
    assert response.json()["headers"]["host"] == f"public.example:{server.port}"


def _self_signed(tmp_path, name):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_file), str(key_file)


def test_tls_uses_the_host_name_while_connecting_to_the_checked_address(monkeypatch, tmp_path):
    cert_file, key_file = _self_signed(tmp_path, "pinned.test")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)
    names = []
    server_context.sni_callback = lambda sock, name, context: names.append(name)
    tls_server = LocalServer(HTTPServer, wrap=lambda sock: server_context.wrap_socket(sock, server_side=True))
    client_context = ssl.create_default_context(cafile=cert_file)
    try:
        calls = fake_dns(monkeypatch, {"pinned.test": ["127.0.0.1"]})
        with override_settings(SAFE_HTTP_ALLOWED_HOSTS=["pinned.test", "127.0.0.1"]):
            response = safe_http.get(
                tls_server.url("/echo", host="pinned.test", scheme="https"), ssl_context=client_context
            )
            # The same server by address: its certificate does not name 127.0.0.1.
            with pytest.raises(
                safe_http.ConnectionFailedError, match="TLS certificate of 127.0.0.1 could not be verified"
            ):
                safe_http.get(tls_server.url("/json", scheme="https"), ssl_context=client_context, timeout=2)
    finally:
        tls_server.close()
    assert calls[0] == "pinned.test"
    assert names[0] == "pinned.test"
    assert response.json()["headers"]["host"] == f"pinned.test:{tls_server.port}"
