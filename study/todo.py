"""我的待办's 学习任务 rows: each open study task links to its item, not to the task page."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from org.scope import Scope
from tasks.models import Task
from tasks.todo import Provider


def _my_study_tasks(*, user, scope: Scope, now):
    if scope.member_id is None:
        return None
    return (
        Task.objects.select_related("organization", "study_target")
        .filter(owner_id=scope.member_id, source=Task.Source.STUDY, status__in=Task.OPEN_STATUSES)
        .order_by("due_at", "pk")
    )


def _study_row(task: Task, *, now) -> dict:
    return {
        "title": task.title,
        "organization": task.organization.name,
        "due_at": task.due_at,
        "state": task.get_status_display(),
        "url": reverse("study:assignment_todo", args=[task.study_target.assignment_id]),
    }


STUDY_PROVIDER = Provider("study", _("学习任务"), _my_study_tasks, _study_row)
