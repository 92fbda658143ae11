"""Fixtures of the browser tests: Playwright driving Debian's chromium against a real daphne and
Celery worker. A test that fails leaves a full-page screenshot in TEST_LOG_DIR/screenshots/."""

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.support import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, RequestLog, screenshot_path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test, so that the page fixture knows it failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="package")
def browser(live_server_url, live_worker):
    """One chromium for the package. The servers start first: Playwright's sync API keeps an
    asyncio loop marked running in this thread while it is up, and Django refuses database calls
    there unless DJANGO_ALLOW_ASYNC_UNSAFE is set; it is set here only, not in the servers."""
    expect.set_options(timeout=TIMEOUT_MS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
            yield chromium
            chromium.close()


@pytest.fixture
def context(browser, live_server_url):
    context = browser.new_context(
        base_url=f"http://{live_server_url}", color_scheme="light", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def requests_made(context) -> RequestLog:
    return RequestLog.attach(context)


@pytest.fixture
def page(context, requests_made, request):
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed and not page.is_closed():
        path = screenshot_path(request.node.nodeid)
        page.screenshot(path=str(path), full_page=True)
        print(f"Screenshot of the failing page: {path}")
