"""Thin Celery tasks of the meetings app: each calls one service with the clock."""

from celery import shared_task
from django.utils import timezone

from . import reminders


@shared_task
def send_due_reminders() -> dict[str, int]:
    """The beat's reminder sweep (eve, period ending, minutes overdue, absence); safe to run twice."""
    return reminders.send_due_reminders(now=timezone.now())
