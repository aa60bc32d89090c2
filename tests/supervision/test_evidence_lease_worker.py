"""A real worker killed with SIGKILL while it processes a photo: the next worker's sweep takes the photo over.

The first worker is held inside the photo's processing by a file gate (tests.worker_gates),
so the kill happens at a known point, after the claim and before the finish. Leases and
the sweep are shortened by their environment variables so that the test takes seconds.
"""

from __future__ import annotations

import io
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from supervision.models import Evidence
from supervision.services import evidence as services
from tests.supervision.conftest import local, meeting_held
from tests.workers import start_worker, wait_until  # noqa: F401 - start_worker is a fixture

LEASE_SECONDS = 3


@pytest.fixture
def shared_evidence_storage(settings):
    """The folder the worker subprocess uses (settings.py's default), not the per-test one of conftest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(settings.VAR_DIR / "evidence"), "base_url": None},
        },
    }


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 160, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def row(ev) -> dict:
    return Evidence.objects.values("status", "lease_expires_at", "processed_at").get(pk=ev.pk)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_photo_whose_worker_was_killed_mid_processing_is_finished_by_the_next_worker(
    start_worker,  # noqa: F811
    shared_evidence_storage,
    branch,
    secretary,
    tmp_path,
):
    lease = {"EVIDENCE_LEASE_SECONDS": str(LEASE_SECONDS)}
    first = start_worker(extra_env={**lease, "SANHUI_TEST_GATE_EVIDENCE": "photo"})
    meeting = meeting_held(branch, start=local(2026, 5, 10, 9), status="held")

    (ev,) = services.evidence_upload(
        files=[SimpleUploadedFile("a.jpg", jpeg())],
        category=Evidence.Category.PHOTO,
        user=secretary,
        now=timezone.now(),
        meeting=meeting,
    ).saved

    gate = tmp_path / "photo.entered"
    wait_until(gate.exists, timeout=60, message=f"the worker never started the photo:\n{first.log}")
    claimed = row(ev)
    assert claimed["status"] == Evidence.Status.PROCESSING and claimed["lease_expires_at"] is not None
    # Held at the gate, the live worker renews its lease (every third of it), so nobody may take the row.
    wait_until(
        lambda: row(ev)["lease_expires_at"] > claimed["lease_expires_at"],
        timeout=5 * LEASE_SECONDS,
        message=f"the lease was not renewed:\n{first.log}",
    )

    first.kill()
    killed = time.monotonic()
    assert row(ev)["status"] == Evidence.Status.PROCESSING

    second = start_worker(beat=True, extra_env={**lease, "EVIDENCE_SWEEP_SECONDS": "1"})
    wait_until(
        lambda: row(ev)["status"] == Evidence.Status.READY,
        timeout=60,
        message=f"the photo stayed 处理中 after its worker was killed:\n{second.log}",
    )
    taken_over_after = time.monotonic() - killed
    print(f"photo finished {taken_over_after:.1f} s after the kill (lease {LEASE_SECONDS} s, sweep 1 s)")

    done = row(ev)
    assert done["lease_expires_at"] is None
    assert Evidence.objects.get(pk=ev.pk).thumbnail
    assert "supervision.tasks.sweep_evidence" in second.log
    assert taken_over_after < 2 * 60
