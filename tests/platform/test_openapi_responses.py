"""The OpenAPI document says what each endpoint really answers: real responses, from real runs on a
real worker, validate against the response schema that /api/schema/ publishes for them.

The schema's OpenAPI 3.0 objects are read as JSON Schema (2020-12): `nullable` becomes a null
alternative, and an object with declared properties admits no other key, so that a serializer
whose declared fields drift from its output fails here."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from jsonschema import Draft202012Validator, FormatChecker

from notifications.models import Notification
from tests.clients import client_for
from tests.factories import UserFactory
from tests.graphs import AGENT_OUTPUT, create_graph, execute, import_calculator, node, run_graph, wait_for_status
from tests.processes import wait_until
from tests.submissions import publish

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_worker")]

FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def is_date_time(value) -> bool:
    return not isinstance(value, str) or bool(datetime.fromisoformat(value))


def as_json_schema(schema):
    """An OpenAPI 3.0 schema object as JSON Schema."""
    if not isinstance(schema, dict):
        return schema
    converted = {}
    for key, value in schema.items():
        if key == "properties":
            converted[key] = {name: as_json_schema(prop) for name, prop in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            converted[key] = as_json_schema(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            converted[key] = [as_json_schema(option) for option in value]
        elif key != "nullable":
            converted[key] = value
    if "properties" in converted and "additionalProperties" not in converted:
        converted["additionalProperties"] = False
    return {"anyOf": [converted, {"type": "null"}]} if schema.get("nullable") else converted


def response_errors(schema: dict, method: str, path: str, response) -> list[str]:
    """What in the response does not match the schema's response for that status ([] when all does)."""
    operation = schema["paths"][path][method]
    documented = operation["responses"].get(str(response.status_code))
    if documented is None:
        return [f"status {response.status_code} is not documented: {response.content[:300]!r}"]
    body_schema = documented["content"]["application/json"]["schema"]
    validator = Draft202012Validator(
        {
            **as_json_schema(body_schema),
            "components": {"schemas": {name: as_json_schema(s) for name, s in schema["components"]["schemas"].items()}},
        },
        format_checker=FORMATS,
    )
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message[:300]}"
        for error in validator.iter_errors(response.json())
    ]


@pytest.fixture
def schema(api_client) -> dict:
    return api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def test_what_the_endpoints_answer_matches_the_published_schema(schema, admin_client):
    # Given: graphs with versions and real runs, a store agent in the library, schedules, a
    # trigger, notifications, a channel and an API key.
    user = UserFactory()
    client = client_for(user)
    maker = client_for(UserFactory())
    calculator = import_calculator(client)
    two = create_graph(client, [node("out", AGENT_OUTPUT, name="x")], [], name="two")
    client.put(
        f"/api/v1/graphs/{two['id']}",
        {"name": "two, v2", "nodes": [node("out", AGENT_OUTPUT, name="y")]},
        format="json",
    )
    run = run_graph(client, calculator, {"Input": 8})
    second_run = execute(client, two)  # asked below while it may still be queued or running
    submission = publish(maker, admin_client)
    library_agent = client.post(
        "/api/v1/library/agents", {"store_listing_version_id": submission["id"]}, format="json"
    ).json()
    schedule = client.post(
        f"/api/v1/graphs/{calculator['id']}/schedules",
        {"name": "weekly", "cron": "0 9 * * 1", "timezone": "Europe/Berlin", "inputs": {"Input": 1}},
        format="json",
    ).json()
    client.post(
        f"/api/v1/graphs/{calculator['id']}/schedules",
        {"name": "once", "run_at": (timezone.now() + timedelta(days=1)).isoformat(), "inputs": {"Input": 2}},
        format="json",
    )
    trigger = client.post(f"/api/v1/graphs/{calculator['id']}/triggers", {"name": "hook"}, format="json").json()
    client.post(
        "/api/v1/notifications/channels",
        {"kind": "slack", "webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX"},
        format="json",
    )
    client.post("/api/v1/auth/api-keys", {"name": "ci", "scopes": ["read_graph"]}, format="json")
    creator = maker.get("/api/v1/store/profile").json()["username"]
    wait_until(lambda: Notification.objects.filter(user=user).exists(), timeout=10, message="the run's notification")
    ids = {
        "graph_id": calculator["id"],
        "graph_exec_id": run["id"],
        "library_agent_id": library_agent["id"],
        "schedule_id": schedule["id"],
        "trigger_id": trigger["id"],
        "username": creator,
        "slug": submission["slug"],
    }
    gets = [
        (client, "/api/v1/blocks", {}),
        (client, "/api/v1/graphs", {}),
        (client, "/api/v1/graphs/{graph_id}", {}),
        (client, "/api/v1/graphs/{graph_id}", {"graph_id": two["id"], "query": "?version=1"}),
        (client, "/api/v1/graphs/{graph_id}/versions", {"graph_id": two["id"]}),
        (client, "/api/v1/graphs/{graph_id}/export", {}),
        (client, "/api/v1/graphs/{graph_id}/executions", {}),
        (client, "/api/v1/graphs/{graph_id}/schedules", {}),
        (client, "/api/v1/graphs/{graph_id}/triggers", {}),
        (client, "/api/v1/executions", {}),
        (client, "/api/v1/executions/{graph_exec_id}", {}),
        (client, "/api/v1/executions/{graph_exec_id}", {"graph_exec_id": second_run["id"]}),
        (client, "/api/v1/library/agents", {}),
        (client, "/api/v1/library/agents/{library_agent_id}", {}),
        (client, "/api/v1/schedules", {}),
        (client, "/api/v1/schedules/{schedule_id}", {}),
        (client, "/api/v1/triggers/{trigger_id}", {}),
        (client, "/api/v1/store/agents", {}),
        (client, "/api/v1/store/agents/{username}/{slug}", {}),
        (client, "/api/v1/store/creators", {}),
        (client, "/api/v1/store/creators/{username}", {}),
        (maker, "/api/v1/store/submissions", {}),
        (maker, "/api/v1/store/profile", {}),
        (admin_client, "/api/v1/store/admin/submissions", {}),
        (client, "/api/v1/notifications", {}),
        (client, "/api/v1/notifications/channels", {}),
        (client, "/api/v1/notifications/preferences", {}),
        (client, "/api/v1/auth/api-keys", {}),
        (client, "/api/v1/auth/me", {}),
    ]

    # When: each endpoint is asked
    errors = {}
    for asker, path, overrides in gets:
        url = path.format(**{**ids, **overrides}) + overrides.get("query", "")
        response = asker.get(url)
        assert response.status_code == 200, (url, response.content)
        errors[url] = response_errors(schema, "get", path, response)
    executed = client.post(f"/api/v1/graphs/{calculator['id']}/execute", {"inputs": {"Input": 1}}, format="json")
    errors["POST execute"] = response_errors(schema, "post", "/api/v1/graphs/{graph_id}/execute", executed)
    for started in (second_run, executed.json()):  # no run may outlive the test (its database is flushed)
        wait_for_status(client, started["id"])
    notification = client.get("/api/v1/notifications").json()["results"][0]
    read = client.post(f"/api/v1/notifications/{notification['id']}/read")
    errors["POST read"] = response_errors(schema, "post", "/api/v1/notifications/{notification_id}/read", read)

    # Then: every answer is what the schema says
    assert {url: problems for url, problems in errors.items() if problems} == {}


def test_every_list_is_documented_as_a_page_but_autogpts_plain_lists(schema):
    """Pages everywhere, except the lists AutoGPT's clients read as plain arrays: the block
    catalog and the integrations' providers and credentials (a user has a handful)."""
    plain_lists = {
        path
        for path, operations in schema["paths"].items()
        if operations.get("get", {})
        .get("responses", {})
        .get("200", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema", {})
        .get("type")
        == "array"
    }

    assert plain_lists == {
        "/api/v1/blocks",
        "/api/v1/integrations/providers",
        "/api/v1/integrations/credentials",
        "/api/v1/integrations/{provider}/credentials",
    }
