"""Thin Celery tasks of the meetings app: each calls one service with the clock."""

from celery import shared_task
from django.utils import timezone

from . import reminders


@shared_task
def send_due_reminders() -> dict[str, int]:
    """The beat's reminder sweep (eve, period ending, minutes overdue, absence); safe to run twice."""
    return reminders.send_due_reminders(now=timezone.now())


@shared_task
def refresh_branch_rollups(branch_ids: list[int] | None) -> int:
    """Recompute the compliance rollup of these branches (None: all) from scratch (idempotent)."""
    from . import rollups

    return rollups.refresh_rollups(branch_ids=None if branch_ids is None else list(branch_ids), now=timezone.now())


@shared_task
def roll_closed_periods() -> int:
    """The nightly sweep storing the periods that have just ended."""
    from . import rollups

    return rollups.roll_closed_periods(now=timezone.now())
