from django.urls import path

from . import views

urlpatterns = [
    path("register", views.RegisterView.as_view(), name="auth-register"),
    path("login", views.LoginView.as_view(), name="auth-login"),
    path("refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("logout", views.LogoutView.as_view(), name="auth-logout"),
    path("password", views.PasswordChangeView.as_view(), name="auth-password"),
    path("me", views.MeView.as_view(), name="auth-me"),
    path("api-keys", views.ApiKeyListCreateView.as_view(), name="api-key-list"),
    path("api-keys/<uuid:key_id>", views.ApiKeyRevokeView.as_view(), name="api-key-revoke"),
]
