"""Profiles, submissions and the review API: the rules and every bad input."""

import uuid

import pytest
from rest_framework.test import APIClient

from accounts.services import api_key_create
from store.models import StoreListing, StoreListingVersion
from tests.accounts.test_auth_api import assert_error
from tests.graphs import import_calculator
from tests.submissions import review, submission_body, submit

pytestmark = pytest.mark.django_db


# --- Profile -----------------------------------------------------------------------------------


def test_a_first_profile_gets_a_username_from_the_email_address(creator_client):
    profile = creator_client.get("/api/v1/store/profile").json()

    assert profile == {"username": "ada", "name": profile["name"], "description": "", "links": [], "avatar_url": ""}


def test_profile_update_and_a_username_taken_by_someone_else(creator_client, auth_client):
    body = {"username": "Ada-Lovelace", "name": "Ada", "description": "Engines", "links": ["https://ada.dev"]}

    saved = creator_client.put("/api/v1/store/profile", body, format="json")

    assert saved.status_code == 200
    assert saved.json() == {**body, "username": "ada-lovelace", "avatar_url": ""}
    taken = auth_client.put("/api/v1/store/profile", {"username": "ADA-lovelace"}, format="json")
    assert_error(taken, 400, field="username")
    assert "taken" in taken.json()["details"]["username"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "a"}, "username"),
        ({"username": "-ada"}, "username"),
        ({"username": "ada lovelace"}, "username"),
        ({"username": "ada", "links": ["javascript:alert(1)"]}, "links.0"),
        ({"username": "ada", "links": ["https://a.dev"] * 6}, "links"),
        ({"username": "ada", "name": "x" * 101}, "name"),
        ({}, "username"),
    ],
)
def test_bad_profiles_are_refused_naming_the_field(creator_client, body, field):
    response = creator_client.put("/api/v1/store/profile", body, format="json")

    assert_error(response, 400, field=field)


# --- Submissions -------------------------------------------------------------------------------


def test_a_submission_creates_the_listing_then_each_one_a_new_pending_version(creator_client, admin_client):
    graph = import_calculator(creator_client)

    first = submit(creator_client, graph)

    assert first["status"] == "PENDING"
    assert (first["version"], first["slug"], first["graph_id"], first["graph_version"]) == (
        1,
        "calculator",
        graph["id"],
        1,
    )
    assert first["categories"] == ["math"]
    review(admin_client, first, approve=False, comments="Add a description")
    second = submit(creator_client, graph, description="Now with a description")
    assert second["listing_id"] == first["listing_id"]
    assert second["version"] == 2
    assert StoreListing.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"slug": ""}, "slug"),
        ({"graph_version": 0}, "graph_version"),
        ({"graph_version": 7}, "graph_version"),
        ({"graph_id": "not-a-uuid"}, "graph_id"),
        ({"graph_id": str(uuid.uuid4())}, "graph_id"),
        ({"categories": "math"}, "categories"),
        ({"categories": ["x" * 51]}, "categories.0"),
        ({"image_urls": ["ftp://example.com/a.png"]}, "image_urls.0"),
        ({"video_url": "not a url"}, "video_url"),
        ({"description": "x" * 10001}, "description"),
    ],
)
def test_bad_submissions_are_refused_naming_the_field_and_nothing_is_saved(creator_client, change, field):
    graph = import_calculator(creator_client)

    response = creator_client.post("/api/v1/store/submissions", submission_body(graph, **change), format="json")

    assert_error(response, 400, field=field)
    assert (StoreListing.objects.count(), StoreListingVersion.objects.count()) == (0, 0)


def test_submitting_another_users_graph_is_refused_naming_graph_id(creator_client, auth_client):
    graph = import_calculator(auth_client)

    response = creator_client.post("/api/v1/store/submissions", submission_body(graph), format="json")

    assert_error(response, 400, field="graph_id")
    assert StoreListing.objects.count() == 0


def test_a_slug_taken_by_another_of_your_listings_is_refused(creator_client, auth_client):
    submit(creator_client, import_calculator(creator_client), slug="calc")
    other_graph = import_calculator(creator_client)

    response = creator_client.post(
        "/api/v1/store/submissions", submission_body(other_graph, slug="calc"), format="json"
    )

    assert_error(response, 400, field="slug")
    assert StoreListing.objects.count() == 1
    # another creator may use the same slug
    submit(auth_client, import_calculator(auth_client), slug="calc")


def test_the_same_graph_version_cannot_be_pending_twice(creator_client):
    graph = import_calculator(creator_client)
    submit(creator_client, graph)

    response = creator_client.post("/api/v1/store/submissions", submission_body(graph), format="json")

    assert_error(response, 400, field="graph_version")
    assert StoreListingVersion.objects.count() == 1


def test_my_submissions_list_only_mine_with_the_public_comments(creator_client, auth_client, admin_client):
    mine = submit(creator_client, import_calculator(creator_client))
    submit(auth_client, import_calculator(auth_client))
    review(admin_client, mine, approve=False, comments="Needs screenshots", internal="low effort")

    listed = creator_client.get("/api/v1/store/submissions").json()

    assert listed["count"] == 1
    assert (listed["results"][0]["status"], listed["results"][0]["review_comments"]) == (
        "REJECTED",
        "Needs screenshots",
    )
    assert "low effort" not in str(listed)


def test_a_pending_submission_can_be_changed_and_withdrawn(creator_client):
    submission = submit(creator_client, import_calculator(creator_client))
    url = f"/api/v1/store/submissions/{submission['id']}"

    changed = creator_client.put(url, {"name": "Adder", "categories": ["Math", "tools"]}, format="json")

    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["categories"], changed.json()["sub_heading"]) == (
        "Adder",
        ["math", "tools"],
        "Adds numbers",
    )
    assert_error(creator_client.put(url, {"name": ""}, format="json"), 400, field="name")
    assert creator_client.delete(url).status_code == 204
    assert (StoreListing.objects.count(), StoreListingVersion.objects.count()) == (0, 0)


def test_a_decided_submission_can_no_longer_be_changed_or_withdrawn(creator_client, admin_client):
    submission = submit(creator_client, import_calculator(creator_client))
    review(admin_client, submission)
    url = f"/api/v1/store/submissions/{submission['id']}"

    assert_error(creator_client.put(url, {"name": "Other"}, format="json"), 409)
    assert_error(creator_client.delete(url), 409)
    assert StoreListingVersion.objects.get().name == "Calculator"


def test_another_users_submission_is_not_found(creator_client, auth_client):
    submission = submit(creator_client, import_calculator(creator_client))
    url = f"/api/v1/store/submissions/{submission['id']}"

    assert_error(auth_client.get(url), 404)
    assert_error(auth_client.put(url, {"name": "Mine now"}, format="json"), 404)
    assert_error(auth_client.delete(url), 404)
    assert StoreListingVersion.objects.get().name == "Calculator"


def test_deleting_the_graph_removes_its_listing(creator_client, admin_client):
    graph = import_calculator(creator_client)
    review(admin_client, submit(creator_client, graph))

    assert creator_client.delete(f"/api/v1/graphs/{graph['id']}").status_code == 204

    assert (StoreListing.objects.count(), StoreListingVersion.objects.count()) == (0, 0)


# --- Review through the API --------------------------------------------------------------------


def test_only_admins_reach_the_review_api(creator_client, api_client):
    submission = submit(creator_client, import_calculator(creator_client))
    review_url = f"/api/v1/store/admin/submissions/{submission['id']}/review"

    assert_error(creator_client.get("/api/v1/store/admin/submissions"), 403)
    assert_error(creator_client.post(review_url, {"is_approved": True}, format="json"), 403)
    assert_error(api_client.get("/api/v1/store/admin/submissions"), 401)
    assert StoreListingVersion.objects.get().status == "PENDING"


def test_admin_list_shows_pending_first_and_filters_by_status(creator_client, auth_client, admin_client):
    approved = submit(creator_client, import_calculator(creator_client), slug="one")
    review(admin_client, approved)
    pending_1 = submit(auth_client, import_calculator(auth_client), slug="two")
    pending_2 = submit(creator_client, import_calculator(creator_client), slug="three")

    everything = admin_client.get("/api/v1/store/admin/submissions").json()["results"]
    only_approved = admin_client.get("/api/v1/store/admin/submissions?status=APPROVED").json()["results"]

    assert [s["id"] for s in everything] == [pending_1["id"], pending_2["id"], approved["id"]]
    assert [s["id"] for s in only_approved] == [approved["id"]]
    assert_error(admin_client.get("/api/v1/store/admin/submissions?status=MAYBE"), 400, field="status")


def test_a_decision_records_reviewer_time_and_comments_and_sets_the_active_version(
    creator_client, admin_client, admin_user
):
    submission = submit(creator_client, import_calculator(creator_client))

    decided = review(admin_client, submission, comments="Great", internal="ran it twice")

    version = StoreListingVersion.objects.select_related("listing").get()
    assert (version.status, version.reviewer, version.review_comments, version.internal_comments) == (
        "APPROVED",
        admin_user,
        "Great",
        "ran it twice",
    )
    assert version.reviewed_at is not None
    assert version.listing.active_version == version
    assert (decided["reviewer"], decided["creator_email"]) == (admin_user.email, "ada@example.com")


def test_a_rejection_needs_comments_for_the_creator(creator_client, admin_client):
    submission = submit(creator_client, import_calculator(creator_client))

    response = admin_client.post(
        f"/api/v1/store/admin/submissions/{submission['id']}/review", {"is_approved": False}, format="json"
    )

    assert_error(response, 400, field="comments")
    assert StoreListingVersion.objects.get().status == "PENDING"


@pytest.mark.parametrize(("body", "field"), [({}, "is_approved"), ({"is_approved": "perhaps"}, "is_approved")])
def test_bad_decisions_are_refused_naming_the_field(creator_client, admin_client, body, field):
    submission = submit(creator_client, import_calculator(creator_client))

    response = admin_client.post(f"/api/v1/store/admin/submissions/{submission['id']}/review", body, format="json")

    assert_error(response, 400, field=field)


def test_reviewing_an_unknown_submission_is_not_found(admin_client):
    response = admin_client.post(
        f"/api/v1/store/admin/submissions/{uuid.uuid4()}/review", {"is_approved": True}, format="json"
    )

    assert_error(response, 404)


def test_an_admins_api_key_cannot_review(admin_user):
    _, raw_key = api_key_create(user=admin_user, name="k", scopes=["read_store", "write_library"])
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_key)

    assert_error(client.get("/api/v1/store/admin/submissions"), 403)
    assert client.get("/api/v1/store/agents").status_code == 200


def test_the_creator_is_told_of_each_decision_in_app(creator_client, admin_client, auth_client):
    submission = submit(creator_client, import_calculator(creator_client), name="Doubler", slug="doubler")

    review(admin_client, submission, approve=False, comments="Add screenshots", internal="meh")
    review(admin_client, submit(creator_client, import_calculator(creator_client), slug="second"))

    inbox = creator_client.get("/api/v1/notifications").json()["results"]
    assert sorted((n["type"], n["data"]["slug"], n["data"]["public_comments"]) for n in inbox) == [
        ("store_submission_approved", "second", ""),
        ("store_submission_rejected", "doubler", "Add screenshots"),
    ]
    assert "meh" not in str(inbox)
    rejected = next(n for n in inbox if n["type"] == "store_submission_rejected")
    assert rejected["link"].endswith("/api/v1/store/submissions")
    assert auth_client.get("/api/v1/notifications").json()["count"] == 0
