"""我的待办: one page listing everything waiting for the signed-in user (tasks/todo.py)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from . import todo


@login_required
@require_GET
def index(request):
    """One page (``todo.PAGE_SIZE`` rows) of every provider's rows, earliest deadline first; ``?kind=`` keeps one kind.

    A fixed number of queries: the counts per kind (one statement), the page's keys (one UNION)
    and one query per applicable provider, however many rows and whichever page.
    """
    now = timezone.now()
    counts, overdue = todo.counts_by_kind(request.user, now=now)
    total = sum(counts.values())
    todo.remember_count(request.user, total)  # the navbar shows the number counted here
    labels = {p.kind: p.label for p in todo.providers()}
    kinds = [{"kind": k, "label": labels[k], "n": n} for k, n in counts.items()]
    kind = request.GET.get("kind", "")
    if kind not in counts:
        kind = ""
    page = todo.page_for(request.user, now=now, page=request.GET.get("page"), kind=kind or None)
    return render(
        request,
        "tasks/todo.html",
        {
            "rows": page.object_list,
            "page_obj": page,
            "total": total,
            "kinds": kinds,
            "kind": kind,
            "overdue_count": overdue,
        },
    )
