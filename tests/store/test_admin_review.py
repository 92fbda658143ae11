"""The review queue in the Django admin, driven with Django's test client posting the actions."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from store.models import StoreListingVersion
from tests.clients import client_for
from tests.factories import UserFactory
from tests.graphs import import_calculator
from tests.submissions import review, submit

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/store/storelistingversion/"


@pytest.fixture
def admin_browser(admin_user) -> Client:
    browser = Client()
    browser.force_login(admin_user)
    return browser


def post_action(browser: Client, action: str, submissions: list[dict], **form):
    body = {"action": action, "_selected_action": [s["id"] for s in submissions], **form}
    return browser.post(CHANGELIST, body)


def test_the_queue_lists_pending_submissions_first(admin_browser, creator_client, auth_client, admin_client):
    approved = submit(creator_client, import_calculator(creator_client), slug="old", name="Old")
    review(admin_client, approved)
    pending_1 = submit(auth_client, import_calculator(auth_client), slug="first", name="First")
    pending_2 = submit(creator_client, import_calculator(creator_client), slug="second", name="Second")

    response = admin_browser.get(CHANGELIST)

    assert response.status_code == 200
    listed = [str(version.id) for version in response.context["cl"].result_list]
    assert listed == [pending_1["id"], pending_2["id"], approved["id"]]


def test_the_submission_page_shows_the_graph_and_media(admin_browser, creator_client):
    submission = submit(
        creator_client,
        import_calculator(creator_client),
        image_urls=["https://cdn.example.com/shot.png"],
        video_url="https://video.example.com/demo.mp4",
    )

    page = admin_browser.get(f"{CHANGELIST}{submission['id']}/change/").content.decode()

    graph = StoreListingVersion.objects.get().graph_version
    for node in graph.nodes.all():
        assert node.node_id in page
    assert "Calculator" in page and "Agent Input" in page
    assert page.count("&rarr;") == graph.links.count()
    assert '<img src="https://cdn.example.com/shot.png"' in page
    assert 'href="https://video.example.com/demo.mp4"' in page


def test_approving_asks_for_comments_then_records_the_decision(admin_browser, admin_user, creator_client):
    submission = submit(creator_client, import_calculator(creator_client), name="Doubler", slug="doubler")

    confirm = post_action(admin_browser, "approve_submissions", [submission])

    assert confirm.status_code == 200
    assert b'name="internal_comments"' in confirm.content
    assert StoreListingVersion.objects.get().status == "PENDING"

    done = post_action(
        admin_browser, "approve_submissions", [submission], apply="1", comments="Welcome!", internal_comments="ok"
    )

    assert done.status_code == 302
    version = StoreListingVersion.objects.select_related("listing").get()
    assert (version.status, version.reviewer, version.review_comments, version.internal_comments) == (
        "APPROVED",
        admin_user,
        "Welcome!",
        "ok",
    )
    assert version.reviewed_at is not None
    assert version.listing.active_version == version

    # approved through the admin, it is in the public store and can be added to a library
    username = creator_client.get("/api/v1/store/profile").json()["username"]
    public = APIClient().get(f"/api/v1/store/agents/{username}/doubler")
    assert public.status_code == 200
    assert public.json()["name"] == "Doubler"
    added = client_for(UserFactory()).post(
        "/api/v1/library/agents", {"store_listing_version_id": submission["id"]}, format="json"
    )
    assert added.status_code == 201


def test_rejecting_needs_public_comments(admin_browser, creator_client):
    submission = submit(creator_client, import_calculator(creator_client))

    refused = post_action(admin_browser, "reject_submissions", [submission], apply="1", internal_comments="spam")

    assert refused.status_code == 200
    assert "Tell the creator why" in refused.content.decode()
    assert StoreListingVersion.objects.get().status == "PENDING"

    done = post_action(
        admin_browser, "reject_submissions", [submission], apply="1", comments="Broken graph", internal_comments="spam"
    )

    assert done.status_code == 302
    version = StoreListingVersion.objects.get()
    assert (version.status, version.review_comments, version.internal_comments) == ("REJECTED", "Broken graph", "spam")
    mine = creator_client.get("/api/v1/store/submissions").json()["results"]
    assert [(s["status"], s["review_comments"]) for s in mine] == [("REJECTED", "Broken graph")]
    assert APIClient().get("/api/v1/store/agents").json()["count"] == 0


def test_the_admin_is_closed_to_users_who_are_not_staff(creator, creator_client):
    submit(creator_client, import_calculator(creator_client))
    browser = Client()
    browser.force_login(creator)

    response = browser.get(CHANGELIST)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
