"""The SSRF-safe client's per-request options: the operator's trusted hosts, headers dropped with
Authorization on a redirect away, redirects not followed, and address checks for other protocols."""

import pytest
from django.test import override_settings

from autogpt_platform import safe_http
from tests.platform.test_safe_http import LocalServer


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


@override_settings(SAFE_HTTP_ALLOWED_HOSTS=[])
def test_a_trusted_host_is_reached_for_that_request_only(server):
    entry = safe_http.host_entry(server.url())

    assert safe_http.get(server.url("/json"), trusted_hosts=[entry]).json() == {"hello": "world"}
    with pytest.raises(safe_http.BlockedAddressError):
        safe_http.get(server.url("/json"))
    assert entry == f"127.0.0.1:{server.port}"


@override_settings(SAFE_HTTP_ALLOWED_HOSTS=[])
def test_a_redirect_away_from_a_trusted_host_is_checked_again(server, other_server):
    with pytest.raises(safe_http.BlockedAddressError, match="reached by a redirect"):
        safe_http.get(
            server.url(f"/redirect?to={other_server.url('/echo')}"), trusted_hosts=[safe_http.host_entry(server.url())]
        )

    assert other_server.seen == []


def test_sensitive_headers_are_dropped_with_authorization_when_a_redirect_leaves_the_origin(server, other_server):
    headers = {"Authorization": "Bearer a", "X-Api-Key": "k", "X-Other": "o"}
    with override_settings(SAFE_HTTP_ALLOWED_HOSTS=[f"127.0.0.1:{server.port}", f"127.0.0.1:{other_server.port}"]):
        away = safe_http.get(
            server.url(f"/redirect?to={other_server.url('/echo')}"), headers=headers, sensitive_headers=["x-api-key"]
        ).json()
        same = safe_http.get(server.url("/redirect?to=/echo"), headers=headers, sensitive_headers=["X-API-KEY"]).json()

    assert "authorization" not in away["headers"] and "x-api-key" not in away["headers"]
    assert away["headers"]["x-other"] == "o"
    assert (same["headers"]["authorization"], same["headers"]["x-api-key"]) == ("Bearer a", "k")


def test_redirects_can_be_returned_instead_of_followed(server):
    with server.allowed():
        response = safe_http.get(server.url("/redirect?to=/echo&code=307"), follow_redirects=False)

    assert (response.status, response.headers["location"]) == (307, "/echo")
    assert [path for _, path in server.seen] == ["/redirect?to=/echo&code=307"]


def test_host_addresses_for_another_protocol_are_checked_like_urls():
    with pytest.raises(safe_http.BlockedAddressError, match="127.0.0.1:587 resolves to 127.0.0.1, a loopback address"):
        safe_http.checked_host_addresses("127.0.0.1", 587)
    with pytest.raises(safe_http.InvalidUrlError, match="is not a host name"):
        safe_http.checked_host_addresses("evil.test/path", 25)
    with pytest.raises(safe_http.InvalidUrlError, match="is not a port number"):
        safe_http.checked_host_addresses("example.test", 70000)
    with override_settings(SAFE_HTTP_ALLOWED_HOSTS=["127.0.0.1:587"]):
        assert [sockaddr[:2] for _family, sockaddr in safe_http.checked_host_addresses("127.0.0.1", 587)] == [
            ("127.0.0.1", 587)
        ]
    with pytest.raises(safe_http.BlockedAddressError, match=r"\[::1\]:25 resolves to ::1, a loopback address"):
        safe_http.checked_host_addresses("::1", 25)
