"""Members' participation pages: my participation, a member's history, a branch's members in a run,
the HR export, and the mine's participation trend against its baseline.

Each page reads through ``assessment.participation`` in a fixed number of queries. The
two small forms live here rather than in a forms module: they are only these pages' filters.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from bulletin import exports
from org.clock import month_number, month_start
from org.models import Member, Organization
from org.scope import get_scope
from study.participation import member_study_summary

from .. import hr_export
from ..models import BranchScore, Run
from ..participation import (
    baseline_set,
    branch_participation,
    deduction_link,
    latest_announcements,
    latest_published_branch_score,
    makeup_of,
    member_history,
    participation_trend,
    visible_trend_branches,
)

MAX_TREND_MONTHS = 60


# --- My participation, a member's history, a branch's members ------------------------------


def _branch_result(user, branch_id: int | None) -> dict:
    """The branch's latest published score, its items and each deduction with the link the user may follow."""
    score = latest_published_branch_score(branch_id) if branch_id is not None else None
    if score is None:
        return {"score": None}
    items = []
    for item_score in score.items.all():
        deductions = [(d, _signed(-d.points), deduction_link(user, d)) for d in item_score.deductions.all()]
        items.append((item_score, deductions))
    change = score.rank_change
    return {
        "score": score,
        "items": items,
        "branch_count": BranchScore.objects.filter(run_id=score.run_id).count(),
        "rank_change": None
        if change is None
        else (
            _("上升 {change} 名").format(change=change)
            if change > 0
            else _("下降 {value} 名").format(value=-change)
            if change < 0
            else _("名次不变")
        ),
    }


def _signed(points) -> str:
    """A deduction as the branch reads it: −1.00 lost, +2.00 gained (a bonus is stored negative)."""
    return f"+{points}" if points > 0 else f"−{-points}"


@login_required
@require_GET
def my_participation(request):
    """My participation in every published run, my branch's latest result, and the latest announcements."""
    scope = get_scope(request.user)
    now = timezone.now()
    ctx = {"announcements": latest_announcements(request.user, now=now)}
    if scope.member_id is None:
        return render(request, "assessment/member_mine.html", {**ctx, "no_member": True})
    # The branch the member belongs to, not one they manage: members see their own branch's deductions.
    branch_id = min(scope.branch_ids) if scope.branch_ids else None
    return render(
        request,
        "assessment/member_mine.html",
        {
            **ctx,
            "history": list(member_history(scope.member_id)),
            "makeups": makeup_of(scope.member_id, now=now),
            "study": member_study_summary(scope.member_id, today=timezone.localdate(now)),
            "branch": _branch_result(request.user, branch_id),
        },
    )


def _get_member_for_user(request, pk: int) -> Member:
    # memberships are prefetched: the rule reads them to find the member's current branch.
    member = get_object_or_404(Member.objects.prefetch_related("memberships"), pk=pk)
    if not request.user.has_perm("assessment.view_member_score", member):
        raise PermissionDenied
    return member


@login_required
@require_GET
def member_participation(request, pk: int):
    """One member's participation in every published run (their branch's committee and the 党委 level)."""
    member = _get_member_for_user(request, pk)
    return render(
        request,
        "assessment/member_history.html",
        {
            "member": member,
            "history": list(member_history(member.pk)),
            "makeups": makeup_of(member.pk, now=timezone.now()),
            "study": member_study_summary(member.pk, today=timezone.localdate()),
        },
    )


def _get_run_and_branch_for_user(request, run_pk: int, branch_pk: int) -> tuple[Run, Organization]:
    branch = get_object_or_404(Organization.objects.branches(), pk=branch_pk)
    if not request.user.has_perm("assessment.view_branch_participation", branch):
        raise PermissionDenied
    run = get_object_or_404(Run, pk=run_pk)
    # A draft's numbers still change: only the 党委 level sees them before publishing.
    if not run.is_locked and not get_scope(request.user).sees_all_branches:
        raise Http404
    return run, branch


@login_required
@require_GET
def branch_members(request, run_pk: int, branch_pk: int):
    """The members of a branch in a run: counts, score and eligibility, for the branch's secretary."""
    run, branch = _get_run_and_branch_for_user(request, run_pk, branch_pk)
    rows = list(branch_participation(run=run, branch_id=branch.pk))
    return render(
        request,
        "assessment/member_branch.html",
        {
            "run": run,
            "branch": branch,
            "rows": rows,
            "eligible_count": sum(1 for r in rows if r.eligible),
            "may_export": request.user.has_perm("assessment.export_hr"),
        },
    )


# --- HR export -----------------------------------------------------------------------------


@login_required
@require_GET
def hr_export_xlsx(request, pk: int):
    """Every member's participation in a run, one row each, for HR's performance bonus (绩效): an export job.

    Mine-wide (every member of the run), so it is written by the worker: this leads to the page
    whose button queues it (a GET never does).
    """
    if not request.user.has_perm("assessment.export_hr"):
        raise PermissionDenied
    run = get_object_or_404(Run, pk=pk)
    return redirect(exports.start_url(hr_export.HR_SHEET, {"run": run.pk}))


# --- Participation trend ----------------------------------------------------------------------


class MonthField(forms.DateField):
    """A month as YYYY-MM (the browser's month picker), cleaned to its first day."""

    input_formats = ["%Y-%m"]
    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")

    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", {"invalid": _("请按“年-月”填写，如 2026-03。")})
        super().__init__(input_formats=self.input_formats, **kwargs)


class MonthRangeForm(forms.Form):
    """A range of whole months, both ends included as the user picks them."""

    start = MonthField(label="起始月份")
    end = MonthField(label="截止月份")

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise ValidationError(_("截止月份不能早于起始月份。"))
            if month_number(end) - month_number(start) + 1 > MAX_TREND_MONTHS:
                raise ValidationError(_("最多显示 {MAX_TREND_MONTHS} 个月。").format(MAX_TREND_MONTHS=MAX_TREND_MONTHS))
        return data

    @property
    def end_exclusive(self) -> dt.date:
        return month_start(month_number(self.cleaned_data["end"]) + 1)


class TrendFilterForm(MonthRangeForm):
    start = MonthField(label="起始月份", required=False)
    end = MonthField(label="截止月份", required=False)
    branch = forms.IntegerField(
        label="支部",
        required=False,
        min_value=1,
        error_messages={"invalid": "支部参数无效。", "min_value": "支部参数无效。"},
    )


class BaselineForm(MonthRangeForm):
    start = MonthField(label="基准期起始月份")
    end = MonthField(label="基准期截止月份")


def _default_range(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 12 months, this one included: [start, end)."""
    this = month_number(today)
    return month_start(this - 11), month_start(this + 1)


def _trend_branch(request, raw: int | None) -> Organization | None:
    """The branch asked for (403 if not the user's); without one, the mine, or one's own branch."""
    scope = get_scope(request.user)
    if raw is None:
        if request.user.has_perm("assessment.view_trend"):
            return None
        own = scope.reachable_branch_ids
        if not own:
            raise PermissionDenied
        raw = scope.home_branch_id if scope.home_branch_id in own else min(own)
    branch = get_object_or_404(Organization.objects.branches(), pk=raw)
    if not request.user.has_perm("assessment.view_trend", branch):
        raise PermissionDenied
    return branch


def _render_trend(request, *, filter_form: TrendFilterForm, baseline_form: BaselineForm | None, status: int = 200):
    today = timezone.localdate()
    start, end = _default_range(today)
    branch_pk = None
    if filter_form.is_valid():
        branch_pk = filter_form.cleaned_data["branch"]
        if filter_form.cleaned_data["start"] and filter_form.cleaned_data["end"]:
            start, end = filter_form.cleaned_data["start"], filter_form.end_exclusive
        elif filter_form.cleaned_data["start"] or filter_form.cleaned_data["end"]:
            # One end given: the other one 12 months away.
            anchor = filter_form.cleaned_data["start"] or filter_form.cleaned_data["end"]
            n = month_number(anchor)
            first = n if filter_form.cleaned_data["start"] else n - 11
            start, end = month_start(first), month_start(first + 12)
    branch = _trend_branch(request, branch_pk)
    trend = participation_trend(
        start=start, end=end, branch_id=branch.pk if branch else None, today=timezone.localdate()
    )
    baseline = trend.baseline
    if baseline_form is None and request.user.has_perm("assessment.set_baseline"):
        initial = {"start": baseline.start, "end": month_start(month_number(baseline.end) - 1)} if baseline else {}
        baseline_form = BaselineForm(initial=initial)
    in_baseline = (lambda m: baseline.start <= m < baseline.end) if baseline else (lambda m: False)
    rows = []
    for m in trend.months:
        points = m.points_change(trend.baseline_rate)
        rows.append(
            (
                m,
                in_baseline(m.month),
                None if points is None else points.quantize(Decimal("0.1")),
                m.relative_change(trend.baseline_rate),
            )
        )
    chart = {
        "title": branch.name if branch else _("全矿"),
        "labels": [m.label for m in trend.months],
        "rates": [float(m.rate) if m.rate is not None else None for m in trend.months],
        "baseline": float(trend.baseline_rate.rate)
        if trend.baseline_rate is not None and trend.baseline_rate.rate is not None
        else None,
    }
    return render(
        request,
        "assessment/trend.html",
        {
            "trend": trend,
            "rows": rows,
            "chart": chart,
            "branch": branch,
            "branches": list(visible_trend_branches(request.user)),
            "may_see_mine": request.user.has_perm("assessment.view_trend"),
            "start": start,
            "last_month": month_start(month_number(end) - 1),
            "baseline_last_month": month_start(month_number(baseline.end) - 1) if baseline else None,
            "filter_form": filter_form,
            "baseline_form": baseline_form,
        },
        status=status,
    )


@login_required
@require_GET
def trend(request):
    """The participation rate (attended ÷ expected) per month, for the mine or one branch, against the baseline."""
    return _render_trend(request, filter_form=TrendFilterForm(request.GET or None), baseline_form=None)


@login_required
@require_POST
def trend_baseline(request):
    """The committee sets the baseline period the trend is compared against."""
    if not request.user.has_perm("assessment.set_baseline"):
        raise PermissionDenied
    form = BaselineForm(request.POST)
    if form.is_valid():
        try:
            baseline_set(
                start=form.cleaned_data["start"],
                end=form.end_exclusive,
                user=request.user,
                now=timezone.now(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("参与率基准期已更新。"))
            return redirect("assessment:trend")
    return _render_trend(request, filter_form=TrendFilterForm(None), baseline_form=form, status=400)


urlpatterns = [
    path("mine/", my_participation, name="my_participation"),
    path("members/<int:pk>/", member_participation, name="member_participation"),
    path("runs/<int:run_pk>/branches/<int:branch_pk>/members/", branch_members, name="branch_participation"),
    path("runs/<int:pk>/hr.xlsx", hr_export_xlsx, name="hr_export"),
    path("trend/", trend, name="trend"),
    path("trend/baseline/", trend_baseline, name="trend_baseline"),
]
