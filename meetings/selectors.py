"""Reads of meetings that pages share: querysets with their joins and prefetches, and the permission filter.

The filter reads the same ``Scope`` as ``meetings.view_meeting`` in ``org.rules``,
so a list never shows a meeting whose page would refuse the user.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, Q, QuerySet

from org.models import Member, Organization
from org.scope import get_scope
from org.selectors import branch_members_on

from .models import AgendaItem, Attendance, LeaveRequest, Meeting, Speech


def visible_branch_ids(user) -> frozenset[int] | None:
    """Ids of the branches whose meetings ``user`` may see; ``None`` means every branch."""
    scope = get_scope(user)
    if scope.sees_all_branches:
        return None
    return scope.reachable_branch_ids


def plannable_branch_ids(user) -> frozenset[int]:
    """Branches where ``user`` may plan meetings (``meetings.plan_meeting``)."""
    scope = get_scope(user)
    return scope.managed_branch_ids


def meetings_base() -> QuerySet[Meeting]:
    """Meetings with what every meeting page shows: branch, group, people, types and tags."""
    return Meeting.objects.select_related("branch", "group", "lecturer", "chair", "recorder").prefetch_related(
        "types", "theme_tags"
    )


def meeting_detail_queryset() -> QuerySet[Meeting]:
    """Meetings with everything the detail page shows, in a fixed number of queries."""
    return meetings_base().prefetch_related(
        Prefetch("attendances", queryset=Attendance.objects.select_related("member").order_by("member__name", "id")),
        Prefetch(
            "agenda_items",
            queryset=AgendaItem.objects.prefetch_related(
                Prefetch("speeches", queryset=Speech.objects.select_related("speaker"))
            ),
        ),
        "votes",
        Prefetch("leave_requests", queryset=LeaveRequest.objects.select_related("member", "decided_by__member")),
    )


def meetings_visible_to(user) -> QuerySet[Meeting]:
    """The meetings ``user`` may see: supervisors and the committee all, others those of their branches."""
    qs = Meeting.objects.select_related("branch", "group").prefetch_related("types")
    branch_ids = visible_branch_ids(user)
    if branch_ids is not None:
        qs = qs.filter(branch_id__in=branch_ids)
    return qs.order_by("-planned_start", "-id")


def filter_meetings(
    qs: QuerySet[Meeting],
    *,
    branch: Organization | None = None,
    type_code: str = "",
    status: str = "",
    year: int | None = None,
    month: int | None = None,
) -> QuerySet[Meeting]:
    """Narrow a meeting list; year and month compare the planned start in local time."""
    if branch is not None:
        qs = qs.filter(branch=branch)
    if type_code:
        qs = qs.filter(types__code=type_code)
    if status:
        qs = qs.filter(status=status)
    if year:
        qs = qs.filter(planned_start__year=year)
    if month:
        qs = qs.filter(planned_start__month=month)
    return qs


def upcoming_meetings(branch: Organization, *, now: dt.datetime, limit: int = 3) -> list[Meeting]:
    """The branch's next planned or notified meetings, soonest first."""
    return list(
        Meeting.objects.filter(
            branch=branch,
            status__in=(Meeting.Status.PLANNED, Meeting.Status.NOTIFIED),
            planned_start__gte=now,
        )
        .select_related("group")
        .prefetch_related("types")
        .order_by("planned_start", "id")[:limit]
    )


def records_awaiting_submission(branch: Organization, *, now: dt.datetime, limit: int = 5) -> list[Meeting]:
    """Meetings whose record the branch still owes: held or returned, or notified and already over."""
    return list(
        Meeting.objects.filter(branch=branch)
        .filter(
            Q(status__in=(Meeting.Status.HELD, Meeting.Status.RETURNED))
            | Q(status__in=(Meeting.Status.PLANNED, Meeting.Status.NOTIFIED), planned_end__lt=now)
        )
        .select_related("group")
        .prefetch_related("types")
        .order_by("planned_start", "id")[:limit]
    )


def branch_people(branch: Organization, *, on: dt.date, include: tuple[int | None, ...] = ()) -> QuerySet[Member]:
    """Members of the branch on ``on``, plus those already named on the record (who may have left since)."""
    ids = [pk for pk in include if pk]
    members = branch_members_on(branch, on=on)
    if not ids:
        return members
    return Member.objects.filter(Q(pk__in=members.values("pk")) | Q(pk__in=ids)).order_by("name", "id")
