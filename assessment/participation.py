"""Member participation (个人参与): counts and score per member and run, eligibility for 评优, and the trend.

What counts, everywhere in this module (the member pages, the HR export and the trend):

- a meeting counts when it was held (held / submitted / approved / returned) and its date
  (actual start, else planned start, in the mine's local time) falls in the period;
- a member's expected meetings (应参加) are their Attendance rows of those meetings whose
  status has been recorded. A row still blank belongs to minutes not yet written: it is
  neither attendance nor absence, so it is left out until recorded (the same rule as the
  meetings app's "my attendance": 出席率 = 出席 ÷（出席 + 请假 + 缺席）);
- attended = present + late; leave (请假) is never an absence;
- a 预备党员 counts like a full member: they attend and are scored, only voting differs.

Everything here is set-based: a fixed number of queries whatever the number of members.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from appraisal.selectors import confirmed_grades, grade_blocks_commendation
from bulletin.models import Announcement
from bulletin.selectors import announcements_for_user
from meetings.attendance_rates import RECORDED_STATUSES, held_in, live_month_counts
from meetings.models import Attendance, AttendanceRollup, Meeting
from org.clock import local_midnight, month_number, month_start
from org.models import Member, Membership, Organization
from org.scope import get_scope
from practice.models import Project, ProjectMember
from study.models import StudyParticipationRule
from study.participation import StudyCounts, commendation_reasons, study_counts
from tasks.follow_selectors import makeup_tasks_of
from tasks.states import task_progress

from .models import BranchScore, Deduction, ItemScore, MemberScore, ParticipationBaseline, Run, Scheme

CENT = Decimal("0.01")


# --- The score of one member -----------------------------------------------------------------


def participation_points(*, scheme: Scheme, absent: int, late: int) -> Decimal:
    """The participation score from the scheme's rules, never below 0.

    One unexcused absence costs ``member_one_absence_deduction``, two cost
    ``member_two_absences_deduction``, ``member_zero_at_absences`` or more leave 0. When
    the scheme sets the zero point above 3, the counts in between keep the two-absence
    deduction: the steepest tier the scheme names short of zero (no extrapolation).
    """
    if absent >= scheme.member_zero_at_absences:
        return Decimal("0.00")
    points = scheme.member_max_points
    if absent == 1:
        points -= scheme.member_one_absence_deduction
    elif absent >= 2:
        points -= scheme.member_two_absences_deduction
    points -= scheme.member_late_deduction * late
    return max(points, Decimal("0")).quantize(CENT)


def eligibility(
    *,
    scheme: Scheme,
    expected: int,
    attended: int,
    absent: int,
    branch_failing: bool,
    in_verified_project: bool = False,
) -> list[str]:
    """Why the member may not be put forward for 评优 (empty when they may), in Chinese.

    ``in_verified_project``: the member led or was a party member of a 技术攻关 project verified
    as passed in the period (``verified_project_member_ids``); a condition only where the scheme
    switches it on (``eligibility_verified_project``, off in the shipped scheme).
    """
    reasons = []
    if expected == 0:
        # A rate of 0 / 0 proves nothing either way; commendation needs shown participation.
        reasons.append(_("期间内无应参加的会议，无法计算出勤率"))
    elif attended * 100 < scheme.eligibility_min_attendance_percent * expected:
        rate = (Decimal(attended) * 100 / Decimal(expected)).quantize(Decimal("0.1"))
        reasons.append(
            _("出勤率 {rate}% 低于 {eligibility_min_attendance_percent}%").format(
                rate=rate, eligibility_min_attendance_percent=scheme.eligibility_min_attendance_percent
            )
        )
    if scheme.eligibility_no_unexcused_absence and absent:
        reasons.append(_("无故缺席 {absent} 次").format(absent=absent))
    if scheme.eligibility_branch_not_failing and branch_failing:
        reasons.append(_("所在支部考核不合格"))
    if scheme.eligibility_verified_project and not in_verified_project:
        reasons.append(_("期间内未参与已验收的技术攻关项目"))
    return reasons


def verified_project_member_ids(start: dt.date, end: dt.date) -> set[int]:
    """Members who led, or were party members of, a 技术攻关 project verified as passed in [start, end): 2 queries."""
    projects = Project.objects.filter(
        state=Project.State.VERIFIED,
        verified_at__gte=local_midnight(start),
        verified_at__lt=local_midnight(end),
    )
    ids = set(projects.values_list("leader_id", flat=True))
    ids.update(
        ProjectMember.objects.filter(project__in=projects, member__isnull=False).values_list("member_id", flat=True)
    )
    return ids


# --- Computing a run's member scores ---------------------------------------------------------


def _branch_by_member(start: dt.date, end: dt.date) -> dict[int, tuple[int, str]]:
    """Each member's branch in [start, end) and their status: one query.

    A member who moved during the period is counted in the branch of their most recent
    branch membership that overlaps the period (latest start, then latest row): the branch
    they ended the period in, which is the one that knows them for 评优 and HR. Their
    meetings in both branches still count, since attendance is the member's own.
    """
    rows = (
        Membership.objects.filter(
            Q(ended_on__isnull=True) | Q(ended_on__gt=start),
            organization__kind=Organization.Kind.BRANCH,
            started_on__lt=end,
        )
        .order_by("member_id", "started_on", "id")
        .values_list("member_id", "organization_id", "member__status")
    )
    result: dict[int, tuple[int, str]] = {}
    for member_id, branch_id, status in rows:
        result[member_id] = (branch_id, status)  # ordered, so the latest membership wins
    return result


def _attendance_counts(start: dt.date, end: dt.date) -> dict[int, dict[str, int]]:
    """Per member: expected, attended, late, leave, absent in [start, end): one grouped query."""
    rows = (
        Attendance.objects.filter(held_in(start, end, "meeting__"), status__in=RECORDED_STATUSES)
        .values("member_id")
        .annotate(
            expected=Count("id"),
            attended=Count("id", filter=Q(status__in=Attendance.PRESENT_STATUSES)),
            late=Count("id", filter=Q(status=Attendance.Status.LATE)),
            on_leave=Count("id", filter=Q(status=Attendance.Status.LEAVE)),
            absent=Count("id", filter=Q(status=Attendance.Status.ABSENT)),
        )
        .order_by()
    )
    return {row.pop("member_id"): row for row in rows}


def _lessons_given(start: dt.date, end: dt.date) -> dict[int, int]:
    rows = (
        Meeting.objects.filter(held_in(start, end), lecturer__isnull=False)
        .values("lecturer_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["lecturer_id"]: row["n"] for row in rows}


_ZERO = {"expected": 0, "attended": 0, "late": 0, "on_leave": 0, "absent": 0}


@transaction.atomic
def member_scores_compute(*, run: Run, failing_branch_ids: set[int], now: dt.datetime) -> int:
    """Replace ``run``'s MemberScore rows with every member's participation in the run's period.

    Who is scored: every member with a branch membership overlapping the period who is
    on the roll, and anyone else (transferred out, …) who was expected at a meeting of the
    period. ``failing_branch_ids``: the branches failing this run (for eligibility).
    Returns the number of rows written. Queries: scheme, memberships, attendance,
    lessons, the study rule (and, when it asks, study counts), delete, insert — whatever
    the number of members.
    ``now`` is accepted for symmetry with the run's other services; the period decides.
    """
    if run.is_locked:
        raise ValidationError(_("已发布的考核不能重新计算。"))
    scheme = Scheme.objects.get(pk=run.scheme_id)
    start, end = run.period_start, run.period_end
    branches = _branch_by_member(start, end)
    counts = _attendance_counts(start, end)
    lessons = _lessons_given(start, end)
    # 民主评议 (the grade confirmed for the run's year; empty when that year says not to use it).
    appraisal_grades = confirmed_grades(year=start.year)
    in_projects = verified_project_member_ids(start, end) if scheme.eligibility_verified_project else set()
    # Study as a 评优 condition (off by default: then one query for the rule and none for counts).
    study_rule = StudyParticipationRule.current()
    study = study_counts(start=start, end=end) if study_rule.asks_for_commendation else {}

    rows = []
    for member_id, (branch_id, status) in branches.items():
        c = counts.get(member_id, _ZERO)
        if status not in Member.ON_ROLL_STATUSES and not c["expected"]:
            continue
        reasons = eligibility(
            scheme=scheme,
            expected=c["expected"],
            attended=c["attended"],
            absent=c["absent"],
            branch_failing=branch_id in failing_branch_ids,
            in_verified_project=member_id in in_projects,
        )
        if grade_blocks_commendation(appraisal_grades.get(member_id, "")):
            reasons.append(_("民主评议党员评定为不合格"))
        if study_rule.asks_for_commendation:
            reasons.extend(commendation_reasons(study_rule, study.get(member_id, StudyCounts())))
        rows.append(
            (
                run.pk,
                member_id,
                branch_id,
                c["expected"],
                c["attended"],
                c["late"],
                c["on_leave"],
                c["absent"],
                lessons.get(member_id, 0),
                participation_points(scheme=scheme, absent=c["absent"], late=c["late"]),
                not reasons,
                "；".join(reasons)[:200],
            )
        )
    MemberScore.objects.filter(run=run).delete()
    _insert_member_scores(rows)
    return len(rows)


_INSERT_FIELDS = (
    "run",
    "member",
    "branch",
    "expected",
    "attended",
    "late",
    "on_leave",
    "absent",
    "lessons_given",
    "points",
    "eligible",
    "ineligible_reason",
)


def _insert_member_scores(rows: list[tuple]) -> None:
    """One prepared INSERT executed for every row (``executemany``), instead of ``bulk_create``.

    Why: ``bulk_create`` splits its INSERT into batches of 999 parameters on SQLite (83
    rows), so a mine of 30,000 members would cost 400 queries and the run's query count
    would grow with the members. One statement executed many times costs one query
    whatever the size, and stays fast on both SQLite and PostgreSQL (psycopg pipelines it).
    Values are prepared by the model's own fields, so the database sees what the ORM writes.
    """
    if not rows:
        return
    fields = [MemberScore._meta.get_field(name) for name in _INSERT_FIELDS]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names from the model, values as parameters
        quote(MemberScore._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    points = fields[_INSERT_FIELDS.index("points")]
    at = _INSERT_FIELDS.index("points")
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [(*row[:at], points.get_db_prep_save(row[at], connection), *row[at + 1 :]) for row in rows],
        )


# --- Selectors of the member pages ------------------------------------------------------------


def member_history(member_id: int) -> QuerySet[MemberScore]:
    """A member's participation in every published run, newest first."""
    return (
        MemberScore.objects.filter(member_id=member_id, run__status=Run.Status.PUBLISHED)
        .select_related("run", "branch")
        .order_by("-run__period_start", "run__kind")
    )


def branch_participation(*, run: Run, branch_id: int) -> QuerySet[MemberScore]:
    """The members of one branch in one run, by name."""
    return (
        MemberScore.objects.filter(run=run, branch_id=branch_id)
        .select_related("member")
        .order_by("member__name", "member_id")
    )


def latest_published_branch_score(branch_id: int) -> BranchScore | None:
    """The branch's score in the latest published run, with its items and every deduction (3 queries)."""
    deductions = Deduction.objects.select_related(
        "meeting", "finding", "rectification", "flag__meeting", "review__meeting", "project"
    ).order_by("period_start", "id")
    items = ItemScore.objects.select_related("item").prefetch_related(Prefetch("deductions", queryset=deductions))
    return (
        BranchScore.objects.filter(branch_id=branch_id, run__status=Run.Status.PUBLISHED)
        .select_related("run", "branch")
        .prefetch_related(Prefetch("items", queryset=items.order_by("item__order", "item_id")))
        .order_by("-run__period_end", "-run__published_at", "-run_id")
        .first()
    )


@dataclass(frozen=True)
class RecordLink:
    label: str
    url_name: str
    pk: int


def deduction_link(user, deduction: Deduction) -> RecordLink | None:
    """The record behind a deduction, if ``user`` may open it (no query: the scope is cached)."""
    if deduction.meeting_id and user.has_perm("meetings.view_meeting", deduction.meeting):
        return RecordLink(_("会议"), "meetings:meeting_detail", deduction.meeting_id)
    if deduction.finding_id and user.has_perm("supervision.view_finding", deduction.finding):
        return RecordLink(_("督导问题"), "supervision:finding_detail", deduction.finding_id)
    if deduction.rectification_id and user.has_perm("supervision.view_finding", deduction.rectification):
        return RecordLink(_("整改"), "supervision:finding_detail", deduction.rectification.finding_id)
    for source in (deduction.flag, deduction.review):
        if source is not None and user.has_perm("meetings.view_meeting", source.meeting):
            return RecordLink(_("会议"), "meetings:meeting_detail", source.meeting_id)
    if deduction.project_id and user.has_perm("practice.view_project", deduction.project):
        return RecordLink(_("攻关项目"), "practice:project_detail", deduction.project_id)
    return None


def latest_announcements(user, *, now: dt.datetime, limit: int = 5) -> list[Announcement]:
    return list(announcements_for_user(user, now=now).order_by("-pinned", "-published_at", "-id")[:limit])


# --- Participation trend -----------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """Attended over expected in some months, and the change against a baseline rate."""

    expected: int
    attended: int

    @property
    def rate(self) -> Decimal | None:
        """Percent, one decimal."""
        if not self.expected:
            return None
        return (Decimal(self.attended) * 100 / Decimal(self.expected)).quantize(Decimal("0.1"))

    def points_change(self, baseline: Rate | None) -> Decimal | None:
        """Percentage points above (or below) the baseline: 65% against 50% is +15.0."""
        if baseline is None or self.rate is None or baseline.rate is None:
            return None
        return self._exact(self) * 100 - self._exact(baseline) * 100

    def relative_change(self, baseline: Rate | None) -> Decimal | None:
        """Percent change against the baseline (rate ÷ baseline − 1): 65% against 50% is +30.0."""
        if baseline is None or self.rate is None or not baseline.attended:
            return None
        return ((self._exact(self) / self._exact(baseline) - 1) * 100).quantize(Decimal("0.1"))

    @staticmethod
    def _exact(r: Rate) -> Decimal:
        return Decimal(r.attended) / Decimal(r.expected)


@dataclass(frozen=True)
class MonthRate(Rate):
    month: dt.date = dt.date.min

    @property
    def label(self) -> str:
        return _("{year}年{month}月").format(year=self.month.year, month=self.month.month)


@dataclass(frozen=True)
class Trend:
    months: list[MonthRate]
    total: Rate  # all months of the range together
    baseline: ParticipationBaseline | None
    baseline_rate: Rate | None

    @property
    def points_change(self) -> Decimal | None:
        p = self.total.points_change(self.baseline_rate)
        return None if p is None else p.quantize(Decimal("0.1"))

    @property
    def relative_change(self) -> Decimal | None:
        return self.total.relative_change(self.baseline_rate)


def _month_counts(
    *, start: dt.date, end: dt.date, branch_id: int | None, today: dt.date | None, branch_ids=None
) -> dict[int, tuple[int, int]]:
    """{month number: (expected, attended)} of [start, end) for one branch, several (``branch_ids``:
    ids or a subquery, e.g. a 党总支's branches on the dashboard) or the mine.

    With ``today``, months over before it are read from the attendance rollup (meetings'
    ``AttendanceRollup``) when it has them — every branch's row for the mine, the branch's
    own for one branch — and the rest (the running month, months not rolled up yet) are
    counted live with the same rule (meetings/attendance_rates.py). Without ``today``
    everything is counted live. Two or three queries, whatever the number of branches.
    """
    first, last = month_number(start), month_number(end)
    rolled: dict[int, tuple[int, int]] = {}
    if today is not None and first < min(last, month_number(today)):
        closed_end = month_start(min(last, month_number(today)))
        rows = AttendanceRollup.objects.filter(month__gte=start, month__lt=closed_end)
        branches = Organization.objects.branches()
        if branch_id is not None:
            rows, branches = rows.filter(branch_id=branch_id), branches.filter(pk=branch_id)
        if branch_ids is not None:
            rows, branches = rows.filter(branch_id__in=branch_ids), branches.filter(pk__in=branch_ids)
        sums = rows.values("month").annotate(e=Sum("expected"), a=Sum("attended"), n=Count("pk")).order_by()
        need = 1 if branch_id is not None and branch_ids is None else branches.count()
        rolled = {month_number(r["month"]): (r["e"], r["a"]) for r in sums if r["n"] >= need}
    live_months = [n for n in range(first, last) if n not in rolled]
    live: dict[int, tuple[int, int]] = {}
    if live_months:
        counts = live_month_counts(
            start=month_start(live_months[0]),
            end=month_start(live_months[-1] + 1),
            branch_ids=None if branch_id is None else [branch_id],
            within=branch_ids,
            by_branch=False,
        )
        live = {n: counts[(None, n)] for (_b, n) in counts if n in live_months}
    return {n: rolled.get(n) or live.get(n) or (0, 0) for n in range(first, last)}


def monthly_rates(
    *, start: dt.date, end: dt.date, branch_id: int | None = None, today: dt.date | None = None, branch_ids=None
) -> list[MonthRate]:
    """The participation rate of each month in [start, end) (first days of months).

    Every month of the range is listed, with 0 / 0 where nothing was held; closed months come
    from the rollup when ``today`` is given (``_month_counts``).
    """
    counts = _month_counts(start=start, end=end, branch_id=branch_id, today=today, branch_ids=branch_ids)
    return [MonthRate(month=month_start(n), expected=e, attended=a) for n, (e, a) in sorted(counts.items())]


def rate_between(
    *, start: dt.date, end: dt.date, branch_id: int | None = None, today: dt.date | None = None, branch_ids=None
) -> Rate:
    """The participation rate of [start, end) (first days of months) as a whole."""
    counts = _month_counts(start=start, end=end, branch_id=branch_id, today=today, branch_ids=branch_ids).values()
    return Rate(expected=sum(e for e, _a in counts), attended=sum(a for _e, a in counts))


def current_baseline() -> ParticipationBaseline | None:
    return ParticipationBaseline.objects.order_by("-set_at", "-pk").first()


def participation_trend(
    *, start: dt.date, end: dt.date, branch_id: int | None = None, today: dt.date | None = None, branch_ids=None
) -> Trend:
    """Monthly rates of [start, end), their total, and the baseline's rate (closed months from
    the rollup when ``today`` is given: a fixed handful of queries whatever the data).

    ``branch_ids`` (ids or a subquery) limits it to several branches, e.g. a 党总支's (the dashboard).
    """
    months = monthly_rates(start=start, end=end, branch_id=branch_id, today=today, branch_ids=branch_ids)
    total = Rate(expected=sum(m.expected for m in months), attended=sum(m.attended for m in months))
    baseline = current_baseline()
    baseline_rate = (
        rate_between(start=baseline.start, end=baseline.end, branch_id=branch_id, today=today, branch_ids=branch_ids)
        if baseline is not None
        else None
    )
    return Trend(months=months, total=total, baseline=baseline, baseline_rate=baseline_rate)


@transaction.atomic
def baseline_set(*, start: dt.date, end: dt.date, user, now: dt.datetime) -> ParticipationBaseline:
    """Set the mine's baseline period [start, end) (whole months, over by ``now``'s month); one row kept."""
    if start.day != 1 or end.day != 1:
        raise ValidationError(_("基准期须为整月。"))
    if end <= start:
        raise ValidationError(_("基准期结束须晚于开始。"))
    this_month = timezone.localtime(now).date().replace(day=1)
    if end > month_start(month_number(this_month) + 1):
        raise ValidationError(_("基准期不能晚于本月。"))
    # One row: the first one is locked and updated, so two committee members saving at
    # once leave one baseline rather than two.
    baseline = ParticipationBaseline.objects.select_for_update().order_by("pk").first()
    if baseline is None:
        baseline = ParticipationBaseline(start=start, end=end, set_by=user, set_at=now)
        baseline.full_clean()
        baseline.save()
    else:
        baseline.start, baseline.end, baseline.set_by, baseline.set_at = start, end, user, now
        baseline.full_clean()
        baseline.save(update_fields=["start", "end", "set_by", "set_at"])
    ParticipationBaseline.objects.exclude(pk=baseline.pk).delete()
    return baseline


def visible_trend_branches(user) -> Iterable[Organization]:
    """Branches offered in the trend's branch picker: all for 党委 level, else one's own."""
    scope = get_scope(user)
    qs = Organization.objects.branches().active().order_by("sort_order", "id")
    if scope.sees_all_branches:
        return qs
    return qs.filter(pk__in=scope.reachable_branch_ids)


@dataclass(frozen=True)
class MakeupRow:
    """One 补学 of a member, shown beside (never inside) the attendance figures."""

    meeting_id: int
    topic: str
    held_on: dt.date
    due_text: str
    state: str
    minutes_opened: bool


def makeup_of(member_id: int, *, now: dt.datetime) -> list[MakeupRow]:
    """A member's 补学, shown separately: it never turns an absence into attendance (nothing here is counted)."""
    rows = []
    for task in makeup_tasks_of(member_id):
        study = getattr(task, "makeup", None)
        rows.append(
            MakeupRow(
                meeting_id=task.meeting_id,
                topic=task.meeting.topic,
                held_on=task.meeting.held_on,
                due_text=task.due_text,
                state=task_progress(task, now=now).label,
                minutes_opened=bool(study and study.minutes_opened_at),
            )
        )
    return rows
