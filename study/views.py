"""Pages of the study library: the list, one item, drafts, review, withdrawal, a 党课 as a 微党课.

Every item is loaded through ``_get_item_for_user`` (``study.selectors.item_for_user``: 404 when
the user may not open it) and each step checks its ``study.*`` predicate (403).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from meetings.models import Meeting

# The meetings app's one-time form tokens (a second submit of a create form finds what the first made).
from meetings.views.meetings import STALE_FORM, _claim_token, _issue_token, _spend_token
from org.forms import attach_service_errors, error_messages
from org.uploads import INCOMPLETE_MESSAGE, body_is_complete, upload_limit

from . import media, selectors, services, views_records
from .forms import LibrarySearchForm, ReviewForm, StudyItemForm, WithdrawForm
from .models import Column, StudyItem, StudyMedia

PAGE_SIZE = 20
CREATE_PURPOSE = "study_item_create"


def _get_item_for_user(request, pk: int, perm: str | None = None) -> StudyItem:
    """The item if the user may open it (else 404) and, with ``perm``, may take that step (else 403)."""
    item = selectors.item_for_user(request.user, pk)
    if perm is not None and not request.user.has_perm(perm, item):
        raise PermissionDenied
    return item


# --- The library -----------------------------------------------------------------------------


@login_required
def library(request):
    columns = list(Column.objects.filter(active=True))
    form = LibrarySearchForm(request.GET or None, columns=columns)
    q, column_id, kind = "", None, ""
    if form.is_valid():
        q = form.cleaned_data["q"]
        column_id = form.cleaned_data["column"].pk if form.cleaned_data["column"] else None
        kind = form.cleaned_data["kind"]
    rows = selectors.library_items(request.user, q=q, column_id=column_id, kind=kind)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    ctx = {
        "form": form,
        "page_obj": page,
        "columns": columns,
        "column_id": column_id,
        "can_add": request.user.has_perm("study.add_item"),
        "can_review": request.user.has_perm("study.review_item"),
    }
    return render(request, "study/library.html", ctx)


@login_required
def manage(request):
    """我发布的: the items the user writes, in every state; and the review queue for the 党委工作部."""
    if not (request.user.has_perm("study.add_item") or request.user.has_perm("study.review_item")):
        raise PermissionDenied
    rows = selectors.editable_items(request.user).prefetch_related(None).order_by("-created_at", "-id")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    review = list(selectors.review_queue(request.user).prefetch_related(None)[:50])
    return render(request, "study/manage.html", {"page_obj": page, "review": review})


@login_required
def item_detail(request, pk: int):
    item = _get_item_for_user(request, pk)
    user = request.user
    can_edit = user.has_perm("study.edit_item", item)
    can_review = user.has_perm("study.review_item", item)
    is_draft = item.state == StudyItem.State.DRAFT
    ctx = {
        "item": item,
        "branches": list(item.branches.all()) if item.audience == StudyItem.Audience.BRANCHES else [],
        "media": StudyMedia.objects.filter(item=item).first() if item.kind in services.FILE_KINDS else None,
        "can_edit": can_edit and is_draft,
        "can_submit": can_edit and is_draft,
        "can_review": can_review and item.state == StudyItem.State.IN_REVIEW,
        "can_withdraw": item.state == StudyItem.State.PUBLISHED and user.has_perm("study.withdraw_item", item),
        "can_reopen": can_edit and item.state == StudyItem.State.WITHDRAWN,
        "show_history": can_edit or can_review,
    }
    if ctx["can_submit"] or ctx["can_review"]:
        ctx["problems"] = services.submission_problems(item)
    if ctx["can_review"]:
        ctx["review_form"] = ReviewForm()
    if ctx["can_withdraw"]:
        ctx["withdraw_form"] = WithdrawForm()
    if ctx["show_history"]:
        ctx["history"] = list(selectors.item_history(item)[:30])
    ctx.update(views_records.record_for_page(request, item, ctx["media"]))  # the member's progress
    return render(request, "study/item_detail.html", ctx)


# --- Drafts ----------------------------------------------------------------------------------


def _attach(form, item: StudyItem, *, user, now) -> None:
    upload = form.cleaned_data.get("file")
    if upload:
        media.attach_upload(item=item, upload=upload, user=user, now=now)


@login_required
@upload_limit(media.request_limit)
def item_create(request):
    if not request.user.has_perm("study.add_item"):
        raise PermissionDenied
    if request.method == "POST":
        form = StudyItemForm(request.POST.copy(), request.FILES, user=request.user)
        if not body_is_complete(request):
            form.add_error(None, INCOMPLETE_MESSAGE)
        elif form.is_valid():
            token = form.cleaned_data["form_token"]
            now = timezone.now()
            try:
                with transaction.atomic():
                    state, created_pk = _claim_token(request, token, CREATE_PURPOSE)
                    if state == "spent":
                        messages.info(request, _("该资料已经创建过，没有重复创建。"))
                        return redirect("study:item_detail", created_pk)
                    if state == "unknown":
                        form.data["form_token"] = _issue_token(request, CREATE_PURPOSE)
                        form.add_error(None, STALE_FORM)
                    else:
                        fields = form.service_fields()
                        item = services.item_create(
                            user=request.user, organization=form.cleaned_data["organization"], now=now, **fields
                        )
                        # The file is checked and stored with the draft: a refused file saves nothing.
                        _attach(form, item, user=request.user, now=now)
                        _spend_token(request, token, item.pk)
                        messages.success(request, _("草稿已保存。检查无误后请提交审核。"))
                        return redirect("study:item_detail", item.pk)
            except ValidationError as error:
                attach_service_errors(form, error)
    else:
        form = StudyItemForm(user=request.user, initial={"form_token": _issue_token(request, CREATE_PURPOSE)})
    if not form.fields["organization"].queryset.exists():
        raise PermissionDenied
    return render(request, "study/item_form.html", {"form": form, "item": None})


@login_required
@upload_limit(media.request_limit)
def item_edit(request, pk: int):
    item = _get_item_for_user(request, pk, "study.edit_item")
    if item.state != StudyItem.State.DRAFT:
        messages.error(request, _("只有草稿可以修改；已提交审核或已发布的资料请先退回或撤回。"))
        return redirect("study:item_detail", item.pk)
    if request.method == "POST":
        form = StudyItemForm(request.POST, request.FILES, user=request.user, item=item)
        if not body_is_complete(request):
            form.add_error(None, INCOMPLETE_MESSAGE)
        elif form.is_valid():
            now = timezone.now()
            try:
                with transaction.atomic():
                    item = services.item_update(item=item, user=request.user, now=now, **form.service_fields())
                    _attach(form, item, user=request.user, now=now)
            except ValidationError as error:
                attach_service_errors(form, error)
            else:
                messages.success(request, _("草稿已保存。"))
                return redirect("study:item_detail", item.pk)
    else:
        form = StudyItemForm(user=request.user, item=item, initial=StudyItemForm.initial_for(item))
    return render(request, "study/item_form.html", {"form": form, "item": item})


# --- Steps -----------------------------------------------------------------------------------


def _step(request, item: StudyItem, service, success: str, **kwargs):
    try:
        service(item=item, user=request.user, now=timezone.now(), **kwargs)
    except ValidationError as error:
        error_messages(request, error)
    else:
        messages.success(request, success)
    return redirect("study:item_detail", item.pk)


@login_required
@require_POST
def item_submit(request, pk: int):
    item = _get_item_for_user(request, pk, "study.edit_item")
    return _step(request, item, services.item_submit, _("已提交党委工作部审核。"))


@login_required
@require_POST
def item_review(request, pk: int):
    item = _get_item_for_user(request, pk, "study.review_item")
    form = ReviewForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("study:item_detail", item.pk)
    note = form.cleaned_data.get("note", "")
    if form.cleaned_data["decision"] == "publish":
        return _step(request, item, services.item_publish, _("已审核通过并发布。"), note=note)
    return _step(request, item, services.item_return, _("已退回修改，发布人会收到审核意见。"), note=note)


@login_required
@require_POST
def item_withdraw(request, pk: int):
    item = _get_item_for_user(request, pk, "study.withdraw_item")
    form = WithdrawForm(request.POST)
    reason = form.data.get("reason", "")
    return _step(request, item, services.item_withdraw, _("已撤回，党员不再看到这份资料。"), reason=reason)


@login_required
@require_POST
def item_reopen(request, pk: int):
    item = _get_item_for_user(request, pk, "study.edit_item")
    return _step(request, item, services.item_reopen, _("已转为草稿，修改后可再次提交审核。"))


# --- A recorded 党课 as a 微党课 ----------------------------------------------------------------


@login_required
@require_POST
def publish_recording(request, meeting_pk: int):
    meeting = Meeting.objects.select_related("branch", "lecturer").filter(pk=meeting_pk).first()
    if meeting is None or not request.user.has_perm("meetings.view_meeting", meeting):
        raise Http404
    if not request.user.has_perm("study.publish_recording", meeting):
        raise PermissionDenied
    try:
        item, created = services.publish_recording(meeting=meeting, user=request.user, now=timezone.now())
    except ValidationError as error:
        error_messages(request, error)
        return redirect("meetings:meeting_detail", meeting.pk)
    if not created:
        messages.info(request, _("这次党课已经发布为微党课，没有重复发布。"))
    elif item.state == StudyItem.State.IN_REVIEW:
        messages.success(request, _("已生成微党课并提交党委工作部审核。"))
    else:
        messages.warning(request, _("已生成微党课草稿；这次党课没有可用的视频，请上传录像后提交审核。"))
    return redirect("study:item_detail", item.pk)
