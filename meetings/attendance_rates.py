"""The one home of "participation" counts: who was expected and who attended, per branch and month.

- a meeting counts when it was held (held / submitted / approved / returned) and its date
  (actual start, else planned start, in the mine's local time) falls in the period;
- the expected (应参加) are its Attendance rows whose status has been recorded (a blank row
  belongs to minutes not yet written: neither attendance nor absence);
- attended = present + late; leave (请假) is never an absence.

The member pages, the HR export, the trend and the attendance rollup (``AttendanceRollup``,
kept by meetings/rollups.py for closed months) all count with these definitions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When

from org.clock import local_midnight, month_number, month_start

from .models import Attendance, Meeting

RECORDED_STATUSES = (
    Attendance.Status.PRESENT,
    Attendance.Status.LATE,
    Attendance.Status.LEAVE,
    Attendance.Status.ABSENT,
)

RATE_COUNTS = {
    "expected": Count("id"),
    "attended": Count("id", filter=Q(status__in=Attendance.PRESENT_STATUSES)),
}


def held_in(start: dt.date, end: dt.date, prefix: str = "") -> Q:
    """Held meetings whose date (actual start, else planned) lies in [start, end) local time."""
    dated = Meeting.held_in_q(local_midnight(start), local_midnight(end), prefix=prefix)
    return Q(**{f"{prefix}status__in": Meeting.HELD_STATUSES}) & dated


def recorded_attendance(
    start: dt.date, end: dt.date, branch_ids: Iterable[int] | None = None, *, within=None
) -> QuerySet[Attendance]:
    """Recorded attendance rows of meetings held in [start, end), of ``branch_ids`` (None: all),
    and of ``within`` too when given (ids or a subquery of branch ids)."""
    qs = Attendance.objects.filter(held_in(start, end, "meeting__"), status__in=RECORDED_STATUSES)
    if branch_ids is not None:
        qs = qs.filter(meeting__branch_id__in=list(branch_ids))
    if within is not None:
        qs = qs.filter(meeting__branch_id__in=within)
    return qs


def month_bucket(first: int, last: int) -> Case:
    """The local month number (org.clock.month_number) of the meeting's date, as a CASE over
    month boundaries of [first, last).

    Boundaries are computed here in Asia/Shanghai, so the database needs no time zone
    support; faster than TruncMonth on SQLite (see meetings.compliance). The two fields
    are bucketed separately (actual start, else planned) for the same reason as ``held_in``.
    """
    bounds = [(n, local_midnight(month_start(n + 1))) for n in range(first, last)]
    actual = [When(meeting__actual_start__lt=bound, then=Value(n)) for n, bound in bounds]
    planned = [When(meeting__planned_start__lt=bound, then=Value(n)) for n, bound in bounds]
    return Case(
        When(
            meeting__actual_start__isnull=False,
            then=Case(*actual, default=Value(last), output_field=IntegerField()),
        ),
        default=Case(*planned, default=Value(last), output_field=IntegerField()),
        output_field=IntegerField(),
    )


def live_month_counts(
    *, start: dt.date, end: dt.date, branch_ids: Iterable[int] | None = None, within=None, by_branch: bool = True
) -> dict[tuple[int | None, int], tuple[int, int]]:
    """{(branch id or None, month number): (expected, attended)} for the months of [start, end)
    (first days of months), computed from attendance: one grouped query. Months and branches
    with nothing recorded are absent."""
    first, last = month_number(start), month_number(end)
    fields = ("meeting__branch_id", "month") if by_branch else ("month",)
    rows = (
        recorded_attendance(start, end, branch_ids, within=within)
        .annotate(month=month_bucket(first, last))
        .values(*fields)
        .annotate(**RATE_COUNTS)
        .order_by()
    )
    return {(row.get("meeting__branch_id"), row["month"]): (row["expected"], row["attended"]) for row in rows}
