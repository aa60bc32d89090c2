"""Thin Celery tasks of the tasks app: read the clock and call one service (safe to run twice)."""

from celery import shared_task
from django.utils import timezone

from .reminders import tasks_sweep
from .report_files import report_file_process, report_files_process_stale


@shared_task(ignore_result=True)
def sweep_tasks() -> dict[str, int]:
    """Task reminders, overdue flags and escalations; each notice is sent once."""
    counts = tasks_sweep(now=timezone.now())
    # Report files whose processing task was lost (broker down) or whose worker died.
    counts["report_files"] = report_files_process_stale(now=timezone.now())
    return counts


@shared_task(ignore_result=True)
def process_report_file(file_id: int) -> bool:
    """Make a report file's served copy (no metadata) and thumbnail."""
    return report_file_process(file_id=file_id, now=timezone.now())
