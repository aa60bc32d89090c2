"""Thin Celery tasks of the study app: each takes ids, reads the clock and calls one service."""

from celery import shared_task
from django.utils import timezone

from . import media


@shared_task(ignore_result=True)
def process_study_media(media_id: int) -> bool:
    """Duration, poster frame and a phone-playable copy of an uploaded video or audio."""
    return media.media_process(media_id=media_id, now=timezone.now())


@shared_task(ignore_result=True)
def sweep_study_media() -> int:
    """Queue again the uploads still 待处理 (their task was lost with a broker that was down)."""
    return media.media_process_stale(now=timezone.now())
