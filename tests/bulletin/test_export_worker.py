"""A real Celery worker makes the mine's ledger: the request only queues it, the worker writes the
file, the page shows it done and the inbox links it."""

import datetime as dt

import pytest
from django.urls import reverse

from bulletin.models import ExportJob, Notification
from tests.bulletin.export_helpers import request_job
from tests.conftest import client_for
from tests.factories import MeetingFactory

from .conftest import wait_until

DEADLINE = 60  # seconds; a healthy run takes one or two


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_writes_the_mine_ledger_and_links_it_in_the_inbox(client, start_worker, supervisor, branch):
    MeetingFactory(branch=branch, topic="学习安全生产规程", planned_start=dt.datetime(2025, 3, 4, 9, tzinfo=dt.UTC))
    worker = start_worker()

    job = request_job(client_for(client, supervisor), reverse("meetings:mine_ledger_xlsx", args=[2025]))

    def done():
        job.refresh_from_db()
        return job.state == ExportJob.State.DONE

    wait_until(done, timeout=DEADLINE, message=f"export not made:\n{worker.log}")
    assert Notification.objects.filter(recipient=supervisor, url=reverse("bulletin:export_job", args=[job.pk])).exists()
    download = client.get(reverse("bulletin:export_download", args=[job.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content)[:2] == b"PK"  # an .xlsx is a zip
    job.file.storage.delete(job.file.name)
