"""The committee's page of 议定事项 left open past their deadline (the tasks pages proper are in ``views``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from org.scope import get_scope

from .follow_selectors import open_decisions_past_deadline

PAGE_SIZE = 20


@login_required
@require_GET
def open_decisions(request):
    """Decisions past their deadline, oldest first: the 党委 level sees all, a branch committee its own."""
    if not request.user.has_perm("tasks.view_open_decisions"):
        raise PermissionDenied
    scope = get_scope(request.user)
    now = timezone.now()
    branch_ids = None if scope.sees_all_branches else scope.committee_branch_ids
    page = Paginator(open_decisions_past_deadline(now=now, branch_ids=branch_ids), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "tasks/open_decisions.html",
        {"page": page, "show_branch": scope.sees_all_branches or len(branch_ids or ()) > 1, "now": now},
    )


app_name = "tasks_follow"
urlpatterns = [path("decisions/overdue/", open_decisions, name="open_decisions")]
