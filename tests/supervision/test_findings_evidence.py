"""Evidence of findings and rectifications: attached through the evidence service, shown to those who see it."""

import lxml.html
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from supervision.models import Evidence, Finding, Rectification
from supervision.services import evidence as evidence_services
from supervision.services import findings as services
from tests.conftest import client_for

from .conftest import SAMPLES, local

NOW = local(2026, 5, 10, 9, 30)
Status = Rectification.Status


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def photo(name="Canon_40D.jpg", as_name=None):
    return SimpleUploadedFile(as_name or name, (SAMPLES / name).read_bytes(), content_type="image/jpeg")


def not_a_photo():
    # A name and a declared type that lie: the content decides.
    return SimpleUploadedFile("整改照片.jpg", b"<html><script>alert(1)</script></html>", content_type="image/jpeg")


def page(response):
    return lxml.html.fromstring(response.content.decode())


@pytest.fixture
def finding(branch, secretary, supervisor):
    return services.finding_raise(
        branch=branch, category="records", severity="moderate", description="签到表缺失。", user=supervisor, now=NOW
    )


def raise_url(branch):
    return reverse("supervision:finding_create") + f"?branch={branch.pk}"


def raise_data(**extra):
    return {
        "form_token": "b" * 32,
        "category": Finding.Category.RECORDS,
        "severity": Finding.Severity.MODERATE,
        "description": "现场照片显示会场无人。",
        "due_on": "2026-06-09",
        "evidence_category": Evidence.Category.PHOTO,
        **extra,
    }


@pytest.mark.django_db
def test_a_supervisor_attaches_photos_when_raising_a_finding(client, branch, secretary, supervisor):
    response = client_for(client, supervisor).post(
        raise_url(branch), raise_data(files=[photo(), photo("Nikon_D70.jpg")]), follow=True
    )

    finding = Finding.objects.get()
    assert sorted(finding.evidence.values_list("original_name", "category", "status")) == [
        ("Canon_40D.jpg", "photo", "processing"),
        ("Nikon_D70.jpg", "photo", "processing"),
    ]
    assert page(response).get_element_by_id("finding-evidence").text_content().count("处理中") == 2


@pytest.mark.django_db
def test_a_refused_file_does_not_stop_the_finding_and_is_named(client, branch, secretary, supervisor):
    response = client_for(client, supervisor).post(
        raise_url(branch), raise_data(files=[photo(), not_a_photo()]), follow=True
    )

    finding = Finding.objects.get()
    assert list(finding.evidence.values_list("original_name", flat=True)) == ["Canon_40D.jpg"]
    assert "以下材料未能上传" in response.content.decode() and "整改照片.jpg" in response.content.decode()


@pytest.mark.django_db
def test_the_branch_answers_with_measures_and_evidence(client, finding, secretary):
    rect = finding.rectification
    url = reverse("supervision:rectification_answer", args=[rect.pk])

    response = client_for(client, secretary).post(
        url, {"measures": "补齐签到表。", "evidence_category": "signin", "files": [photo("Pentax_K10D.jpg")]}
    )

    assert response.status_code == 302
    rect.refresh_from_db()
    assert rect.status == Status.SUBMITTED
    ev = rect.evidence.get()
    assert (ev.category, ev.uploaded_by, ev.finding_id, ev.meeting_id) == ("signin", secretary, None, None)


@pytest.mark.django_db
def test_an_answer_with_a_refused_file_is_not_submitted_and_the_good_file_stays(client, finding, secretary):
    rect = finding.rectification
    url = reverse("supervision:rectification_answer", args=[rect.pk])
    c = client_for(client, secretary)

    response = c.post(url, {"measures": "补齐签到表。", "files": [photo(), not_a_photo()]})

    assert response.status_code == 200
    form = page(response).get_element_by_id("answer-form")
    assert "整改照片.jpg" in form.text_content()
    rect.refresh_from_db()
    assert rect.status == Status.OPEN
    assert list(rect.evidence.values_list("original_name", flat=True)) == ["Canon_40D.jpg"]
    assert "Canon_40D.jpg" in page(response).get_element_by_id("rect-evidence").text_content()

    # Sent again with the same good file (already attached) it goes through, once.
    c.post(url, {"measures": "补齐签到表。", "files": [photo()]})
    rect.refresh_from_db()
    assert rect.status == Status.SUBMITTED
    assert rect.evidence.count() == 1


@pytest.mark.django_db
def test_a_double_submitted_answer_with_files_attaches_them_once(client, finding, secretary):
    rect = finding.rectification
    url = reverse("supervision:rectification_answer", args=[rect.pk])
    c = client_for(client, secretary)

    c.post(url, {"measures": "已整改。", "files": [photo()]})
    response = c.post(url, {"measures": "已整改。", "files": [photo("Nikon_D70.jpg")]}, follow=True)

    assert "整改情况已提交，正在等待督导组验收。" in response.content.decode()
    assert list(rect.evidence.values_list("original_name", flat=True)) == ["Canon_40D.jpg"]


@pytest.mark.django_db
def test_processed_evidence_is_shown_and_served_to_the_branch_and_not_to_another(
    client, finding, secretary, other_secretary, supervisor
):
    rect = finding.rectification
    client_for(client, secretary).post(
        reverse("supervision:rectification_answer", args=[rect.pk]), {"measures": "已整改。", "files": [photo()]}
    )
    ev = rect.evidence.get()
    assert evidence_services.evidence_process(evidence_id=ev.pk, now=NOW)

    detail = client.get(reverse("supervision:finding_detail", args=[finding.pk]))
    thumb = reverse("supervision:evidence_thumbnail", args=[ev.pk])
    assert page(detail).get_element_by_id("rect-evidence").xpath(f'.//img[@src="{thumb}"]')
    download = client.get(reverse("supervision:evidence_file", args=[ev.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    b"".join(download.streaming_content)

    client.logout()
    other = client_for(client, other_secretary)
    assert other.get(reverse("supervision:evidence_file", args=[ev.pk])).status_code == 404


@pytest.mark.django_db
def test_a_supervisor_adds_evidence_to_a_finding_later(client, finding, supervisor):
    url = reverse("supervision:finding_evidence_add", args=[finding.pk])

    response = client_for(client, supervisor).post(url, {"evidence_category": "photo", "files": [photo()]})

    assert response.status_code == 302
    assert finding.evidence.get().original_name == "Canon_40D.jpg"


@pytest.mark.django_db
def test_adding_evidence_without_a_file_says_so(client, finding, supervisor):
    url = reverse("supervision:finding_evidence_add", args=[finding.pk])

    response = client_for(client, supervisor).post(url, {"evidence_category": "photo"})

    assert "请选择要上传的文件。" in page(response).get_element_by_id("finding-evidence-form").text_content()
    assert not Evidence.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "status"), [("secretary", 403), ("member", 404), ("other_secretary", 404)])
def test_only_a_supervisor_adds_evidence_to_a_finding(client, people, finding, role, status):
    url = reverse("supervision:finding_evidence_add", args=[finding.pk])

    response = client_for(client, people[role]).post(url, {"evidence_category": "photo", "files": [photo()]})

    assert response.status_code == status
    assert not Evidence.objects.exists()


@pytest.mark.django_db
def test_the_secretary_may_delete_evidence_of_an_open_answer_from_the_page(client, finding, secretary):
    rect = finding.rectification
    evidence_services.evidence_upload(files=[photo()], category="photo", user=secretary, now=NOW, rectification=rect)
    c = client_for(client, secretary)

    doc = page(c.get(reverse("supervision:finding_detail", args=[finding.pk])))

    forms = doc.get_element_by_id("rect-evidence").xpath(".//form")
    assert [f.get("action") for f in forms] == [reverse("supervision:evidence_delete", args=[rect.evidence.get().pk])]
    assert not doc.get_element_by_id("finding-evidence").xpath(".//form")
