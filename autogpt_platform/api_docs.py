"""Swagger UI and ReDoc, from our own static files (drf-spectacular-sidecar)."""

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView


class SwaggerUIView(SpectacularSwaggerSplitView):
    """Swagger UI with its start-up script served by this view (`?script`), not inline. That script
    carries the visitor's CSRF token for "Try it out": no other site may load it (CORP)."""

    template_name = "api_docs/swagger_ui.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Cross-Origin-Resource-Policy"] = "same-origin"
        return response


class RedocView(SpectacularRedocView):
    template_name = "api_docs/redoc.html"
