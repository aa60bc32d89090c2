"""Thin Celery tasks of the supervision app: each takes ids, reads the clock and calls one service.

Every task is safe to run twice or at once (conditional updates and idempotent flag keys).
"""

from celery import shared_task
from django.utils import timezone

from .services import attestation, evidence, findings, integrity


@shared_task(ignore_result=True)
def process_evidence(evidence_id: int) -> bool:
    """Make an upload's shown copy, thumbnail, metadata and fingerprint, then run its checks."""
    return evidence.evidence_process(evidence_id=evidence_id, now=timezone.now(), clock=timezone.now)


@shared_task(ignore_result=True)
def sweep_evidence() -> int:
    """Process uploads still 处理中 whose worker's lease ran out (worker killed) or whose task was lost."""
    return evidence.evidence_process_stale(now=timezone.now(), clock=timezone.now)


@shared_task(ignore_result=True)
def check_submitted_meetings() -> int:
    """Run the record checks (similar minutes, late entry, missing photo) on newly submitted records."""
    return integrity.meetings_check_due(now=timezone.now())


@shared_task(ignore_result=True)
def sweep_rectifications() -> dict[str, int]:
    """Flag rectifications past their deadline and escalate long-overdue ones; each notice is sent once."""
    return findings.rectifications_sweep(now=timezone.now())


@shared_task(ignore_result=True)
def sweep_attestations() -> dict[str, int]:
    """Flag disputed speeches, and records past their deadline with most speeches unconfirmed; each once."""
    return attestation.attestations_sweep(now=timezone.now())
