"""Pages of the 民主评议: the 党委's years and confirmation, the 书记's round, the members' ballot,
the 群众代表's code entry (no login), and a member's own result.

Every round page loads through ``_get_round_for_user`` (one query, the permission checked); a
round of another branch is a 404 for those who cannot see it at all and a 403 for those who
can see it but not do the thing asked.
"""

from __future__ import annotations

import datetime as dt
import io

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from meetings.models import Meeting
from org.forms import attach_service_errors
from org.scope import get_scope
from org.xlsx import xlsx_response

from . import selectors, services
from .export import write_round_xlsx
from .forms import CodeEntryForm, CodesForm, SummaryForm, WindowForm, YearOpenForm, grades_from_any_post
from .models import AppraisalYear, Appraisee, Grade, MassesCode, Round, VoterMark

CODE_SESSION_KEY = "appraisal_code"


def _get_round_for_user(request, pk: int, perm: str) -> Round:
    """The round, when the user may see it (else 404) and has ``perm`` on it (else 403)."""
    round_ = get_object_or_404(Round.objects.select_related("year", "branch", "meeting"), pk=pk)
    user = request.user
    if not (user.has_perm("appraisal.view_round", round_) or (get_scope(user).member_id and _in_round(user, round_))):
        raise Http404
    if not user.has_perm(perm, round_):
        raise PermissionDenied
    return round_


def _in_round(user, round_: Round) -> bool:
    return round_.branch_id in get_scope(user).reachable_branch_ids


def _error(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- 党委: years and the list of rounds ----------------------------------------------------


@login_required
@require_GET
def round_list(request):
    """Every round the user may see, by year; the 党委 opens a year here."""
    user = request.user
    scope = get_scope(user)
    if not (scope.sees_all_branches or scope.committee_branch_ids):
        raise PermissionDenied
    rounds = list(selectors.rounds_for_user(user).order_by("-year__year", "branch__sort_order", "branch_id")[:200])
    return render(
        request,
        "appraisal/round_list.html",
        {
            "rounds": rounds,
            "years": list(AppraisalYear.objects.all()[:20]),
            "year_form": YearOpenForm(initial={"year": timezone.localdate().year}),
            "can_open": user.has_perm("appraisal.open_year"),
        },
    )


@login_required
@require_POST
def year_open(request):
    if not request.user.has_perm("appraisal.open_year"):
        raise PermissionDenied
    form = YearOpenForm(request.POST)
    if form.is_valid():
        try:
            year = services.year_open(year=form.cleaned_data["year"], user=request.user, now=timezone.now())
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(
                request, _("已开启{year}年的民主评议，权重和限制可在系统配置中调整。").format(year=year.year)
            )
    else:
        messages.error(request, _("请填写正确的年度。"))
    return redirect("appraisal:round_list")


# --- 书记: start and run the round ---------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def round_start(request, meeting_pk: int):
    """Start the branch's 民主评议 at its 民主评议 meeting (the 书记 only)."""
    meeting = get_object_or_404(Meeting.objects.select_related("branch"), pk=meeting_pk)
    if not request.user.has_perm("meetings.view_meeting", meeting):
        raise Http404
    if not request.user.has_perm("appraisal.start_round", meeting):
        raise PermissionDenied
    existing = Round.objects.filter(meeting=meeting).first()
    if existing is not None:
        return redirect("appraisal:round_detail", existing.pk)
    start = meeting.planned_start
    form = WindowForm(
        request.POST or None,
        initial={
            "window_start": timezone.localtime(start),
            "window_end": timezone.localtime(meeting.planned_end + dt.timedelta(days=3)),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            round_ = services.round_start(
                meeting=meeting,
                user=request.user,
                window_start=form.cleaned_data["window_start"],
                window_end=form.cleaned_data["window_end"],
                now=timezone.now(),
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("已发起民主评议，请党员在投票开始前填写个人总结。"))
            return redirect("appraisal:round_detail", round_.pk)
    return render(request, "appraisal/round_start.html", {"meeting": meeting, "form": form})


@login_required
@require_GET
def round_detail(request, pk: int):
    """The round's page: state, window, how many have voted (never who, in which order)."""
    round_ = _get_round_for_user(request, pk, "appraisal.view_round")
    marks = VoterMark.objects.filter(round=round_)
    voted = marks.filter(has_voted=True).count()
    expected = marks.count()
    appraisees = list(Appraisee.objects.filter(round=round_).select_related("member"))
    codes_used = MassesCode.objects.filter(round=round_, is_used=True).count()
    return render(
        request,
        "appraisal/round_detail.html",
        {
            "round": round_,
            "voted": voted,
            "expected": expected,
            "codes_used": codes_used,
            "appraisees": appraisees,
            "summaries": sum(1 for a in appraisees if a.summary_at),
            "window_form": WindowForm(
                initial={
                    "window_start": timezone.localtime(round_.window_start),
                    "window_end": timezone.localtime(round_.window_end),
                }
            ),
            "can_run": request.user.has_perm("appraisal.run_round", round_),
            "can_confirm": request.user.has_perm("appraisal.confirm_round", round_),
        },
    )


@login_required
@require_POST
def round_action(request, pk: int, action: str):
    """Window, open and close: the 书记's buttons on the round page."""
    round_ = _get_round_for_user(request, pk, "appraisal.run_round")
    now = timezone.now()
    try:
        if action == "window":
            form = WindowForm(request.POST)
            if not form.is_valid():
                for errors in form.errors.values():
                    for e in errors:
                        messages.error(request, e)
                return redirect("appraisal:round_detail", pk)
            services.round_set_window(round_=round_, user=request.user, now=now, **form.cleaned_data)
            messages.success(request, _("投票时间已更新。"))
        elif action == "open":
            services.round_open(round_=round_, user=request.user, now=now)
            messages.success(request, _("已开始投票。"))
        elif action == "close":
            if services.round_close(round_=round_, user=request.user, now=now):
                messages.success(request, _("投票已截止，可以查看计票结果。"))
            else:
                messages.info(request, _("投票已经截止。"))
        else:
            raise Http404
    except ValidationError as exc:
        _error(request, exc)
    return redirect("appraisal:round_detail", pk)


def _qr_svg(url: str) -> str:
    buf = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buf, kind="svg", scale=4, border=2, xmldecl=False, omitsize=True)
    return buf.getvalue().decode()


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def round_codes(request, pk: int):
    """Issue 群众 codes and print them as a sheet of QR codes (unused, unexpired ones only)."""
    round_ = _get_round_for_user(request, pk, "appraisal.run_round")
    now = timezone.now()
    form = CodesForm(
        request.POST or None, initial={"expires_at": timezone.localtime(round_.window_end).replace(tzinfo=None)}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.codes_issue(round_=round_, now=now, **form.cleaned_data)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("已生成 {n} 个评议码。").format(n=form.cleaned_data["count"]))
            return redirect("appraisal:round_codes", pk)
    codes = list(MassesCode.objects.filter(round=round_, is_used=False, expires_at__gt=now)[:200])
    entry = request.build_absolute_uri(reverse("appraisal:masses_entry"))
    for c in codes:
        c.qr = mark_safe(_qr_svg(f"{entry}?code={c.code}"))  # noqa: S308 - segno's own SVG
    return render(
        request, "appraisal/round_codes.html", {"round": round_, "form": form, "codes": codes, "entry": entry}
    )


@login_required
@require_http_methods(["GET", "POST"])
def round_opinion(request, pk: int):
    """The branch committee's organisational opinion per graded member (entered by the 书记)."""
    round_ = _get_round_for_user(request, pk, "appraisal.run_round")
    appraisees = list(Appraisee.objects.filter(round=round_, is_graded=True).select_related("member"))
    if request.method == "POST":
        opinions = {
            a.pk: (request.POST.get(f"g{a.pk}", ""), request.POST.get(f"o{a.pk}", "")[:2000]) for a in appraisees
        }
        try:
            services.opinions_set(round_=round_, user=request.user, opinions=opinions, now=timezone.now())
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("组织评价已保存。"))
            return redirect("appraisal:round_detail", pk)
    return render(
        request,
        "appraisal/round_opinion.html",
        {"round": round_, "appraisees": appraisees, "grades": Grade.choices},
    )


def _proposal_from_post(data, tally) -> dict[int, tuple[str, str]]:
    return {
        m.appraisee.pk: (data.get(f"g{m.appraisee.pk}", ""), data.get(f"r{m.appraisee.pk}", "")[:2000])
        for m in tally.graded
    }


@login_required
@require_http_methods(["GET", "POST"])
def round_tallies(request, pk: int):
    """The tallies (after the window only) and the branch committee's proposal (the 书记 submits)."""
    round_ = _get_round_for_user(request, pk, "appraisal.view_tallies")
    if not round_.results_visible:
        messages.error(request, _("投票截止后才能查看计票结果。"))
        return redirect("appraisal:round_detail", pk)
    tally = selectors.round_tally(round_)
    can_propose = request.user.has_perm("appraisal.run_round", round_) and round_.state == Round.State.CLOSED
    posted = {}
    if request.method == "POST":
        if not can_propose:
            raise PermissionDenied
        posted = _proposal_from_post(request.POST, tally)
        try:
            services.proposal_submit(
                round_=round_,
                user=request.user,
                proposal=posted,
                scores={m.appraisee.pk: m.score for m in tally.graded},
                now=timezone.now(),
            )
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("已提出等次，等待党委确认。"))
            return redirect("appraisal:round_tallies", pk)
    for m in tally.graded:
        m.choice = posted.get(m.appraisee.pk, (m.appraisee.proposed_grade or m.suggested, ""))[0]
        m.reason_text = posted.get(m.appraisee.pk, ("", m.appraisee.reason))[1]
    return render(
        request,
        "appraisal/round_tallies.html",
        {
            "round": round_,
            "tally": tally,
            "grades": Grade.choices,
            "grade_labels": [label for _v, label in Grade.choices],
            "can_propose": can_propose,
            "can_confirm": request.user.has_perm("appraisal.confirm_round", round_),
        },
    )


@login_required
@require_GET
def round_export(request, pk: int):
    round_ = _get_round_for_user(request, pk, "appraisal.view_tallies")
    if not round_.results_visible:
        raise PermissionDenied
    tally = selectors.round_tally(round_)
    return xlsx_response(
        lambda f: write_round_xlsx(tally, f),
        filename=_("{year}年{branch}民主评议结果.xlsx").format(year=round_.year.year, branch=round_.branch.name),
    )


@login_required
@require_http_methods(["GET", "POST"])
def round_confirm(request, pk: int):
    """The 党委 confirms the branch committee's proposal (a reason is required for each 不合格)."""
    round_ = _get_round_for_user(request, pk, "appraisal.confirm_round")
    appraisees = list(Appraisee.objects.filter(round=round_, is_graded=True).select_related("member"))
    if request.method == "POST":
        reasons = {a.pk: request.POST.get(f"r{a.pk}", "")[:2000] for a in appraisees if a.proposed_grade == "fail"}
        try:
            services.round_confirm(round_=round_, user=request.user, now=timezone.now(), reasons=reasons)
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("已确认{branch}的民主评议结果。").format(branch=round_.branch.name))
            return redirect("appraisal:round_detail", pk)
    return render(request, "appraisal/round_confirm.html", {"round": round_, "appraisees": appraisees})


# --- Members: summary, ballot, own result -------------------------------------------------


@login_required
@require_GET
def my_appraisal(request):
    """My 民主评议: write my summary, vote, and my own confirmed result (nobody else's)."""
    member_id = get_scope(request.user).member_id
    rows = list(selectors.my_appraisals(member_id)) if member_id else []
    now = timezone.now()
    for row in rows:
        row.can_vote = bool(row.may_vote) and not row.has_voted and row.round.is_open_at(now)
        row.can_write = row.round.state in (Round.State.PREPARING, Round.State.VOTING)
    return render(request, "appraisal/my_appraisal.html", {"rows": rows, "no_member": member_id is None})


def _get_own_appraisee(request, pk: int) -> Appraisee:
    member_id = get_scope(request.user).member_id
    row = get_object_or_404(Appraisee.objects.select_related("round__year", "round__branch"), pk=pk)
    if row.member_id != member_id:
        raise Http404
    return row


@login_required
@require_http_methods(["GET", "POST"])
def summary_edit(request, pk: int):
    """My 个人总结 (and self-grade when I am graded)."""
    row = _get_own_appraisee(request, pk)
    form = SummaryForm(
        request.POST or None,
        graded=row.is_graded,
        initial={"self_summary": row.self_summary, "self_grade": row.self_grade},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.summary_write(
                appraisee=row,
                text=form.cleaned_data["self_summary"],
                self_grade=form.cleaned_data.get("self_grade", ""),
                now=timezone.now(),
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("个人总结已保存。"))
            return redirect("appraisal:my_appraisal")
    return render(request, "appraisal/summary_form.html", {"row": row, "form": form})


@login_required
@require_GET
def my_result(request, pk: int):
    """My own result once the 党委 has confirmed it: my grade and, in a large enough branch, my tallies."""
    row = _get_own_appraisee(request, pk)
    if row.round.state != Round.State.CONFIRMED:
        raise Http404
    tally = selectors.round_tally(row.round)
    mine = next(m for m in tally.members if m.appraisee.pk == row.pk)
    return render(
        request,
        "appraisal/my_result.html",
        {"row": mine.appraisee, "mine": mine, "tally": tally, "grade_labels": [lb for _v, lb in Grade.choices]},
    )


def _ballot_context(round_: Round, exclude_member_id: int | None, posted: dict[int, str]):
    appraisees = [
        a
        for a in Appraisee.objects.filter(round=round_, is_graded=True).select_related("member")
        if a.member_id != exclude_member_id
    ]
    for a in appraisees:
        a.choice = posted.get(a.pk, "")
    return {"round": round_, "appraisees": appraisees, "grades": Grade.choices}


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def vote(request, pk: int):
    """The member's ballot on a phone: every other full member with four grade buttons."""
    member_id = get_scope(request.user).member_id
    round_ = get_object_or_404(Round.objects.select_related("year", "branch"), pk=pk)
    if member_id is None or not VoterMark.objects.filter(round=round_, member_id=member_id).exists():
        raise Http404
    posted: dict[int, str] = {}
    if request.method == "POST":
        posted = grades_from_any_post(request.POST)
        try:
            services.ballot_cast(round_=round_, member_id=member_id, grades=posted, now=timezone.now())
        except services.AlreadyVoted as exc:
            messages.info(request, exc.messages[0])
            return redirect("appraisal:my_appraisal")
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("投票成功。您的选票不记录您的姓名，任何人都无法查看您给谁评了什么等次。"))
            return redirect("appraisal:my_appraisal")
    elif VoterMark.objects.filter(round=round_, member_id=member_id, has_voted=True).exists():
        messages.info(request, _("您已经投过票了。"))
        return redirect("appraisal:my_appraisal")
    context = _ballot_context(round_, member_id, posted)
    context["open"] = round_.is_open_at(timezone.now())
    return render(request, "appraisal/vote.html", context)


@require_http_methods(["GET", "POST"])
@never_cache
def masses_entry(request):
    """The 群众代表's page (no login): type or scan the code, then grade on the same phone."""
    now = timezone.now()
    code = (request.POST.get("code") or request.GET.get("code") or "").strip().upper()
    form = CodeEntryForm(initial={"code": code})
    item = None
    if code:
        try:
            item = services.code_lookup(code, now=now)
        except ValidationError as exc:
            _error(request, exc)
            return render(request, "appraisal/masses_entry.html", {"form": form}, status=200)
    if item is None:
        return render(request, "appraisal/masses_entry.html", {"form": form})
    posted: dict[int, str] = {}
    if request.method == "POST" and request.POST.get("ballot"):
        posted = grades_from_any_post(request.POST)
        try:
            services.ballot_cast_with_code(code=code, grades=posted, now=now)
        except services.AlreadyVoted as exc:
            messages.info(request, exc.messages[0])
            return redirect("appraisal:masses_entry")
        except ValidationError as exc:
            _error(request, exc)
        else:
            return render(request, "appraisal/masses_done.html", {"round": item.round})
    context = _ballot_context(item.round, None, posted)
    context.update({"code": item.code, "open": item.round.is_open_at(now), "masses": True})
    return render(request, "appraisal/vote.html", context)
