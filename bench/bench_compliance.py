"""Compliance of every branch for one year: the engine against one hand-written SQL aggregate.

The baseline is the least work any implementation must do: one GROUP BY over the
meetings of the year, giving per rule, branch, group, counts-for month and held month
the number of distinct meetings. The engine also loads rules, groups and exemptions and
turns the counts into an outcome for every rule, branch (or group) and period; the
measure is how many times the baseline's time that costs. Both must give the same counts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import connection
from django.utils import timezone

from bench.dataset import YEAR
from bench.run import Measure, best_of
from meetings.compliance import MONTHS_IN, compute_live
from meetings.models import CadenceRule, Meeting
from org.models import Organization


def _month(expr: str, *, local: bool) -> str:
    """SQL for the month ('2025-03') of a date, or of a timestamp in local time."""
    if connection.vendor == "postgresql":
        if local:
            expr = f"({expr} AT TIME ZONE 'Asia/Shanghai')"
        return f"to_char({expr}, 'YYYY-MM')"
    # SQLite knows no time zones; Asia/Shanghai has kept UTC+8 all year since 1991.
    return f"strftime('%Y-%m', {expr}, '+8 hours')" if local else f"strftime('%Y-%m', {expr})"


def sql_counts(year: int) -> list[tuple]:
    """(rule, branch, group, counts-for month, held month, meetings) for every active rule: one query.

    Every held meeting has ``counts_for`` (the engine's fallback to the held date is for
    rows without it), so the baseline need not repeat it.
    """
    statuses = ", ".join(f"'{s}'" for s in Meeting.HELD_STATUSES)
    sql = f"""
        SELECT rt.cadencerule_id, m.branch_id, m.group_id,
               {_month("m.counts_for", local=False)},
               {_month("COALESCE(m.actual_start, m.planned_start)", local=True)},
               COUNT(DISTINCT m.id)
        FROM {Meeting._meta.db_table} m
        JOIN {Meeting.types.through._meta.db_table} mt ON mt.meeting_id = m.id
        JOIN {CadenceRule.types.through._meta.db_table} rt ON rt.meetingtype_id = mt.meetingtype_id
        JOIN {CadenceRule._meta.db_table} r ON r.id = rt.cadencerule_id
        WHERE r.is_active AND m.status IN ({statuses}) AND m.counts_for >= %s AND m.counts_for < %s
          AND m.branch_id IN (SELECT id FROM {Organization._meta.db_table} WHERE kind = 'branch' AND is_active)
        GROUP BY 1, 2, 3, 4, 5
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [dt.date(year, 1, 1), dt.date(year + 1, 1, 1)])
        return cursor.fetchall()


def _number(month: str) -> int:
    year, month = month.split("-")
    return int(year) * 12 + int(month) - 1


def _fold(rows: list[tuple], rules: dict[int, CadenceRule], active_groups: set[int]) -> dict[tuple, tuple[int, int]]:
    """The SQL counts folded into (rule, branch, group, period start) -> (counted, of which on time)."""
    cells: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for rule_id, branch_id, group_id, counts_for, held_on, n in rows:
        counts_month, held_month = _number(counts_for), _number(held_on)
        rule = rules[rule_id]
        size = MONTHS_IN[rule.period]
        if rule.scope == CadenceRule.Scope.GROUP:
            if group_id not in active_groups:
                continue
            unit = group_id
        else:
            unit = None
        number = counts_month // size
        start = dt.date(number * size // 12, number * size % 12 + 1, 1)
        cell = cells[(rule_id, branch_id, unit, start)]
        cell[0] += n
        if held_month < (number + 1) * size:
            cell[1] += n
    return {k: tuple(v) for k, v in cells.items()}


def measure() -> list[Measure]:
    start, end = dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31)
    now = timezone.now()
    branches = Organization.objects.branches().active().order_by("sort_order", "id")

    def run_engine():
        return compute_live(branches=branches, start=start, end=end, now=now)

    result = run_engine()
    rows = sql_counts(YEAR)
    # Best of 3 each, taken in turns so that a busy moment of the machine weighs on both.
    engine_time = sql_time = float("inf")
    for _ in range(3):
        engine_time = min(engine_time, best_of(1, run_engine))
        sql_time = min(sql_time, best_of(1, lambda: sql_counts(YEAR)))

    rules = {r.pk: r for r in result.rules}
    active_groups = {g.pk for gs in result.groups.values() for g in gs}
    expected = _fold(rows, rules, active_groups)
    got = {(c.rule.pk, c.branch_id, c.group_id, c.start): (c.count, c.on_time_count) for c in result.cells if c.count}
    assert got == expected, f"engine and SQL disagree on {len(set(got.items()) ^ set(expected.items()))} cells"
    assert sum(c.count for c in result.cells) > 0, "no meetings counted: is the data set built?"

    return [Measure("compliance_vs_sql", engine_time / sql_time, "x", "<=", 3)]
