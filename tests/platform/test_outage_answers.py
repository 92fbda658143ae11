"""A request that needs a dependency that is down answers 503 in the one error shape, naming it,
and changes nothing; once the dependency is back the same request succeeds. The outages are real
refused connections: this process pointed at a port nothing listens on, then back."""

from contextlib import contextmanager

import pytest
from django.db import connection

from autogpt_platform.redis_client import get_redis
from executions.models import GraphExecution
from tests.graphs import AGENT_OUTPUT, create_graph, node
from tests.processes import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def database_unreachable():
    original = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = free_port()
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = original


@contextmanager
def redis_unreachable(settings):
    original = settings.REDIS_URL
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    get_redis.cache_clear()
    try:
        yield
    finally:
        settings.REDIS_URL = original
        get_redis.cache_clear()


def test_a_submit_while_the_database_is_down_is_a_503_naming_it_and_creates_nothing(auth_client):
    graph = create_graph(auth_client, [node("out", AGENT_OUTPUT, name="x", value=1)], [])
    path = f"/api/v1/graphs/{graph['id']}/execute/{graph['version']}"

    with database_unreachable():
        refused = auth_client.post(path, {"inputs": {}}, format="json")

    assert refused.status_code == 503
    assert refused["Retry-After"] == "5"
    assert refused.json() == {
        "code": "service_unavailable",
        "message": "The database is unavailable right now; nothing was changed. Try again in a few seconds.",
        "details": {},
    }
    assert not GraphExecution.objects.exists()
    assert auth_client.post(path, {"inputs": {}}, format="json").status_code == 201


def test_a_stop_while_redis_is_down_is_a_503_naming_it(auth_client, settings):
    graph = create_graph(auth_client, [node("out", AGENT_OUTPUT, name="x", value=1)], [])
    execution = auth_client.post(
        f"/api/v1/graphs/{graph['id']}/execute/{graph['version']}", {"inputs": {}}, format="json"
    ).json()

    with redis_unreachable(settings):
        refused = auth_client.post(f"/api/v1/executions/{execution['id']}/stop")

    assert refused.status_code == 503
    assert refused.json()["code"] == "service_unavailable"
    assert refused.json()["message"].startswith("Redis is unavailable right now")
