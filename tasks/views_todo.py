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
    """Every provider's rows, earliest deadline first; ``?kind=`` keeps one kind. A fixed number of queries."""
    now = timezone.now()
    rows = todo.rows_for(request.user, now=now)
    todo.remember_count(request.user, len(rows))  # the navbar shows the number counted here
    kinds: dict[str, dict] = {}
    for row in rows:
        kinds.setdefault(row.kind, {"kind": row.kind, "label": row.kind_label, "n": 0})["n"] += 1
    kind = request.GET.get("kind", "")
    if kind not in kinds:
        kind = ""
    shown = [r for r in rows if r.kind == kind] if kind else rows
    return render(
        request,
        "tasks/todo.html",
        {
            "rows": shown,
            "total": len(rows),
            "kinds": list(kinds.values()),
            "kind": kind,
            "overdue_count": sum(1 for r in rows if r.overdue),
        },
    )
