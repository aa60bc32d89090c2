"""Thin Celery task: close the rounds whose voting window has ended."""

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task
def close_due_rounds() -> int:
    return services.rounds_close_due(now=timezone.now())
