"""Report files go through the evidence pipeline in the worker: the served copy has no EXIF, no GPS."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import ExifTags, Image

from supervision.models import evidence_storage
from tasks import tasks as worker
from tasks.models import Task, TaskReport, TaskReportFile
from tasks.report_files import report_file_process, report_files_process_stale
from tasks.services import task_create, task_report
from tests.supervision.conftest import GPS_PHOTOS

from ..conftest import client_for

pytestmark = pytest.mark.django_db

GPS_PHOTO = GPS_PHOTOS[0]


@pytest.fixture
def task(branch, secretary, supervisor):
    now = timezone.now()
    return task_create(
        organization=branch,
        owner=secretary.member,
        title="六月组织生活指南",
        due_at=now + timezone.timedelta(days=14),
        now=now,
        assigned_by=supervisor,
        source=Task.Source.DISPATCH,
    )


def _photo(path=GPS_PHOTO, name="现场.jpg"):
    return SimpleUploadedFile(name, path.read_bytes(), content_type="image/jpeg")


def _gps(data: bytes):
    return Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)


def test_the_sample_photo_carries_gps_before_processing():
    # Otherwise the test below could not fail.
    assert _gps(GPS_PHOTO.read_bytes())


def test_a_reported_photo_is_served_without_exif_or_gps_once_the_worker_processed_it(
    client, secretary, task, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(worker.process_report_file, "delay", sent.append)
    c = client_for(client, secretary)
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(reverse("tasks:report", args=[task.pk]), {"text": "", "files": [_photo()], "token": "t1"})
    assert response.status_code == 302
    file = TaskReportFile.objects.get()
    assert sent == [file.pk]  # enqueued once the report committed
    assert file.status == TaskReportFile.Status.PROCESSING

    page = c.get(reverse("tasks:detail", args=[task.pk])).content.decode()
    assert "现场.jpg：处理中" in page
    # Nothing is served before the clean copy exists (the original keeps the GPS position).
    assert c.get(reverse("tasks:report_file", args=[file.pk])).status_code == 404

    worker.process_report_file(file.pk)
    file.refresh_from_db()
    assert file.status == TaskReportFile.Status.READY
    served = c.get(reverse("tasks:report_file", args=[file.pk]))
    body = b"".join(served.streaming_content)
    assert served["Content-Type"] == "image/jpeg"
    assert body != GPS_PHOTO.read_bytes()
    assert not Image.open(io.BytesIO(body)).getexif()
    assert not _gps(body)
    thumb = c.get(reverse("tasks:report_file_thumbnail", args=[file.pk]))
    assert b"".join(thumb.streaming_content)[:2] == b"\xff\xd8"
    page = c.get(reverse("tasks:detail", args=[task.pk])).content.decode()
    assert "处理中" not in page
    assert reverse("tasks:report_file_thumbnail", args=[file.pk]) in page


def test_processing_twice_does_the_work_once(secretary, task):
    report = task_report(task=task, user=secretary, text="", files=[_photo()], now=timezone.now())
    file = report.files.get()
    assert report_file_process(file_id=file.pk, now=timezone.now())
    file.refresh_from_db()
    display = file.display
    assert not report_file_process(file_id=file.pk, now=timezone.now())
    file.refresh_from_db()
    assert file.display == display


def test_a_file_the_worker_cannot_read_fails_in_chinese_and_loses_nothing(client, secretary, task):
    report = task_report(task=task, user=secretary, text="已组织学习", files=[_photo()], now=timezone.now())
    file = report.files.get()
    # The stored original is damaged after the upload check (a disk, a copy gone wrong).
    storage = evidence_storage()
    with open(storage.path(file.stored), "wb") as damaged:
        damaged.write(GPS_PHOTO.read_bytes()[:600])

    assert report_file_process(file_id=file.pk, now=timezone.now())
    file.refresh_from_db()
    assert file.status == TaskReportFile.Status.FAILED
    assert file.error and not any("a" <= ch <= "z" for ch in file.error.lower())
    page = client_for(client, secretary).get(reverse("tasks:detail", args=[task.pk])).content.decode()
    assert f"现场.jpg：处理失败（{file.error}）" in page
    # The report, its text, the task's state and the original are all kept.
    task.refresh_from_db()
    assert task.status == Task.Status.SUBMITTED
    assert TaskReport.objects.get().text == "已组织学习"
    assert storage.exists(file.stored)
    assert client_for(client, secretary).get(reverse("tasks:report_file", args=[file.pk])).status_code == 404


def test_the_sweep_processes_files_whose_task_was_lost_after_five_minutes(secretary, task, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    now = timezone.now()
    report = task_report(task=task, user=secretary, text="", files=[_photo()], now=now)
    file = report.files.get()
    assert report_files_process_stale(now=now + timezone.timedelta(minutes=4, seconds=59)) == 0
    assert report_files_process_stale(now=now + timezone.timedelta(minutes=5)) == 1
    file.refresh_from_db()
    assert file.status == TaskReportFile.Status.READY
