"""Helpers for the browser tests: how Debian's chromium is launched, what a page asked for, and
where a failing test's screenshot goes."""

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page, expect

from tests.factories import DEFAULT_PASSWORD
from tests.processes import LOG_DIR

# Debian's package: Playwright cannot download a browser of its own here.
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium reaches for Google's services at start, and on
# a closed network those connections are refused.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Generous: a loaded 2-core machine. Tests wait for conditions, never for time.
TIMEOUT_MS = 30_000
SCREENSHOT_DIR = LOG_DIR / "screenshots"
NETWORK_SCHEMES = {"http", "https", "ws", "wss"}


def screenshot_path(nodeid: str) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR / (re.sub(r"[^\w.-]+", "_", nodeid).strip("_") + ".png")


@dataclass
class RequestLog:
    """Every request of a browser context's pages and workers, WebSockets included, and every
    response status."""

    urls: list[str] = field(default_factory=list)
    responses: list[tuple[str, int]] = field(default_factory=list)
    headers: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    @classmethod
    def attach(cls, context: BrowserContext) -> "RequestLog":
        log = cls()
        context.on("request", log._on_request)
        context.on("response", lambda response: log.responses.append((response.url, response.status)))
        context.on("page", log._watch_websockets)
        return log

    def _on_request(self, request) -> None:
        self.urls.append(request.url)
        self.headers.setdefault(request.url, []).append(request.headers)

    def _watch_websockets(self, page: Page) -> None:
        page.on("websocket", lambda websocket: self.urls.append(websocket.url))

    def hosts(self) -> set[str]:
        """Every host asked over the network (data: and blob: URLs are the page's own memory)."""
        return {urlsplit(url).netloc for url in self.urls if urlsplit(url).scheme in NETWORK_SCHEMES}

    def assert_only_host(self, host: str) -> None:
        foreign = [url for url in self.urls if urlsplit(url).scheme in NETWORK_SCHEMES and urlsplit(url).netloc != host]
        assert foreign == [], f"requests to other hosts than {host}: {foreign}"

    def failed_static_files(self) -> list[tuple[str, int]]:
        return [(url, status) for url, status in self.responses if "/static/" in url and status >= 400]


def log_in(page: Page, user, password: str = DEFAULT_PASSWORD, path: str = "/runs/login") -> None:
    """Through the login form of the run pages (or the admin's, with path="/admin/login/")."""
    page.goto(path)
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", password)
    page.locator("form [type=submit]").click()
    expect(page.locator("input[name=password]")).to_have_count(0)
