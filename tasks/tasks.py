"""Thin Celery tasks of the tasks app: read the clock and call one service (safe to run twice)."""

from celery import shared_task
from django.utils import timezone

from .reminders import tasks_sweep


@shared_task(ignore_result=True)
def sweep_tasks() -> dict[str, int]:
    """Task reminders, overdue flags and escalations; each notice is sent once."""
    return tasks_sweep(now=timezone.now())
