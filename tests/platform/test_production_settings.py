"""Production settings pass Django's deployment check without a warning (HTTPS behind a proxy that
terminates TLS, HSTS), and every page carries a Content-Security-Policy that lets only our own
scripts run; the admin's pages have no inline script for it to block."""

import json
import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from cryptography.fernet import Fernet
from django.test import Client

from tests.graphs import import_calculator
from tests.processes import ROOT, child_database_url
from tests.submissions import submit

# The services of the test run (test.py names them in the environment).
PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "autogpt_platform.settings.prod",
    "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "platform.example.com,localhost,testserver",
    "REDIS_URL": os.environ["REDIS_URL"],
}


def run_prod(args: list[str], **env: str) -> subprocess.CompletedProcess:
    """args in a process of its own with prod settings (the deploy check connects to nothing)."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("SECURE_", "SECRET_KEY"))}
    environment |= PROD_ENV | {"SECRET_KEY": secrets.token_urlsafe(50)} | env
    return subprocess.run(args, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)


class TestDeployCheck:
    def test_check_deploy_prints_no_warning(self):
        result = run_prod([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"])

        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "System check identified no issues" in output
        assert "WARNING" not in output and "security.W" not in output

    def test_also_with_hsts_preload_asked_for(self):
        result = run_prod(
            [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], SECURE_HSTS_PRELOAD="true"
        )

        assert result.returncode == 0, result.stdout + result.stderr
        assert "no issues (0 silenced)" in result.stdout


# Requests to a prod-configured Django in a process of its own, through Django's test client.
PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client()
answers = {}
for name, path, extra in [
    ("http", "/api/v1/auth/me", {}),
    ("https", "/api/v1/auth/me", {"HTTP_X_FORWARDED_PROTO": "https"}),
    ("health", "/health", {}),
]:
    response = client.get(path, HTTP_HOST="platform.example.com", **extra)
    answers[name] = {"status": response.status_code, "location": response.get("Location"),
                     "hsts": response.get("Strict-Transport-Security"), "csp": response.get("Content-Security-Policy")}
print(json.dumps(answers))
"""


@pytest.fixture(scope="module")
def answers(django_db_setup) -> dict:
    result = run_prod([sys.executable, "-c", PROBE], DATABASE_URL=child_database_url())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


class TestHttpsBehindAProxy:
    def test_plain_http_is_redirected_to_https(self, answers):
        assert answers["http"]["status"] == 301
        assert answers["http"]["location"] == "https://platform.example.com/api/v1/auth/me"

    def test_https_through_the_proxy_is_served_with_hsts(self, answers):
        assert answers["https"]["status"] == 401  # served: no credentials given
        assert answers["https"]["hsts"] == "max-age=31536000; includeSubDomains"
        assert "script-src 'self'" in answers["https"]["csp"]

    def test_health_probes_over_plain_http_are_not_redirected(self, answers):
        assert answers["health"]["status"] == 200


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parsed = {}
    for directive in filter(None, (part.strip() for part in header.split(";"))):
        name, *values = directive.split()
        parsed[name] = values
    return parsed


@pytest.mark.django_db
class TestContentSecurityPolicy:
    @pytest.mark.parametrize("path", ["/admin/login/", "/api/v1/store/agents", "/api/docs/", "/health"])
    def test_every_response_carries_the_policy(self, client, path):
        policy = directives(client.get(path))

        assert policy["default-src"] == ["'self'"]
        assert policy["script-src"] == ["'self'"]  # no inline script, no eval, no other host
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["base-uri"] == ["'self'"]
        assert policy["form-action"] == ["'self'"]

    def test_extra_sources_come_from_the_environment(self):
        code = (
            "import json, django; django.setup(); from django.conf import settings; "
            "print(json.dumps(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']))"
        )
        result = run_prod(
            [sys.executable, "-c", code],
            CSP_CONNECT_SRC="wss://ws.platform.example.com",
            CSP_IMG_SRC="https:",
            MEDIA_S3_BUCKET="media",
            MEDIA_S3_CUSTOM_DOMAIN="media.platform.example.com",
        )

        assert result.returncode == 0, result.stderr
        policy = json.loads(result.stdout)
        assert policy["connect-src"] == ["'self'", "wss://ws.platform.example.com"]
        assert policy["img-src"] == ["'self'", "data:", "https://media.platform.example.com", "https:"]


class ScriptFinder(HTMLParser):
    """Inline scripts and inline event handlers: what script-src 'self' would block."""

    def __init__(self):
        super().__init__()
        self.inline: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        handlers = [name for name in attributes if name.startswith("on")]
        if handlers:
            self.inline.append(f"<{tag} {handlers}>")
        if any((value or "").strip().lower().startswith("javascript:") for value in attributes.values()):
            self.inline.append(f"<{tag}> javascript: URL")
        data_block = (attributes.get("type") or "").lower() in {"application/json", "text/template"}
        self._in_inline_script = tag == "script" and "src" not in attributes and not data_block

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.inline.append(f"<script>{data.strip()[:80]}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False


def inline_scripts(html: str) -> list[str]:
    finder = ScriptFinder()
    finder.feed(html)
    return finder.inline


@pytest.mark.django_db
class TestAdminUnderThePolicy:
    @pytest.fixture
    def admin_browser(self, admin_user) -> Client:
        browser = Client()
        browser.force_login(admin_user)
        return browser

    def test_the_finder_sees_inline_script(self):
        html = '<script src="/static/a.js"></script><script>alert(1)</script><a onclick="x()">'

        assert len(inline_scripts(html)) == 2

    def test_the_login_page_has_no_inline_script(self, client):
        response = client.get("/admin/login/")

        assert response.status_code == 200
        assert inline_scripts(response.content.decode()) == []

    def test_the_review_pages_have_no_inline_script(self, admin_browser, creator_client):
        submission = submit(creator_client, import_calculator(creator_client))
        pages = [
            "/admin/",
            "/admin/store/storelistingversion/",
            f"/admin/store/storelistingversion/{submission['id']}/change/",
            "/admin/accounts/user/",
            "/admin/accounts/user/add/",
        ]

        found = {}
        for path in pages:
            response = admin_browser.get(path)
            assert response.status_code == 200, path
            found[path] = inline_scripts(response.content.decode())

        assert found == dict.fromkeys(pages, [])

    def test_the_review_action_page_has_no_inline_script(self, admin_browser, creator_client):
        submission = submit(creator_client, import_calculator(creator_client))

        response = admin_browser.post(
            "/admin/store/storelistingversion/",
            {"action": "reject_submissions", "_selected_action": [submission["id"]]},
        )

        assert response.status_code == 200
        assert re.search(r"<form", response.content.decode())
        assert inline_scripts(response.content.decode()) == []
