"""Thin Celery tasks of the study app: each takes ids, reads the clock and calls one service."""

from celery import shared_task
from django.utils import timezone

from . import media, post_photos


@shared_task(ignore_result=True)
def process_study_media(media_id: int) -> bool:
    """Duration, poster and a phone-playable copy of a video or audio; an image document's copy without EXIF."""
    return media.media_process(media_id=media_id, now=timezone.now())


@shared_task(ignore_result=True)
def process_post_photo(photo_id: int) -> bool:
    """Make a 学习心得 photo's served copy (no EXIF, no GPS)."""
    return post_photos.post_photo_process(photo_id=photo_id, now=timezone.now())


@shared_task(ignore_result=True)
def sweep_study_media() -> int:
    """Queue again the uploads still 待处理 and process the post photos left 处理中 (task lost, worker died)."""
    return media.media_process_stale(now=timezone.now()) + post_photos.post_photos_process_stale(now=timezone.now())
