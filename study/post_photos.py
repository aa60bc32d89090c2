"""The worker's side of 学习心得 photos: the served copy without metadata, made by the evidence pipeline.

A post's photos are stored as uploaded (``GroupPostPhoto.stored``, EXIF and GPS included, never
served) and 处理中 until ``post_photo_process`` has made the display copy through
``supervision.services.evidence.store_clean_copies`` (the one pipeline, shared with meeting
evidence and task report files); claiming and processing are ``supervision.services.clean_copies``.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction

from supervision.models import Evidence
from supervision.services.clean_copies import clean_copy_process, image_display_type, stale_ids

from .models import GroupPostPhoto

logger = logging.getLogger(__name__)

PREFIX = "study/posts/"


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


def post_photo_process(*, photo_id: int, now: dt.datetime) -> bool:
    """Make the served copy of one post photo; True if this call finished it (可用 or 处理失败).

    The thumbnail is not kept: the page scales the display copy.
    """
    return clean_copy_process(
        model=GroupPostPhoto,
        pk=photo_id,
        now=now,
        original_name=lambda photo: photo.stored.name,
        kind=lambda photo: Evidence.Kind.IMAGE,
        display_type=lambda photo, display: image_display_type(display),
        prefix=PREFIX,
        label=f"study post photo {photo_id}",
    )


def post_photos_process_stale(*, now: dt.datetime) -> int:
    """Photos still 处理中 whose task was lost or whose worker died (``clean_copies.stale_ids``)."""
    ids = stale_ids(model=GroupPostPhoto, created_field="post__created_at", now=now)
    return sum(post_photo_process(photo_id=photo_id, now=now) for photo_id in ids)
