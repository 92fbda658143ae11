"""/runs/: the run pages (executions/pages.py)."""

from django.urls import path

from . import pages

app_name = "runs"

urlpatterns = [
    path("", pages.run_list, name="list"),
    path("login", pages.RunLoginView.as_view(), name="login"),
    path("logout", pages.RunLogoutView.as_view(), name="logout"),
    path("<uuid:graph_exec_id>", pages.run_detail, name="detail"),
]
