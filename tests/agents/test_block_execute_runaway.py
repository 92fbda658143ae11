"""POST /api/v1/blocks/{id}/execute runs the block on a real executor, never in the web process:
a runaway block cannot stall the web server, it is stopped after BLOCK_EXECUTE_TIMEOUT (504), and
its outputs have the limits of a node in a graph."""

import json
import threading
import time
import urllib.error
import urllib.request

import pytest
from django.test import override_settings
from rest_framework_simplejwt.tokens import AccessToken

from tests import processes
from tests.accounts.test_auth_api import assert_error
from tests.graphs import (
    AGENT_OUTPUT,
    BIG_OUTPUT,
    CALCULATOR,
    COUNTDOWN,
    FILL_TEMPLATE,
    HOLD_GIL,
    MATCH_TEXT_PATTERN,
    create_graph,
    link,
    node,
    run_graph,
)

LIMIT = 5 * 1024 * 1024  # BLOCK_OUTPUT_MAX_BYTES's default, which the worker has


def execute_block(client, block_id: str, inputs):
    return client.post(f"/api/v1/blocks/{block_id}/execute", inputs, format="json")


@pytest.mark.django_db
@pytest.mark.usefixtures("live_worker")
class TestPatterns:
    def test_the_issues_request_answers_at_once(self, auth_client):
        started = time.monotonic()

        response = execute_block(
            auth_client, MATCH_TEXT_PATTERN, {"text": "aaaaaaaaaaaaaaaaaaaaaaaaaaa!", "match": "(a+)+$", "data": "x"}
        )

        assert response.status_code == 200, response.content
        assert response.json() == {"negative": ["x"]}
        assert time.monotonic() - started < 3

    def test_a_pattern_that_backtracks_without_end_fails_with_a_clear_message(self, auth_client):
        started = time.monotonic()

        response = execute_block(
            auth_client, MATCH_TEXT_PATTERN, {"text": "a" * 40 + "!", "match": "(a|aa)+$", "data": "x"}
        )

        assert response.status_code == 200, response.content
        assert response.json() == {
            "error": [
                "The regular expression '(a|aa)+$' took longer than 0.5 s to match; simplify it"
                " (nested repetition such as '(a+)+' can take exponential time)."
            ]
        }
        assert time.monotonic() - started < 5


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("live_worker")
def test_in_a_graph_a_runaway_pattern_fails_its_node_naming_the_pattern(auth_client):
    graph = create_graph(
        auth_client,
        [
            node("match", MATCH_TEXT_PATTERN, text="a" * 40 + "!", match="(a|aa)+$", data="x"),
            node("out", AGENT_OUTPUT, name="result"),
        ],
        [link("match", "positive", "out", "value")],
    )

    detail = run_graph(auth_client, graph, timeout=15)

    assert detail["status"] == "FAILED", detail
    assert detail["error"]["node_id"] == "match"
    assert detail["error"]["message"].startswith("The regular expression '(a|aa)+$' took longer than 0.5 s to match")
    assert [n["status"] for n in detail["node_executions"]] == ["FAILED"]


@pytest.mark.django_db
@pytest.mark.usefixtures("live_worker")
class TestOutputLimit:
    def test_an_output_over_the_limit_fails_the_block_as_in_a_graph(self, auth_client):
        response = execute_block(auth_client, BIG_OUTPUT, {"size": 10_000_000})

        assert response.status_code == 200
        assert response.json() == {"error": [f"Output 'output' is 10000002 bytes, over the limit of {LIMIT} bytes."]}

    def test_a_template_printing_10_mb_stops_at_the_limit(self, auth_client):
        template = "{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}"

        response = execute_block(auth_client, FILL_TEMPLATE, {"values": {}, "format": template})

        assert response.status_code == 200
        assert response.json() == {
            "error": [f"Could not fill the template: the text is longer than the output limit of {LIMIT} bytes"]
        }

    def test_the_whole_answer_is_held_to_the_limit_too(self, auth_client):
        response = execute_block(auth_client, BIG_OUTPUT, {"size": 1_000_000, "count": 6})

        assert response.status_code == 200
        body = response.json()
        assert body["output"] == ["x" * 1_000_000] * 5
        assert body["error"] == [f"Output 'output' makes the answer larger than the limit of {LIMIT} bytes."]


# transaction: an error answer marks the request's transaction for rollback, which in a test
# without one would be the test's own.
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("live_worker")
class TestTimeout:
    @override_settings(BLOCK_EXECUTE_TIMEOUT=1)
    def test_a_block_still_running_is_a_504_and_is_stopped(self, auth_client):
        started = time.monotonic()

        response = execute_block(auth_client, COUNTDOWN, {"seconds": 60})

        body = assert_error(response, 504, "block_timeout")
        assert body["message"] == "The block did not finish within 1 s; it was stopped."
        assert time.monotonic() - started < 4
        # The worker's process is free again: the next block runs at once.
        again = time.monotonic()
        assert execute_block(auth_client, CALCULATOR, {"operation": "Add", "a": 1, "b": 2}).json() == {"result": [3.0]}
        assert time.monotonic() - again < 3


def _get(url: str, token: str | None = None, body: dict | None = None) -> tuple[int, dict, float]:
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, content = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, content = error.code, error.read()
    return status, json.loads(content or b"{}"), time.monotonic() - started


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("live_worker")
def test_the_web_server_answers_while_a_runaway_block_holds_the_gil(user):
    """The issue's stall: stdlib `re` backtracking holds the GIL. Run in the web process, it froze
    every request, /health included; on the executor, the web server does not notice it."""
    port = processes.free_port()
    server = processes.daphne(port, env={"BLOCK_EXECUTE_TIMEOUT": "3"})
    try:
        base = f"http://127.0.0.1:{port}"
        token = str(AccessToken.for_user(user))
        answer: dict = {}

        def run_away() -> None:
            answer["status"], answer["body"], answer["seconds"] = _get(
                f"{base}/api/v1/blocks/{HOLD_GIL}/execute", token, {"size": 40}
            )

        runaway = threading.Thread(target=run_away)
        runaway.start()
        time.sleep(0.5)  # the block is running on the worker by now

        health_seconds = []
        while runaway.is_alive():
            status, _, seconds = _get(f"{base}/health")
            assert status == 200
            health_seconds.append(seconds)
            time.sleep(0.1)
        runaway.join()

        # A web process running the block would answer nothing until the 3 s block gave up: one
        # /health taking it all. Here /health keeps answering while the block runs (bounds kept
        # loose: the machine may be loaded).
        assert len(health_seconds) >= 5, health_seconds
        assert max(health_seconds) < 2.5, health_seconds
        assert answer["status"] == 504, answer
        assert answer["body"]["code"] == "block_timeout"
        assert answer["seconds"] < 6
    finally:
        server.stop()
