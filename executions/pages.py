"""Pages for people: the list of a user's runs and the live page of one run (/runs/...).

Plain Django templates and one small script of our own (static/executions/run.js) that follows
the run over the /ws WebSocket; no build step, nothing from another host. A person logs in with
Django's session: the admin's login, or /runs/login for any user. Another user's run is a 404.
"""

import uuid

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import User
from autogpt_platform.errors import NotFoundError

from . import selectors

RUNS_PER_PAGE = 25
LOGIN_URL = "runs:login"


class AuthenticatedRequest(HttpRequest):
    user: User  # login_required let it through


class RunLoginView(auth_views.LoginView):
    template_name = "pages/login.html"
    redirect_authenticated_user = True
    next_page = "runs:list"  # unless ?next= names a page of ours


class RunLogoutView(auth_views.LogoutView):
    next_page = LOGIN_URL


@login_required(login_url=LOGIN_URL)
def run_list(request: AuthenticatedRequest) -> HttpResponse:
    runs = Paginator(selectors.execution_list(user=request.user), RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "executions/runs/list.html", {"runs": runs})


@login_required(login_url=LOGIN_URL)
def run_detail(request: AuthenticatedRequest, graph_exec_id: uuid.UUID) -> HttpResponse:
    try:
        run = selectors.execution_get(user=request.user, graph_exec_id=graph_exec_id)
    except NotFoundError:
        # Unknown and another user's run alike: nothing says whether it exists.
        return render(request, "executions/runs/not_found.html", {"graph_exec_id": graph_exec_id}, status=404)
    context = {
        "run": run,
        "nodes": selectors.execution_nodes(user=request.user, graph_exec=run),
        "websocket_url": settings.RUN_PAGE_WEBSOCKET_URL,
    }
    return render(request, "executions/runs/detail.html", context)
