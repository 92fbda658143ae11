"""Send Web Request against a real local server on 127.0.0.1 (allowed through SAFE_HTTP_ALLOWED_HOSTS)."""

import json

import pytest
from django.test import override_settings

from agents.blocks import BlockContext
from agents.blocks.http import SendWebRequestBlock
from tests.platform.test_safe_http import LocalServer


@pytest.fixture
def server():
    local = LocalServer()
    with local.allowed():
        yield local
    local.close()


def run(**inputs):
    return list(SendWebRequestBlock().execute(inputs, BlockContext(user_id="u", node_id="n")))


def test_the_block_is_registered_under_autogpts_id():
    assert SendWebRequestBlock.id == "6595ae1f-b924-42cb-9a41-551a0611c4b4"
    assert SendWebRequestBlock.name == "Send Web Request"
    assert SendWebRequestBlock.Input.model_fields["method"].default == "POST"


def test_own_test_cases():
    for case in SendWebRequestBlock.test_cases:
        [(pin, message)] = run(**case.input)
        assert pin == "error" and "refused" in message, message


def test_get_json(server):
    assert run(url=server.url("/json"), method="GET") == [("response", {"hello": "world"})]


def test_get_as_text(server):
    assert run(url=server.url("/json"), method="GET", json_format=False) == [("response", '{"hello": "world"}')]


def test_post_json_body_is_echoed(server):
    [(pin, echo)] = run(url=server.url("/echo"), body={"name": "Ada", "n": [1, 2]}, headers={"X-Token": "t"})
    assert pin == "response"
    assert echo["method"] == "POST"
    assert json.loads(echo["body"]) == {"name": "Ada", "n": [1, 2]}
    assert echo["headers"]["content-type"] == "application/json"
    assert echo["headers"]["x-token"] == "t"


def test_string_bodies(server):
    [(_, as_json)] = run(url=server.url("/echo"), method="PUT", body='{"a": 1}')
    assert (as_json["method"], json.loads(as_json["body"]), as_json["headers"]["content-type"]) == (
        "PUT",
        {"a": 1},
        "application/json",
    )

    [(_, as_text)] = run(url=server.url("/echo"), body="hello there")
    assert (as_text["body"], as_text["headers"]["content-type"]) == ("hello there", "text/plain; charset=utf-8")

    [(_, raw)] = run(url=server.url("/echo"), body={"a": 1}, json_format=False, headers={"Content-Type": "text/csv"})
    assert isinstance(raw, str)
    echo = json.loads(raw)
    assert (echo["body"], echo["headers"]["content-type"]) == ('{"a": 1}', "text/csv")


def test_status_pins(server):
    assert run(url=server.url("/status/404"), method="GET") == [("client_error", "not here")]
    assert run(url=server.url("/status/500"), method="DELETE") == [("server_error", {"status": 500})]
    assert run(url=server.url("/status/204"), method="GET") == [("response", "")]


def test_loopback_without_the_allow_list_is_an_error(server):
    url = server.url("/json")
    with override_settings(SAFE_HTTP_ALLOWED_HOSTS=[]):
        outputs = run(url=url, method="GET")
    assert outputs == [("error", f"{url} resolves to 127.0.0.1, a loopback address; requests to it are refused.")]
    assert server.seen == []


def test_network_failure_is_an_error():
    outputs = run(url="gopher://example.com/", method="GET")
    assert outputs == [
        ("error", "gopher://example.com/: only http and https URLs are allowed; the scheme 'gopher' is refused.")
    ]
