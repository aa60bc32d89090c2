"""Mine-wide exports as jobs: queued once, run by the worker with progress, failed with a reason,
served only to the requester while the page's check still passes, deleted when expired."""

import datetime as dt
import re
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from bulletin import export_services, exports, tasks
from bulletin.models import ExportJob, Notification
from meetings.exports import MINE_LEDGER
from org.models import StaffRole
from tests.bulletin.export_helpers import request_job
from tests.conftest import client_for
from tests.factories import MeetingFactory

YEAR = 2025


@pytest.fixture(autouse=True)
def _exports_in_a_folder_of_the_test(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "exports"), "base_url": None},
        },
    }


def request_ledger(client, user):
    return request_job(client_for(client, user), reverse("meetings:mine_ledger_xlsx", args=[YEAR]))


@pytest.mark.django_db
def test_a_second_request_while_one_runs_finds_it_instead_of_starting_another(client, supervisor):
    first = request_ledger(client, supervisor)
    second = request_ledger(client, supervisor)

    assert first.pk == second.pk
    assert ExportJob.objects.count() == 1
    assert first.state == ExportJob.State.QUEUED

    ExportJob.objects.filter(pk=first.pk).update(state=ExportJob.State.RUNNING)
    assert request_ledger(client, supervisor).pk == first.pk

    ExportJob.objects.filter(pk=first.pk).update(state=ExportJob.State.DONE)
    assert request_ledger(client, supervisor).pk != first.pk  # a finished one does not block a new one


@pytest.mark.django_db
def test_the_worker_writes_the_ledger_reports_progress_and_links_it_in_the_inbox(client, supervisor, branch):
    MeetingFactory(branch=branch, topic="学习安全生产规程", planned_start=dt.datetime(2025, 3, 4, 9, tzinfo=dt.UTC))
    job = request_ledger(client, supervisor)
    page = client.get(reverse("bulletin:export_job", args=[job.pk])).content.decode()
    assert "排队中" in page and 'role="progressbar"' in page and "刷新" in page

    now = timezone.now()
    assert tasks.run_export(job.pk) is True
    assert tasks.run_export(job.pk) is False  # a redelivered task runs nothing

    job.refresh_from_db()
    assert (job.state, job.progress_done, job.progress_total) == (ExportJob.State.DONE, 1, 1)
    assert job.expires_at - job.finished_at == dt.timedelta(days=7)
    assert job.finished_at >= now
    status = client.get(reverse("bulletin:export_job_status", args=[job.pk])).json()
    assert status["percent"] == 100 and status["download_url"] == reverse("bulletin:export_download", args=[job.pk])
    message = Notification.objects.get(recipient=supervisor, channel=Notification.Channel.INBOX)
    assert message.url == reverse("bulletin:export_job", args=[job.pk])
    assert "导出已完成" in message.subject

    response = client.get(reverse("bulletin:export_download", args=[job.pk]))
    wb = load_workbook(BytesIO(b"".join(response.streaming_content)))
    assert [r[6] for r in wb.active.iter_rows(min_row=2, values_only=True)] == ["学习安全生产规程"]
    assert (
        "全矿2025年三会一课台账.xlsx" in response["Content-Disposition"]
        or "filename*" in response["Content-Disposition"]
    )


@pytest.mark.django_db
def test_progress_reads_what_the_writer_has_done(client, supervisor, monkeypatch):
    job = request_ledger(client, supervisor)
    ExportJob.objects.filter(pk=job.pk).update(state=ExportJob.State.RUNNING, progress_done=300, progress_total=1200)

    status = client.get(reverse("bulletin:export_job_status", args=[job.pk])).json()

    assert (status["state_label"], status["percent"], status["download_url"]) == ("生成中", 25, "")
    assert "300 / 1200" in client.get(reverse("bulletin:export_job", args=[job.pk])).content.decode()


@pytest.mark.django_db
def test_a_failed_job_shows_a_fixed_chinese_message_and_a_reference_found_in_the_log(
    client, supervisor, monkeypatch, caplog
):
    job = request_ledger(client, supervisor)
    real = exports.get(MINE_LEDGER)

    def broken(fileobj, parameters, progress):
        raise OSError("No space left on device")

    monkeypatch.setitem(exports._KINDS, MINE_LEDGER, exports.ExportKind(**{**real.__dict__, "write": broken}))
    with caplog.at_level("ERROR", logger="bulletin.export_services"):
        export_services.export_run(job_id=job.pk, now=timezone.now())

    job.refresh_from_db()
    assert job.state == ExportJob.State.FAILED
    [reference] = re.findall(r"EXP-\d+-[0-9a-f]{6}", job.failure_reason)
    assert reference.startswith(f"EXP-{job.pk}-")
    assert job.failure_reason == f"生成文件时出错，请稍后重新导出；如仍失败，请把编号 {reference} 告知系统管理员。"
    assert "No space" not in job.failure_reason
    # The administrator finds the reference beside the traceback in the log.
    [record] = [r for r in caplog.records if reference in r.getMessage()]
    assert record.exc_info and "No space left on device" in str(record.exc_info[1])
    page = client.get(reverse("bulletin:export_job", args=[job.pk])).content.decode()
    assert f"导出失败：{job.failure_reason}" in page
    assert "No space" not in page
    assert client.get(reverse("bulletin:export_download", args=[job.pk])).status_code == 404
    # Failed is not running: a new request starts a new job.
    assert request_ledger(client, supervisor).pk != job.pk


@pytest.mark.django_db
def test_a_job_whose_user_lost_the_right_before_it_ran_fails_with_the_reason(client, supervisor):
    job = request_ledger(client, supervisor)
    StaffRole.objects.filter(user=supervisor).delete()

    export_services.export_run(job_id=job.pk, now=timezone.now())

    job.refresh_from_db()
    assert (job.state, job.failure_reason) == (ExportJob.State.FAILED, "你已无权导出此内容。")


@pytest.mark.django_db
def test_the_file_is_served_only_to_its_requester_while_the_page_check_still_passes(
    client, supervisor, secretary, member
):
    job = request_ledger(client, supervisor)
    export_services.export_run(job_id=job.pk, now=timezone.now())
    download = reverse("bulletin:export_download", args=[job.pk])

    # A 书记 cannot request the mine ledger, nor download someone's job file; nor can a member.
    assert client_for(client, secretary).get(reverse("meetings:mine_ledger_xlsx", args=[YEAR])).status_code == 403
    start = reverse("bulletin:export_start", args=[MINE_LEDGER])
    assert client.post(start, {"year": YEAR}).status_code == 403
    for other in (secretary, member):
        for name in ("bulletin:export_job", "bulletin:export_job_status", "bulletin:export_download"):
            assert client_for(client, other).get(reverse(name, args=[job.pk])).status_code == 404
    client.logout()
    assert client.get(download).status_code == 302

    # Checked again at download: the supervisor who lost the role is refused the file.
    StaffRole.objects.filter(user=supervisor).delete()
    assert client_for(client, supervisor).get(download).status_code == 403
    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE and job.file.storage.exists(job.file.name)


@pytest.mark.django_db
def test_expired_files_are_deleted_by_the_beat_sweep(client, supervisor, settings):
    assert settings.CELERY_BEAT_SCHEDULE["bulletin-sweep-exports"]["task"] == "bulletin.tasks.sweep_exports"
    job = request_ledger(client, supervisor)
    export_services.export_run(job_id=job.pk, now=timezone.now() - dt.timedelta(days=8))
    job.refresh_from_db()
    name, storage = job.file.name, job.file.storage
    assert storage.exists(name)

    assert tasks.sweep_exports() == 1

    job.refresh_from_db()
    assert job.state == ExportJob.State.EXPIRED and not job.file
    assert not storage.exists(name)
    assert "文件已过期删除" in client.get(reverse("bulletin:export_job", args=[job.pk])).content.decode()
    assert client.get(reverse("bulletin:export_download", args=[job.pk])).status_code == 404


@pytest.mark.django_db
def test_the_sweep_runs_a_job_whose_task_was_lost(client, supervisor):
    job = request_ledger(client, supervisor)
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))

    tasks.sweep_exports()

    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE
