import re

import pytest
from django.core.management import call_command
from django.urls import URLResolver, get_resolver

pytestmark = pytest.mark.django_db


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))

    assert (tmp_path / "schema.yml").read_text().startswith("openapi: 3")


def api_routes(patterns=None, prefix="") -> set[str]:
    """Every route under /api/v1/ from the URLconf, in OpenAPI's {param} spelling."""
    routes = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes |= api_routes(pattern.url_patterns, route)
        elif route.startswith("api/v1/"):
            routes.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))
    return routes


def test_the_schema_covers_every_api_endpoint(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    routes = api_routes()
    assert "/api/v1/auth/login" in routes
    assert routes <= set(schema["paths"]), routes - set(schema["paths"])
    for path in routes:
        for method, operation in schema["paths"][path].items():
            assert operation["responses"], f"{method.upper()} {path} documents no response"


def test_swagger_ui_is_served(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_the_api_docs_load_nothing_from_a_cdn(client):
    swagger = client.get("/api/docs/").content.decode()
    redoc = client.get("/api/redoc/").content.decode()
    script = client.get("/api/docs/?script=")

    for page in (swagger, redoc):
        assert "/static/drf_spectacular_sidecar/" in page
        assert re.findall(r"(?:src|href)=\"(?:https?:)?//", page) == []
        assert "<style" not in page
    assert "<script>" not in swagger and "<script>" not in redoc  # no inline script
    assert script.status_code == 200 and "SwaggerUIBundle(" in script.content.decode()
    # It carries the visitor's CSRF token: no other site may load it as a script.
    assert script["Cross-Origin-Resource-Policy"] == "same-origin"
