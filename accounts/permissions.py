"""Permissions as predicates."""

from rest_framework.permissions import BasePermission

from .models import ApiKey


class ApiKeyScopes(BasePermission):
    """Requests made with an API key may only reach views that name a scope the key has.

    A view says `required_scopes = {"GET": "read_graph", "POST": "write_graph"}` (or one string
    for every method). Views that name none are closed to API keys: managing keys, for instance.
    JWT and session requests are not limited by scopes.
    """

    message = "This API key does not have the scope this request needs."

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, ApiKey):
            return True
        required = getattr(view, "required_scopes", None)
        if isinstance(required, dict):
            required = required.get(request.method) or (
                required.get("GET") if request.method in ("HEAD", "OPTIONS") else None
            )
        if not required:
            self.message = "API keys cannot be used for this endpoint."
            return False
        if required not in request.auth.scopes:
            self.message = f"This API key lacks the '{required}' scope."
            return False
        return True


class IsAdmin(BasePermission):
    """Staff users only: the store's review queue, for instance."""

    message = "Only admins can do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)
