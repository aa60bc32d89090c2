"""The one home of a task's state as the matrix, the task pages and the assessment read it."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import Task


class Progress(models.TextChoices):
    DONE_ON_TIME = "done_on_time", _("按期完成")
    DONE_LATE = "done_late", _("逾期完成")
    OVERDUE = "overdue", _("逾期未完成")
    RETURNED = "returned", _("已退回")
    IN_PROGRESS = "in_progress", _("办理中")
    SUBMITTED = "submitted", _("已提交")
    CANCELLED = "cancelled", _("已取消")


# Bootstrap badge colour of each state (the matrix and the task pages).
BADGES = {
    Progress.DONE_ON_TIME: "success",
    Progress.DONE_LATE: "warning",
    Progress.OVERDUE: "danger",
    Progress.RETURNED: "danger",
    Progress.IN_PROGRESS: "secondary",
    Progress.SUBMITTED: "info",
    Progress.CANCELLED: "light",
}


def task_progress(task: Task, *, now: dt.datetime) -> Progress:
    """Where ``task`` stands at ``now``: done on time or late, overdue, returned, submitted, in progress.

    A returned task past its deadline reads 逾期未完成: the deadline is what the committee counts.
    """
    if task.status == Task.Status.CANCELLED:
        return Progress.CANCELLED
    if task.status == Task.Status.DONE:
        done_at = task.completed_at or now
        return Progress.DONE_ON_TIME if done_at <= task.due_at else Progress.DONE_LATE
    if task.status == Task.Status.SUBMITTED:
        return Progress.SUBMITTED
    if now > task.due_at:
        return Progress.OVERDUE
    if task.status == Task.Status.RETURNED:
        return Progress.RETURNED
    return Progress.IN_PROGRESS
