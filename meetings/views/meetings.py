"""The meeting lifecycle in the browser: list, plan, notice, minutes, attendance, votes, submit, leave.

Every page loads its meeting through ``_get_meeting_for_user`` (404 when the user
may not see it, 403 when they see it but may not do this), hands the form's data
to one service and redirects, or re-renders with the service's messages.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from org import form_tokens
from org.forms import attach_service_errors, error_messages
from org.models import Member, Organization
from org.paging import page_without_total
from org.rules import may_ask_for_leave, may_decide_leave, may_register_leave
from org.scope import get_scope
from org.selectors import branches_visible_to

from .. import hooks, panels, selectors, services
from ..checkin import shared_device_checkins
from ..forms import (
    AgendaItemFormSet,
    AttendanceForm,
    CancelForm,
    LeaveDecisionForm,
    LeaveRegisterForm,
    LeaveRequestForm,
    MeetingFilterForm,
    MeetingPlanForm,
    MinutesForm,
    SpeechFormSet,
    VoteForm,
)
from ..models import Attendance, LeaveRequest, Meeting

VIEW = "meetings.view_meeting"
MANAGE = "meetings.manage_meeting"
RECORD = "meetings.record_minutes"
DECIDE_LEAVE = "meetings.decide_leave"
PAGE_SIZE = 20
PLAN_STATUSES = (Meeting.Status.PLANNED, Meeting.Status.NOTIFIED)


# --- Loading and permissions ----------------------------------------------------------


def _get_meeting_for_user(request, pk: int, perm: str, *, queryset: QuerySet[Meeting] | None = None) -> Meeting:
    """The meeting with its joins and prefetches: 404 if the user may not see it, 403 if they may not ``perm`` it."""
    qs = selectors.meetings_base() if queryset is None else queryset
    meeting = next(iter(qs.filter(pk=pk)), None)
    if meeting is None or not request.user.has_perm(VIEW, meeting):
        raise Http404
    if perm != VIEW and not request.user.has_perm(perm, meeting):
        raise PermissionDenied
    return meeting


def _refuse_locked(request, meeting: Meeting):
    """The redirect an edit page answers with on a locked record (approved or cancelled), else None."""
    if meeting.is_locked:
        messages.error(request, services.locked_message(meeting))
        return redirect("meetings:meeting_detail", meeting.pk)
    return None


def _group_only(request, branch_id: int) -> frozenset[int] | None:
    """The groups a 党小组长 may plan for, or None for the branch committee (who plan anything)."""
    scope = get_scope(request.user)
    if branch_id in scope.committee_branch_ids:
        return None
    return scope.led_group_ids


# --- List ----------------------------------------------------------------------------


@login_required
def meeting_list(request):
    scope = get_scope(request.user)
    branches = branches_visible_to(request.user).order_by("sort_order", "id")
    form = MeetingFilterForm(request.GET or None, branches=branches)
    filters = form.values() if form.is_bound else {}
    qs = selectors.filter_meetings(selectors.meetings_visible_to(request.user), **filters)
    # No total: counting 190,000 meetings costs more than the page itself (org/paging.py);
    # the order (-planned_start, -id) is served by meetings_meeting_start_id.
    page = page_without_total(qs, request.GET.get("page"), PAGE_SIZE)
    plannable = selectors.plannable_branch_ids(request.user)
    return render(
        request,
        "meetings/meeting_list.html",
        {
            "form": form,
            "page": page,
            "show_branch": scope.sees_all_branches or len(selectors.visible_branch_ids(request.user) or ()) > 1,
            "can_plan": bool(plannable),
        },
    )


# --- Plan ----------------------------------------------------------------------------


def _branch_for_planning(request) -> Organization | None:
    """The branch of ``?branch=``, or the user's only plannable branch; None asks the user to choose."""
    raw = request.GET.get("branch", "")
    if not raw:
        plannable = selectors.plannable_branch_ids(request.user)
        if not plannable:
            raise PermissionDenied
        if len(plannable) > 1:
            return None
        raw = str(next(iter(plannable)))
    if not raw.isdigit():
        raise Http404
    branch = Organization.objects.branches().filter(pk=int(raw)).first()
    if branch is None or not request.user.has_perm("org.view_branch", branch):
        raise Http404
    if not request.user.has_perm("meetings.plan_meeting", branch):
        raise PermissionDenied
    return branch


def _plan_form(request, branch: Organization, *, data=None, initial=None, meeting: Meeting | None = None):
    include = (meeting.lecturer_id,) if meeting else ()
    lecturers = selectors.branch_people(branch, on=timezone.localdate(), include=include)
    return MeetingPlanForm(
        data,
        initial=initial,
        branch=branch,
        lecturers=lecturers,
        group_only=_group_only(request, branch.pk),
        venue=meeting.venue if meeting else None,
    )


@login_required
def meeting_create(request):
    branch = _branch_for_planning(request)
    if branch is None:
        choices = Organization.objects.branches().filter(pk__in=selectors.plannable_branch_ids(request.user))
        return render(request, "meetings/meeting_branch_choice.html", {"branches": choices})
    if request.method == "POST":
        form = _plan_form(request, branch, data=request.POST.copy())
        if form.is_valid():
            token = form.cleaned_data["form_token"]
            with transaction.atomic():
                state, created_pk = form_tokens.claim(request, token, "meeting_create")
                if state == "spent":
                    messages.info(request, "该会议已经创建过，没有重复创建。")
                    return redirect("meetings:meeting_detail", created_pk)
                if state == "unknown":
                    form.data["form_token"] = form_tokens.issue(request, "meeting_create")
                    form.add_error(None, form_tokens.STALE_FORM)
                else:
                    try:
                        meeting = services.meeting_plan(
                            branch=branch, user=request.user, now=timezone.now(), **form.service_kwargs()
                        )
                    except ValidationError as error:
                        attach_service_errors(form, error)
                    else:
                        form_tokens.spend(request, token, meeting.pk)
                        messages.success(request, _plan_saved_message(meeting))
                        return redirect("meetings:meeting_detail", meeting.pk)
    else:
        form = _plan_form(request, branch, initial={"form_token": form_tokens.issue(request, "meeting_create")})
    return render(request, "meetings/meeting_form.html", {"form": form, "branch": branch, "meeting": None})


def _plan_saved_message(meeting: Meeting) -> str:
    """Say what the plan still needs before its notice, or that it may be published now."""
    missing = [m for messages_ in services.notice_problems(meeting).values() for m in messages_]
    if not missing:
        return _("会议计划已保存，可以发布会议通知。")
    return _("会议计划已保存。发布会议通知前还须：{missing}").format(missing="".join(missing))


@login_required
def meeting_edit(request, pk: int):
    meeting = _get_meeting_for_user(request, pk, MANAGE)
    if meeting.status not in PLAN_STATUSES:
        messages.error(request, "会议已召开或已取消，计划不能再修改。")
        return redirect("meetings:meeting_detail", meeting.pk)
    if request.method == "POST":
        form = _plan_form(request, meeting.branch, data=request.POST, meeting=meeting)
        if form.is_valid():
            try:
                services.meeting_update_plan(
                    meeting=meeting, user=request.user, now=timezone.now(), **form.service_kwargs()
                )
            except ValidationError as error:
                attach_service_errors(form, error)
            else:
                messages.success(request, _("会议计划已修改。"))
                return redirect("meetings:meeting_detail", meeting.pk)
    else:
        form = _plan_form(request, meeting.branch, initial=MeetingPlanForm.initial_from(meeting), meeting=meeting)
    return render(request, "meetings/meeting_form.html", {"form": form, "branch": meeting.branch, "meeting": meeting})


# --- Detail --------------------------------------------------------------------------


@login_required
def meeting_detail(request, pk: int):
    meeting = _get_meeting_for_user(request, pk, VIEW, queryset=selectors.meeting_detail_queryset())
    user = request.user
    scope = get_scope(user)
    now = timezone.now()
    rows = list(meeting.attendances.all())
    can_manage = user.has_perm(MANAGE, meeting)
    can_record = user.has_perm(RECORD, meeting)
    leaves = list(meeting.leave_requests.all())
    my_leave = next(
        (
            lr
            for lr in leaves
            if lr.member_id == scope.member_id
            and lr.status in (LeaveRequest.Status.PENDING, LeaveRequest.Status.APPROVED)
        ),
        None,
    )
    editable = not meeting.is_locked
    my_row = next((r for r in rows if r.member_id == scope.member_id), None)
    if my_row is not None and my_row.status in (Attendance.Status.LEAVE, Attendance.Status.ABSENT):
        # A member who missed the meeting reads its record: the reading half of 补学 (tasks app).
        hooks.minutes_opened(meeting=meeting, member=my_row.member, now=now)
    ctx = {
        "meeting": meeting,
        "types": list(meeting.types.all()),
        "theme_tags": list(meeting.theme_tags.all()),
        "rows": rows,
        "summary": services.attendance_summary(meeting, rows=rows) if rows else None,
        "not_present": [r for r in rows if r.status in (Attendance.Status.LEAVE, Attendance.Status.ABSENT)],
        "agenda_items": list(meeting.agenda_items.all()),
        "votes": list(meeting.votes.all()),
        "leaves": leaves if can_manage else [lr for lr in leaves if lr.member_id == scope.member_id],
        "my_leave": my_leave,
        "can_manage": can_manage,
        "can_record": can_record and editable,
        "can_edit_plan": can_manage and meeting.status in PLAN_STATUSES,
        "can_publish": can_manage and meeting.status == Meeting.Status.PLANNED,
        "can_cancel": can_manage and meeting.status in PLAN_STATUSES,
        "can_submit": can_manage and meeting.status in (Meeting.Status.HELD, Meeting.Status.RETURNED),
        "can_request_leave": my_leave is None and may_ask_for_leave(scope.member_id, meeting, now=now),
        "can_decide_leave": may_decide_leave(user, meeting),
        "can_register_leave": may_register_leave(user, meeting, now=now),
        "has_minutes": meeting.minutes_entered_at is not None,
        "can_checkin_screen": can_manage and meeting.status in (Meeting.Status.NOTIFIED, Meeting.Status.HELD),
        # 代签到: one device checking in several members, shown to those who manage or supervise.
        "shared_devices": shared_device_checkins(meeting) if can_manage or scope.is_supervisor else [],
        "now": now,
    }
    if ctx["can_submit"]:
        ctx["problems"] = services.submission_problems(meeting)
    ctx.update(panels.context_for(meeting=meeting, ctx=ctx))
    return render(request, "meetings/meeting_detail.html", ctx)


# --- Notice, cancel, submit ----------------------------------------------------------


@login_required
@require_POST
def meeting_publish(request, pk: int):
    meeting = _get_meeting_for_user(request, pk, MANAGE)
    try:
        meeting = services.meeting_publish_notice(meeting=meeting, user=request.user, now=timezone.now())
    except ValidationError as error:
        error_messages(request, error)
    else:
        messages.success(
            request, _("会议通知已发布，已通知应到党员 {count} 名。").format(count=meeting.attendances.count())
        )
    return redirect("meetings:meeting_detail", meeting.pk)


@login_required
def meeting_cancel(request, pk: int):
    meeting = _get_meeting_for_user(request, pk, MANAGE)
    if meeting.status not in PLAN_STATUSES:
        messages.error(request, "只有尚未召开的会议可以取消。")
        return redirect("meetings:meeting_detail", meeting.pk)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_cancel(
                meeting=meeting, reason=form.cleaned_data["reason"], user=request.user, now=timezone.now()
            )
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(request, _("会议已取消。"))
            return redirect("meetings:meeting_detail", meeting.pk)
    return render(request, "meetings/meeting_cancel.html", {"form": form, "meeting": meeting})


@login_required
@require_POST
def meeting_submit(request, pk: int):
    meeting = _get_meeting_for_user(request, pk, MANAGE)
    try:
        services.meeting_submit(meeting=meeting, user=request.user, now=timezone.now())
    except ValidationError as error:
        error_messages(request, error)
    else:
        messages.success(request, _("会议记录已提交，等待审核。"))
    return redirect("meetings:meeting_detail", meeting.pk)


# --- Minutes -------------------------------------------------------------------------


@login_required
def meeting_minutes(request, pk: int):
    meeting = _get_meeting_for_user(request, pk, RECORD)
    # The lecturer of a 党课 may come from another branch and chair it.
    people = selectors.branch_people(
        meeting.branch, on=meeting.held_on, include=(meeting.chair_id, meeting.recorder_id, meeting.lecturer_id)
    )
    types = list(meeting.types.all())
    if request.method == "POST":
        form = MinutesForm(request.POST, people=people, types=types)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.meeting_record_minutes(meeting=meeting, user=request.user, now=timezone.now(), **d)
            except ValidationError as error:
                attach_service_errors(form, error)
            else:
                messages.success(request, _("会议基本情况已保存。请继续登记出席情况和议题发言。"))
                return redirect("meetings:meeting_detail", meeting.pk)
    else:
        if refused := _refuse_locked(request, meeting):
            return refused
        initial = MinutesForm.initial_from(meeting)
        if meeting.chair_id is None and meeting.recorder_id is None:
            initial["chair"], initial["recorder"] = selectors.default_chair_and_recorder(meeting, on=meeting.held_on)
        form = MinutesForm(initial=initial, people=people, types=types)
    return render(request, "meetings/meeting_minutes.html", {"form": form, "meeting": meeting})


@login_required
def meeting_agenda(request, pk: int):
    meeting = _get_meeting_for_user(
        request,
        pk,
        RECORD,
        queryset=selectors.meetings_base().prefetch_related("agenda_items__speeches__speaker"),
    )
    items = list(meeting.agenda_items.all())
    speaker_ids = tuple({s.speaker_id for item in items for s in item.speeches.all()})
    people, attendance_recorded = selectors.speaker_choices(meeting, include=speaker_ids)
    decisions = bool({t.code for t in meeting.types.all()} & services.RESOLUTION_TYPES)
    owners = (
        list(
            selectors.branch_people(
                meeting.branch, on=timezone.localdate(), include=tuple(i.decision_owner_id for i in items)
            )
        )
        if decisions
        else []
    )
    item_kwargs = {"owners": owners, "decisions": decisions}
    if request.method == "POST":
        items_fs = AgendaItemFormSet(request.POST, prefix="items", form_kwargs=item_kwargs)
        speeches_fs = SpeechFormSet(request.POST, prefix="speeches", form_kwargs={"people": people})
        if items_fs.is_valid():
            # Checked even when some speech rows are invalid, so that every problem shows at once.
            data = _agenda_from_formsets(items_fs, speeches_fs)
            if data is not None:
                try:
                    services.meeting_save_agenda(meeting=meeting, items=data, user=request.user, now=timezone.now())
                except ValidationError as error:
                    items_fs.non_form_errors().extend(error.messages)
                else:
                    messages.success(request, _("议题及发言已保存（{len} 项议题）。").format(len=len(data)))
                    return redirect("meetings:meeting_detail", meeting.pk)
    else:
        if refused := _refuse_locked(request, meeting):
            return refused
        # Minutes without items start from the plan's agenda: the secretary types it once.
        initial = [
            {
                "item_id": item.pk,
                "title": item.title,
                "is_decision": item.is_decision,
                "decision_owner": item.decision_owner_id,
                "decision_due_on": item.decision_due_on,
            }
            for item in items
        ] or [{"title": title} for title in selectors.planned_agenda_titles(meeting.agenda)]
        items_fs = AgendaItemFormSet(prefix="items", initial=initial, form_kwargs=item_kwargs)
        speeches_fs = SpeechFormSet(
            prefix="speeches",
            form_kwargs={"people": people},
            initial=[
                {"item": n, "speaker": s.speaker_id, "points": s.points, "dissent": s.dissent}
                for n, item in enumerate(items, start=1)
                for s in item.speeches.all()
            ],
        )
    return render(
        request,
        "meetings/meeting_agenda.html",
        {
            "meeting": meeting,
            "items_fs": items_fs,
            "speeches_fs": speeches_fs,
            "attendance_recorded": attendance_recorded,
            "decisions": decisions,
            "prefilled": not items and request.method != "POST" and bool(meeting.agenda.strip()),
        },
    )


def _agenda_from_formsets(items_fs, speeches_fs) -> list[services.AgendaItemData] | None:
    """The agenda as the service takes it; None after putting errors on the speech rows.

    A speech names its item by the item's number on the page; blank or deleted items are dropped.
    """
    numbered: dict[int, services.AgendaItemData] = {}
    for n, form in enumerate(items_fs.forms, start=1):
        title = (form.cleaned_data.get("title") or "").strip()
        if title and not form.cleaned_data.get("DELETE"):
            d = form.cleaned_data
            numbered[n] = services.AgendaItemData(
                title=title,
                pk=d.get("item_id"),
                is_decision=bool(d.get("is_decision")),
                decision_owner=form.owner_member() if d.get("is_decision") else None,
                decision_due_on=d.get("decision_due_on") if d.get("is_decision") else None,
            )
    ok = speeches_fs.is_valid()
    for form in speeches_fs.forms:
        if form.errors or not form.cleaned_data or form.is_blank():
            continue
        n = form.cleaned_data["item"]
        if n not in numbered:
            form.add_error("item", _("没有第 {n} 项议题（或该议题为空、已删除）。").format(n=n))
            ok = False
            continue
        numbered[n].speeches.append(
            services.SpeechData(
                speaker=form.speaker_member(), points=form.cleaned_data["points"], dissent=form.cleaned_data["dissent"]
            )
        )
    return list(numbered.values()) if ok else None


# --- Attendance ----------------------------------------------------------------------


def _attendance_rows(meeting: Meeting) -> list[Attendance]:
    return list(meeting.attendances.select_related("member").order_by("member__name", "id"))


@login_required
def meeting_attendance(request, pk: int):
    meeting = _get_meeting_for_user(request, pk, RECORD)
    if refused := _refuse_locked(request, meeting):
        return refused
    if request.method == "POST":
        # The list as of the meeting date, so that the comparison below sees any change.
        services.meeting_sync_expected(meeting=meeting)
    rows = _attendance_rows(meeting)
    leave = services.approved_leave_reasons(meeting)
    officers = [pk for pk in (meeting.chair_id, meeting.recorder_id) if pk]
    if request.method == "POST":
        data = request.POST.copy()
        if "all_present" in data:
            # 全部出席: fill in, do not save; the secretary then marks the exceptions and saves.
            marked = services.all_present_entries(rows, leave_member_ids=leave)
            for member_id, status in marked.items():
                data[f"status_{member_id}"] = status
            form = AttendanceForm(data, rows=rows, leave=leave, officer_ids=officers)
            messages.info(request, f"已将 {len(marked)} 人标为出席（请假获批的和已签到的不变）。请标出例外后保存。")
        else:
            form = AttendanceForm(data, rows=rows, leave=leave, officer_ids=officers)
            if form.is_valid():
                posted, current = form.posted_ids(), form.current_ids()
                if posted != current:
                    form.add_error(None, _list_changed_message(posted, current, rows))
                    # The next save is of the list now shown.
                    form.data["member_ids"] = AttendanceForm.encode_ids(current)
                else:
                    try:
                        services.attendance_record(
                            meeting=meeting, entries=form.entries(), user=request.user, now=timezone.now()
                        )
                    except ValidationError as error:
                        attach_service_errors(form, error)
                    else:
                        s = services.attendance_summary(meeting, rows=Attendance.objects.filter(meeting=meeting))
                        messages.success(
                            request,
                            _(
                                "出席情况已保存：应到 {expected} 人，实到 {present} 人，"
                                "请假 {leave} 人，缺席 {absent} 人，未登记 {unrecorded} 人。"
                            ).format(
                                expected=s.expected,
                                present=s.present,
                                leave=s.leave,
                                absent=s.absent,
                                unrecorded=s.unrecorded,
                            ),
                        )
                        return redirect("meetings:meeting_detail", meeting.pk)
    else:
        form = AttendanceForm(rows=rows, leave=leave, officer_ids=officers)
    summary = services.attendance_summary(meeting, rows=rows) if rows else None
    return render(request, "meetings/meeting_attendance.html", {"meeting": meeting, "form": form, "summary": summary})


def _list_changed_message(posted: set[int], current: set[int], rows: list[Attendance]) -> str:
    names = {r.member_id: r.member.name for r in rows}
    added = [names[pk] for pk in current - posted]
    removed_ids = posted - current
    removed = list(Member.objects.filter(pk__in=removed_ids).values_list("name", flat=True)) if removed_ids else []
    parts = [_("您打开本页后，应到名单发生了变化")]
    if added:
        parts.append(_("新增：{value}").format(value="、".join(added)))
    if removed:
        parts.append(_("移出：{value}").format(value="、".join(removed)))
    return "；".join(parts) + _("。本次没有保存，您填写的内容已保留，请核对新名单后再次保存。")


# --- Votes ---------------------------------------------------------------------------


@login_required
def meeting_votes(request, pk: int):
    meeting = _get_meeting_for_user(
        request, pk, RECORD, queryset=selectors.meetings_base().prefetch_related("attendances", "votes")
    )
    purpose = f"vote:{meeting.pk}"
    if request.method == "POST":
        form = VoteForm(request.POST.copy(), candidates=_vote_candidates(meeting))
        if form.is_valid():
            d = dict(form.cleaned_data)
            token = d.pop("form_token")
            with transaction.atomic():
                state, _vote_pk = form_tokens.claim(request, token, purpose)
                if state == "spent":
                    messages.info(request, "该表决已经记录过，没有重复记录。")
                    return redirect("meetings:meeting_votes", meeting.pk)
                if state == "unknown":
                    form.data["form_token"] = form_tokens.issue(request, purpose)
                    form.add_error(None, form_tokens.STALE_FORM)
                else:
                    try:
                        vote = services.vote_record(meeting=meeting, user=request.user, now=timezone.now(), **d)
                    except ValidationError as error:
                        attach_service_errors(form, error)
                    else:
                        form_tokens.spend(request, token, vote.pk)
                        messages.success(
                            request,
                            _("表决“{motion}”已记录：{value}。").format(
                                motion=vote.motion, value="通过" if vote.passed else "未通过"
                            ),
                        )
                        return redirect("meetings:meeting_votes", meeting.pk)
    else:
        if refused := _refuse_locked(request, meeting):
            return refused
        form = VoteForm(
            initial={"form_token": form_tokens.issue(request, purpose)}, candidates=_vote_candidates(meeting)
        )
    rows = list(meeting.attendances.all())
    return render(
        request,
        "meetings/meeting_votes.html",
        {
            "meeting": meeting,
            "form": form,
            "votes": list(meeting.votes.all()),
            "summary": services.attendance_summary(meeting, rows=rows) if rows else None,
        },
    )


def _vote_candidates(meeting: Meeting) -> QuerySet[Member]:
    """The branch's members on the meeting date: candidates for an election or a 转正 (the service checks which)."""
    return selectors.branch_people(meeting.branch, on=meeting.held_on)


@login_required
@require_POST
def vote_delete(request, pk: int, vote_pk: int):
    meeting = _get_meeting_for_user(request, pk, RECORD)
    vote = meeting.votes.filter(pk=vote_pk).first()
    if vote is None:
        raise Http404
    vote.meeting = meeting
    try:
        services.vote_delete(vote=vote, user=request.user, now=timezone.now())
    except ValidationError as error:
        error_messages(request, error)
        return redirect("meetings:meeting_detail", meeting.pk)
    messages.success(request, _("表决“{motion}”已删除。").format(motion=vote.motion))
    return redirect("meetings:meeting_votes", meeting.pk)


# --- Leave ---------------------------------------------------------------------------


def _my_member(request) -> Member:
    member_id = get_scope(request.user).member_id
    if member_id is None:
        raise PermissionDenied
    return Member.objects.get(pk=member_id)


@login_required
def leave_create(request, pk: int):
    meeting = _get_meeting_for_user(request, pk, VIEW)
    member = _my_member(request)
    form = LeaveRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.leave_request(
                meeting=meeting, member=member, reason=form.cleaned_data["reason"], now=timezone.now()
            )
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(request, _("请假申请已提交，等待书记审批。"))
            return redirect("meetings:meeting_detail", meeting.pk)
    return render(request, "meetings/meeting_leave.html", {"form": form, "meeting": meeting})


def _get_leave_for_user(request, pk: int, perm: str) -> LeaveRequest:
    leave = LeaveRequest.objects.select_related("meeting", "member__user").filter(pk=pk).first()
    if leave is None or not request.user.has_perm(VIEW, leave.meeting):
        raise Http404
    if perm and not request.user.has_perm(perm, leave.meeting):
        raise PermissionDenied
    return leave


@login_required
def leave_register(request, pk: int):
    """代登记: the 书记 (a 党小组会: its 党小组长) registers a member's leave before the start."""
    meeting = _get_meeting_for_user(request, pk, DECIDE_LEAVE)
    now = timezone.now()
    if not may_register_leave(request.user, meeting, now=now):
        messages.error(request, "代登记请假须在会议通知发布后、会议开始前进行；会议开始后未到会的记为缺席。")
        return redirect("meetings:meeting_detail", meeting.pk)
    taken = LeaveRequest.objects.filter(
        meeting=meeting, status__in=[LeaveRequest.Status.PENDING, LeaveRequest.Status.APPROVED]
    ).values("member_id")
    members = Member.objects.filter(attendances__meeting=meeting).exclude(pk__in=taken).order_by("name", "id")
    form = LeaveRegisterForm(request.POST or None, members=members)
    if request.method == "POST" and form.is_valid():
        try:
            leave = services.leave_register(
                meeting=meeting,
                member=form.member_obj(),
                reason=form.cleaned_data["reason"],
                user=request.user,
                now=now,
            )
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(
                request,
                _("已为 {name} 代登记请假（{localtime:%m-%d %H:%M}）。").format(
                    name=leave.member.name, localtime=timezone.localtime(now)
                ),
            )
            return redirect("meetings:meeting_detail", meeting.pk)
    return render(request, "meetings/meeting_leave.html", {"form": form, "meeting": meeting, "on_behalf": True})


@login_required
@require_POST
def leave_decide(request, pk: int):
    leave = _get_leave_for_user(request, pk, DECIDE_LEAVE)
    form = LeaveDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择批准或不批准。")
        return redirect("meetings:meeting_detail", leave.meeting_id)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.leave_decide(
            leave=leave, approve=approve, user=request.user, now=timezone.now(), note=form.cleaned_data["note"]
        )
    except ValidationError as error:
        error_messages(request, error)
    else:
        done = _("已批准 {name} 的请假申请。") if approve else _("未批准 {name} 的请假申请。")
        messages.success(request, done.format(name=leave.member.name))
    return redirect("meetings:meeting_detail", leave.meeting_id)


@login_required
@require_POST
def leave_withdraw(request, pk: int):
    leave = _get_leave_for_user(request, pk, "")
    if leave.member_id != get_scope(request.user).member_id:
        raise PermissionDenied
    try:
        services.leave_withdraw(leave=leave, member=leave.member, now=timezone.now())
    except ValidationError as error:
        error_messages(request, error)
    else:
        messages.success(request, _("请假申请已撤回。"))
    return redirect("meetings:meeting_detail", leave.meeting_id)


urlpatterns = [
    path("", meeting_list, name="meeting_list"),
    path("new/", meeting_create, name="meeting_create"),
    path("<int:pk>/", meeting_detail, name="meeting_detail"),
    path("<int:pk>/edit/", meeting_edit, name="meeting_edit"),
    path("<int:pk>/publish/", meeting_publish, name="meeting_publish"),
    path("<int:pk>/cancel/", meeting_cancel, name="meeting_cancel"),
    path("<int:pk>/minutes/", meeting_minutes, name="meeting_minutes"),
    path("<int:pk>/agenda/", meeting_agenda, name="meeting_agenda"),
    path("<int:pk>/attendance/", meeting_attendance, name="meeting_attendance"),
    path("<int:pk>/votes/", meeting_votes, name="meeting_votes"),
    path("<int:pk>/votes/<int:vote_pk>/delete/", vote_delete, name="vote_delete"),
    path("<int:pk>/submit/", meeting_submit, name="meeting_submit"),
    path("<int:pk>/leave/", leave_create, name="leave_create"),
    path("<int:pk>/leave/register/", leave_register, name="leave_register"),
    path("leave/<int:pk>/decide/", leave_decide, name="leave_decide"),
    path("leave/<int:pk>/withdraw/", leave_withdraw, name="leave_withdraw"),
]
