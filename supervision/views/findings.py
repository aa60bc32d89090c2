"""Findings and rectifications in the browser: the ledger and its export, raising, answering, verifying.

Pages load a finding through ``_get_finding_for_user`` and a rectification through
``_get_rectification_for_user``: 404 when the user may not see it, 403 when they see it
but may not do this. Every change is one service call; the services' conditional
updates make a double submit act once.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from bulletin import exports
from org.clock import add_months, local_midnight
from org.forms import attach_service_errors
from org.models import Organization, Post
from org.paging import page_without_total
from org.selectors import active_on
from org.throttle import throttle
from org.uploads import INCOMPLETE_MESSAGE, body_is_complete, upload_limit
from org.xlsx import xlsx_response

from .. import findings_export
from ..findings_forms import AnswerForm, BranchChoiceForm, EvidenceForm, FindingFilterForm, FindingForm, RejectForm
from ..models import Evidence, Finding, Rectification, SupervisionPolicy
from ..selectors import findings as selectors
from ..services import evidence as evidence_services
from ..services import findings as services
from ..uploads import evidence_request_limit

RAISE = "supervision.raise_finding"
ANSWER = "supervision.answer_rectification"
VERIFY = "supervision.verify_rectification"
PAGE_SIZE = 25
Status = Rectification.Status


# --- Loading and permissions ----------------------------------------------------------------


def _get_finding_for_user(request, pk: int) -> Finding:
    """The finding with everything its page shows: 404 if the user may not see it."""
    finding = next(iter(selectors.finding_detail_queryset().filter(pk=pk)), None)
    if finding is None or not selectors.may_see_finding(request.user, finding):
        raise Http404
    return finding


def _get_rectification_for_user(request, pk: int, perm: str) -> Rectification:
    """404 if the user may not see the rectification's finding, 403 if they may not ``perm`` it."""
    rectification = next(iter(selectors.rectification_for_action().filter(pk=pk)), None)
    if rectification is None:
        raise Http404
    finding = rectification.finding
    finding.rectification = rectification
    if not selectors.may_see_finding(request.user, finding):
        raise Http404
    if not request.user.has_perm(perm, rectification):
        raise PermissionDenied
    return rectification


def _state_error(request, error: ValidationError) -> bool:
    """Show a refusal of the rectification's state (a second submit, a decided answer) as a message."""
    if getattr(error, "code", None) != "state":
        return False
    for message in error.messages:
        messages.info(request, message)
    return True


# A file already attached (a double submit, the same file chosen twice) is not a failure.
_ALREADY_THERE = {evidence_services.DUPLICATE_MESSAGE, evidence_services.DUPLICATE_IN_BATCH_MESSAGE}


def _upload(form, *, user, now, **owner) -> list[str]:
    """Store the form's files as evidence of ``owner``; the reasons the refused ones were refused.

    The evidence service commits what it accepts on its own, so a file kept stays attached
    (and shown) whatever happens to the rest of the form.
    """
    files = form.cleaned_data.get("files") or []
    if not files:
        return []
    category = form.cleaned_data.get("evidence_category") or Evidence.Category.OTHER
    result = evidence_services.evidence_upload(files=files, category=category, user=user, now=now, **owner)
    return [f"{name}：{why}" for name, why in result.rejected if why not in _ALREADY_THERE]


# --- The ledger ------------------------------------------------------------------------------


def _ledger_context(request, *, mine: bool) -> dict:
    if not selectors.has_any_visible(request.user):
        raise PermissionDenied
    now = timezone.now()
    branches = None if mine else selectors.visible_branches(request.user)
    form = FindingFilterForm(request.GET or None, branches=branches)
    qs = selectors.filter_findings(selectors.findings_visible_to(request.user, mine=mine), now=now, **form.values())
    return {"form": form, "queryset": qs, "now": now, "mine": mine}


def _ledger_page(request, *, mine: bool):
    context = _ledger_context(request, mine=mine)
    qs, now = context.pop("queryset"), context["now"]
    page = page_without_total(selectors.ledger_page_queryset(qs), request.GET.get("page"), PAGE_SIZE)
    # A rectification without an owner (the 书记 has no login) goes to the branch committee: name them.
    unowned = {
        f.branch_id for f in page.object_list if getattr(f, "rectification", None) and not f.rectification.owner_id
    }
    fallback = services.branch_committee_users_of(unowned, on=timezone.localdate(now)) if unowned else {}
    for finding in page.object_list:
        finding.fallback_recipients = fallback.get(finding.branch_id, [])
        rect = getattr(finding, "rectification", None)
        if rect is not None:
            finding.deadline = selectors.deadline(rect, now=now)
            finding.status_text, finding.status_css = selectors.status_label(
                rect, now=now, was_rejected=finding.was_rejected
            )
    counts = qs.aggregate(
        total=Count("pk"),
        open=Count("pk", filter=Q(rectification__status=Status.OPEN, rectification__due_at__gte=now)),
        overdue=Count("pk", filter=selectors.overdue_q(now)),
        submitted=Count("pk", filter=Q(rectification__status=Status.SUBMITTED)),
        verified=Count("pk", filter=Q(rectification__status=Status.VERIFIED)),
    )
    page.total = counts["total"]  # the page's own aggregate: no second COUNT for the pager
    return render(
        request,
        "supervision/finding_list.html",
        {
            **context,
            "page": page,
            "counts": counts,
            "show_branch": selectors.sees_all_findings(request.user) or "branch" in context["form"].fields,
            "can_raise": request.user.has_perm(RAISE),
        },
    )


@login_required
@require_GET
def finding_list(request):
    """The ledger of findings and rectifications: every branch for the 督导组 and the 党委, else one's own."""
    return _ledger_page(request, mine=False)


@login_required
@require_GET
def my_rectifications(request):
    """我的整改: the rectifications of the branches the user manages, and those they own."""
    return _ledger_page(request, mine=True)


@login_required
@require_GET
@throttle("export")
def finding_export(request):
    """The ledger with the page's filters as .xlsx, written to a temporary file and streamed.

    One branch's (or one's own) ledger is direct; every branch's is an export job.
    """
    mine = request.GET.get("mine") == "1"
    context = _ledger_context(request, mine=mine)
    if findings_export.is_mine_wide(request.user, context["form"].values(), mine=mine):
        # Every branch's findings: written by the worker. A GET never queues it: the start page's button does.
        return redirect(exports.start_url(findings_export.FINDINGS, findings_export.parse_filters(request.GET)))
    rows = selectors.export_rows(context["queryset"], now=context["now"])
    filename = _("问题整改台账{localtime:%Y%m%d}.xlsx").format(localtime=timezone.localtime(context["now"]))
    return xlsx_response(lambda f: findings_export.write_findings_xlsx(rows, f), filename=filename)


# --- Raising a finding ----------------------------------------------------------------------


def _branch_for_finding(request) -> tuple[Organization | None, int | None]:
    """The branch (and meeting) of ``?meeting=`` or ``?branch=``; (None, None) asks the supervisor to choose."""
    raw_meeting = request.GET.get("meeting", "")
    if raw_meeting:
        if not raw_meeting.isdigit():
            raise Http404
        from meetings.models import Meeting

        meeting = Meeting.objects.select_related("branch").filter(pk=int(raw_meeting)).first()
        if meeting is None:
            raise Http404
        return meeting.branch, meeting.pk
    raw = request.GET.get("branch", "")
    if not raw:
        return None, None
    if not raw.isdigit():
        raise Http404
    branch = Organization.objects.branches().filter(pk=int(raw)).first()
    if branch is None:
        raise Http404
    return branch, None


def _owner_choices(branch: Organization, on: dt.date):
    """The logins of the branch committee: a rectification is owned by one of them (the 书记 by default)."""
    return (
        get_user_model()
        .objects.filter(
            Q(member__posts__organization=branch)
            & Q(member__posts__role__in=Post.COMMITTEE_ROLES)
            & active_on(on, "member__posts__"),
            is_active=True,
        )
        .select_related("member")
        .distinct()
        .order_by("member__name", "id")
    )


def _end_of_day(day: dt.date) -> dt.datetime:
    """A deadline picked as a date lasts to the end of that day at the mine (the next local midnight)."""
    return local_midnight(day + dt.timedelta(days=1))


@upload_limit(evidence_request_limit)
@login_required
@throttle("upload", methods=("POST",))
def finding_create(request):
    if not request.user.has_perm(RAISE):
        raise PermissionDenied
    branch, meeting_pk = _branch_for_finding(request)
    if branch is None:
        choice = BranchChoiceForm(branches=Organization.objects.branches().active().order_by("sort_order", "id"))
        return render(request, "supervision/finding_branch_choice.html", {"form": choice})

    today = timezone.localdate()
    kwargs = {"meetings": selectors.branch_meetings_for_finding(branch), "owners": _owner_choices(branch, today)}
    token = request.POST.get("form_token", "") if request.method == "POST" else uuid.uuid4().hex
    if request.method == "POST":
        form = FindingForm(request.POST, request.FILES, **kwargs)
        if not body_is_complete(request):
            form.add_error(None, INCOMPLETE_MESSAGE)
        elif form.is_valid() and len(token) == 32 and token.isalnum():
            data = form.cleaned_data
            now = timezone.now()
            try:
                # The form's one-time token is the finding's source key: a second submit of the
                # same form (double click, refresh) finds the first finding instead of raising another.
                finding = services.finding_raise(
                    branch=branch,
                    meeting=data["meeting"],
                    category=data["category"],
                    severity=data["severity"],
                    description=data["description"],
                    owner=data["owner"],
                    due_at=_end_of_day(data["due_on"]),
                    user=request.user,
                    now=now,
                    source_key=f"form:{token}",
                )
            except ValidationError as error:
                attach_service_errors(form, error)
            else:
                if finding.raised_at != now:
                    messages.info(request, "该问题已经提出过，没有重复提出。")
                    return redirect("supervision:finding_detail", finding.pk)
                messages.success(request, _("问题已提出，整改通知已发送给支部。"))
                refused = _upload(form, user=request.user, now=now, finding=finding)
                if refused:
                    messages.warning(request, "以下材料未能上传，请在问题页面重新上传：" + "；".join(refused))
                return redirect("supervision:finding_detail", finding.pk)
        elif form.is_valid():
            form.add_error(None, _("该表单已失效，请刷新页面后重新提交。"))
    else:
        due_on = add_months(today, SupervisionPolicy.current().rectification_months)
        form = FindingForm(initial={"meeting": meeting_pk, "due_on": due_on}, **kwargs)
    return render(request, "supervision/finding_form.html", {"form": form, "branch": branch, "form_token": token})


# --- One finding ----------------------------------------------------------------------------


def _answer_form(rect: Rectification, can_answer: bool) -> AnswerForm | None:
    # A rejected answer is redone from the measures last written, not from nothing.
    return AnswerForm(initial={"measures": rect.measures}) if can_answer else None


def _detail(request, finding: Finding, *, answer_form=None, reject_form=None, evidence_form=None):
    now = timezone.now()
    rect = getattr(finding, "rectification", None)
    can_add_evidence = request.user.has_perm(RAISE)
    context = {
        "finding": finding,
        "rect": rect,
        "now": now,
        "can_add_evidence": can_add_evidence,
        "evidence_form": evidence_form if evidence_form is not None else (EvidenceForm() if can_add_evidence else None),
    }
    if rect is not None:
        events = list(rect.events.all())
        status_text, status_css = selectors.status_label(
            rect, now=now, was_rejected=any(e.action == e.Action.REJECTED for e in events)
        )
        can_answer = rect.status in Rectification.ANSWERABLE_STATUSES and request.user.has_perm(ANSWER, rect)
        can_decide = rect.status == Status.SUBMITTED and request.user.has_perm(VERIFY, rect)
        context.update(
            events=events,
            deadline=selectors.deadline(rect, now=now),
            status_text=status_text,
            status_css=status_css,
            can_answer=can_answer,
            can_decide=can_decide,
            answer_form=answer_form if answer_form is not None else _answer_form(rect, can_answer),
            reject_form=reject_form if reject_form is not None else (RejectForm() if can_decide else None),
            fallback_recipients=(
                [] if rect.owner_id else services.branch_committee_users(rect.branch_id, on=timezone.localdate(now))
            ),
        )
    return render(request, "supervision/finding_detail.html", context)


@login_required
@require_GET
def finding_detail(request, pk: int):
    return _detail(request, _get_finding_for_user(request, pk))


@upload_limit(evidence_request_limit)
@login_required
@throttle("upload")
@require_POST
def rectification_answer(request, pk: int):
    rect = _get_rectification_for_user(request, pk, ANSWER)
    if rect.status not in Rectification.ANSWERABLE_STATUSES:
        # A second submit of the form: its files must not land on an answer already sent.
        verified = rect.status == Status.VERIFIED
        messages.info(request, services.ALREADY_VERIFIED if verified else services.ALREADY_SUBMITTED)
        return redirect("supervision:finding_detail", rect.finding_id)
    form = AnswerForm(request.POST, request.FILES)
    if not body_is_complete(request):
        # A client that dropped the upload half-way: Django keeps the fields and loses the file
        # quietly. Submitting then would send an answer without its evidence; submit nothing.
        form.add_error(None, INCOMPLETE_MESSAGE)
    elif form.is_valid():
        now = timezone.now()
        try:
            refused = _upload(form, user=request.user, now=now, rectification=rect)
            if refused:
                # The answer waits until its evidence is complete; the files kept are listed on the page.
                form.add_error("files", refused)
            else:
                services.rectification_submit(
                    rectification=rect, measures=form.cleaned_data["measures"], user=request.user, now=now
                )
        except ValidationError as error:
            if _state_error(request, error):
                return redirect("supervision:finding_detail", rect.finding_id)
            attach_service_errors(form, error)
        else:
            if not refused:
                messages.success(request, _("整改情况已提交，等待督导组验收。"))
                return redirect("supervision:finding_detail", rect.finding_id)
    return _detail(request, _get_finding_for_user(request, rect.finding_id), answer_form=form)


@login_required
@require_POST
def rectification_verify(request, pk: int):
    rect = _get_rectification_for_user(request, pk, VERIFY)
    try:
        services.rectification_verify(rectification=rect, user=request.user, now=timezone.now())
    except ValidationError as error:
        if not _state_error(request, error):
            for message in error.messages:
                messages.error(request, message)
    else:
        messages.success(request, _("整改已验收通过。"))
    return redirect("supervision:finding_detail", rect.finding_id)


@login_required
@require_POST
def rectification_reject(request, pk: int):
    rect = _get_rectification_for_user(request, pk, VERIFY)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            services.rectification_reject(
                rectification=rect, reason=form.cleaned_data["reason"], user=request.user, now=timezone.now()
            )
        except ValidationError as error:
            if _state_error(request, error):
                return redirect("supervision:finding_detail", rect.finding_id)
            attach_service_errors(form, error)
        else:
            messages.success(request, _("已驳回，支部将按驳回理由继续整改。"))
            return redirect("supervision:finding_detail", rect.finding_id)
    return _detail(request, _get_finding_for_user(request, rect.finding_id), reject_form=form)


@upload_limit(evidence_request_limit)
@login_required
@throttle("upload")
@require_POST
def finding_evidence_add(request, pk: int):
    """A supervisor adds evidence to a finding (files refused when it was raised, or found later)."""
    finding = _get_finding_for_user(request, pk)
    if not request.user.has_perm(RAISE):
        raise PermissionDenied
    form = EvidenceForm(request.POST, request.FILES)
    if not body_is_complete(request):
        form.add_error(None, INCOMPLETE_MESSAGE)
    elif form.is_valid():
        try:
            refused = _upload(form, user=request.user, now=timezone.now(), finding=finding)
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            if not refused:
                messages.success(request, _("材料已上传，处理完成后即可查看。"))
                return redirect("supervision:finding_detail", finding.pk)
            form.add_error("files", refused)
    return _detail(request, finding, evidence_form=form)


urlpatterns = [
    path("findings/", finding_list, name="finding_list"),
    path("findings/new/", finding_create, name="finding_create"),
    path("findings/export.xlsx", finding_export, name="finding_export"),
    path("findings/<int:pk>/", finding_detail, name="finding_detail"),
    path("findings/<int:pk>/evidence/", finding_evidence_add, name="finding_evidence_add"),
    path("rectifications/mine/", my_rectifications, name="my_rectifications"),
    path("rectifications/<int:pk>/answer/", rectification_answer, name="rectification_answer"),
    path("rectifications/<int:pk>/verify/", rectification_verify, name="rectification_verify"),
    path("rectifications/<int:pk>/reject/", rectification_reject, name="rectification_reject"),
]
