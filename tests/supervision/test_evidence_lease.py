"""The processing lease: a worker's claim on an upload lasts LEASE unless renewed; an expired one is taken over.

The rule at its boundary, on a clock driven by time-machine; the kill -9 of a real
worker is in test_evidence_lease_worker.py.
"""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from supervision import tasks
from supervision.models import Evidence
from supervision.services import evidence as services
from tests.supervision.conftest import local, meeting_held

NOW = local(2026, 5, 12, 10)
TICK = dt.timedelta(microseconds=1)


def jpeg(color=(30, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def photo(branch, secretary):
    meeting = meeting_held(branch, start=local(2026, 5, 10, 9), status="held")
    (ev,) = services.evidence_upload(
        files=[SimpleUploadedFile("a.jpg", jpeg())],
        category=Evidence.Category.PHOTO,
        user=secretary,
        now=NOW,
        meeting=meeting,
    ).saved
    return ev


def lease_of(ev) -> dt.datetime | None:
    return Evidence.objects.values_list("lease_expires_at", flat=True).get(pk=ev.pk)


@pytest.mark.django_db
def test_a_claim_sets_a_lease_and_not_the_processed_time(photo):
    held_until = services._claim(photo.pk, NOW)

    assert held_until == NOW + services.LEASE
    assert lease_of(photo) == held_until
    assert Evidence.objects.get(pk=photo.pk).processed_at is None


@pytest.mark.django_db
def test_a_lease_can_be_taken_over_at_its_expiry_and_not_a_microsecond_before(photo):
    held_until = services._claim(photo.pk, NOW)

    assert services._claim(photo.pk, held_until - TICK) is None
    assert services._claim(photo.pk, held_until) == held_until + services.LEASE


@pytest.mark.django_db
def test_a_redelivered_task_finishes_a_row_whose_worker_died(photo):
    services._claim(photo.pk, NOW)  # the first worker was killed right after claiming

    assert services.evidence_process(evidence_id=photo.pk, now=NOW + services.LEASE - TICK) is False
    assert services.evidence_process(evidence_id=photo.pk, now=NOW + services.LEASE) is True

    photo.refresh_from_db()
    assert photo.status == Evidence.Status.READY
    assert photo.processed_at == NOW + services.LEASE
    assert photo.lease_expires_at is None


@pytest.mark.django_db
def test_a_renewed_lease_keeps_the_row_from_the_sweep(photo):
    held_until = services._claim(photo.pk, NOW)
    renewed_at = NOW + dt.timedelta(seconds=40)

    renewed = services.evidence_lease_renew(evidence_id=photo.pk, held_until=held_until, now=renewed_at)

    assert renewed == renewed_at + services.LEASE
    assert services.evidence_process_stale(now=held_until) == 0  # the first lease's end has passed
    assert services.evidence_process_stale(now=renewed - TICK) == 0
    assert services.evidence_process_stale(now=renewed) == 1


@pytest.mark.django_db
def test_a_worker_whose_lease_was_taken_over_can_neither_renew_nor_finish(photo):
    first = services._claim(photo.pk, NOW)
    assert services.evidence_process(evidence_id=photo.pk, now=first) is True  # the sweep took it over

    assert services.evidence_lease_renew(evidence_id=photo.pk, held_until=first, now=first + TICK) is None
    assert services._finish_failed(photo, held_until=first, at=first, error="x") is False
    assert Evidence.objects.get(pk=photo.pk).status == Evidence.Status.READY


@pytest.mark.django_db
def test_a_row_never_claimed_waits_for_its_task_before_the_sweep_takes_it(photo):
    assert services.evidence_process_stale(now=NOW + services.STALE_AFTER) == 0
    assert services.evidence_process_stale(now=NOW + services.STALE_AFTER + TICK) == 1


@pytest.mark.django_db
def test_the_beat_takes_over_a_killed_workers_photo_within_two_minutes(photo):
    # The worker renewed its lease (or claimed) at NOW and was killed with SIGKILL at once.
    with time_machine.travel(NOW, tick=False):
        assert services._claim(photo.pk, NOW)
    sweep_every = dt.timedelta(seconds=settings.CELERY_BEAT_SCHEDULE["supervision-sweep-evidence"]["schedule"])

    # The last sweep before the lease ran out found nothing to do; the next one is the worst case.
    with time_machine.travel(NOW + services.LEASE - TICK, tick=False):
        assert tasks.sweep_evidence() == 0
    with time_machine.travel(NOW + services.LEASE - TICK + sweep_every, tick=False):
        assert tasks.sweep_evidence() == 1

    assert services.LEASE - TICK + sweep_every < dt.timedelta(minutes=2)
    photo.refresh_from_db()
    assert photo.status == Evidence.Status.READY


@pytest.mark.django_db
def test_a_long_job_renews_its_lease_while_it_works(photo, monkeypatch):
    monkeypatch.setattr(services, "LEASE", dt.timedelta(seconds=0.3))
    entered, release = threading.Event(), threading.Event()
    renewals = []

    def renew(**kwargs):
        renewals.append(kwargs["now"])
        if len(renewals) == 2:
            release.set()
        return kwargs["held_until"]  # kept: the token the finish checks stays the claim's

    # The renewal runs on another thread, whose database connection cannot see this test's
    # uncommitted rows; the renewal itself is tested above, the keeper's schedule here.
    monkeypatch.setattr(services, "evidence_lease_renew", renew)
    clean_copy = services.imaging.photo_clean_copy

    def held_clean_copy(*args, **kwargs):
        entered.set()
        assert release.wait(10), "the lease was not renewed while the job ran"
        return clean_copy(*args, **kwargs)

    monkeypatch.setattr(services.imaging, "photo_clean_copy", held_clean_copy)

    assert services.evidence_process(evidence_id=photo.pk, now=NOW, clock=lambda: NOW) is True
    assert entered.is_set() and len(renewals) >= 2
