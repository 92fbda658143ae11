"""The run pages in a real browser: a run followed live over /ws without a reload, the list of
one's own runs, the login in front of them, and another user's run answering 404."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.support import log_in
from tests.clients import client_for
from tests.graphs import AGENT_OUTPUT, COUNTDOWN, create_graph, execute, import_calculator, link, node, wait_for_status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

TERMINAL = {"COMPLETED", "FAILED", "TERMINATED"}


def rendered_node_status(html: str, node_id: str) -> str:
    """A node's status in the HTML the server sent, before any script ran."""
    match = re.search(rf'data-node-id="{node_id}">.*?data-role="node-status" data-status="(\w+)"', html, re.DOTALL)
    assert match, f"node {node_id} is not on the page"
    return match[1]


def test_the_run_page_turns_each_node_completed_live_without_a_reload(page, requests_made, live_server_url, user):
    client = client_for(user)
    graph = create_graph(
        client,
        [node("wait", COUNTDOWN, seconds=1, input_message="done"), node("out", AGENT_OUTPUT, name="result")],
        [link("wait", "output_message", "out", "value")],
        name="Wait a second",
    )
    log_in(page, user)

    # The page must be open while the run is still going. On a loaded machine a run may now and
    # then finish before its page is served: such a run proves nothing, so another is started.
    for _ in range(3):
        execution = execute(client, graph)
        response = page.goto(f"/runs/{execution['id']}")
        assert response.status == 200
        rendered = {node_id: rendered_node_status(response.text(), node_id) for node_id in ("wait", "out")}
        if "COMPLETED" not in rendered.values():
            break
    else:
        pytest.fail("three runs finished before their page was served")
    page.evaluate("window.sameDocument = true")  # gone if the page reloads

    expect(page.locator("#live")).to_have_attribute("data-state", re.compile("live|done"))
    for node_id in ("wait", "out"):
        node_status = page.locator(f"li.node[data-node-id={node_id}] [data-role=node-status]")
        expect(node_status).to_have_text("COMPLETED")
    expect(page.locator("#run-status")).to_have_text("COMPLETED")
    expect(page.locator("#live")).to_have_text("Finished")

    assert page.evaluate("window.sameDocument") is True
    assert rendered["out"] in {"NOT_STARTED", "INCOMPLETE", "QUEUED", "RUNNING"}
    wait_node = page.locator("li.node[data-node-id=wait]")
    expect(wait_node.locator("[data-role=inputs]")).to_contain_text('"seconds": 1')
    expect(wait_node.locator("[data-role=outputs]")).to_contain_text('"output_message"')
    expect(page.locator("#run-outputs dt")).to_have_text("result")
    expect(page.locator("#run-outputs dd pre")).to_have_text('"done"')
    assert f"ws://{live_server_url}/ws" in requests_made.urls
    requests_made.assert_only_host(live_server_url)


def test_a_users_runs_are_listed_and_open_after_logging_in(page, requests_made, live_server_url, user, other_user):
    mine = execute(client_for(user), import_calculator(client_for(user)), {"Input": 8})
    theirs = execute(client_for(other_user), import_calculator(client_for(other_user)), {"Input": 1})
    for client, execution in ((client_for(user), mine), (client_for(other_user), theirs)):
        wait_for_status(client, execution["id"])

    # Not logged in: the login form first, then the page asked for.
    page.goto(f"/runs/{mine['id']}")
    expect(page).to_have_url(re.compile(r"/runs/login\?next="))
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", "correct-horse-battery-9")
    page.locator("form [type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/runs/{mine['id']}$"))
    expect(page.locator("#run-status")).to_have_text("COMPLETED")
    expect(page.locator("#run-outputs dd pre")).to_have_text("42.0")
    names = page.locator("li.node .block-name")
    expect(names).to_have_text(["Agent Input", "Calculator", "Agent Output"])  # upstream first

    page.get_by_role("link", name="Runs", exact=True).first.click()
    rows = page.locator("table.runs tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-exec-id", mine["id"])
    expect(rows.first).to_contain_text("Calculator agent")
    expect(rows.first).to_contain_text("COMPLETED")
    rows.first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/runs/{mine['id']}$"))

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/runs/login$"))
    page.goto("/runs/")
    expect(page).to_have_url(re.compile(r"/runs/login\?next=/runs/$"))
    requests_made.assert_only_host(live_server_url)


def test_another_users_run_is_a_404(page, requests_made, live_server_url, user, other_user):
    other_client = client_for(other_user)
    theirs = execute(other_client, import_calculator(other_client), {"Input": 5})
    log_in(page, user)

    for exec_id in (theirs["id"], str(uuid.uuid4())):
        response = page.goto(f"/runs/{exec_id}")

        assert response.status == 404
        expect(page.locator("h1")).to_have_text("Run not found")
        expect(page.locator("#run")).to_have_count(0)
    requests_made.assert_only_host(live_server_url)


def test_the_admin_session_opens_the_run_pages_too(page, requests_made, live_server_url, admin_user):
    client = client_for(admin_user)
    execution = execute(client, import_calculator(client), {"Input": 8})
    log_in(page, admin_user, path="/admin/login/?next=/admin/")

    page.goto(f"/runs/{execution['id']}")

    expect(page.locator("#run-status")).to_have_text("COMPLETED")
    expect(page.locator("#run-outputs dd pre")).to_have_text("42.0")
    expect(page.get_by_role("link", name="Admin", exact=True)).to_be_visible()
