"""The worker's side of report files: the served copy without metadata, made by the evidence pipeline.

A report's files are stored as uploaded (``TaskReportFile.stored``) and 处理中 until
``report_file_process`` has made the display copy and thumbnail through
``supervision.services.evidence.store_clean_copies`` (the one pipeline, shared with meeting
evidence); claiming and processing are ``supervision.services.clean_copies``, shared with
学习心得 photos.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction

from supervision.services.clean_copies import clean_copy_process, image_display_type, stale_ids

from .models import TaskReportFile

logger = logging.getLogger(__name__)

PREFIX = "tasks/"


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


def report_file_process(*, file_id: int, now: dt.datetime) -> bool:
    """Make the served copy and thumbnail of one report file; True if this call finished it (可用 or 处理失败)."""
    return clean_copy_process(
        model=TaskReportFile,
        pk=file_id,
        now=now,
        original_name=lambda f: f.stored,
        kind=lambda f: f.kind,
        # a PDF is served as uploaded, an image as its re-encoded copy
        display_type=lambda f, display: image_display_type(display) if f.kind == "image" else f.content_type,
        prefix=PREFIX,
        label=f"task report file {file_id}",
        thumbnail_field="thumbnail",
    )


def report_files_process_stale(*, now: dt.datetime) -> int:
    """Files still 处理中 whose task was lost or whose worker died (``clean_copies.stale_ids``)."""
    ids = stale_ids(model=TaskReportFile, created_field="report__submitted_at", now=now)
    return sum(report_file_process(file_id=file_id, now=now) for file_id in ids)
