"""A URLconf for error-shape tests: the real API plus views that fail on purpose."""

from django.urls import path
from rest_framework.views import APIView

from accounts.models import User
from autogpt_platform.errors import ConflictError
from autogpt_platform.urls import urlpatterns as real_urlpatterns


class WriteThenCrashView(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def post(self, request):
        User.objects.create_user(email="half-written@example.com", password="x")
        raise RuntimeError("boom after a write")


class WriteThenConflictView(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def post(self, request):
        User.objects.create_user(email="half-written@example.com", password="x")
        raise ConflictError("Something is in the way.")


urlpatterns = [
    *real_urlpatterns,
    path("crash", WriteThenCrashView.as_view()),
    path("conflict", WriteThenConflictView.as_view()),
]
handler404 = "autogpt_platform.exceptions.not_found_view"
handler500 = "autogpt_platform.exceptions.server_error_view"
