"""Compliance pages: the mine's matrix of branches × periods, one branch's year, and one cell's drill-down.

Every page calls the engine (``meetings.compliance``) once, for the branches and the
year it shows, so its query count does not grow with branches, groups or meetings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from bulletin import exports
from org.forms import attach_service_errors
from org.models import Organization

from ..compliance import (
    MONTHS_IN,
    Cell,
    Outcome,
    compliance,
    exemption_grant,
    parse_period_key,
    period_key,
    period_label,
    periods_in,
)
from ..exports import COMPLIANCE_MATRIX
from ..matrix import Column, matrix_branches, matrix_columns, matrix_outcomes, problem_branch_ids, year_compliance
from ..models import CadenceRule, Meeting

MIN_YEAR, MAX_YEAR = 2000, 2100

# Bootstrap classes of each outcome; the legend shows the same ones.
OUTCOME_CSS = {
    Outcome.ON_TIME: "bg-success text-white",
    Outcome.LATE: "bg-warning text-dark",
    Outcome.MISSING: "bg-danger text-white",
    Outcome.EXEMPT: "bg-secondary text-white",
    Outcome.PENDING: "bg-light text-muted",
    Outcome.NOT_REQUIRED: "bg-white text-muted",
}
NOT_STARTED_CSS = "bg-white text-muted"
LEGEND = [
    (OUTCOME_CSS[o], o.label)
    for o in (Outcome.ON_TIME, Outcome.LATE, Outcome.MISSING, Outcome.EXEMPT, Outcome.PENDING, Outcome.NOT_REQUIRED)
]


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Http404


def _get_branch_for_user(request, pk: int) -> Organization:
    branch = get_object_or_404(Organization.objects.branches().select_related("parent"), pk=pk)
    if not request.user.has_perm("meetings.view_branch_compliance", branch):
        raise PermissionDenied
    return branch


@dataclass(frozen=True)
class Shown:
    """One outcome as a page shows it: label, colour, link."""

    outcome: str | None
    label: str
    css: str
    url: str | None
    title: str
    colspan: int = 1


def _shown(outcome: str | None, *, start: dt.date, today: dt.date, url: str, title: str, colspan: int = 1) -> Shown:
    if outcome is None:
        return Shown(None, "", "", None, "", colspan)
    if start > today:
        # Not begun yet: nothing to judge, nothing to open.
        return Shown(outcome, "", NOT_STARTED_CSS, None, _("尚未开始"), colspan)
    return Shown(outcome, str(Outcome(outcome).label), OUTCOME_CSS[outcome], url, title, colspan)


def _matrix_row_html(branch_id: int, columns: list[Column], outcomes: list[str | None], *, prefix: str, today) -> str:
    """The <td>s of one branch's row, and which outcomes they show.

    Built here rather than in the template: a large mine's matrix has some twenty
    thousand cells, and the template engine's per-cell cost made the page take seconds.
    Every piece is ours (class names, labels of Outcome, integer ids, period keys), so
    nothing needs escaping.
    """
    labels = _outcome_labels()
    parts = []
    for col, outcome in zip(columns, outcomes, strict=True):
        divider = " compliance-divider" if col.divider else ""
        if outcome is None:
            parts.append(f'<td class="{divider}"></td>')
        elif col.start > today:
            # Not begun yet: nothing to judge, nothing to open.
            parts.append(f'<td class="{NOT_STARTED_CSS}{divider}"></td>')
        else:
            # The drill-down's path is the matrix's followed by branch and period (see
            # urlpatterns): reverse() for every cell would cost more than the engine.
            url = f"{prefix}{branch_id}/{col.key}/"
            parts.append(f'<td class="{OUTCOME_CSS[outcome]}{divider}"><a href="{url}">{labels[outcome]}</a></td>')
    return mark_safe("".join(parts))  # noqa: S308 - see the docstring


def _outcome_labels() -> dict[str, str]:
    return {o: str(o.label) for o in Outcome}


def _year_choices(year: int, today: dt.date) -> list[int]:
    return sorted({*range(max(MIN_YEAR, today.year - 4), min(MAX_YEAR, today.year + 1) + 1), year})


# --- The mine's matrix ------------------------------------------------------------------------

MATRIX_PAGE_SIZE = 50


def _matrix_year(request, today: dt.date) -> int:
    try:
        year = int(request.GET.get("year") or today.year)
    except ValueError:
        raise Http404 from None
    _check_year(year)
    return year


def _matrix_filters(request, general_branches) -> tuple[str, str, bool]:
    """The page's filters, read the same way by the page and its export: 党总支, name search, problems only."""
    chosen = request.GET.get("general_branch") or ""
    if chosen and (not chosen.isdigit() or int(chosen) not in {g.pk for g in general_branches}):
        raise Http404
    query = (request.GET.get("q") or "").strip()[:50]
    return chosen, query, request.GET.get("problems") == "1"


@login_required
@require_GET
def compliance_matrix(request):
    """Branches × periods of a year, each cell the worst outcome of the rules counted in that period."""
    if not request.user.has_perm("meetings.view_compliance_all"):
        raise PermissionDenied
    now = timezone.now()
    today = timezone.localdate(now)
    year = _matrix_year(request, today)
    general_branches = list(Organization.objects.filter(kind=Organization.Kind.GENERAL_BRANCH, is_active=True))
    chosen, query, problems_only = _matrix_filters(request, general_branches)
    branches = matrix_branches(year=year, general_branch_id=int(chosen) if chosen else None, query=query)
    if problems_only:
        # Needs every branch's outcomes (closed months from the rollup), then pages the ones with a problem.
        result = year_compliance(branches, year=year, now=now)
        bad = problem_branch_ids(result)
        page = Paginator([b for b in result.branches if b.pk in bad], MATRIX_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        shown = {b.pk for b in page.object_list}
        result.cells = [c for c in result.cells if c.branch_id in shown]
        result.branches = list(page.object_list)
    else:
        page = Paginator(branches, MATRIX_PAGE_SIZE).get_page(request.GET.get("page"))
        result = year_compliance(list(page.object_list), year=year, now=now)
    columns = matrix_columns(result.rules, year)

    prefix = reverse("meetings:compliance_matrix")
    rows = []
    totals = dict.fromkeys(Outcome.values, 0)
    for branch, outcomes in matrix_outcomes(result, columns):
        for col, outcome in zip(columns, outcomes, strict=True):
            if outcome is not None and col.start <= today:
                totals[outcome] += 1
        rows.append((branch, _matrix_row_html(branch.pk, columns, outcomes, prefix=prefix, today=today)))

    return render(
        request,
        "meetings/compliance_matrix.html",
        {
            "year": year,
            "years": _year_choices(year, today),
            "columns": columns,
            "rows": rows,
            "legend": LEGEND,
            "general_branches": general_branches,
            "chosen": chosen,
            "query": query,
            "problems_only": problems_only,
            "page": page,
            "totals": [(OUTCOME_CSS[o], Outcome(o).label, n) for o, n in totals.items()],
            "export_query": _without_page(request.GET),
        },
    )


def _without_page(params) -> str:
    params = params.copy()
    params.pop("page", None)
    return params.urlencode()


@login_required
@require_GET
def compliance_matrix_xlsx(request):
    """The whole matrix (every branch the filters keep, not one page) as an Excel sheet: an export job.

    At 1,000 branches the sheet takes long: this leads to the page whose button queues the job
    (a GET never does); one branch's year (``branch_compliance``) is read on its page.
    """
    if not request.user.has_perm("meetings.view_compliance_all"):
        raise PermissionDenied
    year = _matrix_year(request, timezone.localdate())
    general_branches = list(Organization.objects.filter(kind=Organization.Kind.GENERAL_BRANCH, is_active=True))
    chosen, query, problems_only = _matrix_filters(request, general_branches)
    return redirect(
        exports.start_url(
            COMPLIANCE_MATRIX,
            {"year": year, "general_branch": chosen, "q": query, "problems": "1" if problems_only else ""},
        )
    )


# --- One branch's year ------------------------------------------------------------------------


@login_required
@require_GET
def branch_compliance(request, pk: int, year: int | None = None):
    """One branch's year: each rule (each group for group rules) across the year's periods."""
    branch = _get_branch_for_user(request, pk)
    now = timezone.now()
    today = timezone.localdate(now)
    year = year or today.year
    _check_year(year)

    result = compliance(branches=[branch], start=dt.date(year, 1, 1), end=dt.date(year, 12, 31), now=now)
    groups = {g.pk: g for g in result.groups.get(branch.pk, [])}
    by_line: dict[tuple[int, int | None], list[Cell]] = {}
    for c in result.cells:
        by_line.setdefault((c.rule.pk, c.group_id), []).append(c)

    lines = []
    for (_rule_id, group_id), cells in by_line.items():
        rule = cells[0].rule
        shown = [
            _shown(
                c.outcome,
                start=c.start,
                today=today,
                url=reverse("meetings:compliance_cell", args=[branch.pk, c.key]),
                title=_("%(period)s：计入 %(count)d 次，按期 %(on_time)d 次，应至少 %(need)d 次")
                % {
                    "period": period_label(rule.period, c.start),
                    "count": c.count,
                    "on_time": c.on_time_count,
                    "need": rule.min_count,
                },
                colspan=MONTHS_IN[rule.period],
            )
            for c in cells
        ]
        lines.append((rule, groups.get(group_id), shown))

    counts = dict.fromkeys(Outcome.values, 0)
    for c in result.cells:
        if c.start <= today:
            counts[c.outcome] += 1
    return render(
        request,
        "meetings/compliance_branch.html",
        {
            "branch": branch,
            "year": year,
            "years": _year_choices(year, today),
            "months": range(1, 13),
            "lines": lines,
            "legend": LEGEND,
            "counts": [(OUTCOME_CSS[o], Outcome(o).label, n) for o, n in counts.items() if n],
            "can_see_all": request.user.has_perm("meetings.view_compliance_all"),
        },
    )


# --- One cell: a branch in one period -----------------------------------------------------------


class ExemptionForm(forms.Form):
    """Kept beside its only view; the rules offered are those of the period not yet exempted."""

    rule = forms.TypedChoiceField(label="规则", coerce=int)
    reason = forms.CharField(
        label="豁免理由",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="如：新成立支部、全员参加抢险救灾等。",
    )

    group = forms.TypedChoiceField(
        label="范围",
        coerce=int,
        required=False,
        empty_value=None,
        help_text="按党小组计算的规则可只豁免一个党小组。",
    )

    def __init__(self, *args, rules, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.rules = {r.pk: r for r in rules}
        self.groups = {g.pk: g for g in groups}
        self.fields["rule"].choices = [(r.pk, r.name) for r in rules]
        if groups:
            self.fields["group"].choices = [("", _("全支部（含各党小组）"))] + [(g.pk, g.name) for g in groups]
        else:
            del self.fields["group"]


@login_required
@require_http_methods(["GET", "POST"])
def compliance_cell(request, branch_pk: int, period: str):
    """Per rule of one period kind: the outcome, the meetings that counted, the exemption; and the form to grant one."""
    branch = _get_branch_for_user(request, branch_pk)
    try:
        kind, start, end = parse_period_key(period)
    except ValueError:
        raise Http404 from None
    _check_year(start.year)
    now = timezone.now()
    rules = list(CadenceRule.objects.filter(is_active=True, period=kind))
    result = compliance(branches=[branch], start=start, end=end, now=now, rules=rules)
    today = result.today

    can_exempt = request.user.has_perm("meetings.manage_exemptions")
    # A rule exempted for the whole branch is not offered again; one exempted for a group still is.
    exempted = {c.rule.pk for c in result.cells if c.exemption is not None and c.exemption.group_id is None}
    form = None
    if can_exempt:
        form = ExemptionForm(
            request.POST or None,
            rules=[r for r in rules if r.pk not in exempted],
            groups=result.groups.get(branch.pk, []),
        )
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                exemption_grant(
                    branch=branch,
                    group=form.groups.get(form.cleaned_data.get("group")),
                    rule=form.rules[form.cleaned_data["rule"]],
                    period_start=start,
                    reason=form.cleaned_data["reason"],
                    user=request.user,
                    now=now,
                )
            except ValidationError as error:
                attach_service_errors(form, error)
            else:
                messages.success(request, _("已批准豁免。"))
                return redirect("meetings:compliance_cell", branch.pk, period)

    meetings = {
        m.pk: m
        for m in Meeting.objects.filter(pk__in=result.meeting_ids()).select_related("group").prefetch_related("types")
    }
    groups = {g.pk: g for g in result.groups.get(branch.pk, [])}
    entries = []
    for c in result.cells:
        counted = [meetings[mid] for mid in c.meeting_ids if mid in meetings]
        counted.sort(key=lambda m: m.held_on)
        entries.append(
            {
                "cell": c,
                "group": groups.get(c.group_id),
                "shown": _shown(c.outcome, start=c.start, today=today, url="", title=""),
                "meetings": [(m, m.held_on > c.end) for m in counted],
            }
        )

    neighbours = periods_in(kind, start - dt.timedelta(days=1), end + dt.timedelta(days=1))
    return render(
        request,
        "meetings/compliance_cell.html",
        {
            "branch": branch,
            "period_label": period_label(kind, start),
            "period_kind": CadenceRule.Period(kind).label,
            "start": start,
            "end": end,
            "entries": entries,
            "form": form,
            "legend": LEGEND,
            "previous": period_key(kind, neighbours[0][0]) if neighbours[0][0] < start else None,
            "next": period_key(kind, neighbours[-1][0]) if neighbours[-1][0] > start else None,
            "year": start.year,
            "can_see_all": request.user.has_perm("meetings.view_compliance_all"),
        },
        status=400 if request.method == "POST" else 200,
    )


urlpatterns = [
    path("compliance/", compliance_matrix, name="compliance_matrix"),
    path("compliance/xlsx/", compliance_matrix_xlsx, name="compliance_matrix_xlsx"),
    path("compliance/branch/<int:pk>/", branch_compliance, name="branch_compliance"),
    path("compliance/branch/<int:pk>/<int:year>/", branch_compliance, name="branch_compliance"),
    path("compliance/<int:branch_pk>/<str:period>/", compliance_cell, name="compliance_cell"),
]
