"""Thin Celery tasks of the bulletin: they take ids, read the clock and call the services.

Both are safe to run twice or at once: a row is delivered only by the call whose
conditional update claimed it (``services.deliver_notification``).
"""

import datetime as dt
import socket
import time

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import selectors, services

SWEEP_BATCH = 100
# A sweep works through batches until nothing is due, but stops starting new batches after
# this long, so that one run cannot hold the worker past the next beat (a dead webhook
# costs its timeout per row); the next run carries on. Below OUTBOX_SWEEP_SECONDS (30).
SWEEP_BUDGET_SECONDS = 20


@shared_task(ignore_result=True)
def deliver_notifications(ids):
    """Deliver the given outbox rows now (queued after the commit that wrote them)."""
    return _deliver(ids)


def _deliver(ids) -> int:
    inbox = set(services.deliver_inbox_rows(ids=ids, now=timezone.now()))
    sent = len(inbox)
    for pk in ids:
        if pk not in inbox:
            sent += services.deliver_notification(notification_id=pk, now=timezone.now())
    return sent


@shared_task(ignore_result=True)
def sweep_outbox():
    """Deliver every row that is due: never queued (broker down), retried after back-off, or whose worker died."""
    started = timezone.now()
    deadline = time.monotonic() + SWEEP_BUDGET_SECONDS
    after_id = 0
    sent = 0
    while time.monotonic() < deadline:
        ids = selectors.due_notification_ids(now=started, after_id=after_id, limit=SWEEP_BATCH)
        if not ids:
            break
        sent += _deliver(ids)
        after_id = ids[-1]
    return sent


@shared_task(ignore_result=True)
def prune_outbox():
    """Keep the outbox bounded: delivered e-mail and webhook rows older than OUTBOX_KEEP_DAYS go."""
    return services.outbox_prune(now=timezone.now(), keep_days=settings.OUTBOX_KEEP_DAYS)


@shared_task(ignore_result=True, acks_late=True)
def run_export(job_id):
    """Write one export job's file (bulletin.export_services.export_run)."""
    from . import export_services

    return export_services.export_run(job_id=job_id, now=timezone.now())


@shared_task(ignore_result=True)
def sweep_exports():
    """Delete expired export files, and run jobs whose task was lost (queued for over a minute)."""
    from . import export_services

    now = timezone.now()
    for job_id in export_services.queued_job_ids(before=now - dt.timedelta(minutes=1)):
        export_services.export_run(job_id=job_id, now=timezone.now())
    return export_services.export_expire(now=now)


@shared_task(bind=True, ignore_result=True)
def heartbeat(self):
    """Scheduled by beat, run by a worker: the status page shows how long ago it last ran."""
    services.worker_heartbeat_record(worker=self.request.hostname or socket.gethostname(), now=timezone.now())
