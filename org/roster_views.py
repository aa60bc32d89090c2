"""Roster pages: the template download, upload → preview → confirm, and the export.

Between preview and confirm the upload waits on disk under ``VAR_DIR/imports``, named by
a random token and described by a small JSON file holding the uploader's id, so that no
request keeps it in memory and only its uploader can import it. Confirming claims the
file by renaming it: of two clicks on the button only one finds it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from . import roster
from .audit import audit_record
from .forms_roster import RosterUploadForm
from .models import AuditEvent, Organization
from .throttle import throttle
from .uploads import INCOMPLETE_MESSAGE, MULTIPART_OVERHEAD, body_is_complete, upload_limit
from .xlsx import XLSX_CONTENT_TYPE

PENDING_TTL = dt.timedelta(hours=24)
PREVIEW_CHANGE_LIMIT = 500
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
GONE_MESSAGE = "该导入已完成或已过期，未导入任何数据。如需导入，请重新上传文件。"


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


# --- Uploads waiting for confirmation ------------------------------------------


@dataclass(frozen=True)
class _Pending:
    token: str
    data: Path
    meta: Path
    filename: str

    @property
    def claimed(self) -> Path:
        return self.data.with_suffix(".importing")

    def discard(self) -> None:
        for path in (self.data, self.claimed, self.meta):
            path.unlink(missing_ok=True)


def _imports_dir() -> Path:
    path = Path(settings.VAR_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _paths(token: str) -> tuple[Path, Path]:
    folder = _imports_dir()
    return folder / f"{token}.xlsx", folder / f"{token}.json"


def _sweep(*, now: dt.datetime) -> None:
    """Forget uploads nobody confirmed: they would otherwise stay on disk for ever."""
    cutoff = (now - PENDING_TTL).timestamp()
    for path in _imports_dir().iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            pass  # removed by a concurrent request


def _store(upload, *, user, now: dt.datetime) -> str:
    token = secrets.token_urlsafe(24)
    data, meta = _paths(token)
    upload.seek(0)
    with data.open("xb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    # Written last: a token whose description exists has its whole file on disk.
    meta.write_text(json.dumps({"user_id": user.pk, "filename": upload.name, "uploaded_at": now.isoformat()}))
    return token


def _pending_for(request, token: str, *, now: dt.datetime) -> _Pending | None:
    """The user's pending upload; ``None`` when done or expired; 404 when it is someone else's."""
    if not _TOKEN_RE.match(token):
        raise Http404
    data, meta = _paths(token)
    try:
        info = json.loads(meta.read_text())
    except (FileNotFoundError, ValueError):
        return None
    if info.get("user_id") != request.user.pk:
        raise Http404
    pending = _Pending(token=token, data=data, meta=meta, filename=info.get("filename", ""))
    if now - dt.datetime.fromisoformat(info["uploaded_at"]) > PENDING_TTL:
        pending.discard()
        return None
    return pending


def _gone(request):
    messages.warning(request, GONE_MESSAGE)
    return redirect("org:roster_import")


# --- Pages ---------------------------------------------------------------------


def _render_preview(request, *, plan: roster.RosterPlan, filename: str, token: str | None = None, status: int = 200):
    changes = plan.visible_changes
    ctx = {
        "plan": plan,
        "filename": filename,
        "token": token if plan.is_valid else None,
        "changes": changes[:PREVIEW_CHANGE_LIMIT],
        "hidden_changes": max(0, len(changes) - PREVIEW_CHANGE_LIMIT),
        "form": RosterUploadForm(),
    }
    return render(request, "org/roster_preview.html", ctx, status=status)


@login_required
@require_GET
def roster_template(request):
    _require(request, "org.import_roster")
    content = roster.build_template(branches=Organization.objects.branches().active())
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=_("党员名册导入模板.xlsx")
    )
    return response


@upload_limit(roster.MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD)
@login_required
@throttle("upload", methods=("POST",))
@require_http_methods(["GET", "POST"])
def roster_import(request):
    """Upload a roster: an unreadable file stays on this page; a readable one goes to the preview."""
    _require(request, "org.import_roster")
    form = RosterUploadForm(request.POST, request.FILES) if request.method == "POST" else RosterUploadForm()
    if form.is_bound and not body_is_complete(request):
        form.add_error(None, INCOMPLETE_MESSAGE)
    elif form.is_bound and form.is_valid():
        upload = form.cleaned_data["file"]
        now = timezone.now()
        try:
            parsed = roster.read_roster(upload, today=timezone.localdate(now))
        except roster.RosterFileError as exc:
            form.add_error("file", exc.message)
        else:
            plan = roster.check_roster(parsed, now=now)
            if not plan.is_valid:
                # Nothing to confirm: show the problems without keeping the file.
                return _render_preview(request, plan=plan, filename=upload.name)
            _sweep(now=now)
            token = _store(upload, user=request.user, now=now)
            return redirect("org:roster_import_confirm", token=token)
    return render(
        request,
        "org/roster_import.html",
        {"form": form, "can_export": request.user.has_perm("org.export_roster")},
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def roster_import_confirm(request, token: str):
    """GET: the preview of a stored upload, checked again. POST: import it, all rows or none."""
    _require(request, "org.import_roster")
    now = timezone.now()
    pending = _pending_for(request, token, now=now)
    if pending is None:
        return _gone(request)
    if request.method == "GET":
        return _preview_pending(request, pending, now=now)
    return _confirm_pending(request, pending, now=now)


def _preview_pending(request, pending: _Pending, *, now: dt.datetime):
    try:
        with pending.data.open("rb") as stored:
            parsed = roster.read_roster(stored, today=timezone.localdate(now))
    except FileNotFoundError:
        return _gone(request)
    except roster.RosterFileError as exc:
        pending.discard()
        messages.error(request, exc.message)
        return redirect("org:roster_import")
    plan = roster.check_roster(parsed, now=now)
    return _render_preview(request, plan=plan, filename=pending.filename, token=pending.token)


def _confirm_pending(request, pending: _Pending, *, now: dt.datetime):
    try:
        # Claim the file: a second click (or a second tab) finds it gone.
        pending.data.rename(pending.claimed)
    except FileNotFoundError:
        return _gone(request)
    try:
        with pending.claimed.open("rb") as stored:
            parsed = roster.read_roster(stored, today=timezone.localdate(now))
        plan = roster.roster_import(parsed=parsed, now=now)
    except roster.RosterFileError as exc:
        pending.discard()
        messages.error(request, exc.message)
        return redirect("org:roster_import")
    except Exception:
        # Give the upload back so that the user can try again after the failure is fixed.
        pending.claimed.rename(pending.data)
        raise
    pending.discard()
    if not plan.is_valid:
        messages.error(request, "名册数据与系统中的数据已不一致，未导入任何数据。请修改后重新上传。")
        return _render_preview(request, plan=plan, filename=pending.filename)
    messages.success(
        request,
        _(
            "导入完成：新增 {created} 人，更新 {updated} 人（其中组织关系转接 {transfers} 人），未变化 {unchanged} 人。"
        ).format(created=plan.created, updated=plan.updated, transfers=plan.transfers, unchanged=plan.unchanged),
    )
    return redirect("org:roster_import")


@login_required
@require_GET
@throttle("export")
def roster_export(request):
    """The roster in the template's columns, written to a temporary file and streamed from there.

    It holds every member's full ID number: the 党委工作部 and the administrator only, and
    every download is written to the audit log.
    """
    _require(request, "org.export_roster")
    now = timezone.now()
    today = timezone.localdate(now)
    audit_record(
        request=request,
        action=AuditEvent.Action.ROSTER_EXPORT,
        object_repr=_("党员名册-{today:%Y%m%d}.xlsx").format(today=today),
        now=now,
    )
    # Not a `with` block: FileResponse closes (and so deletes) it once it is sent.
    out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115
    try:
        roster.write_roster(roster.export_rows(on=today).iterator(chunk_size=1000), out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return FileResponse(
        out,
        as_attachment=True,
        filename=_("党员名册-{today:%Y%m%d}.xlsx").format(today=today),
        content_type=XLSX_CONTENT_TYPE,
    )
