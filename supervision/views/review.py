"""The review pages: the queue of submitted records, one record's review page, and the decisions on it.

The pages belong to the 督导组 (``supervision.review_meeting``); the 党委 committee may read
them (``supervision.view_flags``). A branch's own people are refused: 403 when they may
see the meeting elsewhere, 404 when they may not see it at all.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from meetings import panels
from meetings.deadlines import notice_problem
from meetings.models import Attendance, Meeting, MeetingPolicy
from meetings.services import attendance_summary
from org.clock import date_label
from org.forms import error_messages
from org.models import Organization
from org.paging import cached_count, page_without_total
from org.texts import quoted

from ..models import Flag, Review, ReviewFlagRecord
from ..review_forms import ApproveForm, FlagDecisionForm, QueueFilterForm, ReopenForm, ReturnForm
from ..selectors import review as selectors
from ..services import integrity
from ..services import review as services

VIEW = "supervision.view_flags"
REVIEW = "supervision.review_meeting"
DECIDE_FLAG = "supervision.decide_flag"
RAISE_FINDING = "supervision.raise_finding"
PAGE_SIZE = 20


def _refuse(request, meeting: Meeting):
    """What someone outside the 督导组 and the committee is told: 403 if the meeting is theirs to see, else 404."""
    if request.user.has_perm("meetings.view_meeting", meeting):
        raise PermissionDenied
    raise Http404


def _get_meeting_for_review(request, pk: int, perm: str, *, queryset: QuerySet[Meeting] | None = None) -> Meeting:
    """The meeting (one query, or the queryset's prefetches): refused unless the user may ``perm`` it."""
    if not request.user.has_perm(VIEW):
        meeting = Meeting.objects.filter(pk=pk).first()
        if meeting is None:
            raise Http404
        _refuse(request, meeting)
    qs = Meeting.objects.select_related("branch") if queryset is None else queryset
    meeting = next(iter(qs.filter(pk=pk)), None)
    if meeting is None:
        raise Http404
    if perm != VIEW and not request.user.has_perm(perm, meeting):
        raise PermissionDenied
    return meeting


def _detail_url(meeting_pk: int, anchor: str = "") -> str:
    url = reverse("supervision:review_detail", args=[meeting_pk])
    return f"{url}#{anchor}" if anchor else url


# --- The queue -----------------------------------------------------------------------


@login_required
def review_queue(request):
    if not request.user.has_perm(VIEW):
        raise PermissionDenied
    branches = Organization.objects.branches().active().order_by("sort_order", "id")
    form = QueueFilterForm(request.GET or None, branches=branches)
    filters = form.values(today=timezone.localdate()) if form.is_bound else {}
    queue = selectors.review_queue(**filters)
    # indexed order (submitted_at, id) and one row more than a page; the total is counted at
    # most once a minute per filter, not on every request
    page = page_without_total(queue, request.GET.get("page"), PAGE_SIZE, total=cached_count(queue))
    policy = MeetingPolicy.current()
    for meeting in page.object_list:
        # meetings' one notice rule, on the prefetched types: no query per row
        meeting.notice_problem = notice_problem(meeting, policy=policy)
    return render(
        request,
        "supervision/review_queue.html",
        {"form": form, "page": page, "filtered": any(v is not None for v in filters.values())},
    )


# --- One record ----------------------------------------------------------------------


@login_required
def review_detail(request, meeting_pk: int):
    meeting = _get_meeting_for_review(request, meeting_pk, VIEW, queryset=selectors.review_detail_queryset())
    return _render_detail(request, meeting)


def _render_detail(request, meeting: Meeting, *, return_form=None, reopen_form=None, approve_form=None):
    user = request.user
    reviews = list(meeting.reviews.all())
    round_ = sum(1 for r in reviews if r.action == Review.Action.RETURN) + 1
    rows = list(meeting.attendances.all())
    evidence = list(meeting.evidence.all())
    flags = list(meeting.flags.all())
    comparisons = integrity.minutes_comparisons(meeting, flags)
    for f in flags:
        f.comparison = comparisons.get(f.pk)
        f.outlines = selectors.match_outlines(f)
        if f.outlines:
            other = f.related_meeting
            f.outline_sides = [
                ("evidence", f.evidence, f.outlines["evidence"], _("本次会议的材料")),
                (
                    "related",
                    f.related_evidence,
                    f.outlines["related"],
                    _("{branch} {date} 的材料").format(
                        branch=other.branch.name if other else "", date=date_label(other.held_on) if other else ""
                    ),
                ),
            ]
    per_item = selectors.flags_by_evidence(flags)
    can_review = user.has_perm(REVIEW, meeting)
    submitted = meeting.status == Meeting.Status.SUBMITTED
    open_flags = sum(1 for f in flags if f.status == Flag.Status.OPEN)
    checkins = selectors.checkin_rows(rows)
    ctx = {
        "meeting": meeting,
        "types": list(meeting.types.all()),
        "theme_tags": list(meeting.theme_tags.all()),
        "summary": attendance_summary(meeting, rows=rows) if rows else None,
        "not_present": [r for r in rows if r.status in (Attendance.Status.LEAVE, Attendance.Status.ABSENT)],
        "agenda_items": list(meeting.agenda_items.all()),
        "votes": list(meeting.votes.all()),
        "gallery": [(e, per_item.get(e.pk, [])) for e in evidence],
        "flags": flags,
        "open_flags": open_flags,
        "notice_recipients": selectors.notice_recipients(meeting),
        "checkins": checkins,
        "shared_checkins": sum(1 for c in checkins if c.shared),
        "flag_records": selectors.round_flag_records(meeting),
        "can_raise_finding": user.has_perm(RAISE_FINDING),
        "rounds": selectors.review_rounds(meeting, reviews=reviews),
        "round": round_,
        "can_review": can_review and submitted,
        "can_reopen": can_review and meeting.status == Meeting.Status.APPROVED,
        "can_decide_flags": user.has_perm(DECIDE_FLAG, meeting),
        "approve_form": approve_form or ApproveForm(initial={"seen_round": round_}),
        "return_form": return_form or ReturnForm(initial={"seen_round": round_}),
        "reopen_form": reopen_form or ReopenForm(),
    }
    # What higher apps show the supervisor (practice: a 主题党日's activities, hazards, place).
    ctx.update(panels.review_context_for(meeting=meeting, ctx=ctx))
    return render(request, "supervision/review_detail.html", ctx)


# --- Decisions -----------------------------------------------------------------------


@login_required
@require_POST
def review_approve(request, meeting_pk: int):
    meeting = _get_meeting_for_review(request, meeting_pk, REVIEW)
    form = ApproveForm(request.POST)
    valid = form.is_valid()
    try:
        services.review_approve(
            meeting=meeting,
            user=request.user,
            now=timezone.now(),
            seen_round=form.cleaned_data["seen_round"] if valid else None,
            despite_open_flags=valid and form.cleaned_data["despite_open_flags"],
        )
    except ValidationError as error:
        if error.code == "open_flags":
            # The page again, the question beside the button: nothing was decided.
            form.add_error("despite_open_flags", error.messages[0])
            meeting = selectors.review_detail_queryset().get(pk=meeting.pk)
            return _render_detail(request, meeting, approve_form=form)
        error_messages(request, error)
        return redirect(_detail_url(meeting.pk))
    messages.success(request, _("{quoted}已审核通过，会议记录及佐证材料已锁定。").format(quoted=quoted(meeting.topic)))
    return redirect("supervision:review_queue")


@login_required
@require_POST
def review_return(request, meeting_pk: int):
    meeting = _get_meeting_for_review(request, meeting_pk, REVIEW)
    form = ReturnForm(request.POST)
    if form.is_valid():
        try:
            services.review_return(
                meeting=meeting,
                comment=form.cleaned_data["comment"],
                user=request.user,
                now=timezone.now(),
                seen_round=form.cleaned_data["seen_round"],
            )
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                error_messages(request, error)
                return redirect(_detail_url(meeting.pk))
            form.add_error("comment", error.error_dict.get("comment", error.messages))
        else:
            messages.success(
                request, _("{quoted}已退回修改，已通知支部书记和记录人。").format(quoted=quoted(meeting.topic))
            )
            return redirect("supervision:review_queue")
    meeting = selectors.review_detail_queryset().get(pk=meeting.pk)
    return _render_detail(request, meeting, return_form=form)


@login_required
@require_POST
def review_reopen(request, meeting_pk: int):
    meeting = _get_meeting_for_review(request, meeting_pk, REVIEW)
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            services.review_reopen(
                meeting=meeting, reason=form.cleaned_data["reason"], user=request.user, now=timezone.now()
            )
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                error_messages(request, error)
                return redirect(_detail_url(meeting.pk))
            form.add_error("reason", error.error_dict.get("reason", error.messages))
        else:
            messages.success(request, _("已抽查重开，该记录回到审核队列；审核期间支部不能修改。"))
            return redirect(_detail_url(meeting.pk))
    meeting = selectors.review_detail_queryset().get(pk=meeting.pk)
    return _render_detail(request, meeting, reopen_form=form)


@login_required
def flag_record_thumbnail(request, pk: int):
    """The thumbnail kept with a round's flag decision (its photo may since have been deleted)."""
    record = ReviewFlagRecord.objects.select_related("review__meeting").filter(pk=pk).first()
    if record is None:
        raise Http404
    _get_meeting_for_review(request, record.review.meeting_id, VIEW)
    if not record.thumbnail:
        raise Http404
    response = HttpResponse(bytes(record.thumbnail), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def flag_decide(request, pk: int):
    flag = Flag.objects.select_related("meeting").filter(pk=pk).first()
    if flag is None:
        raise Http404
    if not request.user.has_perm(VIEW):
        _refuse(request, flag.meeting)
    if not request.user.has_perm(DECIDE_FLAG, flag.meeting):
        raise PermissionDenied
    form = FlagDecisionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect(_detail_url(flag.meeting_id, f"flag-{flag.pk}"))
    try:
        integrity.flag_decide(
            flag=flag,
            confirm=form.confirm,
            reason=form.cleaned_data["reason"],
            user=request.user,
            now=timezone.now(),
        )
    except ValidationError as error:
        error_messages(request, error)
    else:
        messages.success(request, _("已确认该提示。") if form.confirm else _("已排除该提示，理由已记录。"))
    return redirect(_detail_url(flag.meeting_id, f"flag-{flag.pk}"))


urlpatterns = [
    path("review/", review_queue, name="review_queue"),
    path("review/<int:meeting_pk>/", review_detail, name="review_detail"),
    path("review/<int:meeting_pk>/approve/", review_approve, name="review_approve"),
    path("review/<int:meeting_pk>/return/", review_return, name="review_return"),
    path("review/<int:meeting_pk>/reopen/", review_reopen, name="review_reopen"),
    path("flags/<int:pk>/decide/", flag_decide, name="flag_decide"),
    path("review/flag-records/<int:pk>/thumbnail/", flag_record_thumbnail, name="flag_record_thumbnail"),
]
