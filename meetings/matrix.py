"""The mine's compliance matrix, shared by its page and its ``.xlsx`` export (one home).

``matrix_branches`` applies the page's filters (党总支, name search) in the page's order
(grouped by 党总支); ``matrix_outcomes`` reads one call of the engine into each branch's
row of worst outcomes, column by column. The page then pages and colours the rows, the
export writes them all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from org.models import Organization

from .compliance import PERIOD_ORDER, Outcome, Result, compliance, period_key, periods_in, worst
from .models import CadenceRule

PROBLEMS = (Outcome.MISSING, Outcome.LATE)


@dataclass(frozen=True)
class Column:
    period: str
    start: dt.date
    end: dt.date
    short: str  # the column heading: 3月, Q1, 上半年, 全年
    divider: bool = False  # the first column of its kind, set apart by a thicker border

    @property
    def key(self) -> str:
        return period_key(self.period, self.start)


def _short(period: str, start: dt.date) -> str:
    if period == CadenceRule.Period.MONTH:
        return _("%(month)d月") % {"month": start.month}
    if period == CadenceRule.Period.QUARTER:
        return f"Q{(start.month - 1) // 3 + 1}"
    if period == CadenceRule.Period.HALF_YEAR:
        return _("上半年") if start.month == 1 else _("下半年")
    return _("全年")


def matrix_columns(rules, year: int) -> list[Column]:
    """Months, then quarters, half-years and the year: only the kinds some rule is counted in."""
    kinds = {r.period for r in rules}
    return [
        Column(kind, start, end, _short(kind, start), divider=i == 0)
        for kind in PERIOD_ORDER
        if kind in kinds
        for i, (start, end) in enumerate(periods_in(kind, dt.date(year, 1, 1), dt.date(year, 12, 31)))
    ]


def matrix_branches(*, year: int, general_branch_id: int | None = None, query: str = "") -> QuerySet[Organization]:
    """The branches of the matrix: alive during the year (dissolved ones keep their missed
    months), under one 党总支 and/or matching a name, grouped by 党总支 (direct ones first)."""
    branches = (
        Organization.objects.branches()
        .alive_during(dt.date(year, 1, 1), dt.date(year, 12, 31))
        .select_related("parent")
    )
    if general_branch_id is not None:
        branches = branches.filter(parent_id=general_branch_id)
    if query:
        branches = branches.filter(name__icontains=query)
    return branches.order_by("parent__sort_order", "parent_id", "sort_order", "id")


def year_compliance(branches, *, year: int, now: dt.datetime) -> Result:
    return compliance(branches=branches, start=dt.date(year, 1, 1), end=dt.date(year, 12, 31), now=now)


def problem_branch_ids(result: Result) -> set[int]:
    """Branches with a missed (未开) or late (补开) period in the result."""
    return {c.branch_id for c in result.cells if c.outcome in PROBLEMS}


def matrix_outcomes(result: Result, columns: list[Column]) -> list[tuple[Organization, list[str | None]]]:
    """Each branch of the result with its worst outcome in each column (None: no rule counted there)."""
    worst_of: dict[tuple[int, str, dt.date], str] = {}
    for c in result.cells:
        key = (c.branch_id, c.rule.period, c.start)
        worst_of[key] = worst((worst_of[key], c.outcome)) if key in worst_of else c.outcome
    keys = [(col.period, col.start) for col in columns]
    return [(b, [worst_of.get((b.pk, period, start)) for period, start in keys]) for b in result.branches]


def shown_label(outcome: str | None, column: Column, *, today: dt.date) -> str:
    """What a cell reads: the outcome's label, or nothing (no rule, or the period has not begun)."""
    if outcome is None or column.start > today:
        return ""
    return str(Outcome(outcome).label)
