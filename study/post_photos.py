"""The worker's side of 学习心得 photos: the served copy without metadata, made by the evidence pipeline.

A post's photos are stored as uploaded (``GroupPostPhoto.stored``, EXIF and GPS included, never
served) and 处理中 until ``post_photo_process`` has made the display copy through
``supervision.services.evidence.store_clean_copies`` (the one pipeline, shared with meeting
evidence and task report files). A claim is a conditional update with a lease, so a task run
twice, or the sweep and a task at once, process a photo once; a killed worker's lease runs out.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Q

from supervision.models import Evidence
from supervision.services.evidence import LEASE, STALE_AFTER, ProcessingFailed, delete_stored_files, store_clean_copies

from .models import GroupPostPhoto

logger = logging.getLogger(__name__)

PREFIX = "study/posts/"
SWEEP_BATCH = 50


def enqueue_post_photos(photo_ids: list[int]) -> None:
    """After the post's transaction commits, hand its photos to the worker (the sweep covers a broker down)."""
    from .tasks import process_post_photo  # the tasks module imports this one

    def send() -> None:
        for photo_id in photo_ids:
            try:
                process_post_photo.delay(photo_id)
            except Exception:
                logger.warning("could not enqueue processing of post photo %s; the sweep will pick it up", photo_id)

    transaction.on_commit(send)


def _claim(photo_id: int, now: dt.datetime) -> dt.datetime | None:
    held_until = now + LEASE
    claimed = (
        GroupPostPhoto.objects.filter(pk=photo_id, status=GroupPostPhoto.Status.PROCESSING)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now))
        .update(lease_expires_at=held_until)
    )
    return held_until if claimed else None


def post_photo_process(*, photo_id: int, now: dt.datetime) -> bool:
    """Make the served copy of one post photo; True if this call finished it (可用 or 处理失败)."""
    held_until = _claim(photo_id, now)
    if held_until is None:
        return False
    photo = GroupPostPhoto.objects.filter(pk=photo_id).first()
    if photo is None:
        return False
    mine = GroupPostPhoto.objects.filter(
        pk=photo_id, status=GroupPostPhoto.Status.PROCESSING, lease_expires_at=held_until
    )
    new_files: list[str] = []
    try:
        try:
            outcome = store_clean_copies(
                original_name=photo.stored.name,
                kind=Evidence.Kind.IMAGE,
                now=now,
                new_files=new_files,
                prefix=PREFIX,
                label=f"study post photo {photo_id}",
            )
        except ProcessingFailed as failed:
            return bool(
                mine.update(
                    status=GroupPostPhoto.Status.FAILED,
                    error=failed.message[:300],
                    processed_at=now,
                    lease_expires_at=None,
                )
            )
        display = outcome.fields["file"]
        done = mine.update(
            status=GroupPostPhoto.Status.READY,
            display=display,
            display_type="image/png" if display.endswith(".png") else "image/jpeg",
            error="",
            processed_at=now,
            lease_expires_at=None,
        )
    except BaseException:
        delete_stored_files(new_files)
        raise
    # The thumbnail is not shown (the page scales the display copy); only the display copy is kept.
    delete_stored_files([outcome.fields.get("thumbnail", "")] if done else new_files)
    return bool(done)


def post_photos_process_stale(*, now: dt.datetime) -> int:
    """Photos still 处理中 whose task was lost (never claimed, posted over ``STALE_AFTER`` ago) or whose worker died."""
    ids = list(
        GroupPostPhoto.objects.filter(status=GroupPostPhoto.Status.PROCESSING)
        .filter(
            Q(lease_expires_at__isnull=True, post__created_at__lte=now - STALE_AFTER) | Q(lease_expires_at__lte=now)
        )
        .order_by("id")
        .values_list("id", flat=True)[:SWEEP_BATCH]
    )
    return sum(post_photo_process(photo_id=photo_id, now=now) for photo_id in ids)
