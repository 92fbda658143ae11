"""Bad bodies are 4xx in the one error shape, never a 500: too large is a 413, nested too deep
(JSON_MAX_DEPTH) is a 400 naming where."""

import json
import urllib.error
import urllib.request

import pytest
from django.conf import settings

from agents.models import Graph
from autogpt_platform.json_limits import JsonTooDeepError, check_depth, json_loads_limited
from executions.models import GraphExecution
from tests.executions.test_triggers import create_trigger, deliver, webhook_graph
from tests.factories import DEFAULT_PASSWORD
from tests.graphs import STORE_VALUE, node

OVER_LIMIT = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 100_000  # 2.6 MB with the default limit


def nested(depth: int, leaf=1) -> dict:
    """{"a": {"a": ... leaf}}, depth objects deep."""
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def too_large_body() -> str:
    return json.dumps({"email": "a@example.com", "password": "x" * OVER_LIMIT, "name": "x" * OVER_LIMIT})


def assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert body["message"]
    return body


@pytest.mark.django_db
class TestBodyTooLarge:
    @pytest.mark.parametrize(
        "method, path, logged_in",
        [("post", "/api/v1/auth/login", False), ("post", "/api/v1/graphs", True), ("patch", "/api/v1/auth/me", True)],
    )
    def test_a_body_over_the_limit_is_a_413(self, api_client, auth_client, method, path, logged_in):
        client = auth_client if logged_in else api_client

        response = getattr(client, method)(path, too_large_body(), content_type="application/json")

        body = assert_error_shape(response, 413, "payload_too_large")
        assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in body["message"]
        assert not Graph.objects.exists()

    def test_a_form_over_the_limit_outside_the_api_is_a_413_too(self, client):
        response = client.post("/admin/login/", {"username": "x" * OVER_LIMIT, "password": "y"})

        assert_error_shape(response, 413, "payload_too_large")

    def test_a_body_under_the_limit_is_read_as_usual(self, api_client, user):
        response = api_client.post(
            "/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
        )

        assert response.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_daphne_answers_a_too_large_body_with_a_413(live_server_url):
    request = urllib.request.Request(
        f"http://{live_server_url}/api/v1/auth/login",
        data=too_large_body().encode(),
        headers={"Content-Type": "application/json"},
    )

    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)

    assert caught.value.code == 413
    body = json.loads(caught.value.read())
    assert body["code"] == "payload_too_large" and set(body) == {"code", "message", "details"}


@pytest.mark.django_db
class TestNesting:
    def test_json_nested_990_deep_to_login_is_a_400_naming_the_body(self, api_client):
        body = '{"email": ' + "[" * 990 + "]" * 990 + ', "password": "x"}'

        response = api_client.post("/api/v1/auth/login", body, content_type="application/json")

        body = assert_error_shape(response, 400, "validation_error")
        assert list(body["details"]) == ["body"]
        assert f"deeper than {settings.JSON_MAX_DEPTH} levels" in body["message"]

    def test_a_graph_whose_input_default_is_nested_350_deep_is_a_400_naming_it(self, auth_client):
        graph = {"name": "deep", "nodes": [node("n1", STORE_VALUE, input=nested(350))], "links": []}

        response = auth_client.post("/api/v1/graphs", graph, format="json")

        body = assert_error_shape(response, 400, "validation_error")
        assert body["details"] == {
            "nodes.0.input_default": [f"JSON is nested deeper than {settings.JSON_MAX_DEPTH} levels."]
        }
        assert not Graph.objects.exists()

    def test_a_graph_at_the_limit_is_saved(self, auth_client):
        # Levels: the body, nodes, the node, input_default, then the value's own.
        graph = {
            "name": "deep",
            "nodes": [node("n1", STORE_VALUE, input=nested(settings.JSON_MAX_DEPTH - 4))],
            "links": [],
        }

        assert auth_client.post("/api/v1/graphs", graph, format="json").status_code == 201

    def test_one_level_more_is_refused(self, auth_client):
        graph = {
            "name": "deep",
            "nodes": [node("n1", STORE_VALUE, input=nested(settings.JSON_MAX_DEPTH - 3))],
            "links": [],
        }

        assert_error_shape(auth_client.post("/api/v1/graphs", graph, format="json"), 400, "validation_error")

    def test_the_limit_is_a_setting(self, auth_client, settings):
        settings.JSON_MAX_DEPTH = 8
        graph = {"name": "deep", "nodes": [node("n1", STORE_VALUE, input=nested(5))], "links": []}

        body = assert_error_shape(auth_client.post("/api/v1/graphs", graph, format="json"), 400, "validation_error")
        assert "deeper than 8 levels" in body["message"]


@pytest.mark.django_db
def test_a_webhook_delivery_nested_350_deep_is_a_400_and_starts_nothing(auth_client, api_client):
    graph = webhook_graph(auth_client)
    trigger = create_trigger(auth_client, graph)

    response = deliver(api_client, trigger, {"name": "Ada", "payload": nested(350)})

    body = assert_error_shape(response, 400, "validation_error")
    assert list(body["details"]) == ["body"]
    assert not GraphExecution.objects.exists()


class TestCheckDepth:
    def test_counts_objects_and_arrays_as_levels(self):
        check_depth({"a": [1]}, max_depth=2)
        with pytest.raises(JsonTooDeepError):
            check_depth({"a": [[1]]}, max_depth=2)

    def test_names_where_a_single_chain_of_nesting_starts(self):
        value = {"name": "x", "nodes": [{"id": "n", "input_default": {"value": nested(100)}, "metadata": {}}]}

        with pytest.raises(JsonTooDeepError) as caught:
            check_depth(value, max_depth=64)

        assert caught.value.field == "nodes.0.input_default"

    def test_names_the_member_among_siblings(self):
        with pytest.raises(JsonTooDeepError) as caught:
            check_depth({"small": {}, "deep": {"x": 1, "y": nested(10)}}, max_depth=5)

        assert caught.value.field == "deep.y"

    def test_a_bare_chain_names_its_first_step(self):
        with pytest.raises(JsonTooDeepError) as caught:
            check_depth([[[[[]]]]], max_depth=3)

        assert caught.value.field == "0"

    def test_very_deep_input_is_refused_without_recursion(self):
        with pytest.raises(JsonTooDeepError):
            json_loads_limited("[" * 100_000 + "]" * 100_000, max_depth=64)

    def test_wide_input_within_the_limit_passes(self):
        value = json_loads_limited(json.dumps({"rows": [{"i": i, "tags": [i]} for i in range(50_000)]}), max_depth=64)

        assert len(value["rows"]) == 50_000
