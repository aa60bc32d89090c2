"""The compliance rollup: closed cells of the cadence engine, stored so that no page recomputes them.

One home per figure: the outcome of a rule for a branch (or group) in a period is computed
by ``compliance.compute_live`` only; this module stores what it computed for periods that
were over, and ``compliance.compliance`` reads them back (running periods stay live).

Kept current three ways, all idempotent (a branch's years are recomputed from scratch and
replace its rows):

- after commit of a change to a meeting, its type periods, an exemption or a branch/group
  (signals below), ``refresh_rollups`` is queued for the branch (worker);
- every night the beat's ``roll_closed_periods`` stores the periods that have just ended;
- ``manage.py rebuild_rollups`` rebuilds every branch and year (a handful of queries per
  year, whatever the number of branches, then bulk inserts).

Quarter, half-year and year rules: one row per period, keyed by its first day; a month of
the matrix reads the row of the period that contains it. A period is closed the day after
its last day; until then it is computed live.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from django.db import connection, transaction
from django.db.models import Min
from django.db.models.functions import Coalesce

from org.clock import local_date, month_number, month_start
from org.models import Organization

from .attendance_rates import live_month_counts
from .compliance import compute_live
from .models import Attendance, AttendanceRollup, CadenceRule, ComplianceRollup, Exemption, Meeting

logger = logging.getLogger(__name__)

BATCH = 2000


def _first_year() -> int | None:
    first = Meeting.objects.aggregate(d=Min(Coalesce("counts_for", "planned_start__date")))["d"]
    first_exemption = Exemption.objects.aggregate(d=Min("period_start"))["d"]
    days = [d for d in (first, first_exemption) if d is not None]
    if not days:
        return None
    return min(d if isinstance(d, dt.date) else d.date() for d in days).year


def _rows_for(branches: list[Organization], year: int, *, now: dt.datetime) -> list[ComplianceRollup]:
    today = local_date(now)
    if dt.date(year, 1, 1) >= today:
        return []
    result = compute_live(branches=branches, start=dt.date(year, 1, 1), end=dt.date(year, 12, 31), now=now)
    return [
        ComplianceRollup(
            rule_id=c.rule.pk,
            branch_id=c.branch_id,
            unit=c.group_id or 0,
            period_start=c.start,
            period_end=c.end,
            outcome=c.outcome,
            count=c.count,
            on_time_count=c.on_time_count,
            meeting_ids=list(c.meeting_ids),
            exemption_id=c.exemption.pk if c.exemption else None,
            computed_at=now,
        )
        for c in result.cells
        if c.end < today
    ]


def _attendance_rows_for(branches: list[Organization], year: int, *, now: dt.datetime) -> list[AttendanceRollup]:
    """One row per branch and month of ``year`` over before ``now``'s day, 0 / 0 included."""
    today = local_date(now)
    first = month_number(dt.date(year, 1, 1))
    last = min(month_number(dt.date(year + 1, 1, 1)), month_number(today))  # this month is still running
    if last <= first or not branches:
        return []
    counts = live_month_counts(start=month_start(first), end=month_start(last), branch_ids=[b.pk for b in branches])
    return [
        AttendanceRollup(
            branch_id=b.pk,
            month=month_start(n),
            expected=counts.get((b.pk, n), (0, 0))[0],
            attended=counts.get((b.pk, n), (0, 0))[1],
            computed_at=now,
        )
        for b in branches
        for n in range(first, last)
    ]


@transaction.atomic
def refresh_rollups(*, branch_ids: list[int] | None, now: dt.datetime, years: list[int] | None = None) -> int:
    """Recompute the closed cells of ``branch_ids`` (None: every branch) for ``years`` (None: all); rows written."""
    today = local_date(now)
    if years is None:
        first = _first_year()
        years = list(range(first, today.year + 1)) if first else []
    branches = Organization.objects.branches()
    if branch_ids is not None:
        branches = branches.filter(pk__in=branch_ids)
    branches = list(branches.order_by("sort_order", "id"))
    stale = ComplianceRollup.objects.all()
    if branch_ids is not None:
        stale = stale.filter(branch_id__in=branch_ids)
    if years:
        stale = stale.filter(period_start__year__in=years)
    stale.delete()
    stale_attendance = AttendanceRollup.objects.all()
    if branch_ids is not None:
        stale_attendance = stale_attendance.filter(branch_id__in=branch_ids)
    if years:
        stale_attendance = stale_attendance.filter(month__year__in=years)
    stale_attendance.delete()
    written = 0
    for year in years:
        rows = _rows_for(branches, year, now=now)
        ComplianceRollup.objects.bulk_create(rows, batch_size=BATCH)
        attendance = _attendance_rows_for(branches, year, now=now)
        AttendanceRollup.objects.bulk_create(attendance, batch_size=BATCH)
        written += len(rows) + len(attendance)
    return written


def roll_closed_periods(*, now: dt.datetime) -> int:
    """The nightly sweep: recompute this year (and last year in January) for every branch."""
    today = local_date(now)
    years = sorted({today.year, (today - dt.timedelta(days=31)).year})
    return refresh_rollups(branch_ids=None, now=now, years=years)


# --- After commit -------------------------------------------------------------------------


def schedule_refresh(branch_id: int | None) -> None:
    """Queue ``branch_id``'s rollup for the worker once the current transaction commits.

    One task per branch and transaction, however many rows changed: the ids wait on the
    connection and one on_commit callback sends them. A rolled-back transaction drops
    the callback; the next change registers it again (the leftover ids go with it).
    """
    if branch_id is None:
        return
    pending, waiting = _pending()
    pending["branches"].add(branch_id)
    if not waiting:
        transaction.on_commit(_flush)


def _pending() -> tuple[dict[str, set[int]], bool]:
    """The ids waiting on the connection, and whether a callback already waits for them: one
    callback per transaction, registered again after a flush (the ids were taken) or a rollback
    (the callback was dropped). Outside a transaction the callback runs at once."""
    waiting = "rollup_pending" in connection.__dict__ and any(entry[1] is _flush for entry in connection.run_on_commit)
    pending = connection.__dict__.setdefault("rollup_pending", {"branches": set(), "meetings": set()})
    return pending, waiting


ALL = 0  # in the pending ids: every branch (a cadence rule changed)


def schedule_refresh_for_meeting(meeting_id: int | None) -> None:
    """As ``schedule_refresh``, for a row that knows only its meeting (an attendance row):
    the meeting ids wait on the connection and become branch ids in one query at commit."""
    if meeting_id is None:
        return
    pending, waiting = _pending()
    pending["meetings"].add(meeting_id)
    if not waiting:
        transaction.on_commit(_flush)


def _flush() -> None:
    pending = connection.__dict__.pop("rollup_pending", None) or {"branches": set(), "meetings": set()}
    ids = set(pending["branches"])
    if pending["meetings"]:
        ids.update(Meeting.objects.filter(pk__in=pending["meetings"]).values_list("branch_id", flat=True))
    ids = sorted(ids)
    if ALL in ids:
        ids = None
    if ids is None or ids:
        # Published from a thread, as bulletin.services.enqueue_delivery: a slow broker never slows the request.
        threading.Thread(target=_enqueue, args=(ids,), name="rollup-enqueue").start()


def _enqueue(branch_ids: list[int] | None) -> None:
    from .tasks import refresh_branch_rollups

    try:
        refresh_branch_rollups.apply_async((branch_ids,), retry=False)
    except Exception:
        logger.warning("broker unavailable; rollup of branches %s left for the nightly sweep", branch_ids or "all")


# --- What changes a cell ------------------------------------------------------------------
# A meeting (status, dates, counts_for, types), a type's own period, an exemption, a
# branch's or group's life dates; an attendance row (the attendance rollup only).


def _meeting_changed(sender, instance, **kwargs):
    schedule_refresh(instance.branch_id)


def _type_period_changed(sender, instance, **kwargs):
    branch_id = Meeting.objects.filter(pk=instance.meeting_id).values_list("branch_id", flat=True).first()
    schedule_refresh(branch_id)


def _types_changed(sender, instance, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear") and isinstance(instance, Meeting):
        schedule_refresh(instance.branch_id)


def _exemption_changed(sender, instance, **kwargs):
    schedule_refresh(instance.branch_id)


def _organization_changed(sender, instance, **kwargs):
    if instance.kind == Organization.Kind.BRANCH:
        schedule_refresh(instance.pk)
    elif instance.kind == Organization.Kind.GROUP:
        schedule_refresh(instance.parent_id)


def _attendance_changed(sender, instance, **kwargs):
    schedule_refresh_for_meeting(instance.meeting_id)


def _rule_changed(sender, instance, **kwargs):
    schedule_refresh(ALL)


def connect() -> None:
    """Called by MeetingsConfig.ready."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from .models import MeetingTypePeriod

    for handler, model in (
        (_meeting_changed, Meeting),
        (_type_period_changed, MeetingTypePeriod),
        (_exemption_changed, Exemption),
        (_organization_changed, Organization),
        (_rule_changed, CadenceRule),
        (_attendance_changed, Attendance),
    ):
        post_save.connect(handler, sender=model, dispatch_uid=f"rollup-save-{model.__name__}")
        post_delete.connect(handler, sender=model, dispatch_uid=f"rollup-delete-{model.__name__}")
    m2m_changed.connect(_types_changed, sender=Meeting.types.through, dispatch_uid="rollup-meeting-types")
    m2m_changed.connect(_rule_changed, sender=CadenceRule.types.through, dispatch_uid="rollup-rule-types")


def unmet_cells_this_year(*, on: dt.date):
    """An expression for a branch queryset: how many closed cells of ``on``'s year (the branch's
    and its groups') were 未开 or 补开, read from the rollup. The supervisor's home lists branches
    worst first by it; a running period is not counted (it is not missed yet)."""
    from django.db.models import Count, IntegerField, OuterRef, Subquery

    from .compliance import Outcome

    cells = (
        ComplianceRollup.objects.filter(
            branch_id=OuterRef("pk"),
            period_start__gte=dt.date(on.year, 1, 1),
            period_end__lt=on,
            outcome__in=(Outcome.MISSING, Outcome.LATE),
        )
        .order_by()
        .values("branch_id")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(cells), 0, output_field=IntegerField())
