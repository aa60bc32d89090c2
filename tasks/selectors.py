"""Reads of tasks that pages, the next meeting's agenda and the assessment share."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .models import Task


class TaskState(models.TextChoices):
    """Where a task stands against its deadline (what the committee reads per row)."""

    OPEN = "open", _("未完成")
    SUBMITTED = "submitted", _("已提交待验收")
    RETURNED = "returned", _("已退回")
    OVERDUE = "overdue", _("逾期未完成")
    DONE_ON_TIME = "done_on_time", _("按期完成")
    DONE_LATE = "done_late", _("逾期完成")
    CANCELLED = "cancelled", _("已取消")


def task_state(task: Task, *, now: dt.datetime) -> TaskState:
    """The one reading of a task's state against its deadline (decisions, dispatch rows, assessment).

    Done counts by the report's time (``submitted_at``) against ``due_at``: the owner is not
    late because the assigner accepted it later. Not finished past ``due_at`` is overdue,
    whether returned or waiting; a report submitted in time and still waiting is not.
    """
    if task.status == Task.Status.CANCELLED:
        return TaskState.CANCELLED
    if task.status == Task.Status.DONE:
        reported = task.submitted_at or task.completed_at
        return TaskState.DONE_ON_TIME if reported and reported <= task.due_at else TaskState.DONE_LATE
    if task.status == Task.Status.SUBMITTED and task.submitted_at and task.submitted_at <= task.due_at:
        return TaskState.SUBMITTED
    if task.due_at <= now:
        return TaskState.OVERDUE
    if task.status == Task.Status.SUBMITTED:
        return TaskState.SUBMITTED
    if task.status == Task.Status.RETURNED:
        return TaskState.RETURNED
    return TaskState.OPEN


def overdue_q(*, now: dt.datetime, prefix: str = "") -> Q:
    """``task_state(...) == OVERDUE`` as a filter: not finished (nor reported in time) past the deadline."""
    p = prefix
    reported_in_time = Q(**{f"{p}status": Task.Status.SUBMITTED, f"{p}submitted_at__lte": models.F(f"{p}due_at")})
    return Q(**{f"{p}status__in": Task.LIVE_STATUSES, f"{p}due_at__lte": now}) & ~reported_in_time


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
