"""Playing a study file: HTTP Range on local disk, S3 signed URLs, X-Accel-Redirect, and who may fetch it."""

from __future__ import annotations

import datetime as dt
import io
import time
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import ExifTags, Image

from study import tasks
from study.media import attach_upload
from study.models import StudyItem, StudyMedia
from supervision.models import evidence_storage
from tests.conftest import client_for
from tests.factories import StudyItemFactory
from tests.study.videos import make_video, needs_ffmpeg, office_bytes, pdf_bytes, upload
from tests.supervision.conftest import GPS_PHOTOS, SHANGHAI

pytestmark = [pytest.mark.django_db, needs_ffmpeg]

NOW = dt.datetime(2026, 5, 10, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _study_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence"), "base_url": None},
        },
    }
    settings.S3_BUCKET = ""
    settings.STUDY_ACCEL_REDIRECT = ""


@pytest.fixture(scope="module")
def video_bytes(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("v") / "lesson.mp4", seconds=2).read_bytes()


def with_media(item, data: bytes, *, name="study/playable/2026/05/lesson.mp4", content_type="video/mp4", **fields):
    stored = evidence_storage().save(name, ContentFile(data))
    StudyMedia.objects.create(
        item=item,
        original=stored,
        original_name=fields.pop("original_name", "微党课.mp4"),
        content_type=content_type,
        size=len(data),
        playable=stored if item.kind in ("video", "audio") else "",
        status=fields.pop("status", StudyMedia.Status.READY),
        uploaded_at=NOW,
        **fields,
    )
    return item


@pytest.fixture
def lesson(video_bytes):
    """A published mine-wide 微党课 with its (already phone-playable) video."""
    return with_media(StudyItemFactory(kind="video", credit_hours=None), video_bytes)


def play_url(item, which="play"):
    return reverse("study:media_file", args=[item.pk, which])


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_whole_video_is_sent_with_range_support_announced(client, member, lesson, video_bytes):
    response = client_for(client, member).get(play_url(lesson))

    assert response.status_code == 200
    assert body(response) == video_bytes
    assert response["Content-Length"] == str(len(video_bytes))
    assert response["Content-Type"] == "video/mp4"
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"].startswith('"') and response["Last-Modified"].endswith("GMT")
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),  # the first bytes
        ("bytes=1000-1999", 1000, 1999),  # a middle range
        ("bytes=-500", "size-500", "size-1"),  # a suffix
        ("bytes=100-", 100, "size-1"),  # open-ended
        ("bytes=0-99999999", 0, "size-1"),  # past the end: cut to the end
        ("bytes=size-1-", "size-1", "size-1"),  # exactly the last byte
        ("bytes=-99999999", 0, "size-1"),  # a suffix longer than the file: all of it
    ],
)
def test_one_range_is_answered_with_206_and_exactly_those_bytes(
    client, member, lesson, video_bytes, header, first, last
):
    size = len(video_bytes)

    def resolve(v):
        return eval(v, {"size": size}) if isinstance(v, str) else v  # noqa: S307 - the test's own expressions

    header = header.replace("size-1", str(size - 1))
    first, last = resolve(first), resolve(last)

    response = client_for(client, member).get(play_url(lesson), HTTP_RANGE=header)

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{size}"
    assert response["Content-Length"] == str(last - first + 1)
    assert body(response) == video_bytes[first : last + 1]


@pytest.mark.parametrize("header", ["bytes=size-", "bytes=abc", "bytes=5-2", "bytes=-0", "bytes=-", "bytes=1-2-3"])
def test_a_range_outside_the_file_or_malformed_is_416_with_the_size(client, member, lesson, video_bytes, header):
    size = len(video_bytes)

    response = client_for(client, member).get(play_url(lesson), HTTP_RANGE=header.replace("size", str(size)))

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-10"])
def test_several_ranges_or_another_unit_get_the_whole_file(client, member, lesson, video_bytes, header):
    response = client_for(client, member).get(play_url(lesson), HTTP_RANGE=header)

    assert response.status_code == 200
    assert body(response) == video_bytes


def test_if_range_honours_the_range_only_while_the_file_is_the_same(client, member, lesson, video_bytes):
    c = client_for(client, member)
    etag = c.get(play_url(lesson))["ETag"]

    same = c.get(play_url(lesson), HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    changed = c.get(play_url(lesson), HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"another"')
    old_date = c.get(play_url(lesson), HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE="Mon, 01 Jan 2001 00:00:00 GMT")

    assert same.status_code == 206 and body(same) == video_bytes[:10]
    assert changed.status_code == 200 and body(changed) == video_bytes
    assert old_date.status_code == 200


def test_a_cached_copy_is_confirmed_with_304(client, member, lesson):
    c = client_for(client, member)
    etag = c.get(play_url(lesson))["ETag"]

    assert c.get(play_url(lesson), HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_range_request_costs_a_fixed_number_of_queries(client, member, lesson, django_assert_num_queries):
    c = client_for(client, member)
    c.get(play_url(lesson), HTTP_RANGE="bytes=0-9")  # warm the session
    with django_assert_num_queries(7):  # session, user, the login's reach (4), the item with its media
        assert c.get(play_url(lesson), HTTP_RANGE="bytes=0-9").status_code == 206


def test_the_poster_is_served_by_the_same_view(client, member, video_bytes):
    jpeg = b"\xff\xd8\xff\xe0" + bytes(100)
    poster = evidence_storage().save("study/posters/2026/05/p.jpg", ContentFile(jpeg))
    item = with_media(StudyItemFactory(kind="video"), video_bytes, poster=poster)

    response = client_for(client, member).get(play_url(item, "poster"))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert body(response) == jpeg


def test_no_poster_yet_is_404(client, member, lesson):
    assert client_for(client, member).get(play_url(lesson, "poster")).status_code == 404


def test_a_pdf_opens_in_the_page_and_an_office_file_is_downloaded(client, member):
    pdf = with_media(
        StudyItemFactory(kind="document"),
        pdf_bytes(),
        name="study/originals/a.pdf",
        content_type="application/pdf",
        original_name="讲义.pdf",
    )
    docx = with_media(
        StudyItemFactory(kind="document"),
        office_bytes(),
        name="study/originals/b.docx",
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        original_name="讲义.docx",
    )
    c = client_for(client, member)

    assert c.get(play_url(pdf, "file"))["Content-Disposition"].startswith("inline")
    assert c.get(play_url(docx, "file"))["Content-Disposition"].startswith("attachment")
    assert c.get(play_url(docx, "play")).status_code == 404  # a document has nothing to play


@pytest.mark.parametrize("which", ["play", "poster", "file", "nonsense"])
def test_a_member_outside_the_audience_gets_404_for_every_file(client, member, other_branch, video_bytes, which):
    item = with_media(StudyItemFactory(kind="video", audience="branches", branches=[other_branch]), video_bytes)

    assert client_for(client, member).get(play_url(item, which), HTTP_RANGE="bytes=0-9").status_code == 404


def test_the_secretary_of_another_branch_cannot_fetch_a_branch_only_lesson(
    client, other_secretary, branch, video_bytes
):
    item = with_media(StudyItemFactory(kind="video", audience="branches", branches=[branch]), video_bytes)

    assert client_for(client, other_secretary).get(play_url(item)).status_code == 404


def test_a_draft_cannot_be_fetched_by_a_member(client, member, video_bytes):
    item = with_media(StudyItemFactory(kind="video", state="draft"), video_bytes)

    assert client_for(client, member).get(play_url(item)).status_code == 404


def test_anonymous_is_sent_to_the_login(client, lesson):
    response = client.get(play_url(lesson), HTTP_RANGE="bytes=0-9")

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_a_write_method_is_refused(client, member, lesson):
    assert client_for(client, member).post(play_url(lesson)).status_code == 405


def test_on_s3_the_permitted_request_is_redirected_to_a_short_signed_url(
    client, member, other_branch, lesson, settings
):
    settings.S3_BUCKET = "sanhui"
    settings.STUDY_SIGNED_URL_SECONDS = 120
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "sanhui",
                "endpoint_url": "http://127.0.0.1:9",
                "access_key": "testing",
                "secret_key": "testing",
                "region_name": "us-east-1",
                "querystring_auth": True,
                "location": "evidence",
            },
        },
    }
    hidden = StudyItemFactory(kind="video", audience="branches", branches=[other_branch])
    StudyMedia.objects.create(item=hidden, original="study/x.mp4", playable="study/x.mp4", uploaded_at=NOW)
    c = client_for(client, member)

    response = c.get(play_url(lesson))

    assert response.status_code == 302
    url = urlparse(response["Location"])
    query = parse_qs(url.query)
    assert url.path == f"/sanhui/evidence/{lesson.media.playable.name}"
    # boto3's presigned GET (as settings.py configures it): valid STUDY_SIGNED_URL_SECONDS from now.
    assert 115 <= int(query["Expires"][0]) - time.time() <= 121 and query["Signature"]
    assert query["response-content-type"] == ["video/mp4"]
    assert c.get(play_url(hidden)).status_code == 404  # the same check before any URL is signed


def test_behind_nginx_the_bytes_are_left_to_x_accel_redirect(client, member, lesson, settings):
    settings.STUDY_ACCEL_REDIRECT = "/protected/"

    response = client_for(client, member).get(play_url(lesson), HTTP_RANGE="bytes=0-9")

    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected/{lesson.media.playable.name}"
    assert response["Content-Type"] == "video/mp4"
    assert response.content == b""


# --- The player on the item page ---------------------------------------------------------------


def page(client, user, item):
    response = client_for(client, user).get(reverse("study:item_detail", args=[item.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_item_page_plays_the_video_through_the_checked_view_with_its_poster(client, member, video_bytes):
    poster = evidence_storage().save("study/posters/p.jpg", ContentFile(b"\xff\xd8\xff"))
    item = with_media(
        StudyItemFactory(kind="video", credit_hours=None), video_bytes, poster=poster, duration_seconds=754
    )

    html = page(client, member, item)

    assert f'src="{play_url(item)}"' in html
    assert f'poster="{play_url(item, "poster")}"' in html
    assert 'preload="metadata"' in html and "playsinline" in html
    assert "约 13 分钟" in html


def test_the_item_page_says_when_the_video_is_still_being_processed_or_failed(client, member, video_bytes):
    pending = with_media(StudyItemFactory(kind="video"), video_bytes, status=StudyMedia.Status.PENDING)
    failed = with_media(
        StudyItemFactory(kind="video"),
        video_bytes,
        name="study/originals/f.mp4",
        status=StudyMedia.Status.FAILED,
        error="视频转码失败（格式无法识别或文件已损坏），原文件已保留，手机可能无法播放。",
    )

    assert "待处理：正在生成封面并转为手机可播放的格式" in page(client, member, pending)
    assert "处理失败：视频转码失败" in page(client, member, failed)


def test_the_item_page_has_an_audio_player_for_audio_and_a_link_for_a_document(client, member):
    audio = with_media(
        StudyItemFactory(kind="audio"), b"ID3" + bytes(100), name="study/a.mp3", content_type="audio/mpeg"
    )
    doc = with_media(
        StudyItemFactory(kind="document"),
        office_bytes(),
        name="study/originals/b.docx",
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        original_name="讲义.docx",
    )

    assert '<audio id="study-media" class="w-100" controls preload="metadata"' in page(client, member, audio)
    html = page(client, member, doc)
    assert f'href="{play_url(doc, "file")}"' in html and "下载" in html and "讲义.docx" in html


def _gps(data: bytes):
    return Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)


def test_an_image_document_is_served_without_exif_or_gps_only_once_the_worker_processed_it(
    client, member, django_capture_on_commit_callbacks, monkeypatch
):
    original = GPS_PHOTOS[0].read_bytes()
    assert _gps(original)  # otherwise this test could not fail
    queued = []
    monkeypatch.setattr(tasks.process_study_media, "delay", queued.append)
    item = StudyItemFactory(kind="document", state="draft", credit_hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        media = attach_upload(item=item, upload=upload("现场.jpg", original), user=item.created_by, now=NOW)
    assert queued == [media.pk]  # handed to the worker once the upload committed
    assert media.status == StudyMedia.Status.PENDING
    StudyItem.objects.filter(pk=item.pk).update(state=StudyItem.State.PUBLISHED, published_at=NOW)
    c = client_for(client, member)

    # Before processing nothing is served: the stored original keeps the camera's position.
    assert c.get(play_url(item, "file")).status_code == 404
    page = c.get(reverse("study:item_detail", args=[item.pk])).content.decode()
    assert 'id="media-processing"' in page and play_url(item, "file") not in page

    tasks.process_study_media(media.pk)

    media.refresh_from_db()
    assert media.status == StudyMedia.Status.READY
    served = c.get(play_url(item, "file"))
    data = body(served)
    assert served["Content-Type"] == "image/jpeg"
    assert data != original and not Image.open(io.BytesIO(data)).getexif() and not _gps(data)
    assert _gps(media.original.read())  # the original is kept as uploaded, never served
    assert play_url(item, "file") in c.get(reverse("study:item_detail", args=[item.pk])).content.decode()


def test_an_image_document_the_worker_cannot_read_fails_and_is_never_served(client, member):
    item = StudyItemFactory(kind="document", state="draft", credit_hours=1)
    media = attach_upload(
        item=item, upload=upload("现场.jpg", GPS_PHOTOS[0].read_bytes()), user=item.created_by, now=NOW
    )
    with evidence_storage().open(media.original.name, "wb") as damaged:
        damaged.write(GPS_PHOTOS[0].read_bytes()[:300])
    StudyItem.objects.filter(pk=item.pk).update(state=StudyItem.State.PUBLISHED, published_at=NOW)

    assert tasks.process_study_media(media.pk) is True

    media.refresh_from_db()
    assert media.status == StudyMedia.Status.FAILED and "已损坏" in media.error
    assert client_for(client, member).get(play_url(item, "file")).status_code == 404
