"""A member's own pages: my meetings, my attendance record, my leave requests.

Each reads only rows of the signed-in member (``get_scope(user).member_id``); a login
without a member record (a supervisor, an administrator) sees an explanation instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Prefetch, Subquery
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from org.clock import year_bounds
from org.scope import get_scope

from ..models import Attendance, LeaveRequest, Meeting, MeetingPolicy, MeetingType

PAST_LIMIT = 50
OPEN_LEAVE = (LeaveRequest.Status.PENDING, LeaveRequest.Status.APPROVED)


def _types_prefetch() -> Prefetch:
    return Prefetch("meeting__types", queryset=MeetingType.objects.order_by("sort_order", "id"))


@login_required
@require_GET
def my_meetings(request):
    """Upcoming and recent meetings where I am expected, with my status and what I can do."""
    member_id = get_scope(request.user).member_id
    if member_id is None:
        return render(request, "meetings/my_meetings.html", {"no_member": True})
    now = timezone.now()
    policy = MeetingPolicy.current()
    latest_leave = LeaveRequest.objects.filter(meeting=OuterRef("meeting"), member_id=member_id).order_by(
        "-created_at", "-id"
    )
    rows = list(
        Attendance.objects.filter(member_id=member_id)
        .select_related("meeting__branch", "meeting__group")
        .prefetch_related(_types_prefetch())
        .annotate(leave_status=Subquery(latest_leave.values("status")[:1]))
        .order_by("-meeting__planned_start", "-id")
    )
    leave_labels = dict(LeaveRequest.Status.choices)
    upcoming, past = [], []
    for row in rows:
        meeting = row.meeting
        window = policy.checkin_window(meeting)
        row.leave_label = leave_labels.get(row.leave_status, "")
        # The row itself says the member is expected; the meeting says whether the window is open.
        row.can_checkin = meeting.checkin_open_at(now, policy=policy) and row.checked_in_at is None
        row.can_ask_leave = meeting.accepts_leave_at(now) and row.leave_status not in OPEN_LEAVE
        if meeting.status != Meeting.Status.CANCELLED and now < window.closes:
            upcoming.append(row)
        else:
            past.append(row)
    upcoming.reverse()  # soonest first
    return render(
        request,
        "meetings/my_meetings.html",
        {"upcoming": upcoming, "past": past[:PAST_LIMIT], "more_past": len(past) > PAST_LIMIT},
    )


@dataclass
class Totals:
    """Counts of one period. The rate counts recorded meetings only: an unrecorded one is nobody's absence yet."""

    label: str
    expected: int = 0
    attended: int = 0
    late: int = 0
    leave: int = 0
    absent: int = 0
    unrecorded: int = 0

    def add(self, status: str) -> None:
        self.expected += 1
        if status in Attendance.PRESENT_STATUSES:
            self.attended += 1
            if status == Attendance.Status.LATE:
                self.late += 1
        elif status == Attendance.Status.LEAVE:
            self.leave += 1
        elif status == Attendance.Status.ABSENT:
            self.absent += 1
        else:
            self.unrecorded += 1

    @property
    def rate(self) -> float | None:
        recorded = self.attended + self.leave + self.absent
        return self.attended / recorded * 100 if recorded else None


def _year_param(request, default: int) -> int:
    try:
        year = int(request.GET.get("year", default))
    except ValueError:
        return default
    return year if 2000 <= year <= 2100 else default


@login_required
@require_GET
def my_attendance(request):
    """My status at each meeting of a year that has begun, with totals per month and for the year."""
    member_id = get_scope(request.user).member_id
    this_year = timezone.localdate().year
    year = _year_param(request, this_year)
    ctx = {"year": year, "years": range(this_year, this_year - 5, -1)}
    if member_id is None:
        return render(request, "meetings/my_attendance.html", {**ctx, "no_member": True})
    now = timezone.now()
    start, end = year_bounds(year)
    in_year = Meeting.held_in_q(start, end, prefix="meeting__")
    rows = list(
        Attendance.objects.filter(in_year, member_id=member_id, meeting__planned_start__lte=now)
        .exclude(meeting__status=Meeting.Status.CANCELLED)
        .select_related("meeting__branch", "meeting__group")
        .prefetch_related(_types_prefetch())
        .order_by("meeting__planned_start", "id")
    )
    months: dict[int, Totals] = {}
    year_totals = Totals(label=_("{year}年").format(year=year))
    for row in rows:
        month = timezone.localtime(row.meeting.actual_start or row.meeting.planned_start).month
        months.setdefault(month, Totals(label=_("{month}月").format(month=month))).add(row.status)
        year_totals.add(row.status)
    rows.reverse()  # latest first in the list; months stay in calendar order
    return render(
        request,
        "meetings/my_attendance.html",
        {**ctx, "rows": rows, "months": [months[m] for m in sorted(months)], "year_totals": year_totals},
    )


@login_required
@require_GET
def my_leave(request):
    """My leave requests and what became of them."""
    member_id = get_scope(request.user).member_id
    if member_id is None:
        return render(request, "meetings/my_leave.html", {"no_member": True})
    leaves = list(
        LeaveRequest.objects.filter(member_id=member_id)
        .select_related("meeting__branch", "decided_by__member")
        .order_by("-created_at", "-id")
    )
    return render(request, "meetings/my_leave.html", {"leaves": leaves})


urlpatterns = [
    path("mine/", my_meetings, name="my_meetings"),
    path("mine/attendance/", my_attendance, name="my_attendance"),
    path("mine/leave/", my_leave, name="my_leave"),
]
