"""The scoring engine: every item of a scheme, for every branch, over one period, with a line per point lost.

Set-based: whatever the number of branches it runs a fixed number of queries — the
scheme's items and bands, the compliance engine once for every cadence rule the items
name, and one aggregate query per automatic kind, grouped by branch — and folds the rows
in Python. Nothing is written here; ``assessment.services.run_compute`` stores the result.

Periods are ``[start, end)`` (``end`` exclusive, as on ``Run``), in the mine's local time.
A cadence period is judged in the run in which it ends: a quarterly run sees the months
of its quarter, an annual run every month, quarter and the year itself. Periods not over
at ``now`` are pending and cost nothing yet.

Item scores never go below 0 (the floor); a bonus never exceeds its maximum. A manual item
not yet entered scores 0 with a line saying so (未录入): it is not yet scored, never silently
full marks; a bonus not entered adds nothing, a veto item not entered is untriggered. A
triggered veto makes the branch fail whatever its total. The grade comes from the bands of
the run's kind (quarterly or annual), a total reaching a band at its minimum exactly.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, F, Max, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from meetings.compliance import Outcome, compliance, period_label
from meetings.deadlines import notice_problem_rows
from meetings.models import Attendance, CadenceRule, Meeting, MeetingType
from org.clock import local_date, local_midnight
from org.models import Organization, Post
from practice.models import Project
from supervision.models import Finding, Flag, Rectification, Review
from tasks.models import Task
from tasks.states import Progress, task_progress

from .models import GradeBand, Item, Run, Scheme

Kind = Item.Kind
CENT = Decimal("0.01")
ZERO = Decimal("0")
REASON_CHARS = 300
MINUS = "−"  # U+2212, as printed in the mine's tables


# --- Results ------------------------------------------------------------------------------


@dataclass
class Line:
    """One reason for points lost (positive) or gained (negative), and the record behind it."""

    points: Decimal
    reason: str
    period_start: dt.date | None = None
    meeting_id: int | None = None
    review_id: int | None = None
    flag_id: int | None = None
    finding_id: int | None = None
    rectification_id: int | None = None
    project_id: int | None = None


@dataclass
class Manual:
    """What a supervisor entered for a manual item."""

    points: Decimal
    comment: str
    veto_triggered: bool = False


@dataclass
class ItemResult:
    item: Item
    points: Decimal  # after the floor (and for a bonus, the cap)
    deducted: Decimal  # the sum of the deduction lines, before the floor
    lines: list[Line]
    veto_triggered: bool = False


@dataclass
class BranchResult:
    branch: Organization
    items: list[ItemResult]
    total: Decimal
    grade: str
    is_failing: bool
    vetoed: bool
    rank: int = 0
    previous_rank: int | None = None
    previous_total: Decimal | None = None

    def item(self, item_id: int) -> ItemResult:
        return next(r for r in self.items if r.item.pk == item_id)


@dataclass
class Scores:
    scheme: Scheme
    start: dt.date
    end: dt.date
    items: list[Item] = field(default_factory=list)
    results: list[BranchResult] = field(default_factory=list)

    def for_branch(self, branch_id: int) -> BranchResult:
        return next(r for r in self.results if r.branch.pk == branch_id)


# --- Small helpers ------------------------------------------------------------------------


def fmt(points: Decimal) -> str:
    """1.00 → "1", 0.50 → "0.5" (never an exponent)."""
    text = f"{Decimal(points).quantize(CENT):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _reason(text: str) -> str:
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 1] + "…"


def _short(text: str, chars: int = 40) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= chars else text[: chars - 1] + "…"


def grade_for(total: Decimal, bands: list[GradeBand], *, vetoed: bool) -> tuple[str, bool]:
    """(grade, failing) of ``total``: the highest band reached; a veto gives the failing band whatever the total."""
    ordered = sorted(bands, key=lambda b: b.min_score, reverse=True)
    if not ordered:
        return "", vetoed
    if vetoed:
        failing = [b for b in ordered if b.is_failing]
        band = failing[0] if failing else ordered[-1]
        return band.name, True
    for band in ordered:
        if total >= band.min_score:
            return band.name, band.is_failing
    return ordered[-1].name, ordered[-1].is_failing


def ranks(totals: Mapping[int, Decimal], *, vetoed: Iterable[int] = ()) -> dict[int, int]:
    """Competition ranking by total, highest first: equal totals share a rank (1, 2, 2, 4).

    Vetoed keys (一票否决) come after every other, whatever their total: a branch that cannot
    pass is never ranked above one that did.
    """
    last = set(vetoed)
    result: dict[int, int] = {}
    previous: tuple[bool, Decimal] | None = None
    rank = 0
    order = sorted(totals.items(), key=lambda kv: (kv[0] in last, -kv[1], kv[0]))
    for position, (key, total) in enumerate(order, start=1):
        standing = (key in last, total)
        if standing != previous:
            rank, previous = position, standing
        result[key] = rank
    return result


NOT_ENTERED = "未录入"


def manual_lines(item: Item, entry: Manual | None) -> tuple[Decimal, list[Line], bool]:
    """Points, lines and veto of a manual item, entered (``entry``) or not (0 points until entered)."""
    if entry is None:
        if item.is_bonus or item.is_veto:
            return ZERO, [], False
        return (
            ZERO,
            [
                Line(
                    item.max_points,
                    _reason(_("{NOT_ENTERED}：人工评分项尚未评分，暂计 0 分").format(NOT_ENTERED=NOT_ENTERED)),
                )
            ],
            False,
        )
    comment = _short(entry.comment, 200)
    points = min(max(entry.points, ZERO), item.max_points)
    lines: list[Line] = []
    if item.is_veto:
        if entry.veto_triggered:
            lines.append(Line(ZERO, _reason(_("一票否决：{comment}").format(comment=comment))))
        return ZERO, lines, entry.veto_triggered
    if item.is_bonus:
        if points > 0:
            lines.append(Line(-points, _reason(_("加分：{comment} +{fmt}").format(comment=comment, fmt=fmt(points)))))
    elif points < item.max_points:
        lost = item.max_points - points
        lines.append(
            Line(
                lost, _reason(_("人工评分：{comment} {MINUS}{fmt}").format(comment=comment, MINUS=MINUS, fmt=fmt(lost)))
            )
        )
    return points, lines, False


def total_of(points: Iterable[Decimal]) -> Decimal:
    return sum(points, ZERO).quantize(CENT)


# --- The engine ---------------------------------------------------------------------------


def held_in(prefix: str, start: dt.datetime, end: dt.datetime) -> Q:
    """Meetings (at ``prefix``) held in [start, end): meetings' one rule, ``Meeting.held_in_q``."""
    return Meeting.held_in_q(start, end, prefix=prefix)


def _fold_types(rows, *, key_index: int, name_index: int) -> tuple[list[tuple], dict[int, list[str]]]:
    """Rows repeated once per meeting type (a join on the types) → one row per key and its type names."""
    first: dict[int, tuple] = {}
    names: dict[int, list[str]] = defaultdict(list)
    for row in rows:
        key = row[key_index]
        first.setdefault(key, row)
        name = row[name_index]
        if name and name not in names[key]:
            names[key].append(name)
    return list(first.values()), names


def _types_label(names: list[str]) -> str:
    return "、".join(names) or _("会议")


def compute_scores(
    *,
    scheme: Scheme,
    branches: Iterable[Organization],
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    kind: str,
    manual: Mapping[tuple[int, int], Manual] | None = None,
    previous: Mapping[int, tuple[int, Decimal]] | None = None,
) -> Scores:
    """Score every branch on every item of ``scheme`` over [start, end) as of ``now``, for a run of ``kind``.

    ``manual``: entered manual items by (branch id, item id); ``previous``: (rank, total) by
    branch id from the previous run of the same kind, copied onto the results.
    """
    branches = list(branches)
    branch_ids = [b.pk for b in branches]
    manual = manual or {}
    previous = previous or {}
    items = list(
        Item.objects.filter(scheme=scheme).select_related("cadence_rule").prefetch_related("cadence_rule__types")
    )
    bands = list(GradeBand.objects.filter(scheme=scheme, run_kind=kind))
    by_kind: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_kind[item.kind].append(item)
    start_dt, end_dt = local_midnight(start), local_midnight(end)
    # (branch id, item id) -> lines
    lines: dict[tuple[int, int], list[Line]] = defaultdict(list)

    if branch_ids and by_kind[Kind.CADENCE]:
        _cadence(lines, by_kind[Kind.CADENCE], branches, start, end, now)
    if branch_ids and by_kind[Kind.RETURNED]:
        _returned(lines, by_kind[Kind.RETURNED], branch_ids, start_dt, end_dt)
    if branch_ids and by_kind[Kind.MINUTES_LATE]:
        _minutes_late(lines, by_kind[Kind.MINUTES_LATE], branch_ids, start_dt, end_dt, now)
    notice_items = [i for i in items if i.method == Item.Method.AUTO and i.per_notice > 0]
    if branch_ids and notice_items:
        _notice(lines, notice_items, branch_ids, start_dt, end_dt)
    if branch_ids and by_kind[Kind.ATTENDANCE]:
        _attendance(lines, by_kind[Kind.ATTENDANCE], branch_ids, start, start_dt, end_dt)
    if branch_ids and by_kind[Kind.FLAGS]:
        _flags(lines, by_kind[Kind.FLAGS], branch_ids, start_dt, end_dt)
    if branch_ids and by_kind[Kind.FINDINGS]:
        _findings(lines, by_kind[Kind.FINDINGS], branch_ids, start_dt, end_dt)
    if branch_ids and by_kind[Kind.RECTIFICATION_OVERDUE]:
        _rectifications_overdue(lines, by_kind[Kind.RECTIFICATION_OVERDUE], branch_ids, start_dt, end_dt)
    if branch_ids and by_kind[Kind.SECRETARY_LESSON] and kind == Run.Kind.YEAR:
        _secretary_lesson(lines, by_kind[Kind.SECRETARY_LESSON], branch_ids, start, end, now)
    if branch_ids and by_kind[Kind.TYPE_ATTENDANCE_TARGET]:
        _type_attendance_target(lines, by_kind[Kind.TYPE_ATTENDANCE_TARGET], branch_ids, start_dt, end_dt)
    if branch_ids and by_kind[Kind.DISPATCH_ON_TIME]:
        _dispatch_on_time(lines, by_kind[Kind.DISPATCH_ON_TIME], branch_ids, start_dt, end_dt, now)
    if branch_ids and by_kind[Kind.PROJECT_RESULT]:
        _project_results(lines, by_kind[Kind.PROJECT_RESULT], branch_ids, start_dt, end_dt)

    scores = Scores(scheme=scheme, start=start, end=end, items=items)
    for branch in branches:
        results = []
        for item in items:
            if item.method == Item.Method.MANUAL:
                points, item_lines, veto = manual_lines(item, manual.get((branch.pk, item.pk)))
                deducted = sum((ln.points for ln in item_lines if ln.points > 0), ZERO)
            else:
                item_lines = lines.get((branch.pk, item.pk), [])
                deducted = sum((ln.points for ln in item_lines), ZERO)
                if item.is_bonus:
                    # An automatic bonus: its lines are gains (negative), capped at the item's maximum.
                    points, veto = min(max(-deducted, ZERO), item.max_points), False
                    deducted = ZERO
                else:
                    points, veto = max(item.max_points - deducted, ZERO), False
            results.append(
                ItemResult(
                    item=item,
                    points=points.quantize(CENT),
                    deducted=deducted.quantize(CENT),
                    lines=item_lines,
                    veto_triggered=veto,
                )
            )
        total = total_of(r.points for r in results)
        vetoed = any(r.veto_triggered for r in results)
        grade, failing = grade_for(total, bands, vetoed=vetoed)
        before = previous.get(branch.pk)
        scores.results.append(
            BranchResult(
                branch=branch,
                items=results,
                total=total,
                grade=grade,
                is_failing=failing,
                vetoed=vetoed,
                previous_rank=before[0] if before else None,
                previous_total=before[1] if before else None,
            )
        )
    placed = ranks(
        {r.branch.pk: r.total for r in scores.results}, vetoed=[r.branch.pk for r in scores.results if r.vetoed]
    )
    for r in scores.results:
        r.rank = placed[r.branch.pk]
    return scores


# --- One function per automatic kind ----------------------------------------------------------


def _cadence(lines, items: list[Item], branches, start: dt.date, end: dt.date, now: dt.datetime) -> None:
    """Missing and late (补开) periods of the items' rules: the compliance engine, once."""
    specific = {i.cadence_rule_id for i in items if i.cadence_rule_id}
    rules: dict[int, CadenceRule] = {i.cadence_rule_id: i.cadence_rule for i in items if i.cadence_rule_id}
    catch_all = [i for i in items if i.cadence_rule_id is None]
    if catch_all:
        # An item without a rule stands for every active rule.
        for rule in CadenceRule.objects.filter(is_active=True).prefetch_related("types"):
            rules.setdefault(rule.pk, rule)
    items_of_rule: dict[int, list[Item]] = defaultdict(list)
    for item in items:
        for rule_id in [item.cadence_rule_id] if item.cadence_rule_id else [r for r in rules if r not in specific]:
            items_of_rule[rule_id].append(item)
    if not rules:
        return
    labels = {pk: _("或").join(t.name for t in r.types.all()) or r.name for pk, r in rules.items()}
    result = compliance(branches=branches, start=start, end=end - dt.timedelta(days=1), now=now, rules=rules.values())
    group_names = {g.pk: g.name for gs in result.groups.values() for g in gs}
    last_day = end - dt.timedelta(days=1)
    for cell in result.cells:
        if cell.outcome not in (Outcome.MISSING, Outcome.LATE):
            continue
        # A period belongs to the run in which it ends.
        if not start <= cell.end <= last_day:
            continue
        rule_id = cell.rule.pk
        unit = f"{group_names.get(cell.group_id, '')} " if cell.group_id else ""
        when = period_label(cell.rule.period, cell.start)
        for item in items_of_rule[rule_id]:
            if cell.outcome == Outcome.MISSING:
                points, what, meeting_id = item.per_unit, _("未召开"), None
            else:
                points, what = item.per_late, _("补开")
                meeting_id = cell.meeting_ids[0] if cell.meeting_ids else None
            if points <= 0:
                continue
            lines[(cell.branch_id, item.pk)].append(
                Line(
                    points,
                    _reason(f"{when} {unit}{labels[rule_id]} {what} {MINUS}{fmt(points)}"),
                    period_start=cell.start,
                    meeting_id=meeting_id,
                )
            )


def _meeting_lines(
    lines, items, *, what: str, points, branch_id: int, held_at, types, detail: str = "", **links
) -> None:
    """One line per item for one meeting's record: "{what}：2026-03-10 支部委员会{detail} −1", linked to it.

    ``points`` picks the item's rule (``per_unit``, ``per_notice`` …); ``links`` are the Line's
    record ids beside the meeting's (a review's).
    """
    held_on = local_date(held_at)
    for item in items:
        value = points(item)
        reason = _("{what}：{held_on:%Y-%m-%d} {types_label}{detail} {MINUS}{fmt}").format(
            what=what, held_on=held_on, types_label=_types_label(types), detail=detail, MINUS=MINUS, fmt=fmt(value)
        )
        lines[(branch_id, item.pk)].append(Line(value, _reason(reason), period_start=held_on, **links))


def _returned(lines, items: list[Item], branch_ids, start_dt, end_dt) -> None:
    """Records returned by a supervisor (审核退回) in the period: one query."""
    rows = (
        Review.objects.filter(
            action=Review.Action.RETURN, at__gte=start_dt, at__lt=end_dt, meeting__branch_id__in=branch_ids
        )
        .annotate(held_at=Coalesce("meeting__actual_start", "meeting__planned_start"))
        .values_list("id", "meeting_id", "meeting__branch_id", "held_at", "meeting__types__name")
        .order_by("at", "id", "meeting__types__sort_order")
    )
    reviews, names = _fold_types(rows, key_index=0, name_index=4)
    for review_id, meeting_id, branch_id, held_at, _name in reviews:
        _meeting_lines(
            lines,
            items,
            what=_("会议记录被退回"),
            points=lambda item: item.per_unit,
            branch_id=branch_id,
            held_at=held_at,
            types=names[review_id],
            meeting_id=meeting_id,
            review_id=review_id,
        )


def _minutes_late(lines, items: list[Item], branch_ids, start_dt, end_dt, now) -> None:
    """Meetings held in the period whose minutes came late: one query.

    Late is what the reminders sweep flags (``minutes_overdue_at``), or — for a sweep that
    did not run — a first submission at or after the stored deadline ``minutes_due_at``
    (meetings.deadlines: calendar days in the mine's zone), or none yet once it has passed.
    ``submitted_at`` is overwritten by a resubmission, so a returned record (already counted
    as returned) is judged by the sweep's flag alone.
    """
    returned = Review.objects.filter(meeting_id=OuterRef("pk"), action=Review.Action.RETURN)
    rows = (
        Meeting.objects.held_in(start_dt, end_dt)
        .filter(branch_id__in=branch_ids)
        .exclude(status__in=(Meeting.Status.PLANNED, Meeting.Status.CANCELLED))
        .annotate(was_returned=Exists(returned))
        .filter(
            Q(minutes_overdue_at__isnull=False)
            | Q(submitted_at__gte=F("minutes_due_at"), was_returned=False)
            | Q(submitted_at__isnull=True, status__in=Meeting.HELD_STATUSES, minutes_due_at__lte=now)
        )
        .annotate(held_at=Coalesce("actual_start", "planned_start"))
        .values_list("id", "branch_id", "held_at", "types__name")
        .order_by("held_at", "id", "types__sort_order")
    )
    meetings, names = _fold_types(rows, key_index=0, name_index=3)
    for meeting_id, branch_id, held_at, _name in meetings:
        _meeting_lines(
            lines,
            items,
            what=_("会议记录逾期提交"),
            points=lambda item: item.per_unit,
            branch_id=branch_id,
            held_at=held_at,
            types=names[meeting_id],
            meeting_id=meeting_id,
        )


def _notice(lines, items: list[Item], branch_ids, start_dt, end_dt) -> None:
    """Meetings held in the period without a notice, or noticed later than the rule, cost ``per_notice``: one query.

    The rule is meetings' (``meetings.deadlines``): members the day before, a 党员大会 3 days
    ahead (``MeetingPolicy``); meetings not held, cancelled ones included, are never judged.
    Any automatic item with ``per_notice`` above 0 counts them (the default scheme's records item).
    """
    rows = notice_problem_rows(
        Meeting.objects.held_in(start_dt, end_dt)
        .filter(branch_id__in=branch_ids)
        .order_by(Coalesce("actual_start", "planned_start"), "id", "types__sort_order"),
        values=("id", "branch_id", "notice_held_at", "types__name"),
    )
    problems = {row[0]: problem for row, problem in rows}
    meetings, names = _fold_types([row for row, _problem in rows], key_index=0, name_index=3)
    for meeting_id, branch_id, held_at, _name in meetings:
        _meeting_lines(
            lines,
            items,
            what=_("会议通知不规范"),
            points=lambda item: item.per_notice,
            branch_id=branch_id,
            held_at=held_at,
            types=names[meeting_id],
            detail=f"，{problems[meeting_id]}",
            meeting_id=meeting_id,
        )


def _attendance(lines, items: list[Item], branch_ids, start: dt.date, start_dt, end_dt) -> None:
    """Attended ÷ expected over the meetings held in the period, per branch: one aggregate.

    Expected (应到) are the recorded rows (出席, 迟到, 请假, 无故缺席); attended counts 出席 and
    迟到. The rate is taken to 0.1 % and every point (and part of one) below the target costs
    ``per_unit`` pro rata.
    """
    rows = (
        Attendance.objects.filter(
            held_in("meeting__", start_dt, end_dt),
            meeting__status__in=Meeting.HELD_STATUSES,
            meeting__branch_id__in=branch_ids,
        )
        .exclude(status="")
        .values("meeting__branch_id")
        .annotate(expected=Count("id"), attended=Count("id", filter=Q(status__in=Attendance.PRESENT_STATUSES)))
        .order_by()
    )
    for row in rows:
        expected, attended = row["expected"], row["attended"]
        if not expected:
            continue
        rate = (Decimal(attended) * 100 / Decimal(expected)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        for item in items:
            if item.target_percent is None or rate >= item.target_percent:
                continue
            shortfall = Decimal(item.target_percent) - rate
            points = (shortfall * item.per_unit).quantize(CENT, rounding=ROUND_HALF_UP)
            if points <= 0:
                continue
            lines[(row["meeting__branch_id"], item.pk)].append(
                Line(
                    points,
                    _reason(
                        _(
                            "党员出勤率 {fmt}%（出席 {attended} / 应到 {expected}），"
                            "低于目标 {target_percent}% {fmt2} 个百分点 {MINUS}{fmt3}"
                        ).format(
                            fmt=fmt(rate),
                            attended=attended,
                            expected=expected,
                            target_percent=item.target_percent,
                            fmt2=fmt(shortfall),
                            MINUS=MINUS,
                            fmt3=fmt(points),
                        )
                    ),
                    period_start=start,
                )
            )


def _flags(lines, items: list[Item], branch_ids, start_dt, end_dt) -> None:
    """Integrity flags confirmed by a supervisor, on meetings held in the period: one query."""
    rows = (
        Flag.objects.filter(
            held_in("meeting__", start_dt, end_dt), status=Flag.Status.CONFIRMED, meeting__branch_id__in=branch_ids
        )
        .annotate(held_at=Coalesce("meeting__actual_start", "meeting__planned_start"))
        .values_list("id", "meeting_id", "meeting__branch_id", "held_at", "kind", "meeting__types__name")
        .order_by("held_at", "id", "meeting__types__sort_order")
    )
    flags, names = _fold_types(rows, key_index=0, name_index=5)
    kinds = dict(Flag.Kind.choices)
    for flag_id, meeting_id, branch_id, held_at, kind, _name in flags:
        held_on = local_date(held_at)
        for item in items:
            lines[(branch_id, item.pk)].append(
                Line(
                    item.per_unit,
                    _reason(
                        _("材料问题经核实（{value}）：{held_on:%Y-%m-%d} {types_label} {MINUS}{fmt}").format(
                            value=kinds.get(kind, kind),
                            held_on=held_on,
                            types_label=_types_label(names[flag_id]),
                            MINUS=MINUS,
                            fmt=fmt(item.per_unit),
                        )
                    ),
                    period_start=held_on,
                    meeting_id=meeting_id,
                    flag_id=flag_id,
                )
            )


def _findings(lines, items: list[Item], branch_ids, start_dt, end_dt) -> None:
    """Findings raised in the period, by severity: one query.

    A failed assessment's own finding is left out: the failure is what it records.
    """
    rows = (
        Finding.objects.filter(branch_id__in=branch_ids, raised_at__gte=start_dt, raised_at__lt=end_dt)
        .exclude(category=Finding.Category.ASSESSMENT)
        .values_list("id", "branch_id", "severity", "description", "meeting_id", "raised_at")
        .order_by("raised_at", "id")
    )
    labels = dict(Finding.Severity.choices)
    for finding_id, branch_id, severity, description, meeting_id, raised_at in rows:
        for item in items:
            points = {
                Finding.Severity.MINOR: item.per_minor,
                Finding.Severity.SERIOUS: item.per_serious,
            }.get(severity, item.per_unit)
            if points <= 0:
                continue
            lines[(branch_id, item.pk)].append(
                Line(
                    points,
                    _reason(
                        _("督导发现问题（{value}）：{short} {MINUS}{fmt}").format(
                            value=labels.get(severity, severity),
                            short=_short(description),
                            MINUS=MINUS,
                            fmt=fmt(points),
                        )
                    ),
                    period_start=local_date(raised_at),
                    meeting_id=meeting_id,
                    finding_id=finding_id,
                )
            )


def _rectifications_overdue(lines, items: list[Item], branch_ids, start_dt, end_dt) -> None:
    """Rectifications that went overdue in the period, or were due before its end and are still overdue."""
    rows = (
        Rectification.objects.filter(branch_id__in=branch_ids)
        .filter(
            Q(overdue_at__gte=start_dt, overdue_at__lt=end_dt)
            | Q(status=Rectification.Status.OVERDUE, due_at__lt=end_dt)
        )
        .values_list("id", "branch_id", "finding_id", "due_at", "finding__description")
        .order_by("due_at", "id")
    )
    for rectification_id, branch_id, finding_id, due_at, description in rows:
        due_on = local_date(due_at)
        for item in items:
            lines[(branch_id, item.pk)].append(
                Line(
                    item.per_unit,
                    _reason(
                        _("整改逾期（期限 {due_on:%Y-%m-%d}）：{short} {MINUS}{fmt}").format(
                            due_on=due_on, short=_short(description), MINUS=MINUS, fmt=fmt(item.per_unit)
                        )
                    ),
                    period_start=due_on,
                    finding_id=finding_id,
                    rectification_id=rectification_id,
                )
            )


def _secretary_lesson(lines, items: list[Item], branch_ids, start: dt.date, end: dt.date, now: dt.datetime) -> None:
    """A year without a 党课 lectured by the branch's 书记 of the lesson's date costs ``per_unit`` (annual runs only).

    The 书记 is whoever held the branch's secretary post on the day of the lesson (a 书记
    replaced in June counts for the lessons he gave before). A year not over at ``now`` is
    pending and costs nothing yet. Two queries: the lessons with a lecturer, and the posts.
    """
    if local_midnight(end) > now:
        return
    lessons = list(
        Meeting.objects.filter(
            held_in("", local_midnight(start), local_midnight(end)),
            status__in=Meeting.HELD_STATUSES,
            branch_id__in=branch_ids,
            types__code=MeetingType.Code.PARTY_LESSON,
            lecturer__isnull=False,
        )
        .annotate(held_at=Coalesce("actual_start", "planned_start"))
        .values_list("branch_id", "lecturer_id", "held_at")
        .distinct()
    )
    posts: dict[tuple[int, int], list[Post]] = defaultdict(list)
    last_day = end - dt.timedelta(days=1)
    for post in Post.objects.filter(
        Q(ended_on__isnull=True) | Q(ended_on__gt=start),
        started_on__lte=last_day,
        role=Post.Role.SECRETARY,
        organization_id__in=branch_ids,
    ).only("organization_id", "member_id", "started_on", "ended_on"):
        posts[(post.organization_id, post.member_id)].append(post)
    given: set[int] = set()
    for branch_id, lecturer_id, held_at in lessons:
        held_on = local_date(held_at)
        # The post's [started_on, ended_on) contains the lesson's day (org.selectors.active_on, in Python).
        if any(
            p.started_on <= held_on and (p.ended_on is None or p.ended_on > held_on)
            for p in posts.get((branch_id, lecturer_id), ())
        ):
            given.add(branch_id)
    for branch_id in branch_ids:
        if branch_id in given:
            continue
        for item in items:
            if item.per_unit <= 0:
                continue
            lines[(branch_id, item.pk)].append(
                Line(
                    item.per_unit,
                    _reason(
                        _("{year} 年支部书记未讲党课 {MINUS}{fmt}").format(
                            year=start.year, MINUS=MINUS, fmt=fmt(item.per_unit)
                        )
                    ),
                    period_start=start,
                )
            )


def _type_attendance_target(lines, items: list[Item], branch_ids, start_dt, end_dt) -> None:
    """Each held meeting of a type with an attendance target (主题党日 80 %) below it costs ``per_unit``.

    Per meeting: present (出席, 迟到) ÷ expected (every attendance row, as the minutes'
    tally ``meetings.services.attendance_summary`` counts them) must reach the target:
    present × 100 ≥ target × expected, in integers, so exactly 80 % passes and 79.x % fails.
    With several targeted types the highest target applies. One query.
    """
    rows = (
        Attendance.objects.filter(
            held_in("meeting__", start_dt, end_dt),
            meeting__status__in=Meeting.HELD_STATUSES,
            meeting__branch_id__in=branch_ids,
            meeting__types__attendance_target_percent__isnull=False,
        )
        .annotate(held_at=Coalesce("meeting__actual_start", "meeting__planned_start"))
        .values("meeting_id", "meeting__branch_id", "held_at", "meeting__types__name")
        .annotate(
            target=Max("meeting__types__attendance_target_percent"),
            expected=Count("id", distinct=True),
            present=Count("id", filter=Q(status__in=Attendance.PRESENT_STATUSES), distinct=True),
        )
        .order_by("held_at", "meeting_id")
    )
    by_meeting: dict[int, dict] = {}
    for row in rows:
        seen = by_meeting.setdefault(row["meeting_id"], {**row, "names": []})
        seen["target"] = max(seen["target"], row["target"])
        seen["names"].append(row["meeting__types__name"])
    for meeting_id, row in by_meeting.items():
        expected, present, target = row["expected"], row["present"], row["target"]
        if not expected or present * 100 >= target * expected:
            continue
        held_on = local_date(row["held_at"])
        rate = (Decimal(present) * 100 / Decimal(expected)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        for item in items:
            if item.per_unit <= 0:
                continue
            lines[(row["meeting__branch_id"], item.pk)].append(
                Line(
                    item.per_unit,
                    _reason(
                        _(
                            "{held_on:%Y-%m-%d} {types_label} 出勤率 {fmt}%（实到 {present} / 应到 {expected}）"
                            "，低于目标 {target}% {MINUS}{fmt2}"
                        ).format(
                            held_on=held_on,
                            types_label=_types_label(row["names"]),
                            fmt=fmt(rate),
                            present=present,
                            expected=expected,
                            target=target,
                            MINUS=MINUS,
                            fmt2=fmt(item.per_unit),
                        )
                    ),
                    period_start=held_on,
                    meeting_id=meeting_id,
                )
            )


# A dispatched task returned this many times costs a deduction, even when done in time at last.
RETURNS_DEDUCTED = 2


def _dispatch_on_time(lines, items: list[Item], branch_ids, start_dt, end_dt, now: dt.datetime) -> None:
    """Tasks sent down by the 党委 (上级交办) due in the period: one deduction per task overdue or returned twice.

    Overdue is read through ``tasks.states.task_progress`` as of ``now`` (not finished past
    the deadline, or accepted after it); a task both late and returned twice costs once.
    """
    rows = (
        Task.objects.filter(
            organization_id__in=branch_ids, source=Task.Source.DISPATCH, due_at__gte=start_dt, due_at__lt=end_dt
        )
        .exclude(status=Task.Status.CANCELLED)
        .only("id", "organization_id", "title", "status", "due_at", "submitted_at", "completed_at", "return_count")
        .order_by("due_at", "id")
    )
    for task in rows:
        state = task_progress(task, now=now)
        why = []
        if state in (Progress.OVERDUE, Progress.DONE_LATE):
            why.append(str(state.label))
        if task.return_count >= RETURNS_DEDUCTED:
            why.append(_("被退回 {n} 次").format(n=task.return_count))
        if not why:
            continue
        for item in items:
            lines[(task.organization_id, item.pk)].append(
                Line(
                    item.per_unit,
                    _reason(
                        _("上级交办任务“{title}”{why}（期限 {due}） {MINUS}{fmt}").format(
                            title=_short(task.title),
                            why="，".join(why),
                            due=task.due_text,
                            MINUS=MINUS,
                            fmt=fmt(item.per_unit),
                        )
                    ),
                    period_start=local_date(task.due_at),
                )
            )


def _project_results(lines, items: list[Item], branch_ids, start_dt, end_dt) -> None:
    """攻关成果 (a bonus): ``per_unit`` points for each of the branch's projects verified as passed in the period.

    Verified means 已验收 (a 未通过 or unverified project adds nothing), dated by ``verified_at``
    in [start, end) at the mine; the item's ``max_points`` caps the sum (in ``compute_scores``).
    Every line links to its project. One query.
    """
    rows = (
        Project.objects.filter(
            branch_id__in=branch_ids,
            state=Project.State.VERIFIED,
            verified_at__gte=start_dt,
            verified_at__lt=end_dt,
        )
        .values_list("id", "branch_id", "title", "verified_at")
        .order_by("verified_at", "id")
    )
    for project_id, branch_id, title, verified_at in rows:
        verified_on = local_date(verified_at)
        for item in items:
            if item.per_unit <= 0:
                continue
            lines[(branch_id, item.pk)].append(
                Line(
                    -item.per_unit,
                    _reason(
                        _("攻关成果“{title}”已于 {verified_on:%Y-%m-%d} 验收 +{fmt}").format(
                            title=_short(title), verified_on=verified_on, fmt=fmt(item.per_unit)
                        )
                    ),
                    period_start=verified_on,
                    project_id=project_id,
                )
            )
