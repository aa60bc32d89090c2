"""The worker's side of report files: the served copy without metadata, made by the evidence pipeline.

A report's files are stored as uploaded (``TaskReportFile.stored``) and 处理中 until
``report_file_process`` has made the display copy and thumbnail through
``supervision.services.evidence.store_clean_copies`` (the one pipeline, shared with meeting
evidence). A claim is a conditional update with a lease, so a task run twice, or the sweep
and a task at once, process a file once; a worker killed mid-file leaves a lease that runs out.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Q

from supervision.services.evidence import LEASE, STALE_AFTER, ProcessingFailed, delete_stored_files, store_clean_copies

from .models import TaskReportFile

logger = logging.getLogger(__name__)

PREFIX = "tasks/"
SWEEP_BATCH = 50


def enqueue_report_files(file_ids: list[int]) -> None:
    """After the report's transaction commits, hand its files to the worker.

    A broker that is down leaves them to the sweep (``report_files_process_stale``).
    """
    from .tasks import process_report_file  # the tasks module imports this one

    def send() -> None:
        for file_id in file_ids:
            try:
                process_report_file.delay(file_id)
            except Exception:
                logger.warning("could not enqueue processing of report file %s; the sweep will pick it up", file_id)

    transaction.on_commit(send)


def _claim(file_id: int, now: dt.datetime) -> dt.datetime | None:
    held_until = now + LEASE
    claimed = (
        TaskReportFile.objects.filter(pk=file_id, status=TaskReportFile.Status.PROCESSING)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now))
        .update(lease_expires_at=held_until)
    )
    return held_until if claimed else None


def report_file_process(*, file_id: int, now: dt.datetime) -> bool:
    """Make the served copy and thumbnail of one report file; True if this call finished it (可用 or 处理失败)."""
    held_until = _claim(file_id, now)
    if held_until is None:
        return False
    file = TaskReportFile.objects.filter(pk=file_id).first()
    if file is None:
        return False
    mine = TaskReportFile.objects.filter(
        pk=file_id, status=TaskReportFile.Status.PROCESSING, lease_expires_at=held_until
    )
    new_files: list[str] = []
    try:
        try:
            outcome = store_clean_copies(
                original_name=file.stored,
                kind=file.kind,
                now=now,
                new_files=new_files,
                prefix=PREFIX,
                label=f"task report file {file_id}",
            )
        except ProcessingFailed as failed:
            return bool(
                mine.update(
                    status=TaskReportFile.Status.FAILED,
                    error=failed.message[:300],
                    processed_at=now,
                    lease_expires_at=None,
                )
            )
        display = outcome.fields["file"]
        display_type = file.content_type
        if file.kind == "image":
            display_type = "image/png" if display.endswith(".png") else "image/jpeg"
        done = mine.update(
            status=TaskReportFile.Status.READY,
            display=display,
            display_type=display_type,
            thumbnail=outcome.fields.get("thumbnail", ""),
            error="",
            processed_at=now,
            lease_expires_at=None,
        )
    except BaseException:
        delete_stored_files(new_files)
        raise
    if not done:  # another worker took the file over meanwhile
        delete_stored_files(new_files)
    return bool(done)


def report_files_process_stale(*, now: dt.datetime) -> int:
    """Files still 处理中 whose task was lost or whose worker died.

    Lost: never claimed and reported more than ``STALE_AFTER`` ago; died: the lease ran out.
    """
    ids = list(
        TaskReportFile.objects.filter(status=TaskReportFile.Status.PROCESSING)
        .filter(
            Q(lease_expires_at__isnull=True, report__submitted_at__lte=now - STALE_AFTER) | Q(lease_expires_at__lte=now)
        )
        .order_by("id")
        .values_list("id", flat=True)[:SWEEP_BATCH]
    )
    return sum(report_file_process(file_id=file_id, now=now) for file_id in ids)
