"""Reads of the 议定事项 and 补学 tasks (the task state itself is ``tasks.states.task_progress``)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from .models import Task


def overdue_q(*, now: dt.datetime, prefix: str = "") -> Q:
    """``task_progress(...) == OVERDUE`` as a filter: still open (待办, 进行中, 已退回) past the deadline."""
    return Q(**{f"{prefix}status__in": Task.OPEN_STATUSES, f"{prefix}due_at__lt": now})


def open_decisions_past_deadline(*, now: dt.datetime, branch_ids=None) -> QuerySet[Task]:
    """议定事项 still open past their deadline, oldest deadline first, with what the list shows."""
    qs = Task.objects.filter(overdue_q(now=now), source=Task.Source.DECISION)
    if branch_ids is not None:
        qs = qs.filter(organization_id__in=branch_ids)
    return qs.select_related("organization", "owner", "meeting").order_by("due_at", "id")


def makeup_tasks_of(member_id: int) -> QuerySet[Task]:
    """A member's 补学 tasks, newest meeting first, with the meeting and the reading time: one query."""
    return (
        Task.objects.filter(owner_id=member_id, source=Task.Source.MAKEUP)
        .select_related("meeting", "makeup")
        .order_by("-meeting__planned_start", "-id")
    )
