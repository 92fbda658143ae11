from django.urls import path

from . import views

urlpatterns = [
    path("integrations/providers", views.ProviderListView.as_view(), name="integration-provider-list"),
    path("integrations/credentials", views.CredentialListView.as_view(), name="integration-credential-list"),
    path(
        "integrations/<str:provider>/credentials",
        views.ProviderCredentialsView.as_view(),
        name="integration-provider-credentials",
    ),
    path(
        "integrations/<str:provider>/credentials/<uuid:credential_id>",
        views.CredentialDetailView.as_view(),
        name="integration-credential-detail",
    ),
]
