"""One way to list: every list endpoint answers a page, {count, next, previous, results}, and a
bad page or page_size is a 400 naming it (the paginator alone would ignore page_size=abc)."""

import pytest

from tests.accounts.test_auth_api import assert_error
from tests.graphs import import_calculator

pytestmark = pytest.mark.django_db

GRAPH_LISTS = ["/graphs", "/graphs/{id}/versions", "/graphs/{id}/executions", "/graphs/{id}/schedules"]
GRAPH_LISTS += ["/graphs/{id}/triggers", "/executions", "/library/agents", "/schedules", "/notifications"]
OTHER_LISTS = ["/notifications/channels", "/store/submissions", "/store/agents", "/store/creators", "/auth/api-keys"]
LISTS = GRAPH_LISTS + OTHER_LISTS


@pytest.fixture
def url(auth_client):
    graph = import_calculator(auth_client)
    return lambda path: "/api/v1" + path.format(id=graph["id"])


@pytest.mark.parametrize("path", [*LISTS, "/store/admin/submissions"])
def test_every_list_answers_one_page(auth_client, admin_client, url, path):
    client = admin_client if "admin" in path else auth_client

    response = client.get(url(path) + "?page_size=1")

    assert response.status_code == 200, response.content
    assert set(response.json()) == {"count", "next", "previous", "results"}
    assert len(response.json()["results"]) <= 1


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "query, field", [("page_size=abc", "page_size"), ("page_size=0", "page_size"), ("page=x", "page")]
)
def test_a_bad_page_or_page_size_is_400_naming_it(auth_client, url, path, query, field):
    assert_error(auth_client.get(f"{url(path)}?{query}"), 400, "validation_error", field=field)


def test_a_page_size_over_the_maximum_is_served_as_the_maximum(auth_client, url):
    body = auth_client.get(url("/graphs") + "?page_size=100000").json()

    assert body["count"] == 1 and len(body["results"]) == 1


def test_a_page_past_the_last_is_404(auth_client, url):
    assert_error(auth_client.get(url("/graphs") + "?page=2"), 404, "not_found")


@pytest.mark.parametrize("value", ["1.0", "+1", " 1", "-1", "", "0"])
def test_a_version_is_written_in_digits(auth_client, url, value):
    response = auth_client.get(url("/graphs/{id}"), {"version": value})

    body = assert_error(response, 400, "validation_error", field="version")
    assert body["details"]["version"] == ["A version is a whole number from 1."]
