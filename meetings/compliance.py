"""Compliance with the cadence rules: every rule, every branch (or group), every calendar period.

Counted in each period on its own and never averaged (domain.md): a year with eleven
committee meetings has one missing month, not "0.92 per month".

Outcomes of one rule for one branch (or group) in one period:

- ON_TIME  enough meetings counted for the period and held before it ended;
- LATE     enough only thanks to make-up meetings (补开) held after the period ended;
- EXEMPT   not met on time, but the branch holds an exemption for that rule and period;
- PENDING  not met yet, and the period is not over at ``now``: never called missing early;
- MISSING  the period is over and not enough meetings were counted for it;
- NOT_REQUIRED  not met on time, but the branch (or group) did not exist for the whole period
           (``Organization.exists_throughout``: founded after its first day, or dissolved by its last).

The engine is set-based: whatever the number of branches, groups and meetings it runs
the same handful of queries (rules, branches, groups, exemptions, one for the meetings)
and folds the rows into periods in Python.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from org.clock import (
    MONTHS_IN,
    half_year_label,
    local_date,
    local_midnight,
    month_label,
    month_number,
    month_start,
    period_bounds,
    periods_in,
    quarter_label,
    year_label,
)
from org.models import Organization

from .models import CadenceRule, ComplianceRollup, Exemption, Meeting, MeetingTypePeriod, type_counts_for

Period = CadenceRule.Period

# Coarsest last, the order in which pages show the periods of one year.
PERIOD_ORDER = (Period.MONTH, Period.QUARTER, Period.HALF_YEAR, Period.YEAR)


class Outcome(models.TextChoices):
    ON_TIME = "on_time", _("达标")
    LATE = "late", _("补开")
    MISSING = "missing", _("未开")
    EXEMPT = "exempt", _("豁免")
    PENDING = "pending", _("进行中")
    NOT_REQUIRED = "not_required", _("不计")


# How bad an outcome is, for "the worst outcome of a cell" on the matrix.
SEVERITY = {
    Outcome.NOT_REQUIRED: -1,
    Outcome.ON_TIME: 0,
    Outcome.EXEMPT: 1,
    Outcome.PENDING: 2,
    Outcome.LATE: 3,
    Outcome.MISSING: 4,
}


def worst(outcomes: Iterable[str]) -> str | None:
    """The most serious of ``outcomes``, or None when there are none."""
    return max(outcomes, key=SEVERITY.__getitem__, default=None)


# --- Periods ------------------------------------------------------------------------------
# The calendar itself (bounds, periods in a range) is org/clock.py's; this adds the keys and labels.


def period_key(period: str, start: dt.date) -> str:
    """The period in URLs: 2026-03, 2026-Q1, 2026-H1, 2026."""
    if period == Period.MONTH:
        return f"{start:%Y-%m}"
    if period == Period.QUARTER:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if period == Period.HALF_YEAR:
        return f"{start.year}-H{(start.month - 1) // 6 + 1}"
    return f"{start.year}"


def parse_period_key(key: str) -> tuple[str, dt.date, dt.date]:
    """(period, first day, last day) of a key made by ``period_key``; ValueError when it is not one."""
    year_part, _sep, rest = key.partition("-")
    if not (year_part.isdigit() and len(year_part) == 4) or not 1900 < int(year_part) < 2200:
        raise ValueError(key)
    year = int(year_part)
    if not _sep:
        period, month = Period.YEAR, 1
    elif rest[:1] in ("Q", "H") and rest[1:].isdigit():
        index = int(rest[1:])
        period, count = (Period.QUARTER, 4) if rest[0] == "Q" else (Period.HALF_YEAR, 2)
        if not 1 <= index <= count:
            raise ValueError(key)
        month = (index - 1) * MONTHS_IN[period] + 1
    elif rest.isdigit() and len(rest) == 2 and 1 <= int(rest) <= 12:
        period, month = Period.MONTH, int(rest)
    else:
        raise ValueError(key)
    start, end = period_bounds(period, dt.date(year, month, 1))
    return period, start, end


def period_label(period: str, start: dt.date) -> str:
    if period == Period.MONTH:
        return month_label(start)
    if period == Period.QUARTER:
        return quarter_label(start)
    if period == Period.HALF_YEAR:
        return half_year_label(start)
    return year_label(start)


# --- The engine ---------------------------------------------------------------------------


class Cell(NamedTuple):
    """One rule, for one branch (``group_id`` None) or one group of it, in one period.

    A tuple rather than a model-like object: the matrix of a large mine holds some
    hundred thousand of them.
    """

    rule: CadenceRule
    branch_id: int
    group_id: int | None
    start: dt.date
    end: dt.date
    outcome: str
    count: int  # meetings counted for the period
    on_time_count: int  # of which held before the period ended
    meeting_ids: tuple[int, ...]
    exemption: Exemption | None

    @property
    def period(self) -> str:
        return self.rule.period

    @property
    def key(self) -> str:
        return period_key(self.rule.period, self.start)


@dataclass
class Result:
    """Every cell of a compliance computation, with what it was computed for."""

    start: dt.date
    end: dt.date
    today: dt.date
    rules: list[CadenceRule]
    branches: list[Organization]
    groups: dict[int, list[Organization]]  # groups alive in the range, by branch id
    cells: list[Cell]

    def for_branch(self, branch_id: int) -> list[Cell]:
        return [c for c in self.cells if c.branch_id == branch_id]

    def cell(self, *, rule_id: int, branch_id: int, start: dt.date, group_id: int | None = None) -> Cell | None:
        for c in self.cells:
            if c.rule.pk == rule_id and c.branch_id == branch_id and c.group_id == group_id and c.start == start:
                return c
        return None

    def meeting_ids(self) -> set[int]:
        return {mid for c in self.cells for mid in c.meeting_ids}


_BEFORE = -1  # held before the first month looked at
_NO_MEETINGS: tuple[int, ...] = ()


def month_bucket(field: str, first: int, last: int, *, is_datetime: bool, after: int) -> Case:
    """The month number of ``field``, as a CASE over the month boundaries of [first, last].

    Boundaries are computed here in local time (Asia/Shanghai), so the bucket is the
    local month without the database knowing time zones. Why not TruncMonth: on SQLite
    it calls a Python function for every row, several times slower than comparisons.
    """

    def bound(number: int):
        day = month_start(number)
        return local_midnight(day) if is_datetime else day

    whens = [When(**{f"{field}__lt": bound(first)}, then=Value(_BEFORE))]
    whens += [When(**{f"{field}__lt": bound(n + 1)}, then=Value(n)) for n in range(first, last + 1)]
    return Case(*whens, default=Value(after), output_field=IntegerField())


def _meeting_ids(value) -> tuple[int, ...]:
    """The stored JSON list of a rollup row (text on SQLite, a list on PostgreSQL)."""
    if isinstance(value, str):
        return tuple(json.loads(value)) if value != "[]" else _NO_MEETINGS
    return tuple(value or ())


def _groups_by_branch(branch_ids, start: dt.date, end: dt.date) -> defaultdict[int, list[Organization]]:
    """The groups alive in [start, end] of the branches ``branch_ids``, by branch id, in their order (one query)."""
    groups: defaultdict[int, list[Organization]] = defaultdict(list)
    for g in (
        Organization.objects.groups()
        .alive_during(start, end)
        .filter(parent_id__in=branch_ids)
        .order_by("sort_order", "id")
    ):
        groups[g.parent_id].append(g)
    return groups


def compliance(
    *,
    branches: Iterable[Organization],
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    rules: Iterable[CadenceRule] | None = None,
) -> Result:
    """Outcome of every active rule, for each branch (or group), in each period overlapping [start, end].

    Closed periods (over before ``now``'s day) are read from the rollup (``ComplianceRollup``,
    kept by meetings/rollups.py); running periods, and closed ones the rollup has no row
    for yet, are computed live by ``compute_live`` for the branches asked. Same cells,
    same order as ``compute_live``.
    """
    today = local_date(now)
    branches = list(branches)
    rules = list(CadenceRule.objects.filter(is_active=True) if rules is None else rules)
    if not rules or start > end or not branches:
        return compute_live(branches=branches, start=start, end=end, now=now, rules=rules)
    branch_ids = [b.pk for b in branches]
    periods = {r.pk: periods_in(r.period, start, end) for r in rules}
    closed_starts = {ps for ps_list in periods.values() for ps, pe in ps_list if pe < today}
    if not closed_starts:
        return compute_live(branches=branches, start=start, end=end, now=now, rules=rules)
    rule_by_id = {r.pk: r for r in rules}
    stored: dict[tuple, Cell] = {}
    query = (
        ComplianceRollup.objects.filter(
            branch_id__in=branch_ids, rule_id__in=list(rule_by_id), period_start__in=sorted(closed_starts)
        )
        .values_list(
            "rule_id",
            "branch_id",
            "unit",
            "period_start",
            "period_end",
            "outcome",
            "count",
            "on_time_count",
            "meeting_ids",
            "exemption_id",
        )
        .order_by()
    ).query
    # On a cursor, as compute_live's meeting rows: no per-value converters; dates and the
    # JSON list are parsed here, once per distinct value.
    with connection.cursor() as cursor:
        cursor.execute(*query.sql_with_params())
        raw = cursor.fetchall()
    exemption_ids = {row[9] for row in raw if row[9] is not None}
    exemption_by_id = (
        {e.pk: e for e in Exemption.objects.filter(pk__in=exemption_ids).select_related("approved_by")}
        if exemption_ids
        else {}
    )
    starts_of = {rule_id: {ps for ps, _pe in ps_list} for rule_id, ps_list in periods.items()}
    day = {}
    cell = tuple.__new__
    for rule_id, branch_id, unit, ps, pe, outcome, count, on_time_count, ids, exemption_id in raw:
        ps = day.get(ps) or day.setdefault(ps, ps if isinstance(ps, dt.date) else dt.date.fromisoformat(ps))
        pe = day.get(pe) or day.setdefault(pe, pe if isinstance(pe, dt.date) else dt.date.fromisoformat(pe))
        if ps not in starts_of[rule_id]:
            continue
        ids = _meeting_ids(ids)
        unit = unit or None
        exemption = exemption_by_id.get(exemption_id) if exemption_id is not None else None
        stored[(rule_id, branch_id, unit, ps)] = cell(
            Cell, (rule_by_id[rule_id], branch_id, unit, ps, pe, outcome, count, on_time_count, ids, exemption)
        )
    if not stored:  # nothing rolled up yet (a new install, or before the first sweep): all live
        return compute_live(branches=branches, start=start, end=end, now=now, rules=rules)
    groups = _groups_by_branch(branch_ids, start, end)
    # The cells wanted, in compute_live's order; those the rollup lacks are computed live.
    wanted: list[tuple] = []
    live_from: dict[int, dt.date] = {}  # rule id -> first period start the rollup lacks
    for rule in rules:
        group_rule = rule.scope == CadenceRule.Scope.GROUP
        for branch_id in branch_ids:
            units = [g.pk for g in groups.get(branch_id, ())] if group_rule else [None]
            for unit in units:
                for ps, _pe in periods[rule.pk]:
                    key = (rule.pk, branch_id, unit, ps)
                    wanted.append(key)
                    if key not in stored and (rule.pk not in live_from or ps < live_from[rule.pk]):
                        live_from[rule.pk] = ps
    # One live computation per distinct first missing period (a running month, quarter,
    # half year or year): only from there on, with the groups of the whole range.
    by_start: dict[dt.date, list[CadenceRule]] = defaultdict(list)
    for rule_id, ps in live_from.items():
        by_start[ps].append(rule_by_id[rule_id])
    for ps, live_rules in sorted(by_start.items()):
        live = compute_live(
            branches=branches, start=max(start, ps), end=end, now=now, rules=live_rules, known_groups=groups
        )
        for c in live.cells:
            stored.setdefault((c.rule.pk, c.branch_id, c.group_id, c.start), c)
    cells = [stored[key] for key in wanted if key in stored]
    return Result(start, end, today, rules, branches, dict(groups), cells)


def compute_live(
    *,
    branches: Iterable[Organization],
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    rules: Iterable[CadenceRule] | None = None,
    known_groups: dict[int, list[Organization]] | None = None,
) -> Result:
    """Outcome of every active rule, for each branch (or group), in each period overlapping [start, end].

    Computed from the meetings, never from the rollup (which is built from this).
    ``known_groups``: the groups by branch id, already fetched (else those alive in [start, end]).
    ``branches``: branches (a queryset or a list); ``rules``: the rules to evaluate
    (default: the active ones). Counts held meetings by the period each type counts for
    (``type_counts_for``: the type's own, else the meeting's ``counts_for``); a meeting counts
    once per rule however many of the rule's types it has, and once for each rule its
    types satisfy (a combined meeting). A meeting is on time unless held after the end
    of the period it counts for.
    """
    today = local_date(now)
    branches = list(branches)
    rules = list(CadenceRule.objects.filter(is_active=True) if rules is None else rules)
    branch_ids = [b.pk for b in branches]
    rule_ids = [r.pk for r in rules]

    groups = defaultdict(list, known_groups) if known_groups is not None else _groups_by_branch(branch_ids, start, end)
    group_branch = {g.pk: bid for bid, gs in groups.items() for g in gs}

    cells: list[Cell] = []
    periods = {r.period: periods_in(r.period, start, end) for r in rules}
    if not rules or start > end:
        return Result(start, end, today, rules, branches, dict(groups), cells)
    # Whole periods: a quarter overlapping [start, end] is counted in full.
    first = min(month_number(ps[0][0]) for ps in periods.values())
    last = max(month_number(ps[-1][1]) for ps in periods.values())
    after = last + 1  # held (or counting for) after the last month looked at
    range_start, range_end = month_start(first), month_start(last + 1)

    # (rule, branch, group or None, period start): a branch-wide exemption has group None and
    # covers the branch's groups too; a group's covers that group only.
    exemptions = {
        (e.rule_id, e.branch_id, e.group_id, e.period_start): e
        for e in Exemption.objects.filter(
            branch_id__in=branch_ids, rule_id__in=rule_ids, period_start__gte=range_start, period_start__lt=range_end
        ).select_related("approved_by")
    }

    held_bucket = month_bucket("held_at", first, last, is_datetime=True, after=after)
    counts_bucket = Case(
        When(period_day__isnull=True, then=held_bucket),
        default=month_bucket("period_day", first, last, is_datetime=False, after=after),
        output_field=IntegerField(),
    )
    # A meeting is fetched when the meeting or one of its types (MeetingTypePeriod) counts
    # for the range, or, not yet given a period, was held in it; each (meeting, type) row
    # is then bucketed by the type's own period (type_counts_for), so a type counting
    # outside the range lands in a bucket no period reads.
    type_in_range = MeetingTypePeriod.objects.filter(counts_for__gte=range_start, counts_for__lt=range_end)
    query = (
        Meeting.objects.filter(
            Q(counts_for__gte=range_start, counts_for__lt=range_end)
            | Q(pk__in=type_in_range.values("meeting_id"))
            | (Q(counts_for__isnull=True) & Meeting.held_in_q(local_midnight(range_start), local_midnight(range_end))),
            status__in=Meeting.HELD_STATUSES,
            branch_id__in=branch_ids,
            types__cadence_rules__in=rule_ids,
        )
        .annotate(held_at=Coalesce("actual_start", "planned_start"), period_day=type_counts_for())
        .annotate(counts_month=counts_bucket, held_month=held_bucket)
        .values_list("id", "types__cadence_rules", "branch_id", "group_id", "counts_month", "held_month")
        .order_by()
    ).query
    # Executed on a cursor: every column is already an int, and Django's per-value
    # converters would cost as much as the query itself on a large mine.
    rows = []
    if branch_ids:
        with connection.cursor() as cursor:
            cursor.execute(*query.sql_with_params())
            rows = cursor.fetchall()

    group_scope = {r.pk for r in rules if r.scope == CadenceRule.Scope.GROUP}
    size = {r.pk: MONTHS_IN[r.period] for r in rules}
    # (rule, branch, group or None, period number) -> meetings counted, and how many on time.
    # Plain dicts and short lists: a large mine has a hundred thousand keys.
    counted: dict[tuple, list[int]] = {}
    timely: dict[tuple, int] = {}
    for meeting_id, rule_id, branch_id, group_id, counts_month, held_month in rows:
        if rule_id in group_scope:
            # a group's own meetings only, of a group of this branch alive in the range
            if group_branch.get(group_id) != branch_id:
                continue
            unit = group_id
        else:
            unit = None
        months = size[rule_id]
        number = counts_month // months
        key = (rule_id, branch_id, unit, number)
        ids = counted.get(key)
        if ids is None:
            counted[key] = [meeting_id]
        elif meeting_id in ids:
            continue  # another of the rule's types on the same meeting: it counts once
        else:
            ids.append(meeting_id)
        if held_month < (number + 1) * months:
            timely[key] = timely.get(key, 0) + 1

    cell = tuple.__new__  # Cell's fields in order, without the keyword handling of Cell(...)
    on_time, late, missing, pending, exempt, not_required = (
        Outcome.ON_TIME,
        Outcome.LATE,
        Outcome.MISSING,
        Outcome.PENDING,
        Outcome.EXEMPT,
        Outcome.NOT_REQUIRED,
    )
    by_id = {b.pk: b for b in branches}
    group_by_id = {g.pk: g for gs in groups.values() for g in gs}
    for rule in rules:
        rule_id, need, months = rule.pk, rule.min_count, MONTHS_IN[rule.period]
        # "unmet": the outcome of a period without enough timely meetings, before exemptions
        numbered = [
            (month_number(ps) // months, ps, pe, pending if today <= pe else None) for ps, pe in periods[rule.period]
        ]
        for branch_id in branch_ids:
            branch = by_id[branch_id]
            units = [g.pk for g in groups.get(branch_id, ())] if rule_id in group_scope else [None]
            for unit in units:
                # The units whose life dates could leave a period unrequired (most have none).
                pair = (branch, group_by_id.get(unit))
                dated = [u for u in pair if u is not None and (u.founded_on or u.dissolved_on)]
                for number, ps, pe, unmet in numbered:
                    key = (rule_id, branch_id, unit, number)
                    ids = counted.get(key)
                    count = len(ids) if ids else 0
                    n_timely = timely.get(key, 0) if ids else 0
                    exemption = None
                    if exemptions:
                        exemption = exemptions.get((rule_id, branch_id, None, ps))
                        if exemption is None and unit is not None:
                            exemption = exemptions.get((rule_id, branch_id, unit, ps))
                    if n_timely >= need:
                        outcome = on_time  # an exemption is shown, but meetings held on time say more
                    elif dated and not all(u.exists_throughout(ps, pe) for u in dated):
                        outcome = not_required
                    elif exemption is not None:
                        outcome = exempt
                    else:
                        outcome = unmet or (late if count >= need else missing)
                    meeting_ids = tuple(sorted(ids)) if ids else _NO_MEETINGS
                    cells.append(
                        cell(Cell, (rule, branch_id, unit, ps, pe, outcome, count, n_timely, meeting_ids, exemption))
                    )
    return Result(start, end, today, rules, branches, dict(groups), cells)


# --- Exemptions ---------------------------------------------------------------------------


@transaction.atomic
def exemption_grant(
    *,
    branch: Organization,
    rule: CadenceRule,
    period_start: dt.date,
    reason: str,
    user,
    now: dt.datetime,
    group: Organization | None = None,
) -> Exemption:
    """Excuse ``branch`` (or only its ``group``, per-group rules) from ``rule`` for the period from ``period_start``."""
    errors: dict[str, list[str]] = {}
    if branch.kind != Organization.Kind.BRANCH:
        errors.setdefault("branch", []).append(str(_("豁免只能授予党支部。")))
    first_day, _last = period_bounds(rule.period, period_start)
    if first_day != period_start:
        errors.setdefault("period_start", []).append(
            str(_("期间开始须为该规则周期（%(period)s）的第一天，如 %(day)s。"))
            % {"period": rule.get_period_display(), "day": first_day.isoformat()}
        )
    if not reason.strip():
        errors.setdefault("reason", []).append(str(_("请填写豁免理由。")))
    if errors:
        raise ValidationError(errors)
    exemption = Exemption(
        branch=branch,
        group=group,
        rule=rule,
        period_start=period_start,
        reason=reason.strip(),
        approved_by=user,
        approved_at=now,
    )
    exemption.full_clean()
    try:
        # Two supervisors granting the same exemption at once: the second gets the
        # constraint's message instead of a server error.
        with transaction.atomic():
            exemption.save()
    except IntegrityError as exc:
        message = _("该党小组在该期间已有此规则的豁免。") if group else _("该支部在该期间已有此规则的豁免。")
        raise ValidationError(str(message)) from exc
    return exemption
