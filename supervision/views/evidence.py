"""The evidence of a meeting: gallery, upload, downloads, deletion.

Files are never served by URL: every download goes through ``evidence_file`` or
``evidence_thumbnail``, which load the evidence with its owner in one query and check
``supervision.view_evidence`` (a meeting's) or ``supervision.view_finding`` (a finding's
or rectification's). Only the worker's clean copy is served, never the original.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from meetings.models import Meeting
from org.audit import audit_record
from org.models import AuditEvent
from org.throttle import throttle
from org.uploads import INCOMPLETE_MESSAGE, body_is_complete, upload_limit

from .. import uploads
from ..forms import ACCEPT, EvidenceUploadForm
from ..models import Evidence, SupervisionPolicy, evidence_storage
from ..selectors import evidence as selectors
from ..services import evidence as services

VIEW = "supervision.view_evidence"
UPLOAD = "supervision.upload_evidence"
VIEW_FINDING = "supervision.view_finding"
# Those who manage the record even when it is locked: they are told why, not just refused.
MANAGE_RECORD = "meetings.record_minutes"
SEE_CAPTURE_DATA = "supervision.view_flags"
# While files are 处理中 the page reloads itself every few seconds, for a couple of minutes at most,
# so that a user choosing files is not interrupted for ever when the worker is down.
REFRESH_SECONDS = 5
REFRESH_MAX = 24


# --- Loading and permissions ----------------------------------------------------------


def _get_meeting_for_user(request, pk: int, perm: str) -> Meeting:
    """The meeting in one query: 404 if the user may not see its evidence, 403 if they may not ``perm`` it."""
    meeting = Meeting.objects.select_related("branch", "group").filter(pk=pk).first()
    if meeting is None or not request.user.has_perm(VIEW, meeting):
        raise Http404
    if perm != VIEW and not request.user.has_perm(perm, meeting):
        raise PermissionDenied
    return meeting


def _owner(ev: Evidence):
    return ev.meeting or ev.finding or ev.rectification


def _get_evidence_for_user(request, pk: int) -> Evidence:
    """The evidence with its owner in one query; 404 for whoever may not see the owner."""
    ev = selectors.evidence_with_owner().filter(pk=pk).first()
    if ev is None:
        raise Http404
    perm = VIEW if ev.meeting_id else VIEW_FINDING
    if not request.user.has_perm(perm, _owner(ev)):
        raise Http404
    return ev


def _locked_redirect(request, meeting: Meeting):
    """For the record's own managers, a locked record is explained; everyone else is refused."""
    if meeting.is_locked and request.user.has_perm(MANAGE_RECORD, meeting):
        messages.error(request, services.LOCKED_MESSAGE)
        return redirect("supervision:meeting_evidence", meeting.pk)
    raise PermissionDenied


# --- The page -------------------------------------------------------------------------


def _page(request, meeting: Meeting, *, form=None, upload_errors=(), status: int = 200):
    items = list(selectors.evidence_of_meeting(meeting))
    can_upload = request.user.has_perm(UPLOAD, meeting)
    processing = selectors.any_processing(items)
    try:
        refreshed = int(request.GET.get("refresh", "0"))
    except ValueError:
        refreshed = 0
    policy = SupervisionPolicy.current() if can_upload else None
    ctx = {
        "meeting": meeting,
        "page_title": _("佐证材料"),
        "groups": selectors.group_by_category(items),
        "count": len(items),
        "can_upload": can_upload,
        "can_delete": can_upload,
        "show_capture_data": request.user.has_perm(SEE_CAPTURE_DATA, meeting),
        "form": form or EvidenceUploadForm(),
        "accept": ACCEPT,
        "limits": [(label, policy.max_bytes(value) // (1024 * 1024)) for value, label in Evidence.Category.choices]
        if policy
        else [],
        "upload_errors": upload_errors,
        "processing": processing,
        "refresh_next": refreshed + 1 if processing and refreshed < REFRESH_MAX else None,
        "refresh_seconds": REFRESH_SECONDS,
    }
    return render(request, "supervision/evidence_page.html", ctx, status=status)


@login_required
def meeting_evidence(request, meeting_pk: int):
    meeting = _get_meeting_for_user(request, meeting_pk, VIEW)
    return _page(request, meeting)


# --- Upload ---------------------------------------------------------------------------


@csrf_exempt  # the body must not be parsed before the size guard is installed; CSRF is checked in _receive
@upload_limit(uploads.evidence_request_limit)
@login_required
@throttle("upload")
@require_POST
def evidence_upload(request, meeting_pk: int):
    # Who may upload is known before one byte of the body is read.
    meeting = _get_meeting_for_user(request, meeting_pk, VIEW)
    if not request.user.has_perm(UPLOAD, meeting):
        return _locked_redirect(request, meeting)
    # A body announcing more than uploads.request_limit was refused by org.uploads' middleware.
    policy = SupervisionPolicy.current()
    request.upload_handlers.insert(0, uploads.SizeLimitHandler(request, limit=uploads.largest_file_limit(policy)))
    return _receive(request, meeting, policy)


@csrf_protect
def _receive(request, meeting: Meeting, policy: SupervisionPolicy):
    form = EvidenceUploadForm(request.POST, request.FILES)
    if not body_is_complete(request):
        # The client stopped sending half-way: keep nothing of it, not even the files that arrived.
        return _page(request, meeting, upload_errors=[("", INCOMPLETE_MESSAGE)], status=400)
    category = request.POST.get("category", "")
    oversized = [
        (name, services.size_message(category, policy.max_bytes(category)))
        if category in Evidence.Category.values
        else (name, _("文件过大。"))
        for name in getattr(request, "evidence_oversized", [])
    ]
    if not form.is_valid():
        if oversized and set(form.errors) == {"files"}:
            return _page(request, meeting, upload_errors=oversized, status=413)
        return _page(request, meeting, form=form, status=400)
    try:
        result = services.evidence_upload(
            files=form.cleaned_data["files"],
            category=form.cleaned_data["category"],
            user=request.user,
            now=timezone.now(),
            meeting=meeting,
        )
    except ValidationError as error:
        # Locked between the permission check and the insert (submitted meanwhile).
        for message in error.messages:
            messages.error(request, message)
        return redirect("supervision:meeting_evidence", meeting.pk)
    rejected = oversized + result.rejected
    if not result.saved and rejected and all(m == services.DUPLICATE_MESSAGE for _n, m in rejected):
        # A double submit (second tap, back and resend): what was sent is already there.
        messages.info(request, services.DUPLICATE_MESSAGE)
        return redirect("supervision:meeting_evidence", meeting.pk)
    if not result.saved:
        status = 413 if oversized and not result.rejected else 400
        return _page(request, meeting, upload_errors=rejected, status=status)
    messages.success(
        request, _("已上传 {len} 个文件，正在处理（缩略图和拍摄信息稍后显示）。").format(len=len(result.saved))
    )
    for name, message in rejected:
        messages.error(request, f"{name}：{message}")
    return redirect("supervision:meeting_evidence", meeting.pk)


# --- Downloads ------------------------------------------------------------------------


def _unavailable(request, ev: Evidence, message: str):
    return render(request, "supervision/evidence_unavailable.html", {"evidence": ev, "message": message}, status=404)


def _not_served_yet(request, ev: Evidence):
    if ev.status == Evidence.Status.PROCESSING:
        return _unavailable(request, ev, _("该文件正在处理中，请稍后刷新页面再下载。"))
    if ev.status == Evidence.Status.FAILED:
        return _unavailable(request, ev, _("该文件处理失败：{error}").format(error=ev.error))
    return None


def _stream(request, ev: Evidence, name: str, *, content_type: str, attachment: bool, suffix: str):
    try:
        fh = evidence_storage().open(name, "rb")
    except FileNotFoundError:
        return _unavailable(request, ev, _("文件已丢失，请联系上传人重新上传。"))
    filename = f"{PurePosixPath(ev.original_name).stem or 'file'}{suffix}"
    response = FileResponse(fh, as_attachment=attachment, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    return response


SERVED_IMAGE_TYPES = {".jpg": "image/jpeg", ".png": "image/png"}


def served_content_type(ev: Evidence) -> str:
    """The type of the served copy: pictures are re-encoded (JPEG, or PNG with transparency); others keep theirs."""
    if ev.kind == Evidence.Kind.IMAGE:
        return SERVED_IMAGE_TYPES[PurePosixPath(ev.file.name).suffix]
    return ev.content_type


@login_required
@throttle("download")
def evidence_file(request, pk: int):
    ev = _get_evidence_for_user(request, pk)
    refusal = _not_served_yet(request, ev)
    if refusal is not None:
        return refusal
    if not ev.file:
        raise Http404
    # Who downloaded which file from where: the 督导组 reads it on the audit log page.
    owner = _owner(ev)
    audit_record(
        request=request,
        action=AuditEvent.Action.EVIDENCE_DOWNLOAD,
        # The owner by kind and number: its str() would cost a query for the branch.
        object_repr=f"{owner._meta.verbose_name} {owner.pk}：{ev.original_name}",
        object_id=ev.pk,
        now=timezone.now(),
    )
    suffix = PurePosixPath(ev.file.name).suffix
    return _stream(request, ev, ev.file.name, content_type=served_content_type(ev), attachment=True, suffix=suffix)


@login_required
def evidence_thumbnail(request, pk: int):
    ev = _get_evidence_for_user(request, pk)
    refusal = _not_served_yet(request, ev)
    if refusal is not None:
        return refusal
    if not ev.thumbnail:
        return _unavailable(request, ev, _("该文件没有缩略图。"))
    return _stream(request, ev, ev.thumbnail.name, content_type="image/jpeg", attachment=False, suffix=".jpg")


# --- Delete ---------------------------------------------------------------------------


@login_required
@require_POST
def evidence_delete(request, pk: int):
    ev = _get_evidence_for_user(request, pk)
    if ev.meeting_id:
        if not request.user.has_perm(UPLOAD, ev.meeting):
            return _locked_redirect(request, ev.meeting)
        back = redirect("supervision:meeting_evidence", ev.meeting_id)
    else:
        perm, obj = (
            ("supervision.answer_rectification", ev.rectification)
            if ev.rectification_id
            else ("supervision.raise_finding", ev.finding)
        )
        if not request.user.has_perm(perm, obj):
            raise PermissionDenied
        finding_id = ev.finding_id or ev.rectification.finding_id
        back = redirect("supervision:finding_detail", finding_id)
    try:
        services.evidence_delete(evidence=ev, user=request.user, now=timezone.now())
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return back
    messages.success(request, _("已删除：{original_name}").format(original_name=ev.original_name))
    return back


urlpatterns = [
    path("meetings/<int:meeting_pk>/evidence/", meeting_evidence, name="meeting_evidence"),
    path("meetings/<int:meeting_pk>/evidence/upload/", evidence_upload, name="evidence_upload"),
    path("evidence/<int:pk>/file/", evidence_file, name="evidence_file"),
    path("evidence/<int:pk>/thumbnail/", evidence_thumbnail, name="evidence_thumbnail"),
    path("evidence/<int:pk>/delete/", evidence_delete, name="evidence_delete"),
]
