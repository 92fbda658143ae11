"""The Django admin in a real browser: styled by its own static files (WhiteNoise under daphne),
and a store submission approved and another rejected through the admin's own forms."""

import pytest
from playwright.sync_api import expect
from rest_framework.test import APIClient

from tests.browser.support import log_in
from tests.graphs import import_calculator
from tests.submissions import submit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

CHANGELIST = "/admin/store/storelistingversion/"
ADMIN_HEADER_COLOUR = "rgb(65, 118, 144)"  # --header-bg in django/contrib/admin/static/admin/css/base.css


def decide(page, submission: dict, action: str, comments: str, button: str) -> None:
    """Tick one submission on the review queue, pick the action, give the public comment."""
    page.goto(CHANGELIST)
    page.check(f"input.action-select[value='{submission['id']}']")
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")
    page.fill("textarea[name=comments]", comments)
    page.click(f"input[type=submit][value={button}]")


def test_the_admin_is_styled_and_reviews_submissions_through_its_forms(
    page, requests_made, live_server_url, admin_user, creator_client
):
    approve_me = submit(
        creator_client, import_calculator(creator_client), slug="doubler", name="Doubler", image_urls=[]
    )
    reject_me = submit(creator_client, import_calculator(creator_client), slug="broken", name="Broken", image_urls=[])

    log_in(page, admin_user, path="/admin/login/?next=/admin/")
    page.goto(CHANGELIST)

    # Styled: every stylesheet answered and the admin's own colours are applied.
    stylesheets = page.evaluate("[...document.styleSheets].map(s => [s.href, s.cssRules.length])")
    assert any(href.endswith("/static/admin/css/base.css") for href, _ in stylesheets), stylesheets
    assert all(rules > 0 for _, rules in stylesheets), stylesheets
    assert page.locator("#header").evaluate("e => getComputedStyle(e).backgroundColor") == ADMIN_HEADER_COLOUR
    assert page.locator("#header").evaluate("e => getComputedStyle(e).display") == "flex"
    expect(page.locator("#result_list tbody tr")).to_have_count(2)

    decide(page, approve_me, "approve_submissions", "Welcome to the store!", "Approve")
    expect(page.locator("ul.messagelist")).to_contain_text("1 submission(s) approved.")
    decide(page, reject_me, "reject_submissions", "The graph needs an input first.", "Reject")
    expect(page.locator("ul.messagelist")).to_contain_text("1 submission(s) rejected.")

    rows = page.locator("#result_list tbody tr")
    expect(rows.filter(has_text="Doubler")).to_contain_text("Approved")
    expect(rows.filter(has_text="Broken")).to_contain_text("Rejected")
    assert requests_made.failed_static_files() == []
    requests_made.assert_only_host(live_server_url)

    # The store, through the API: the approved agent is public, the creator reads the rejection.
    public = APIClient().get("/api/v1/store/agents").json()
    assert [agent["slug"] for agent in public["results"]] == ["doubler"]
    mine = {s["slug"]: s for s in creator_client.get("/api/v1/store/submissions").json()["results"]}
    assert (mine["doubler"]["status"], mine["doubler"]["review_comments"]) == ("APPROVED", "Welcome to the store!")
    assert (mine["broken"]["status"], mine["broken"]["review_comments"]) == (
        "REJECTED",
        "The graph needs an input first.",
    )
