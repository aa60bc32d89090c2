"""The 党建+业务 dashboard page: practice's figures beside the participation trend.

It lives here, in the project layer, because it reads both ``practice.dashboard`` and
``assessment.participation.participation_trend`` (assessment sits above practice, so neither
app could host the page without importing upward). The figures themselves stay in their apps.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from assessment.participation import participation_trend
from org.models import Organization
from org.scope import get_scope
from practice.dashboard import branches_of, practice_figures


class DashboardFilterForm(forms.Form):
    scope = forms.IntegerField(label=gettext_lazy("范围"), required=False)
    year = forms.IntegerField(label=gettext_lazy("年度"), required=False, min_value=2000, max_value=2100)


def _scope_for(request, scope_pk: int | None) -> Organization | None:
    """The organisation the user asked for, if they may see its dashboard (None: the whole mine)."""
    user = request.user
    sees_all = user.has_perm("practice.view_dashboard_all")
    if scope_pk is None:
        if sees_all:
            return None
        own = sorted(get_scope(user).committee_branch_ids)
        if not own:
            raise PermissionDenied
        scope_pk = own[0]
    org = Organization.objects.filter(
        pk=scope_pk, kind__in=[Organization.Kind.BRANCH, Organization.Kind.GENERAL_BRANCH]
    ).first()
    if org is None:
        raise Http404
    if sees_all or (org.kind == Organization.Kind.BRANCH and user.has_perm("practice.view_branch_dashboard", org)):
        return org
    if not get_scope(user).committee_branch_ids:
        raise PermissionDenied
    raise Http404


def _choices(request) -> list[tuple[int | str, str]]:
    """The scopes in the picker: the mine, every 党总支 and branch for the 党委 level; else one's own branches."""
    if request.user.has_perm("practice.view_dashboard_all"):
        orgs = Organization.objects.filter(
            kind__in=[Organization.Kind.GENERAL_BRANCH, Organization.Kind.BRANCH], is_active=True
        ).order_by("kind", "name")
        kinds = dict(Organization.Kind.choices)
        return [("", _("全矿"))] + [(o.pk, f"{kinds[o.kind]} · {o.name}") for o in orgs.only("pk", "name", "kind")]
    ids = get_scope(request.user).committee_branch_ids
    return [(o.pk, o.name) for o in Organization.objects.filter(pk__in=ids).order_by("name").only("pk", "name")]


@login_required
@require_GET
def dashboard(request):
    """主题党日 by theme, hazards, 攻关 projects and verified savings, and the participation trend, for one year."""
    user = request.user
    if not (user.has_perm("practice.view_dashboard_all") or get_scope(user).committee_branch_ids):
        raise PermissionDenied
    form = DashboardFilterForm(request.GET or None)
    today = timezone.localdate()
    year, scope_pk = today.year, None
    if form.is_valid():
        year = form.cleaned_data["year"] or year
        scope_pk = form.cleaned_data["scope"]
    elif form.is_bound:
        raise Http404
    scope = _scope_for(request, scope_pk)
    start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    now = timezone.now()
    figures = practice_figures(scope=scope, start=start, end=end, now=now)
    branch_ids = branches_of(scope).values("pk")
    # closed months from the attendance rollup, the running month live
    trend = participation_trend(start=start, end=end, branch_ids=branch_ids, today=timezone.localdate(now))
    hazards = [
        (_("发现"), figures.hazards_found),
        (_("已整改"), figures.hazards_closed),
        (_("逾期未整改"), figures.hazards_overdue),
    ]
    title = scope.name if scope else _("全矿")
    chart = {
        "title": title,
        "themes": {"labels": [t.name for t in figures.themes], "values": [t.meetings for t in figures.themes]},
        "states": {"labels": [s.label for s in figures.states], "values": [s.projects for s in figures.states]},
        "hazards": {"labels": [h[0] for h in hazards], "values": [h[1] for h in hazards]},
        "trend": {
            "labels": [m.label for m in trend.months],
            "rates": [float(m.rate) if m.rate is not None else None for m in trend.months],
            "baseline": float(trend.baseline_rate.rate)
            if trend.baseline_rate is not None and trend.baseline_rate.rate is not None
            else None,
        },
    }
    return render(
        request,
        "practice/dashboard.html",
        {
            "figures": figures,
            "trend": trend,
            "hazards": hazards,
            "chart": chart,
            "scope": scope,
            "title": title,
            "year": year,
            "years": list(range(today.year, today.year - 5, -1)),
            "choices": _choices(request),
        },
    )
