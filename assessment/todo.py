"""Assessment's part of 我的待办 (tasks/todo.py): runs whose manual items still need scores.

Registered from ``AssessmentConfig.ready`` (assessment is above tasks). Who enters the scores is
``assessment.enter_scores`` (the 督导组: ``org.rules.is_supervisor``, the ``manual_scores`` page);
a run takes them until it is published (``Run.is_locked``).
"""

from __future__ import annotations

from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tasks.todo import Provider


def _missing(run_ref="pk"):
    from .models import Item, ItemScore

    return ItemScore.objects.filter(
        branch_score__run_id=OuterRef(run_ref), item__method=Item.Method.MANUAL, entered_at__isnull=True
    )


def manual_score_runs(*, user, scope, now):
    if not scope.is_supervisor:
        return None
    from .models import Run

    return (
        Run.objects.exclude(status=Run.Status.PUBLISHED)
        .filter(Exists(_missing()))
        .annotate(
            missing=Subquery(
                _missing().order_by().values("branch_score__run_id").annotate(n=Count("pk")).values("n"),
                output_field=IntegerField(),
            )
        )
        .order_by("period_start", "pk")
    )


def manual_score_row(run, *, now) -> dict:
    return {
        "title": _("{run}：人工评分").format(run=run.label),
        "organization": _("全部支部"),
        "due_at": None,
        "state": _("{n} 项未评分").format(n=run.missing),
        "url": reverse("assessment:manual_scores", args=[run.pk]),
    }


PROVIDER = Provider("manual_score", _("人工评分"), manual_score_runs, manual_score_row)
