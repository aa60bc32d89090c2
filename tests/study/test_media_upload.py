"""Uploading a study file: type by content, size limits at the boundary, the worker's poster, duration and transcode."""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import pytest
from django.core.exceptions import ValidationError

from study import media as services
from study.credit import item_credit_hours
from study.models import StudyItem, StudyMedia, StudyPolicy
from tests.factories import StudyItemFactory
from tests.study.videos import (
    make_audio,
    make_video,
    needs_ffmpeg,
    office_bytes,
    pad_mp4,
    pdf_bytes,
    upload,
)
from tests.supervision.conftest import SHANGHAI

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
    return tmp_path / "evidence"


def stored_files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def draft(kind: str, **kwargs) -> StudyItem:
    return StudyItemFactory(kind=kind, state="draft", credit_hours=None, **kwargs)


def attach(item, name, data, *, user=None):
    return services.attach_upload(item=item, upload=upload(name, data), user=user or item.created_by, now=NOW)


def probe(path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", str(path)],
        capture_output=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_an_h264_mp4_is_stored_privately_and_processed_into_a_poster_and_duration_without_a_transcode(
    tmp_path, _study_storage, django_capture_on_commit_callbacks
):
    item = draft("video")
    data = make_video(tmp_path / "lesson.mp4", seconds=3).read_bytes()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        media = attach(item, "微党课.mp4", data)

    assert len(callbacks) == 1  # the worker is asked once the row is committed
    media.refresh_from_db()
    assert media.status == StudyMedia.Status.PENDING
    assert media.original.name.startswith("study/originals/2026/05/")
    assert media.original_name == "微党课.mp4"
    assert media.content_type == "video/mp4"
    assert media.size == len(data)
    assert media.duration_seconds == pytest.approx(3, abs=0.1)

    assert services.media_process(media_id=media.pk, now=NOW) is True
    media.refresh_from_db()
    assert media.status == StudyMedia.Status.READY
    assert media.playable.name == media.original.name  # already what phones play
    assert media.poster.name.startswith("study/posters/2026/05/")
    assert (_study_storage / media.poster.name).read_bytes()[:3] == b"\xff\xd8\xff"
    assert media.processed_at == NOW
    assert services.media_process(media_id=media.pk, now=NOW) is False  # idempotent: nothing to claim


def test_a_webm_is_transcoded_to_an_h264_aac_mp4_capped_at_720_lines(tmp_path, _study_storage):
    item = draft("video")
    data = make_video(tmp_path / "lesson.webm", seconds=1, size="1280x960", codec="vp8", rate=5).read_bytes()
    media = attach(item, "lesson.webm", data)

    services.media_process(media_id=media.pk, now=NOW)

    media.refresh_from_db()
    assert media.status == StudyMedia.Status.READY, media.error
    assert media.playable.name.startswith("study/playable/") and media.playable.name.endswith(".mp4")
    info = probe(_study_storage / media.playable.name)
    codecs = {s["codec_type"]: s for s in info["streams"]}
    assert codecs["video"]["codec_name"] == "h264"
    assert (codecs["video"]["width"], codecs["video"]["height"]) == (960, 720)
    assert codecs["audio"]["codec_name"] == "aac"
    assert media.playable_size == (_study_storage / media.playable.name).stat().st_size
    assert (_study_storage / media.original.name).exists()  # the original is kept


def test_a_portrait_phone_video_is_capped_on_its_short_side(tmp_path, _study_storage):
    media = attach(
        draft("video"),
        "竖屏.webm",
        make_video(tmp_path / "p.webm", seconds=1, size="960x1280", codec="vp8", rate=5).read_bytes(),
    )

    services.media_process(media_id=media.pk, now=NOW)

    media.refresh_from_db()
    video = next(s for s in probe(_study_storage / media.playable.name)["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (720, 960)


def test_a_failed_processing_keeps_the_original_and_says_why_in_chinese(tmp_path, _study_storage):
    media = attach(draft("video"), "lesson.webm", make_video(tmp_path / "l.webm", codec="vp8").read_bytes())
    # The file is damaged on disk after the upload was checked (a bad sector, a half-copied restore).
    (_study_storage / media.original.name).write_bytes(b"\x1a\x45\xdf\xa3" + bytes(1000))

    assert services.media_process(media_id=media.pk, now=NOW) is True

    media.refresh_from_db()
    assert media.status == StudyMedia.Status.FAILED
    assert media.get_status_display() == "处理失败"
    assert "不完整或已损坏" in media.error
    assert not media.playable and not media.poster
    assert stored_files(_study_storage) == [media.original.name]


def test_an_mp3_is_kept_as_is_and_a_wav_becomes_an_aac_m4a(tmp_path, _study_storage):
    mp3 = attach(draft("audio"), "讲座.mp3", make_audio(tmp_path / "a.mp3").read_bytes())
    wav = attach(draft("audio"), "讲座.wav", make_audio(tmp_path / "a.wav").read_bytes())
    for media in (mp3, wav):
        services.media_process(media_id=media.pk, now=NOW)
        media.refresh_from_db()
        assert media.status == StudyMedia.Status.READY, media.error
        assert not media.poster

    assert mp3.content_type == "audio/mpeg" and mp3.playable.name == mp3.original.name
    assert wav.content_type == "audio/wav" and wav.playable.name.endswith(".m4a")
    streams = probe(_study_storage / wav.playable.name)["streams"]
    assert [s["codec_name"] for s in streams] == ["aac"]


def test_an_audio_only_mp4_from_a_phone_is_taken_as_audio_but_not_as_video(tmp_path):
    data = make_audio(tmp_path / "rec.m4a").read_bytes()

    media = attach(draft("audio"), "录音.m4a", data)
    assert media.content_type == "audio/mp4"

    with pytest.raises(ValidationError) as refused:
        attach(draft("video"), "录音.mp4", data)
    assert "视频" in refused.value.messages[0]


@pytest.mark.parametrize(
    ("kind", "name", "make", "expected"),
    [
        ("document", "讲义.pdf", lambda tmp: pdf_bytes(), "application/pdf"),
        ("document", "讲义.docx", lambda tmp: office_bytes(), "wordprocessingml.document"),
        (
            "document",
            "表.xlsx",
            lambda tmp: office_bytes("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
            "spreadsheetml.sheet",
        ),
        (
            "document",
            "课件.pptx",
            lambda tmp: office_bytes(
                "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
            ),
            "presentationml.presentation",
        ),
    ],
)
def test_documents_are_taken_by_content_and_ready_at_once(tmp_path, kind, name, make, expected, _study_storage):
    media = attach(draft(kind), name, make(tmp_path))

    assert expected in media.content_type
    assert media.status == StudyMedia.Status.READY
    assert media.processed_at == NOW


BAD = [
    ("video", "空.mp4", lambda tmp: b"", "文件是空的"),
    ("video", "假视频.mp4", lambda tmp: b"<html><script>alert(1)</script></html>" * 10, "文件内容不是可接受的格式"),
    ("video", "声音.mp4", lambda tmp: make_audio(tmp / "a.mp3").read_bytes(), "此处只接受视频"),
    ("video", "截断.mp4", lambda tmp: make_video(tmp / "v.mp4").read_bytes()[:3000], "不完整或已损坏"),
    ("video", "截断.webm", lambda tmp: make_video(tmp / "v.webm", codec="vp8").read_bytes()[:400], "不完整或已损坏"),
    ("audio", "图片.mp3", lambda tmp: pdf_bytes(), "此类材料只接受音频"),
    ("audio", "噪声.mp3", lambda tmp: b"ID3" + bytes(5000), "读不出时长"),
    ("document", "压缩包.docx", lambda tmp: office_bytes("application/zip"), "文件内容不是可接受的格式"),
    ("document", "视频.pdf", lambda tmp: make_video(tmp / "v.mp4").read_bytes(), "所选文件是视频"),
    ("article", "x.pdf", lambda tmp: pdf_bytes(), "图文资料"),
]


@pytest.mark.parametrize(("kind", "name", "make", "message"), BAD, ids=[b[1] for b in BAD])
def test_a_bad_file_is_refused_with_a_chinese_reason_and_nothing_is_stored(
    tmp_path, kind, name, make, message, _study_storage, django_capture_on_commit_callbacks
):
    item = draft(kind)

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(ValidationError) as refused:
        attach(item, name, make(tmp_path))

    assert message in " ".join(refused.value.messages)
    assert not callbacks
    assert not StudyMedia.objects.exists()
    assert stored_files(_study_storage) == []


def test_the_size_limit_takes_a_file_of_exactly_the_limit_and_refuses_one_byte_more(tmp_path, settings, _study_storage):
    settings.STUDY_MAX_MB = {**settings.STUDY_MAX_MB, "video": 1}
    data = make_video(tmp_path / "v.mp4").read_bytes()

    attach(draft("video"), "正好.mp4", pad_mp4(data, 1024 * 1024))
    with pytest.raises(ValidationError) as refused:
        attach(draft("video"), "多一个字节.mp4", pad_mp4(data, 1024 * 1024 + 1))

    assert "1 MB" in refused.value.messages[0]
    assert StudyMedia.objects.count() == 1


def test_a_published_item_keeps_its_file(tmp_path, _study_storage):
    item = StudyItemFactory(kind="video", state="published")

    with pytest.raises(ValidationError) as refused:
        attach(item, "新.mp4", make_video(tmp_path / "v.mp4").read_bytes())

    assert "已发布" in refused.value.messages[0]
    assert stored_files(_study_storage) == []


def test_the_same_file_sent_twice_changes_nothing_and_a_new_file_replaces_the_old_ones(
    tmp_path, _study_storage, django_capture_on_commit_callbacks, monkeypatch
):
    from study import tasks

    queued = []
    monkeypatch.setattr(tasks.process_study_media, "delay", queued.append)
    item = draft("video")
    first = make_video(tmp_path / "a.mp4", seconds=2).read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        media = attach(item, "a.mp4", first)
    services.media_process(media_id=media.pk, now=NOW)
    media.refresh_from_db()
    before = stored_files(_study_storage)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = attach(item, "a.mp4", first)
    assert again.pk == media.pk and not callbacks
    assert stored_files(_study_storage) == before

    with django_capture_on_commit_callbacks(execute=True):
        replaced = attach(item, "b.mp4", make_video(tmp_path / "b.mp4", seconds=4).read_bytes())
    assert replaced.pk == media.pk
    assert queued == [media.pk, media.pk]
    replaced.refresh_from_db()
    assert replaced.status == StudyMedia.Status.PENDING and not replaced.poster
    assert replaced.duration_seconds == pytest.approx(4, abs=0.1)
    assert stored_files(_study_storage) == [replaced.original.name]


def test_a_reupload_while_the_worker_runs_wins_over_the_old_outcome(tmp_path):
    item = draft("video")
    media = attach(item, "a.mp4", make_video(tmp_path / "a.mp4").read_bytes())
    StudyMedia.objects.filter(pk=media.pk).update(status=StudyMedia.Status.PROCESSING)

    assert services.media_process(media_id=media.pk, now=NOW) is False  # claimed by another run
    assert StudyMedia.objects.get(pk=media.pk).status == StudyMedia.Status.PROCESSING


def test_the_processing_task_is_queued_again_by_the_sweep_when_the_broker_was_down(tmp_path, monkeypatch):
    from study import tasks

    sent = []
    monkeypatch.setattr(tasks.process_study_media, "delay", sent.append)
    media = attach(draft("video"), "a.mp4", make_video(tmp_path / "a.mp4").read_bytes())

    assert services.media_process_stale(now=NOW + dt.timedelta(minutes=9)) == 0
    assert services.media_process_stale(now=NOW + dt.timedelta(minutes=10)) == 1
    assert sent == [media.pk]


@pytest.mark.parametrize(
    ("seconds", "minutes_per_hour", "hours"),
    [
        (45 * 60, 45, "1.0"),
        (12 * 60, 45, "0.3"),
        (2 * 60 + 15, 45, "0.1"),
        (2 * 60 + 14, 45, "0.0"),
        (30 * 60, 30, "1.0"),
    ],
)
def test_a_video_is_credited_its_duration_over_the_minutes_per_hour(seconds, minutes_per_hour, hours):
    policy = StudyPolicy.current()
    policy.minutes_per_hour = minutes_per_hour
    policy.save()
    item = draft("video")
    StudyMedia.objects.create(item=item, original="x.mp4", duration_seconds=seconds, uploaded_at=NOW)

    assert str(item_credit_hours(StudyItem.objects.select_related("media").get(pk=item.pk))) == hours


def test_a_document_is_credited_what_its_publisher_set_and_a_video_without_duration_nothing():
    assert str(item_credit_hours(StudyItemFactory(kind="document", credit_hours="1.5"))) == "1.5"
    assert str(item_credit_hours(draft("video"))) == "0.0"
    video_with_credit = StudyItemFactory(kind="video", credit_hours="2.0")
    assert str(item_credit_hours(video_with_credit)) == "2.0"
