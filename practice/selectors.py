"""Reads shared by the practice pages and the 党建+业务 dashboard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from meetings.models import Meeting
from tasks.models import Task

from .models import Activity, Hazard

# A hazard is closed when its owner reported the work with a photo (the report waits for the
# 书记's 验收) or the report was accepted; a returned report opens it again.
CLOSED_STATUSES = (Task.Status.SUBMITTED, Task.Status.DONE)


@dataclass(frozen=True)
class HazardCounts:
    found: int = 0
    closed: int = 0
    overdue: int = 0

    @property
    def open(self) -> int:
        return self.found - self.closed


def hazard_counts(
    *,
    now: dt.datetime,
    branch_ids: Iterable[int] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> dict[int, HazardCounts]:
    """Per branch id: hazards found at 主题党日 held in [start, end), closed, and overdue at ``now``.

    One grouped query, whatever the number of branches. Overdue: still open (the owner has not
    reported, or the report was returned) past the deadline. A cancelled task counts as neither.
    Branches without hazards are absent (read ``.get(pk, HazardCounts())``).
    """
    qs = Hazard.objects.all()
    if branch_ids is not None:
        qs = qs.filter(meeting__branch_id__in=list(branch_ids))
    if start is not None and end is not None:
        qs = qs.filter(Meeting.held_in_q(start, end, prefix="meeting__"))
    rows = (
        qs.order_by()
        .values("meeting__branch_id")
        .annotate(
            found=Count("id"),
            closed=Count("id", filter=Q(task__status__in=CLOSED_STATUSES)),
            overdue=Count("id", filter=Q(task__status__in=Task.OPEN_STATUSES, task__due_at__lt=now)),
        )
    )
    return {
        r["meeting__branch_id"]: HazardCounts(found=r["found"], closed=r["closed"], overdue=r["overdue"]) for r in rows
    }


def meeting_activities(meeting: Meeting) -> list[Activity]:
    return list(Activity.objects.filter(meeting=meeting).select_related("kind", "study_item"))


def meeting_hazards(meeting: Meeting) -> list[Hazard]:
    return list(Hazard.objects.filter(meeting=meeting).select_related("owner", "task"))


def hazard_state(hazard: Hazard, *, now: dt.datetime) -> str:
    """已整改 / 逾期 / 整改中 as shown beside a hazard (the same statuses ``hazard_counts`` counts)."""
    task = hazard.task
    if task is None or task.status == Task.Status.CANCELLED:
        return "—"
    if task.status in CLOSED_STATUSES:
        return _("已整改")
    if task.due_at < now:
        return _("逾期")
    return _("整改中")
