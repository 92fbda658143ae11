"""The whole store path through the API, with a real worker running the added agent:
submit → review → approve → browse → add to library → run, and a newer version reaching the
library as an update."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from store.models import StoreListingVersion
from tests.clients import client_for
from tests.factories import UserFactory
from tests.graphs import import_calculator, run_graph
from tests.submissions import review, submit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_worker")]


def approve_through_the_api(admin_client, admin_user, submission: dict) -> None:
    decided = review(admin_client, submission, comments="Nice work", internal="checked the graph")
    assert decided["status"] == "APPROVED"


def approve_through_the_django_admin(admin_client, admin_user, submission: dict) -> None:
    browser = Client()
    browser.force_login(admin_user)
    response = browser.post(
        "/admin/store/storelistingversion/",
        {
            "action": "approve_submissions",
            "_selected_action": [submission["id"]],
            "apply": "1",
            "comments": "Nice work",
            "internal_comments": "checked the graph",
        },
    )
    assert response.status_code == 302


@pytest.mark.parametrize("approve", [approve_through_the_api, approve_through_the_django_admin])
def test_submit_review_approve_browse_add_to_library_and_run(creator_client, admin_client, admin_user, approve):
    # given a creator's graph submitted to the store
    graph = import_calculator(creator_client)
    submission = submit(creator_client, graph, name="Number Doubler", slug="number-doubler")
    assert submission["status"] == "PENDING"
    anonymous = APIClient()
    assert anonymous.get("/api/v1/store/agents").json()["count"] == 0

    # when an admin approves it
    pending = admin_client.get("/api/v1/store/admin/submissions?status=PENDING").json()
    assert [s["id"] for s in pending["results"]] == [submission["id"]]
    approve(admin_client, admin_user, submission)
    decided = StoreListingVersion.objects.get(id=submission["id"])
    assert (decided.status, decided.reviewer, decided.internal_comments) == (
        "APPROVED",
        admin_user,
        "checked the graph",
    )

    # then anyone can find it in the store
    creator_name = creator_client.get("/api/v1/store/profile").json()["username"]
    listed = anonymous.get("/api/v1/store/agents?search=doubler").json()
    assert [(a["creator"], a["slug"], a["name"]) for a in listed["results"]] == [
        (creator_name, "number-doubler", "Number Doubler")
    ]
    detail = anonymous.get(f"/api/v1/store/agents/{creator_name}/number-doubler").json()
    assert detail["store_listing_version_id"] == submission["id"]
    assert [v["version"] for v in detail["versions"]] == [1]
    assert detail["input_schema"]["properties"].keys() == {"Input"}
    assert (detail["rating"], detail["runs"]) == ({"average": 0.0, "count": 0}, 0)
    mine = creator_client.get("/api/v1/store/submissions").json()["results"]
    assert [(s["status"], s["review_comments"]) for s in mine] == [("APPROVED", "Nice work")]
    assert "internal_comments" not in mine[0]

    # and a user adds it to their library and runs their copy
    user_client = client_for(UserFactory())
    added = user_client.post(
        "/api/v1/library/agents", {"store_listing_version_id": detail["store_listing_version_id"]}, format="json"
    )
    assert added.status_code == 201, added.json()
    library_agent = added.json()
    assert library_agent["graph_id"] != graph["id"]
    assert library_agent["name"] == graph["name"]
    assert library_agent["store_source"] == {
        "store_listing_version_id": submission["id"],
        "version": 1,
        "slug": "number-doubler",
        "creator": creator_name,
    }
    assert library_agent["update_available"] is False
    copy = user_client.get(f"/api/v1/graphs/{library_agent['graph_id']}").json()
    result = run_graph(user_client, copy, {"Input": 8})
    assert (result["status"], result["outputs"]) == ("COMPLETED", {"Output": [42.0]})

    # the run counts for the store agent, and a rating shows on its page
    assert (
        user_client.post(
            f"/api/v1/store/agents/{creator_name}/number-doubler/reviews",
            {"score": 4, "comments": "handy"},
            format="json",
        ).status_code
        == 201
    )
    detail = anonymous.get(f"/api/v1/store/agents/{creator_name}/number-doubler").json()
    assert (detail["rating"], detail["runs"]) == ({"average": 4.0, "count": 1}, 1)
    assert [(r["score"], r["comments"]) for r in detail["reviews"]] == [(4, "handy")]

    # a second version approved later is offered to the library as an update
    creator_graph = creator_client.get(f"/api/v1/graphs/{graph['id']}").json()
    saved = creator_client.put(
        f"/api/v1/graphs/{graph['id']}", {**creator_graph, "name": "Number Doubler 2"}, format="json"
    )
    assert saved.status_code == 200, saved.json()
    second = submit(creator_client, {"id": graph["id"], "version": 2}, name="Number Doubler", slug="number-doubler")
    assert second["version"] == 2
    agent_url = f"/api/v1/library/agents/{library_agent['id']}"
    assert user_client.get(agent_url).json()["update_available"] is False  # pending is not offered
    review(admin_client, second)
    before_update = user_client.get(agent_url).json()
    assert (before_update["update_available"], before_update["latest_store_version"]) == (True, 2)

    updated = user_client.post(f"{agent_url}/update")
    assert updated.status_code == 200, updated.json()
    assert (updated.json()["graph_version"], updated.json()["update_available"]) == (2, False)
    assert updated.json()["store_source"]["version"] == 2
    assert user_client.get(f"/api/v1/graphs/{library_agent['graph_id']}").json()["name"] == "Number Doubler 2"
    assert user_client.post(f"{agent_url}/update").status_code == 409
