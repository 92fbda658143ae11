from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView

from . import health
from .api_docs import RedocView, SwaggerUIView

api_v1 = [
    path("auth/", include("accounts.api.urls")),
    path("", include("agents.api.urls")),
    path("", include("executions.api.urls")),
    path("", include("executions.api.trigger_urls")),
    path("", include("executions.api.schedule_urls")),
    # Notifications: inbox, preferences, channels, unsubscribe.
    path("", include("notifications.api.urls")),
    path("", include("store.api.urls")),
    # Integrations: providers and the credentials vault.
    path("", include("integrations.api.urls")),
    # Chat: the assistant's sessions, and its turns streamed over SSE.
    path("chat/", include("chat.api.urls")),
    # Users' files: uploads for agents and what blocks store.
    path("", include("files.api.urls")),
]

urlpatterns = [
    path("", TemplateView.as_view(template_name="pages/home.html"), name="home"),
    path("health", health.health, name="health"),
    path("health/ready", health.health_ready, name="health-ready"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI and ReDoc from our own static files (autogpt_platform/api_docs.py).
    path("api/docs/", SwaggerUIView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    # The live run page and the list of a user's runs.
    path("runs/", include("executions.page_urls")),
]
# Uploaded media (avatars, store media) under `make run`; static() adds nothing unless DEBUG.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "autogpt_platform.exceptions.bad_request_view"
handler403 = "autogpt_platform.exceptions.permission_denied_view"
handler404 = "autogpt_platform.exceptions.not_found_view"
handler500 = "autogpt_platform.exceptions.server_error_view"
