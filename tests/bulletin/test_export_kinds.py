"""The mine-wide findings ledger, HR 绩效 sheet and compliance matrix are export jobs like the ledger:
a GET shows the button, the POST queues once, the file goes only to its requester while the kind's
check passes; one branch's findings stay a direct download."""

import pytest
from django.urls import reverse
from django.utils import timezone

from assessment.hr_export import HR_SHEET
from bulletin.export_services import export_run
from bulletin.models import ExportJob, Notification
from meetings.exports import COMPLIANCE_MATRIX
from org.models import StaffRole
from supervision.findings_export import FINDINGS
from tests.assessment.test_participation import make_run
from tests.bulletin.export_helpers import _exports_in_a_folder_of_the_test, request_job, start_page  # noqa: F401
from tests.conftest import client_for
from tests.factories import staff_user

pytestmark = pytest.mark.django_db

KINDS = ["findings", "hr", "matrix"]


@pytest.fixture
def link(db):
    """kind -> (its export link on the page, its registered kind)."""
    run = make_run()
    return {
        "findings": (reverse("supervision:finding_export"), FINDINGS),
        "hr": (reverse("assessment:hr_export", args=[run.pk]), HR_SHEET),
        "matrix": (reverse("meetings:compliance_matrix_xlsx") + "?year=2026", COMPLIANCE_MATRIX),
    }


@pytest.mark.parametrize("which", KINDS)
def test_a_get_shows_the_button_and_queues_nothing(client, supervisor, link, which):
    url, kind = link[which]
    page = start_page(client_for(client, supervisor), url)
    assert page.redirect_chain[-1][0].startswith(reverse("bulletin:export_start", args=[kind]))
    assert "开始生成" in page.content.decode()
    assert not ExportJob.objects.exists()


@pytest.mark.parametrize("which", KINDS)
def test_a_second_post_while_one_runs_returns_the_running_one(client, supervisor, link, which):
    url, kind = link[which]
    c = client_for(client, supervisor)
    first = request_job(c, url)
    second = request_job(c, url)
    assert first.pk == second.pk and first.kind == kind
    ExportJob.objects.filter(pk=first.pk).update(state=ExportJob.State.RUNNING)
    assert request_job(c, url).pk == first.pk
    # the start page names the running one
    assert 'id="export-running"' in start_page(c, url).content.decode()
    assert ExportJob.objects.count() == 1


@pytest.mark.parametrize("which", KINDS)
def test_the_worker_writes_it_with_progress_and_an_inbox_link(client, supervisor, link, which):
    url, _kind = link[which]
    c = client_for(client, supervisor)
    job = request_job(c, url)
    page = c.get(reverse("bulletin:export_job", args=[job.pk])).content.decode()
    assert 'role="progressbar"' in page
    assert export_run(job_id=job.pk, now=timezone.now()) is True
    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE and job.filename.endswith(".xlsx")
    assert Notification.objects.filter(recipient=supervisor, url=reverse("bulletin:export_job", args=[job.pk]))
    download = c.get(reverse("bulletin:export_download", args=[job.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content)[:2] == b"PK"  # an .xlsx (zip) file


@pytest.mark.parametrize("which", KINDS)
@pytest.mark.parametrize(
    ("who", "expected"),
    [("other_supervisor", 404), ("secretary", 404), ("other_secretary", 404), ("member", 404), ("anonymous", 302)],
)
def test_the_job_file_is_served_only_to_its_requester(client, people, supervisor, link, which, who, expected):
    url, _kind = link[which]
    job = request_job(client_for(client, supervisor), url)
    export_run(job_id=job.pk, now=timezone.now())
    people = {**people, "other_supervisor": staff_user(username="inspector", role=StaffRole.Role.DISCIPLINE_DEPT)}
    client.logout()
    c = client_for(client, people[who])
    for name in ("bulletin:export_job", "bulletin:export_job_status", "bulletin:export_download"):
        response = c.get(reverse(name, args=[job.pk]))
        assert response.status_code == expected, name
    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE and job.file


@pytest.mark.parametrize("which", KINDS)
def test_a_requester_who_lost_the_right_gets_403_at_the_download(client, supervisor, link, which):
    url, _kind = link[which]
    c = client_for(client, supervisor)
    job = request_job(c, url)
    export_run(job_id=job.pk, now=timezone.now())
    StaffRole.objects.filter(user=supervisor).delete()
    assert c.get(reverse("bulletin:export_download", args=[job.pk])).status_code == 403


@pytest.mark.parametrize("which", KINDS)
@pytest.mark.parametrize("who", ["secretary", "member", "other_secretary"])
def test_branch_people_cannot_queue_a_mine_wide_job(client, people, link, which, who):
    url, kind = link[which]
    c = client_for(client, people[who])
    start = reverse("bulletin:export_start", args=[kind])
    parameters = {"findings": {}, "hr": {"run": url.split("/")[-2]}, "matrix": {"year": 2026}}[which]
    assert c.post(start, parameters).status_code == 403
    assert not ExportJob.objects.exists()


def test_one_branchs_findings_stay_a_direct_download(client, supervisor, branch, secretary):
    direct = client_for(client, supervisor).get(reverse("supervision:finding_export"), {"branch": branch.pk})
    assert direct.status_code == 200 and direct["Content-Disposition"].startswith("attachment;")
    own = client_for(client, secretary).get(reverse("supervision:finding_export"))
    assert own.status_code == 200 and own["Content-Disposition"].startswith("attachment;")
    assert not ExportJob.objects.exists()


def test_an_unknown_kind_or_bad_parameters_are_404(client, supervisor):
    c = client_for(client, supervisor)
    assert c.get(reverse("bulletin:export_start", args=["nope"])).status_code == 404
    assert c.post(reverse("bulletin:export_start", args=[COMPLIANCE_MATRIX]), {"year": "abc"}).status_code == 404
    assert c.post(reverse("bulletin:export_start", args=[HR_SHEET]), {"run": "999999"}).status_code == 404
    assert not ExportJob.objects.exists()
