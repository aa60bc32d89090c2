"""Uploads refused from their Content-Length before the body is read, and bodies cut off half-way.

Requests are built by hand (``client.generic``) so that the announced length and the bytes
sent can disagree, as they do when a client lies or drops the connection.
"""

import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse

from supervision.models import Evidence, Finding, Rectification
from supervision.services import findings as services
from tests.conftest import client_for
from tests.supervision.conftest import local, meeting_held
from tests.supervision.test_evidence_upload import png_bytes, stored_files
from tests.supervision.test_evidence_views import every_limit_1_mb

pytestmark = pytest.mark.django_db

NOW = local(2026, 5, 10, 9, 30)
HUGE = 5 * 1024**3  # 5 GB announced


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def meeting(branch):
    return meeting_held(branch, start=local(2026, 5, 10, 9), status="held")


@pytest.fixture
def finding(branch, people):
    return services.finding_raise(
        branch=branch,
        category=Finding.Category.RECORDS,
        severity=Finding.Severity.SERIOUS,
        description="记录缺发言摘要。",
        user=people["supervisor"],
        now=NOW,
    )


def post_raw(client, url, body: bytes, *, announced: int):
    """POST ``body`` while announcing ``announced`` bytes in Content-Length.

    The body is a plain stream that ends early, as the socket of a client that went away
    (the test client's own payload refuses to be read past its end).
    """
    return client.generic(
        "POST",
        url,
        data=body or b"-",
        content_type=MULTIPART_CONTENT,
        CONTENT_LENGTH=str(announced),
        **{"wsgi.input": io.BytesIO(body)},
    )


def multipart(**fields) -> bytes:
    return encode_multipart(BOUNDARY, fields)


def answer_body() -> bytes:
    return multipart(
        measures="已组织补学并补正记录。",
        evidence_category="other",
        files=[SimpleUploadedFile("整改.png", png_bytes())],
    )


# --- Content-Length over the limit: 413 at once --------------------------------------------


@pytest.mark.parametrize("body", [b"", b"x" * 10], ids=["no-body", "tiny-body"])
def test_an_evidence_upload_announcing_more_than_the_limit_is_refused_before_reading(
    client, secretary, meeting, _evidence_storage, body
):
    response = post_raw(
        client_for(client, secretary), reverse("supervision:evidence_upload", args=[meeting.pk]), body, announced=HUGE
    )

    assert response.status_code == 413
    html = response.content.decode()
    assert "本次上传共 5120 MB，超过单次上传上限" in html and "请分批上传" in html
    assert response.wsgi_request.upload_refused
    assert not Evidence.objects.exists()
    assert stored_files(_evidence_storage) == []


def test_a_rectification_answer_announcing_more_than_the_limit_is_refused_and_not_submitted(
    client, secretary, finding, _evidence_storage
):
    url = reverse("supervision:rectification_answer", args=[finding.rectification.pk])

    response = post_raw(client_for(client, secretary), url, b"", announced=HUGE)

    assert response.status_code == 413
    assert "超过单次上传上限" in response.content.decode()
    finding.rectification.refresh_from_db()
    assert finding.rectification.status == Rectification.Status.OPEN
    assert not Evidence.objects.exists()


def test_a_new_finding_announcing_more_than_the_limit_is_refused_and_not_raised(client, supervisor, branch):
    url = reverse("supervision:finding_create") + f"?branch={branch.pk}"

    response = post_raw(client_for(client, supervisor), url, b"", announced=HUGE)

    assert response.status_code == 413
    assert not Finding.objects.exists()


def test_evidence_added_to_a_finding_announcing_more_than_the_limit_is_refused(client, supervisor, finding):
    url = reverse("supervision:finding_evidence_add", args=[finding.pk])

    response = post_raw(client_for(client, supervisor), url, b"", announced=HUGE)

    assert response.status_code == 413
    assert not Evidence.objects.exists()


def test_the_limit_follows_the_policy_edited_in_the_admin(client, secretary, meeting):
    every_limit_1_mb()  # 1 MB a file + 1 MB for the form: 2 MB a request
    url = reverse("supervision:evidence_upload", args=[meeting.pk])
    c = client_for(client, secretary)

    assert post_raw(c, url, b"", announced=2 * 1024 * 1024 + 1).status_code == 413
    assert post_raw(c, url, b"", announced=2 * 1024 * 1024).status_code != 413


def test_any_other_post_is_held_to_the_default_limit(client, secretary, settings):
    settings.UPLOAD_DEFAULT_MAX_BYTES = 1000

    response = post_raw(client_for(client, secretary), reverse("logout"), b"", announced=1001)

    assert response.status_code == 413
    assert "超过单次上传上限" in response.content.decode()


# --- A body cut off half-way: nothing submitted ---------------------------------------------


def test_a_rectification_answer_whose_upload_was_cut_off_is_not_submitted(
    client, secretary, finding, _evidence_storage
):
    body = answer_body()
    url = reverse("supervision:rectification_answer", args=[finding.rectification.pk])

    # The client announced the whole body and dropped the connection after half of it.
    response = post_raw(client_for(client, secretary), url, body[: len(body) // 2], announced=len(body))

    assert "上传未完成" in response.content.decode()
    finding.rectification.refresh_from_db()
    assert finding.rectification.status == Rectification.Status.OPEN
    assert finding.rectification.measures == ""
    assert not Evidence.objects.exists()
    assert stored_files(_evidence_storage) == []


def test_a_rectification_answer_missing_its_closing_boundary_is_not_submitted(client, secretary, finding):
    body = answer_body()
    cut = body[: -len(b"--" + BOUNDARY.encode() + b"--\r\n") - 10]  # the last file's tail and the closing boundary
    url = reverse("supervision:rectification_answer", args=[finding.rectification.pk])

    response = post_raw(client_for(client, secretary), url, cut, announced=len(cut))

    assert "上传未完成" in response.content.decode()
    finding.rectification.refresh_from_db()
    assert finding.rectification.status == Rectification.Status.OPEN
    assert not Evidence.objects.exists()


def test_a_complete_answer_sent_the_same_way_is_submitted(client, secretary, finding):
    body = answer_body()
    url = reverse("supervision:rectification_answer", args=[finding.rectification.pk])

    response = post_raw(client_for(client, secretary), url, body, announced=len(body))

    assert response.status_code == 302
    finding.rectification.refresh_from_db()
    assert finding.rectification.status == Rectification.Status.SUBMITTED
    assert Evidence.objects.filter(rectification=finding.rectification).count() == 1


def test_an_evidence_upload_cut_off_half_way_stores_nothing(client, secretary, meeting, _evidence_storage):
    body = multipart(
        category="photo",
        files=[SimpleUploadedFile("a.png", png_bytes()), SimpleUploadedFile("b.png", png_bytes(80, 60))],
    )
    url = reverse("supervision:evidence_upload", args=[meeting.pk])

    response = post_raw(client_for(client, secretary), url, body[: len(body) - 200], announced=len(body))

    assert response.status_code == 400
    assert "上传未完成" in response.content.decode()
    assert not Evidence.objects.exists()
    assert stored_files(_evidence_storage) == []
