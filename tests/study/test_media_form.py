"""A 宣传委员 uploads a 微党课 video through the library's form: stored and queued, or refused, nothing saved."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from org.models import Post
from study.models import StudyItem, StudyMedia
from tests.conftest import client_for
from tests.factories import member_with_login
from tests.study.test_library_workflow import _fields, _form
from tests.study.videos import make_video, needs_ffmpeg

pytestmark = [pytest.mark.django_db, needs_ffmpeg]


@pytest.fixture
def evidence_dir(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence"), "base_url": None},
        },
    }
    return tmp_path / "evidence"


@pytest.fixture
def propaganda(branch):
    return member_with_login(branch=branch, username="xuanchuan", role=Post.Role.PROPAGANDA, name="周宣传")


def _post_video(client, branch, data: bytes, name="微党课.mp4"):
    _, token = _form(client)
    fields = {**_fields(branch, kind="video", body="", credit_hours=""), "form_token": token}
    fields["file"] = SimpleUploadedFile(name, data, content_type="video/mp4")
    return client.post(reverse("study:item_create"), fields)


def test_a_video_uploaded_on_the_form_is_stored_and_sent_to_the_worker(
    client,
    branch,
    propaganda,
    tmp_path,
    evidence_dir,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    from study import tasks

    queued = []
    monkeypatch.setattr(tasks.process_study_media, "delay", queued.append)
    c = client_for(client, propaganda)

    with django_capture_on_commit_callbacks(execute=True):
        response = _post_video(c, branch, make_video(tmp_path / "v.mp4", seconds=2).read_bytes())

    assert response.status_code == 302
    media = StudyMedia.objects.get()
    assert media.item.kind == "video" and media.status == StudyMedia.Status.PENDING
    assert queued == [media.pk]
    assert (evidence_dir / media.original.name).exists()


def test_a_truncated_video_on_the_form_gets_a_chinese_reason_and_saves_nothing(
    client,
    branch,
    propaganda,
    tmp_path,
    evidence_dir,
):
    data = make_video(tmp_path / "v.webm", codec="vp8").read_bytes()[:500]

    response = _post_video(client_for(client, propaganda), branch, data, name="截断.webm")

    assert response.status_code == 200
    assert "不完整或已损坏" in response.content.decode()
    assert not StudyItem.objects.exists() and not StudyMedia.objects.exists()
    assert not evidence_dir.exists() or not any(p.is_file() for p in evidence_dir.rglob("*"))
