"""Thin Celery tasks of the assessment app: each calls one service with the clock."""

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task
def recheck_notices() -> int:
    """The 回头看 sweep: verified rectifications of failing branches written into their 通报; safe to run twice."""
    return services.notices_recheck(now=timezone.now())
