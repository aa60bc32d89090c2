"""Reads of tasks that pages share, with the permission filter the predicates in ``org.rules`` mirror."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, Q, QuerySet

from org.models import Member, Organization
from org.scope import get_scope

from .models import Dispatch, Task, TaskEvent, TaskReport, TaskReportFile
from .states import BADGES, task_progress


def tasks_visible_to(user) -> QuerySet[Task]:
    """The tasks ``user`` may see: all for the 党委 level; else their own, helped, assigned and their branches'."""
    scope = get_scope(user)
    qs = Task.objects.all()
    if scope.sees_all_branches:
        return qs
    q = Q(assigned_by_id=user.pk) | Q(organization_id__in=scope.reachable_branch_ids)
    if scope.member_id is not None:
        q |= Q(owner_id=scope.member_id) | Q(helpers__id=scope.member_id)
    return qs.filter(pk__in=Task.objects.filter(q).values("pk"))


def task_list(user, *, mine: bool = False, status: str = "", source: str = "") -> QuerySet[Task]:
    qs = tasks_visible_to(user)
    if mine:
        member_id = get_scope(user).member_id
        qs = qs.filter(Q(owner_id=member_id) | Q(helpers__id=member_id)).distinct() if member_id else qs.none()
    if status:
        qs = qs.filter(status=status)
    if source:
        qs = qs.filter(source=source)
    return qs.select_related("organization", "owner").order_by("due_at", "id")


def task_detail_qs() -> QuerySet[Task]:
    return Task.objects.select_related(
        "organization", "owner", "assigned_by__member", "completed_by__member", "dispatch"
    ).prefetch_related(
        "helpers",
        Prefetch("events", queryset=TaskEvent.objects.select_related("by__member")),
        Prefetch(
            "reports",
            queryset=TaskReport.objects.select_related("submitted_by__member").prefetch_related(
                Prefetch("files", queryset=TaskReportFile.objects.order_by("id"))
            ),
        ),
    )


def decorate(tasks, *, now: dt.datetime):
    """Each task with its ``progress`` and badge colour (the one state function)."""
    for t in tasks:
        t.progress = task_progress(t, now=now)
        t.progress_css = BADGES[t.progress]
    return tasks


def dispatch_list() -> QuerySet[Dispatch]:
    return Dispatch.objects.select_related("created_by__member").order_by("-created_at", "-id")


def dispatch_rows(dispatch: Dispatch, *, now: dt.datetime) -> list[Task]:
    """One row per recipient branch of ``dispatch``: one query."""
    rows = list(
        dispatch.tasks.select_related("organization", "owner").order_by("organization__sort_order", "organization_id")
    )
    return decorate(rows, now=now)


def dispatch_matrix(dispatches: list[Dispatch], *, now: dt.datetime) -> tuple[list[Organization], dict]:
    """Branches × the given dispatches: the branches that received any, and each cell's task (two queries)."""
    tasks = decorate(
        list(Task.objects.filter(dispatch__in=dispatches).select_related("organization", "owner")), now=now
    )
    cells = {(t.organization_id, t.dispatch_id): t for t in tasks}
    branch_ids = {t.organization_id for t in tasks}
    branches = list(Organization.objects.filter(pk__in=branch_ids).order_by("sort_order", "id"))
    return branches, cells


def hand_over_candidates(task: Task, *, on: dt.date) -> QuerySet[Member]:
    """Members with an account in the task's organisation on ``on``: who may own or help it."""
    return Member.objects.of_organization_on(task.organization, on).filter(user__isnull=False).order_by("name", "id")
