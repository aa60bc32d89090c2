"""The runs in the browser: the list, a run's ranking and its steps (compute, review, publish), the
supervisors' manual scores, a branch's score with every deduction, and the scheme.

Every change is one service call (``assessment.services``); the services' conditional updates on
the run's status make a double click or two people at once act once, and their refusals (in
Chinese) are shown as messages or next to the field they are about. Pages read through
``assessment.selectors`` in a fixed number of queries.

Who sees what: the 党委 committee and the 督导组 see every run, drafts included; a branch's people
see their own branch's published score only (another branch's, or a draft, is a 404 to them).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from org.clock import deadline_text
from org.scope import get_scope
from supervision.services.findings import default_due_at

from .. import selectors, services
from ..forms import ManualRowForm, RankingFilterForm, RunCreateForm
from ..models import BranchScore, Run
from ..participation import deduction_link

MANAGE = "assessment.manage_runs"
ENTER = "assessment.enter_scores"
VIEW_ALL = "assessment.view_all_scores"
VIEW_BRANCH = "assessment.view_branch_score"
MANUAL_PAGE_SIZE = 20
Status = Run.Status

RANKING_PAGE_SIZE = 50  # ranked branches per page of a run's detail


# --- Loading and permissions ------------------------------------------------------------------


def _get_run_for_user(request, pk: int, perm: str = VIEW_ALL) -> Run:
    """The run, if the user holds ``perm`` (403 otherwise; the list of runs is the 党委 level's)."""
    if not request.user.has_perm(perm):
        raise PermissionDenied
    run = selectors.run_for_page(pk)
    if run is None:
        raise Http404
    return run


def _refused(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _grade_css(bands) -> dict[str, str]:
    """A badge colour per grade: the best band green, failing bands red, the rest in between."""
    css = {}
    for n, band in enumerate(bands):
        css[band.name] = "bg-danger" if band.is_failing else ("bg-success" if n == 0 else "bg-primary")
    return css


def _change(score: BranchScore, *, has_previous: bool) -> tuple[str, str]:
    """The rank change as the ranking prints it (↑3, ↓2, 新) and its colour."""
    change = score.rank_change
    if change is None:
        return (_("新"), "text-info") if has_previous else ("—", "text-muted")
    if change > 0:
        return f"↑{change}", "text-success"
    if change < 0:
        return f"↓{-change}", "text-danger"
    return "–", "text-muted"


# --- The list of runs and a new run --------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def run_list(request):
    """Every run with its grade counts; the committee starts a new one here (created and computed at once)."""
    if not request.user.has_perm(VIEW_ALL):
        raise PermissionDenied
    may_manage = request.user.has_perm(MANAGE)
    form = None
    status = 200
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        form = RunCreateForm(request.POST)
        if form.is_valid():
            now = timezone.now()
            try:
                with transaction.atomic():
                    run = services.run_create(
                        kind=form.cleaned_data["kind"], period_start=form.period_start, user=request.user, now=now
                    )
                    services.run_compute(run=run, now=now)
            except ValidationError as error:
                _attach(form, error, rename={"period_start": "year"})
            else:
                messages.success(request, _("已新建并计算{label}。").format(label=run.label))
                return redirect("assessment:run_detail", run.pk)
        status = 400
    elif may_manage:
        form = RunCreateForm(initial=RunCreateForm.initial_for(timezone.localdate()))
    return render(
        request,
        "assessment/run_list.html",
        {"rows": selectors.run_rows(), "form": form, "scheme_years": selectors.scheme_years()},
        status=status,
    )


def _attach(form, error: ValidationError, *, rename: dict[str, str] | None = None) -> None:
    rename = rename or {}
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            field = rename.get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


# --- A run: its ranking and its steps ---------------------------------------------------------------


@login_required
@require_GET
def run_detail(request, pk: int):
    """The ranking of every branch, the run's state and what the viewer may do next."""
    run = _get_run_for_user(request, pk)
    bands = selectors.bands_of(run)
    scores = selectors.ranking(run)
    has_previous = selectors.previous_run_exists(run)
    grade_css = _grade_css(bands)
    form = RankingFilterForm(request.GET or None, bands=bands)
    grade, failing_only = "", False
    if form.is_valid():
        grade, failing_only = form.cleaned_data["grade"], form.cleaned_data["failing"]
    counts: dict[str, int] = {}
    for s in scores:
        counts[s.grade] = counts.get(s.grade, 0) + 1
    shown = [s for s in scores if not ((grade and s.grade != grade) or (failing_only and not s.is_failing))]
    # 1,000 ranked branches: the counts above read them all (in memory), the page renders 50.
    page = Paginator(shown, RANKING_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for s in page.object_list:
        change, change_css = _change(s, has_previous=has_previous)
        rectification = s.rectification
        may_see_rectification = rectification is not None and request.user.has_perm(
            "supervision.view_finding", rectification
        )
        rows.append(
            {
                "score": s,
                "change": change,
                "change_css": change_css,
                "grade_css": grade_css.get(s.grade, "bg-secondary"),
                "rectification": rectification if may_see_rectification else None,
            }
        )
    user = request.user
    open_run = run.status in (Status.DRAFT, Status.REVIEW)
    return render(
        request,
        "assessment/run_detail.html",
        {
            "run": run,
            "last_day": selectors.last_day(run),
            "rows": rows,
            "page": page,
            "total_count": len(scores),
            "failing_count": sum(1 for s in scores if s.is_failing),
            "grades": selectors.grade_counts(bands, counts),
            "grade_css": grade_css,
            "form": form,
            "filtered": bool(grade or failing_only),
            "may_manage": user.has_perm(MANAGE),
            # Shown beside 提交审核 (two queries, for those who may submit a draft).
            "warnings": (
                services.run_warnings(run=run, now=timezone.now())
                if run.status == Status.DRAFT and user.has_perm(MANAGE)
                else []
            ),
            "may_enter": open_run and user.has_perm(ENTER),
            "may_export": user.has_perm("assessment.export_hr"),
        },
    )


def _step(request, pk: int, service, success: str):
    run = _get_run_for_user(request, pk, MANAGE)
    try:
        service(run=run, user=request.user, now=timezone.now())
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, success)
    return redirect("assessment:run_detail", run.pk)


@login_required
@require_POST
def run_recompute(request, pk: int):
    """The committee recomputes a draft from the records as they stand (manual scores are kept)."""
    run = _get_run_for_user(request, pk, MANAGE)
    try:
        services.run_compute(run=run, now=timezone.now())
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("已按最新记录重新计算。"))
    return redirect("assessment:run_detail", run.pk)


@login_required
@require_POST
def run_submit(request, pk: int):
    """Draft → review; with warnings (period running, items 未录入) only once the user ticked the confirmation."""
    run = _get_run_for_user(request, pk, MANAGE)
    try:
        services.run_submit_for_review(
            run=run, user=request.user, now=timezone.now(), confirmed=request.POST.get("confirm_warnings") == "1"
        )
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("已提交委员会审核。"))
    return redirect("assessment:run_detail", run.pk)


@login_required
@require_POST
def run_return(request, pk: int):
    return _step(request, pk, services.run_return_to_draft, _("已退回草稿，可重新计算或修改人工评分。"))


def _failing(run: Run) -> list[BranchScore]:
    return list(
        run.scores.filter(is_failing=True).select_related("branch").order_by("rank", "branch__sort_order", "branch_id")
    )


def _failing_key(failing: list[BranchScore]) -> str:
    """What the committee confirmed: the failing branches and their totals, to notice a change in between."""
    return ",".join(f"{s.branch_id}:{s.total}" for s in sorted(failing, key=lambda s: s.branch_id))


@login_required
@require_http_methods(["GET", "POST"])
def run_publish(request, pk: int):
    """The confirm step lists the branches that will get a rectification and be named in the 通报; then publish."""
    run = _get_run_for_user(request, pk, MANAGE)
    if run.status != Status.REVIEW:
        messages.error(request, services.ALREADY_PUBLISHED if run.is_locked else services.NOT_IN_REVIEW)
        return redirect("assessment:run_detail", run.pk)
    failing = _failing(run)
    key = _failing_key(failing)
    if request.method == "POST":
        if request.POST.get("confirmed") != key:
            # Scores entered since the page was shown changed who fails: confirm again.
            if request.POST.get("confirmed") is not None:
                messages.warning(request, "不合格支部名单已变化，请重新确认。")
            return redirect("assessment:run_publish", run.pk)
        try:
            run = services.run_publish(
                run=run,
                user=request.user,
                now=timezone.now(),
                confirmed=request.POST.get("confirm_warnings") == "1",
            )
        except ValidationError as error:
            _refused(request, error)
        else:
            messages.success(request, _("已发布{label}，通报已发至全矿。").format(label=run.label))
        return redirect("assessment:run_detail", run.pk)
    now = timezone.now()
    deadline = default_due_at(now) if failing else None
    return render(
        request,
        "assessment/run_publish.html",
        {
            "run": run,
            "failing": failing,
            "confirmed": key,
            "deadline": deadline_text(deadline) if deadline else None,
            "warnings": services.run_warnings(run=run, now=now),
            "notice_title": _("关于{label}结果的通报").format(label=run.label),
            "notice_body": services.notice_body(run, failing=failing, deadline=deadline),
        },
    )


# --- Manual scores ----------------------------------------------------------------------------


def _manual_page(request, run: Run, *, bound: ManualRowForm | None = None, status: int = 200):
    items = selectors.manual_items(run)
    search = (request.GET.get("q") or "").strip()[:50]
    page = Paginator(selectors.manual_rows(run, search=search), MANUAL_PAGE_SIZE).get_page(request.GET.get("page"))
    forms = []
    for score in page.object_list:
        if bound is not None and bound.branch_score.pk == score.pk:
            bound.mark_invalid()
            forms.append(bound)
        else:
            forms.append(ManualRowForm(branch_score=score, items=items))
    editable = run.status in (Status.DRAFT, Status.REVIEW)
    return render(
        request,
        "assessment/run_manual_scores.html",
        {"run": run, "items": items, "forms": forms, "page": page, "search": search, "editable": editable},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def manual_scores(request, pk: int):
    """Supervisors score the manual items of every branch, one branch (row) at a time, each with a comment.

    A row is saved whole or not at all; its errors come back next to their inputs with what was
    typed. A row sent after the run was published is refused with a message and shown back as
    typed, and nothing already saved changes.
    """
    run = _get_run_for_user(request, pk, ENTER)
    if request.method == "GET":
        return _manual_page(request, run)

    row = selectors.manual_rows(run).filter(pk=_int(request.POST.get("row"))).first()
    if row is None:
        raise Http404
    form = ManualRowForm(request.POST, branch_score=row, items=selectors.manual_items(run))
    if not form.is_valid():
        return _manual_page(request, run, bound=form, status=400)
    entries = form.entries()
    locked = ValidationError(services.ALREADY_PUBLISHED, code="locked") if run.is_locked else None
    with transaction.atomic():
        now = timezone.now()
        for cell, points, comment, veto in entries if locked is None else []:
            try:
                services.item_score_enter(
                    item_score=cell.score,
                    points=points,
                    comment=comment,
                    veto_triggered=veto,
                    user=request.user,
                    now=now,
                )
            except ValidationError as error:
                if not hasattr(error, "error_dict"):  # the run's state or the item's method: not this input
                    locked = error
                    break
                for key, errors in error.error_dict.items():
                    form.add_error(form.field_for(cell, key), errors)
        if locked is not None or form.errors:
            transaction.set_rollback(True)
    if locked is not None:
        _refused(request, locked)
        run = selectors.run_for_page(run.pk)
        return _manual_page(request, run, bound=form, status=409)
    if form.errors:
        return _manual_page(request, run, bound=form, status=400)
    if entries:
        messages.success(request, _("{name}：已保存 {len} 项评分。").format(name=row.branch.name, len=len(entries)))
    else:
        messages.info(request, f"{row.branch.name}：没有修改。")
    return redirect(f"{request.get_full_path()}#row-{row.pk}")


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- A branch's score ------------------------------------------------------------------------------


@login_required
@require_GET
def branch_score(request, run_pk: int, branch_pk: int):
    """A branch's total, grade and rank, every item by category, and for every point lost why, with its record."""
    score = selectors.branch_score_for_page(run_pk=run_pk, branch_pk=branch_pk)
    user = request.user
    # The same 404 for a branch that is not the viewer's and a run not yet published to them:
    # neither may be told apart from a score that does not exist.
    if score is None or not user.has_perm(VIEW_BRANCH, score):
        raise Http404
    run = score.run
    sees_all = user.has_perm(VIEW_ALL)
    if not run.is_locked and not sees_all:
        raise Http404
    categories: list[dict] = []
    for item_score in score.items.all():
        item = item_score.item
        lines = [(d, _signed(-d.points), deduction_link(user, d)) for d in item_score.deductions.all()]
        if not categories or categories[-1]["name"] != item.category:
            categories.append({"name": item.category, "items": [], "max": 0, "points": 0})
        group = categories[-1]
        group["items"].append({"score": item_score, "lines": lines})
        if not item.is_bonus:
            group["max"] += item.max_points
        group["points"] += item_score.points
    change = score.rank_change
    rectification = score.rectification
    may_see_rectification = rectification is not None and user.has_perm("supervision.view_finding", rectification)
    return render(
        request,
        "assessment/branch_score.html",
        {
            "score": score,
            "run": run,
            "categories": categories,
            "branch_count": selectors.branch_count(run.pk),
            "rank_change": None
            if change is None
            else (f"↑{change}" if change > 0 else f"↓{-change}" if change < 0 else _("持平")),
            "total_change": None if score.previous_total is None else score.total - score.previous_total,
            "rectification": rectification if may_see_rectification else None,
            "sees_all": sees_all,
            "may_enter": not run.is_locked and user.has_perm(ENTER),
            "may_see_members": user.has_perm("assessment.view_branch_participation", score.branch),
        },
    )


def _signed(points) -> str:
    """A line as the branch reads it: −1.00 lost, +2.00 gained (a bonus is stored negative), 0 for a veto."""
    if points > 0:
        return f"+{points}"
    if points < 0:
        return f"−{-points}"
    return "0"


@login_required
@require_GET
def my_branch_score(request):
    """My branch's latest published score (the 党委 level goes to the list of runs)."""
    scope = get_scope(request.user)
    if request.user.has_perm(VIEW_ALL):
        return redirect("assessment:run_list")
    branch_id = scope.home_branch_id
    if branch_id is None and scope.led_group_branch_ids:
        branch_id = min(scope.led_group_branch_ids)
    run_id = selectors.latest_published_run_id(branch_id) if branch_id is not None else None
    if run_id is None:
        return render(request, "assessment/branch_score_none.html", {"has_branch": branch_id is not None})
    return redirect("assessment:branch_score", run_id, branch_id)


# --- The scheme ------------------------------------------------------------------------------------


@login_required
@require_GET
def scheme_detail(request, year: int):
    """A year's items by category with their rules in words, and the grade bands: read-only (edited in the admin)."""
    scheme = selectors.scheme_for_page(year)
    if scheme is None:
        raise Http404
    # Annual bands first, then quarterly; each kind best first.
    bands = sorted(scheme.bands.all(), key=lambda b: (b.run_kind != Run.Kind.YEAR, -b.min_score))
    # Each run kind's failing band: "“较差”或“不合格”" once rule_in_words quotes it.
    failing = _("”或“").join(dict.fromkeys(b.name for b in bands if b.is_failing)) or _("不合格")
    categories: list[dict] = []
    total = 0
    for item in scheme.items.all():
        if not categories or categories[-1]["name"] != item.category:
            categories.append({"name": item.category, "items": [], "max": 0})
        categories[-1]["items"].append({"item": item, "rule": selectors.rule_in_words(item, failing_grade=failing)})
        if not item.is_bonus:
            categories[-1]["max"] += item.max_points
            total += item.max_points
    band_rows = []
    upper, kind = None, None
    for band in bands:  # best first: each band runs up to the next one's minimum of the same kind
        if band.run_kind != kind:
            upper, kind = None, band.run_kind
        band_rows.append({"band": band, "upper": upper})
        upper = band.min_score
    return render(
        request,
        "assessment/scheme_detail.html",
        {
            "scheme": scheme,
            "categories": categories,
            "total": total,
            "bands": band_rows,
            "years": selectors.scheme_years(),
            "admin_url": reverse("admin:assessment_scheme_change", args=[scheme.pk]) if request.user.is_staff else None,
        },
    )


@login_required
@require_GET
def scheme_latest(request):
    years = selectors.scheme_years()
    if not years:
        raise Http404
    today = timezone.localdate()
    return redirect("assessment:scheme_detail", today.year if today.year in years else years[0])


urlpatterns = [
    path("runs/", run_list, name="run_list"),
    path("runs/<int:pk>/", run_detail, name="run_detail"),
    path("runs/<int:pk>/recompute/", run_recompute, name="run_recompute"),
    path("runs/<int:pk>/submit/", run_submit, name="run_submit"),
    path("runs/<int:pk>/return/", run_return, name="run_return"),
    path("runs/<int:pk>/publish/", run_publish, name="run_publish"),
    path("runs/<int:pk>/manual/", manual_scores, name="manual_scores"),
    path("runs/<int:run_pk>/branches/<int:branch_pk>/", branch_score, name="branch_score"),
    path("my-branch/", my_branch_score, name="my_branch_score"),
    path("schemes/", scheme_latest, name="scheme_latest"),
    path("schemes/<int:year>/", scheme_detail, name="scheme_detail"),
]
