"""Run a mine-wide export the way a user does: the link (a GET, which queues nothing), the start
page's button (the POST that queues the job), the worker, then the download."""

import pytest
from django.urls import reverse
from django.utils import timezone

from bulletin.export_services import export_run
from bulletin.models import ExportJob


def start_page(client, url, query=None):
    """Follow the export link to its start page; asserts that no job was queued by the GETs."""
    before = ExportJob.objects.count()
    response = client.get(url, query or {}, follow=True)
    assert response.status_code == 200, response.status_code
    assert ExportJob.objects.count() == before  # a GET never creates a job
    assert 'id="export-submit"' in response.content.decode()
    return response


def request_job(client, url, query=None) -> ExportJob:
    """The link, then the button: the job (queued, or the one already running)."""
    page = start_page(client, url, query)
    start_url = page.redirect_chain[-1][0] if page.redirect_chain else url
    response = client.post(start_url.split("?")[0], dict(page.context["parameters"]))
    assert response.status_code == 302, response.status_code
    return ExportJob.objects.get(pk=int(response.url.rstrip("/").split("/")[-1]))


def exported(client, url, query=None):
    """The download of the export behind ``url`` once the worker has written it."""
    job = request_job(client, url, query)
    assert export_run(job_id=job.pk, now=timezone.now()) is True
    return client.get(reverse("bulletin:export_download", args=[job.pk]))


@pytest.fixture(autouse=True)
def _exports_in_a_folder_of_the_test(settings, tmp_path):
    """Import this into a test module (autouse): its export files go under the test's own folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "exports"), "base_url": None},
        },
    }
