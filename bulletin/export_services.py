"""Writes of export jobs: request one (or find the one already running), run it, expire old files."""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import tempfile
import time

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from . import exports
from .models import ExportJob
from .services import notify

log = logging.getLogger(__name__)
PROGRESS_EVERY_SECONDS = 0.5
FAILED_MESSAGE = _lazy("生成文件时出错，请稍后重新导出；如仍失败，请把编号 %(reference)s 告知系统管理员。")


def failure_reference(job_id: int) -> str:
    """What the page shows and the log line carries: the job and a random part, e.g. ``EXP-12-3fa9c2``."""
    return f"EXP-{job_id}-{secrets.token_hex(3)}"


def parameters_key(parameters: dict) -> str:
    return json.dumps(parameters, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def export_request(*, kind: str, parameters: dict, user, now: dt.datetime) -> tuple[ExportJob, bool]:
    """Queue an export for ``user``, or return the same export already queued or running (created False).

    The caller has checked ``allowed``; the worker is asked after the commit.
    """
    if exports.get(kind) is None:
        raise ValueError(f"unknown export kind {kind!r}")
    key = parameters_key(parameters)
    active = ExportJob.objects.filter(
        kind=kind, parameters_key=key, requested_by=user, state__in=ExportJob.ACTIVE_STATES
    )
    existing = active.first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            job = ExportJob.objects.create(
                kind=kind, parameters=parameters, parameters_key=key, requested_by=user, created_at=now
            )
    except IntegrityError:  # a second request won the race: it is the one running
        return active.get(), False
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job, True


def _enqueue(job_id: int) -> None:
    from .tasks import run_export

    try:
        run_export.delay(job_id)
    except Exception:
        log.warning("export job %s not queued; the sweep will run it", job_id, exc_info=True)


def export_run(*, job_id: int, now: dt.datetime) -> bool:
    """Claim a queued job (conditional update), write its file, mark it done or failed. True if it ran."""
    claimed = ExportJob.objects.filter(pk=job_id, state=ExportJob.State.QUEUED).update(
        state=ExportJob.State.RUNNING, started_at=now
    )
    if not claimed:
        return False
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    kind = exports.get(job.kind)
    if kind is None:
        return _fail(job, _("未知的导出类型。"), now=now)
    if not kind.allowed(job.requested_by, job.parameters):
        return _fail(job, _("你已无权导出此内容。"), now=now)

    last_saved = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last_saved
        if time.monotonic() - last_saved >= PROGRESS_EVERY_SECONDS:
            last_saved = time.monotonic()
            ExportJob.objects.filter(pk=job.pk).update(progress_done=done, progress_total=total)

    filename = kind.filename(job.parameters)
    try:
        with tempfile.TemporaryFile() as tmp:
            rows = kind.write(tmp, job.parameters, progress)
            tmp.seek(0)
            job.file.save(filename, File(tmp), save=False)
    except Exception:
        # The error's own text may be English or say too much: the page shows a fixed message and a
        # reference, which the log line carries beside the traceback for the administrator.
        reference = failure_reference(job.pk)
        log.exception("export job %s failed, reference %s", job.pk, reference)
        return _fail(job, FAILED_MESSAGE % {"reference": reference}, now=now)

    # The flip and its inbox line commit together: whoever sees the job done finds the link too.
    with transaction.atomic():
        done = ExportJob.objects.filter(pk=job.pk, state=ExportJob.State.RUNNING).update(
            state=ExportJob.State.DONE,
            file=job.file.name,
            filename=filename,
            progress_done=rows,
            progress_total=rows,
            finished_at=now,
            expires_at=now + dt.timedelta(days=settings.EXPORT_KEEP_DAYS),
        )
        if done != 1:
            return False
        notify(
            recipients=[job.requested_by],
            subject=_("导出已完成：%(name)s") % {"name": filename},
            body=_("文件保留 %(days)s 天。") % {"days": settings.EXPORT_KEEP_DAYS},
            url=reverse("bulletin:export_job", args=[job.pk]),
            dedupe_key=f"export:{job.pk}:done",
            channels=["inbox"],
            now=now,
        )
    return True


def _fail(job: ExportJob, reason: str, *, now: dt.datetime) -> bool:
    ExportJob.objects.filter(pk=job.pk, state=ExportJob.State.RUNNING).update(
        state=ExportJob.State.FAILED, failure_reason=reason, finished_at=now
    )
    return True


def export_expire(*, now: dt.datetime) -> int:
    """Delete the files of finished jobs past ``expires_at``; the row stays, as 已过期. Returns how many."""
    expired = 0
    for job in ExportJob.objects.filter(state=ExportJob.State.DONE, expires_at__lte=now):
        if ExportJob.objects.filter(pk=job.pk, state=ExportJob.State.DONE).update(
            state=ExportJob.State.EXPIRED, file=""
        ):
            if job.file:
                job.file.storage.delete(job.file.name)
            expired += 1
    return expired


def queued_job_ids(*, before: dt.datetime) -> list[int]:
    """Jobs still queued since before ``before`` (their task was lost): the sweep runs them."""
    return list(
        ExportJob.objects.filter(state=ExportJob.State.QUEUED, created_at__lt=before).values_list("pk", flat=True)
    )
