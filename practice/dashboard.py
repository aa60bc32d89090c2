"""The practice half of the 党建+业务 dashboard: 主题党日 by theme, hazards, 攻关 projects and verified results.

Set-based: each figure is one grouped query over the branches of the chosen scope (the mine,
a 党总支 or one branch), whatever their number; the branches are given as a subquery, never as
a list read first. The page itself (``sanhui.views_dashboard``) puts these beside the
participation trend, which lives in ``assessment`` (above practice), so the page lives above both.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.utils.translation import gettext as _

from meetings.models import Meeting, MeetingType
from org.clock import local_midnight
from org.models import Organization

from .models import Project
from .selectors import hazard_counts

ZERO = Decimal("0")
VERIFIED_SHOWN = 50


def branches_of(scope: Organization | None) -> QuerySet[Organization]:
    """The branches of a scope: every branch of the mine (None), of a 党总支, or the branch itself (not evaluated)."""
    branches = Organization.objects.filter(kind=Organization.Kind.BRANCH, is_active=True)
    if scope is None:
        return branches
    if scope.kind == Organization.Kind.BRANCH:
        return branches.filter(pk=scope.pk)
    return branches.filter(parent_id=scope.pk)


@dataclass(frozen=True)
class ThemeCount:
    name: str
    meetings: int


@dataclass(frozen=True)
class StateCount:
    state: str
    label: str
    projects: int


@dataclass
class PracticeFigures:
    themes: list[ThemeCount] = field(default_factory=list)
    theme_days: int = 0
    states: list[StateCount] = field(default_factory=list)
    verified: list[Project] = field(default_factory=list)
    verified_count: int = 0
    money_total: Decimal = ZERO
    hazards_found: int = 0
    hazards_closed: int = 0
    hazards_overdue: int = 0


def theme_days_by_theme(branch_ids, start_dt: dt.datetime, end_dt: dt.datetime) -> tuple[list[ThemeCount], int]:
    """Held 主题党日 of the period per theme tag (a meeting with two tags counts for each), and their total: one query.

    A 主题党日 without a tag counts under "未标注主题".
    """
    rows = (
        Meeting.objects.held_in(start_dt, end_dt)
        .filter(branch_id__in=branch_ids, status__in=Meeting.HELD_STATUSES, types__code=MeetingType.Code.THEME_DAY)
        .values("theme_tags__name")
        .annotate(n=Count("id", distinct=True))
        .order_by()
    )
    counts: dict[str | None, int] = {row["theme_tags__name"]: row["n"] for row in rows}
    untagged = counts.pop(None, 0)
    themes = [ThemeCount(name, n) for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    if untagged:
        themes.append(ThemeCount(_("未标注主题"), untagged))
    return themes, sum(t.meetings for t in themes)


def projects_by_state(branch_ids, start_dt: dt.datetime, end_dt: dt.datetime) -> list[StateCount]:
    """The scope's projects opened before the period's end and not ended before its start, per state: one query."""
    rows = (
        Project.objects.filter(branch_id__in=branch_ids, created_at__lt=end_dt)
        .exclude(state=Project.State.TERMINATED, ended_at__lt=start_dt)
        .exclude(state__in=Project.DECIDED_STATES, verified_at__lt=start_dt)
        .values("state")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {row["state"]: row["n"] for row in rows}
    return [StateCount(value, str(label), counts.get(value, 0)) for value, label in Project.State.choices]


def verified_results(branch_ids, start_dt: dt.datetime, end_dt: dt.datetime) -> tuple[list[Project], int, Decimal]:
    """Projects verified as passed (已验收) in the period, the newest first (at most 50 listed), their number and money.

    One query for the list and one aggregate for the count and the sum of the money estimates.
    """
    verified = Project.objects.filter(
        branch_id__in=branch_ids,
        state=Project.State.VERIFIED,
        verified_at__gte=start_dt,
        verified_at__lt=end_dt,
    )
    totals = verified.aggregate(n=Count("id"), money=Sum("money_estimate"))
    shown = list(verified.select_related("branch", "department").order_by("-verified_at", "-id")[:VERIFIED_SHOWN])
    return shown, totals["n"] or 0, totals["money"] or ZERO


def practice_figures(*, scope: Organization | None, start: dt.date, end: dt.date, now: dt.datetime) -> PracticeFigures:
    """Every practice figure of the dashboard for ``scope`` over [start, end) as of ``now``: five or six queries.

    Hazards: those found at the 主题党日 of the period, closed, and overdue at ``now``
    (``practice.selectors.hazard_counts``, one grouped query; its branch filter takes ids, so a
    党总支 or a branch reads them first: one more query, whatever their number).
    """
    branch_ids = branches_of(scope).values("pk")
    start_dt, end_dt = local_midnight(start), local_midnight(end)
    figures = PracticeFigures()
    ids = None if scope is None else list(branches_of(scope).values_list("pk", flat=True))
    counts = hazard_counts(now=now, branch_ids=ids, start=start_dt, end=end_dt).values()
    figures.hazards_found = sum(c.found for c in counts)
    figures.hazards_closed = sum(c.closed for c in counts)
    figures.hazards_overdue = sum(c.overdue for c in counts)
    figures.themes, figures.theme_days = theme_days_by_theme(branch_ids, start_dt, end_dt)
    figures.states = projects_by_state(branch_ids, start_dt, end_dt)
    figures.verified, figures.verified_count, figures.money_total = verified_results(branch_ids, start_dt, end_dt)
    return figures
