"""Files of other apps made clean by the worker: one claim-and-process rule for all of them.

Task report files and 学习心得 photos are stored as uploaded (EXIF and GPS included, never
served) and stay 处理中 until the worker has made their served copy through
``evidence.store_clean_copies`` (the one pipeline, shared with meeting evidence). A row is
claimed by a conditional update with a lease, so a task run twice, or the sweep and a task at
once, process it once; a worker killed mid-file leaves a lease that runs out.

A model using this has ``status`` (with ``Status.PROCESSING / READY / FAILED``),
``lease_expires_at``, ``error``, ``processed_at``, ``display`` and ``display_type``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db.models import Q

from .evidence import LEASE, STALE_AFTER, ProcessingFailed, delete_stored_files, store_clean_copies

SWEEP_BATCH = 50


def clean_copy_process(
    *,
    model,
    pk: int,
    now: dt.datetime,
    original_name: Callable[[object], str],
    kind: Callable[[object], str],
    display_type: Callable[[object, str], str],
    prefix: str,
    label: str,
    thumbnail_field: str | None = None,
) -> bool:
    """Make the served copy of one row; True if this call finished it (可用 or 处理失败).

    ``thumbnail_field``: where the thumbnail's name goes; without one the thumbnail is deleted.
    """
    processing = model.Status.PROCESSING
    held_until = now + LEASE
    claimed = (
        model.objects.filter(pk=pk, status=processing)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now))
        .update(lease_expires_at=held_until)
    )
    if not claimed:
        return False
    row = model.objects.filter(pk=pk).first()
    if row is None:
        return False
    mine = model.objects.filter(pk=pk, status=processing, lease_expires_at=held_until)
    new_files: list[str] = []
    try:
        try:
            outcome = store_clean_copies(
                original_name=original_name(row),
                kind=kind(row),
                now=now,
                new_files=new_files,
                prefix=prefix,
                label=label,
            )
        except ProcessingFailed as failed:
            return bool(
                mine.update(
                    status=model.Status.FAILED, error=failed.message[:300], processed_at=now, lease_expires_at=None
                )
            )
        display = outcome.fields["file"]
        thumbnail = outcome.fields.get("thumbnail", "")
        fields = {
            "status": model.Status.READY,
            "display": display,
            "display_type": display_type(row, display),
            "error": "",
            "processed_at": now,
            "lease_expires_at": None,
        }
        if thumbnail_field:
            fields[thumbnail_field] = thumbnail
        done = mine.update(**fields)
    except BaseException:
        delete_stored_files(new_files)
        raise
    if not done:  # another worker took the row over meanwhile
        delete_stored_files(new_files)
    elif not thumbnail_field and thumbnail:
        delete_stored_files([thumbnail])
    return bool(done)


def stale_ids(*, model, created_field: str, now: dt.datetime) -> list[int]:
    """Rows still 处理中 whose task was lost (never claimed, created more than ``STALE_AFTER``
    ago, by ``created_field``) or whose worker died (the lease ran out)."""
    return list(
        model.objects.filter(status=model.Status.PROCESSING)
        .filter(
            Q(lease_expires_at__isnull=True, **{f"{created_field}__lte": now - STALE_AFTER})
            | Q(lease_expires_at__lte=now)
        )
        .order_by("id")
        .values_list("id", flat=True)[:SWEEP_BATCH]
    )


def image_display_type(display: str) -> str:
    return "image/png" if display.endswith(".png") else "image/jpeg"
