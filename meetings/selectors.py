"""Reads of meetings that pages share: querysets with their joins and prefetches, and the permission filter.

The filter reads the same ``Scope`` as ``meetings.view_meeting`` in ``org.rules``,
so a list never shows a meeting whose page would refuse the user.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import Prefetch, Q, QuerySet

from org.models import Member, Organization, Post
from org.scope import get_scope
from org.selectors import active_on, branch_members_on

from .models import AgendaItem, Attendance, LeaveRequest, Meeting, MeetingType, Speech


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
    return Meeting.objects.select_related("branch", "group", "lecturer", "chair", "recorder", "venue").prefetch_related(
        "types", "theme_tags"
    )


def meeting_detail_queryset() -> QuerySet[Meeting]:
    """Meetings with everything the detail page shows, in a fixed number of queries."""
    return meetings_base().prefetch_related(
        Prefetch("attendances", queryset=Attendance.objects.select_related("member").order_by("member__name", "id")),
        Prefetch(
            "agenda_items",
            queryset=AgendaItem.objects.select_related("decision_owner").prefetch_related(
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
    branch_name: str = "",
    type_code: str = "",
    status: str = "",
    year: int | None = None,
    month: int | None = None,
) -> QuerySet[Meeting]:
    """Narrow a meeting list; year and month compare the planned start in local time;
    ``branch_name`` keeps the branches whose name contains it."""
    if branch is not None:
        qs = qs.filter(branch=branch)
    if branch_name:
        qs = qs.filter(branch__name__icontains=branch_name)
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


def minutes_due(*, now: dt.datetime) -> QuerySet[Meeting]:
    """Meetings begun and not yet filed: their record is due (by the stored ``Meeting.minutes_due_at``).

    The one spelling of "minutes due": 我的待办 (tasks/todo.py) lists these to their recorder and
    the branch's 书记/副书记; the overdue sweep (``reminders.flag_overdue_minutes``) flags those past
    ``minutes_due_at``. A record returned by the 督导组 is not in it (it has its own row and notice).
    """
    return Meeting.objects.filter(
        submitted_at__isnull=True,
        planned_start__lte=now,
        status__in=(Meeting.Status.NOTIFIED, Meeting.Status.HELD),
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


# "1." "1、" "(1)" "（一）" "一、" "第一项：" "-" "•": the numbering a secretary types before each line of an agenda.
_AGENDA_NUMBERING = re.compile(
    r"^\s*(?:[-*•·]|第?[0-9一二三四五六七八九十]+项?[.、．:：)）]|[(（][0-9一二三四五六七八九十]+[)）])\s*"
)


def planned_agenda_titles(agenda: str) -> list[str]:
    """The plan's agenda (one item a line, numbered or not) as item titles for the minutes."""
    titles = []
    for line in agenda.splitlines():
        title = _AGENDA_NUMBERING.sub("", line).strip()
        if title:
            titles.append(title[:200])
    return titles


def speaker_choices(meeting: Meeting, *, include: tuple[int, ...] = ()) -> tuple[list[Member], bool]:
    """Who may be chosen as a speaker: those present (出席 or 迟到), plus speakers already recorded.

    Returns (members, from_attendance). Before any attendance is recorded the expected
    list stands in, and ``from_attendance`` is False so that the page can say so.
    """
    rows = list(meeting.attendances.select_related("member").order_by("member__name", "id"))
    recorded = any(r.status for r in rows)
    keep = set(include)
    chosen = [
        r.member for r in rows if (r.status in Attendance.PRESENT_STATUSES or not recorded) or r.member_id in keep
    ]
    missing = keep - {m.pk for m in chosen}
    if missing:
        chosen += list(Member.objects.filter(pk__in=missing))
    return sorted(chosen, key=lambda m: (m.name, m.pk)), recorded


def default_chair_and_recorder(meeting: Meeting, *, on: dt.date) -> tuple[Member | None, Member | None]:
    """Who usually chairs and records this meeting, from the posts on ``on`` (domain.md's table).

    A 党小组会 is chaired by its 党小组长; a 党课 on its own by its lecturer (授课人); every
    other meeting by the 书记. The 组织委员 records, else another committee member who is
    not the chair. One query for the posts.
    """
    codes = meeting.type_codes()
    org_ids = [meeting.branch_id] + ([meeting.group_id] if meeting.group_id else [])
    posts = list(
        Post.objects.filter(Q(organization_id__in=org_ids) & active_on(on, ""))
        .select_related("member")
        .order_by("-started_on", "id")
    )

    def holder(role, organization_id):
        return next((p.member for p in posts if p.role == role and p.organization_id == organization_id), None)

    secretary = holder(Post.Role.SECRETARY, meeting.branch_id)
    if MeetingType.Code.GROUP_MEETING in codes and meeting.group_id:
        return holder(Post.Role.GROUP_LEADER, meeting.group_id), None
    chair = secretary
    if codes == {MeetingType.Code.PARTY_LESSON} and meeting.lecturer_id:
        chair = meeting.lecturer
    recorder = holder(Post.Role.ORGANIZATION, meeting.branch_id)
    if recorder is None or recorder == chair:
        recorder = next(
            (
                p.member
                for role in (Post.Role.PROPAGANDA, Post.Role.DISCIPLINE, Post.Role.DEPUTY_SECRETARY)
                for p in posts
                if p.role == role and p.organization_id == meeting.branch_id and p.member != chair
            ),
            None,
        )
    return chair, recorder
