"""The pages of export jobs: progress (with a JSON endpoint the page polls), and the download."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from org.throttle import throttle

from . import exports
from .export_services import export_request, parameters_key
from .models import ExportJob


@login_required
@require_http_methods(["GET", "POST"])
@throttle("export", methods=("POST",))
def export_start(request, kind: str):
    """Offer a mine-wide export: a GET shows what will be written and a button; only the POST queues the job.

    A second POST while the same export (kind, parameters, user) is queued or running returns
    that one. The kind's own check runs here, at the worker and at the download.
    """
    export = exports.get(kind)
    if export is None:
        raise Http404
    try:
        parameters = export.parse(request.POST if request.method == "POST" else request.GET)
    except (ValueError, KeyError, TypeError) as bad:
        raise Http404 from bad
    if not export.allowed(request.user, parameters):
        raise PermissionDenied
    if request.method == "POST":
        job, _created = export_request(kind=kind, parameters=parameters, user=request.user, now=timezone.now())
        return redirect("bulletin:export_job", pk=job.pk)
    running = ExportJob.objects.filter(
        kind=kind,
        parameters_key=parameters_key(parameters),
        requested_by=request.user,
        state__in=ExportJob.ACTIVE_STATES,
    ).first()
    return render(
        request,
        "bulletin/export_start.html",
        {
            "kind": export,
            "parameters": parameters,
            "filename": export.filename(parameters),
            "running": running,
            "back_url": export.back_url(parameters),
        },
    )


def _get_export_job_for_user(request, pk: int) -> tuple[ExportJob, exports.ExportKind]:
    """The requester's own job (another user's is a 404), whose kind's check still passes (else 403)."""
    job = ExportJob.objects.filter(pk=pk, requested_by=request.user).first()
    kind = exports.get(job.kind) if job is not None else None
    if job is None or kind is None:
        raise Http404
    if not kind.allowed(request.user, job.parameters):
        raise PermissionDenied
    return job, kind


def _status(job: ExportJob) -> dict:
    return {
        "state": job.state,
        "state_label": job.get_state_display(),
        "done": job.progress_done,
        "total": job.progress_total,
        "percent": job.percent,
        "failure_reason": job.failure_reason,
        "download_url": reverse("bulletin:export_download", args=[job.pk]) if job.state == job.State.DONE else "",
    }


@login_required
@require_GET
def export_job(request, pk: int):
    job, kind = _get_export_job_for_user(request, pk)
    return render(
        request,
        "bulletin/export_job.html",
        {
            "job": job,
            "kind": kind,
            "back_url": kind.back_url(job.parameters),
            "status": _status(job),
            "now": timezone.now(),
        },
    )


@login_required
@require_GET
def export_job_status(request, pk: int):
    job, _kind = _get_export_job_for_user(request, pk)
    return JsonResponse(_status(job))


@login_required
@require_GET
def export_download(request, pk: int):
    job, _kind = _get_export_job_for_user(request, pk)
    if job.state != ExportJob.State.DONE or not job.file:
        raise Http404
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.filename)
