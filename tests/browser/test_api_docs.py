"""The API docs in a real browser: Swagger UI and ReDoc from our own static files, every page
asking nothing of any other host, and an authenticated "Try it out" call from Swagger UI."""

import re

import pytest
from playwright.sync_api import expect
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from tests.graphs import import_calculator

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def openapi_schema() -> dict:
    return APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def test_swagger_ui_shows_every_operation_and_tries_one_out_with_a_bearer_token(
    page, requests_made, live_server_url, user, auth_client
):
    import_calculator(auth_client)
    schema = openapi_schema()
    operations = sum(len(HTTP_METHODS & set(methods)) for methods in schema["paths"].values())
    graphs_list = schema["paths"]["/api/v1/graphs"]["get"]

    page.goto("/api/docs/")

    expect(page.locator(".opblock")).to_have_count(operations)
    expect(page.locator(".info .title")).to_contain_text("AutoGPT Platform API")

    operation = page.locator(f"#operations-{graphs_list['tags'][0]}-{graphs_list['operationId']}")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    status = operation.locator(".live-responses-table .response .response-col_status")
    body = operation.locator(".live-responses-table .response .response-col_description")
    # Without a token: the API's 401.
    operation.locator("button.execute").click()
    expect(status).to_have_text(re.compile(r"^\s*401\b"))  # "401 Undocumented": not in the schema
    expect(body).to_contain_text("not_authenticated")

    # With one, through the Authorize dialog.
    page.locator(".scheme-container button.authorize").click()
    bearer = page.locator(".modal-ux .auth-container").filter(has_text="BearerAuth")
    bearer.locator("input").fill(str(AccessToken.for_user(user)))
    bearer.get_by_role("button", name="Apply credentials").click()
    expect(bearer.get_by_role("heading", name="Authorized")).to_be_visible()
    bearer.get_by_role("button", name="Close").click()
    operation.locator("button.execute").click()

    expect(status).to_have_text(re.compile(r"^\s*200\b"))
    expect(body).to_contain_text("Calculator agent")
    sent = [h for url, headers in requests_made.headers.items() if url.endswith("/api/v1/graphs") for h in headers]
    assert [h.get("authorization", "").startswith("Bearer ") for h in sent] == [False, True]
    assert requests_made.failed_static_files() == []
    requests_made.assert_only_host(live_server_url)


def test_redoc_renders_the_api_from_our_own_files(page, requests_made, live_server_url):
    page.goto("/api/redoc/")

    expect(page.locator("h1")).to_contain_text("AutoGPT Platform API")
    expect(page.locator("[role=menuitem]").filter(has_text="graphs").first).to_be_visible()
    expect(page.get_by_text("API docs by Redocly")).to_be_visible()
    assert requests_made.failed_static_files() == []
    requests_made.assert_only_host(live_server_url)


def test_the_home_page_links_to_every_page(page, requests_made, live_server_url):
    page.goto("/")

    for name, path in [("Your runs", "/runs/"), ("API docs (Swagger UI)", "/api/docs/"), ("ReDoc", "/api/redoc/")]:
        expect(page.get_by_role("link", name=name, exact=True)).to_have_attribute("href", path)
    expect(page.get_by_role("link", name="Admin", exact=True)).to_have_attribute("href", "/admin/")
    requests_made.assert_only_host(live_server_url)
