"""The evidence service on real files: what an upload refuses, what processing makes, what deletion removes."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zlib
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from supervision.models import Evidence, SupervisionPolicy
from supervision.services import evidence as services
from tests.supervision.conftest import SAMPLES, local, meeting_held
from tests.supervision.pdfs import minimal_pdf

NOW = local(2026, 5, 12, 10)


# --- Files, made here or taken from the samples ------------------------------------------


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def png_bytes(width: int = 64, height: int = 48, color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "PNG")
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pixel_bomb_png(side: int = 30_000) -> bytes:
    """A few hundred bytes that claim to be a side×side picture (900 megapixels): refused before decoding."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit greyscale
    idat = zlib.compress(b"\x00" * (side + 1) * 4)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4_header(seconds: int = 5) -> bytes:
    """ftyp and moov/mvhd (timescale 1000) of an MP4; append an mdat box for the media."""
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41")
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _box(
        b"mvhd",
        struct.pack(">I", 0)  # version 0, no flags
        + struct.pack(">IIII", 0, 0, 1000, seconds * 1000)
        + struct.pack(">IH", 0x10000, 0x100)
        + b"\x00" * 10
        + matrix
        + b"\x00" * 24
        + struct.pack(">I", 2),
    )
    return ftyp + _box(b"moov", mvhd)


def mp4_bytes(seconds: int = 5, media: int = 4096) -> bytes:
    return mp4_header(seconds) + _box(b"mdat", b"\x00" * media)


def pdf_bytes() -> bytes:
    # A PDF with its cross-reference table: the upload check reads the structure, not only the header.
    return minimal_pdf()


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def read_stored(name: str) -> bytes:
    storage = services.evidence_storage()
    with storage.open(name, "rb") as f:
        return f.read()


def upload_and_process(meeting, user, name: str, data: bytes, *, category=Evidence.Category.PHOTO) -> Evidence:
    result = services.evidence_upload(
        files=[upload(name, data)], category=category, user=user, now=NOW, meeting=meeting
    )
    assert not result.rejected, result.rejected
    (ev,) = result.saved
    assert services.evidence_process(evidence_id=ev.pk, now=NOW + dt.timedelta(seconds=5))
    ev.refresh_from_db()
    return ev


@pytest.fixture
def meeting(branch):
    # Held and not yet submitted: the branch may still add evidence.
    return meeting_held(branch, start=local(2026, 5, 10, 9), status="held")


# --- Refused at upload -------------------------------------------------------------------


@pytest.mark.django_db
def test_an_oversized_file_is_refused_with_a_message_and_nothing_is_stored(meeting, secretary, _evidence_storage):
    SupervisionPolicy.objects.update_or_create(pk=1, defaults={"photo_max_mb": 1})
    big = sample("mobile_jolla.jpg") * 2  # ~1.6 MB

    result = services.evidence_upload(
        files=[upload("会场.jpg", big)], category=Evidence.Category.PHOTO, user=secretary, now=NOW, meeting=meeting
    )

    assert result.saved == []
    assert result.rejected == [("会场.jpg", "文件过大：「会议照片」单个文件不能超过 1 MB。")]
    assert not Evidence.objects.exists()
    assert stored_files(_evidence_storage) == []


@pytest.mark.django_db
def test_a_text_file_named_jpg_is_refused_by_its_content(meeting, secretary, _evidence_storage):
    result = services.evidence_upload(
        files=[upload("photo.jpg", b"<html><script>alert(1)</script></html>\n" * 20, "image/jpeg")],
        category=Evidence.Category.PHOTO,
        user=secretary,
        now=NOW,
        meeting=meeting,
    )

    assert result.saved == []
    [(name, message)] = result.rejected
    assert name == "photo.jpg"
    assert message  # a sentence from the type check, in Chinese
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)
    assert stored_files(_evidence_storage) == []


@pytest.mark.django_db
def test_the_damaged_sample_jpeg_is_refused_with_a_message(meeting, secretary, _evidence_storage):
    result = services.evidence_upload(
        files=[upload("corrupted.jpg", sample("corrupted.jpg"))],
        category=Evidence.Category.PHOTO,
        user=secretary,
        now=NOW,
        meeting=meeting,
    )

    assert result.saved == []
    assert result.rejected == [("corrupted.jpg", "图片文件已损坏或不完整，无法解码。请重新导出或重新拍摄后上传。")]
    assert stored_files(_evidence_storage) == []


@pytest.mark.django_db
def test_the_invalid_exif_sample_is_a_sound_jpeg_without_a_capture_time(meeting, secretary):
    # Filed under "invalid" by the EXIF collection for its XMP-only APP1; the picture itself decodes cleanly.
    ev = upload_and_process(meeting, secretary, "invalid_image00971.jpg", sample("invalid_image00971.jpg"))

    assert ev.status == Evidence.Status.READY
    assert ev.captured_at is None


@pytest.mark.django_db
def test_a_pixel_bomb_is_refused_by_the_service_without_decoding_it(meeting, secretary, _evidence_storage):
    result = services.evidence_upload(
        files=[upload("bomb.png", pixel_bomb_png())],
        category=Evidence.Category.PHOTO,
        user=secretary,
        now=NOW,
        meeting=meeting,
    )

    assert result.saved == []
    [(name, message)] = result.rejected
    assert name == "bomb.png"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)
    assert stored_files(_evidence_storage) == []


@pytest.mark.django_db
def test_several_files_at_once_keep_the_good_ones_and_name_the_bad_one(meeting, secretary, _evidence_storage):
    files = [
        upload("第一张.jpg", sample("gps_DSCN0010.jpg")),
        upload("坏图.jpg", sample("corrupted.jpg")),
        upload("第二张.png", png_bytes()),
    ]

    result = services.evidence_upload(
        files=files, category=Evidence.Category.PHOTO, user=secretary, now=NOW, meeting=meeting
    )

    assert [ev.original_name for ev in result.saved] == ["第一张.jpg", "第二张.png"]
    assert [name for name, _message in result.rejected] == ["坏图.jpg"]
    assert Evidence.objects.filter(meeting=meeting, status=Evidence.Status.PROCESSING).count() == 2
    # Only the two originals, under server-made names with the extension the content says.
    names = stored_files(_evidence_storage)
    assert len(names) == 2
    assert all(n.startswith("originals/2026/05/") for n in names)
    assert sorted(n.rsplit(".", 1)[1] for n in names) == ["jpg", "png"]
    assert not any("第" in n for n in names)


@pytest.mark.django_db
def test_the_same_bytes_sent_twice_are_stored_once(meeting, secretary, _evidence_storage):
    data = sample("Canon_40D.jpg")
    first = services.evidence_upload(
        files=[upload("a.jpg", data), upload("a-copy.jpg", data)],
        category=Evidence.Category.PHOTO,
        user=secretary,
        now=NOW,
        meeting=meeting,
    )
    again = services.evidence_upload(
        files=[upload("a.jpg", data)], category=Evidence.Category.PHOTO, user=secretary, now=NOW, meeting=meeting
    )

    assert len(first.saved) == 1
    assert first.rejected == [("a-copy.jpg", services.DUPLICATE_IN_BATCH_MESSAGE)]
    assert again.saved == []
    assert again.rejected == [("a.jpg", services.DUPLICATE_MESSAGE)]
    assert Evidence.objects.count() == 1
    assert len(stored_files(_evidence_storage)) == 1


@pytest.mark.django_db
def test_the_row_records_size_hash_type_and_uploader(meeting, secretary):
    data = sample("Nikon_D70.jpg")

    (ev,) = services.evidence_upload(
        files=[upload("nikon.JPG", data)], category=Evidence.Category.PHOTO, user=secretary, now=NOW, meeting=meeting
    ).saved

    ev.refresh_from_db()
    import hashlib

    assert (ev.size, ev.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert (ev.kind, ev.content_type, ev.status) == (Evidence.Kind.IMAGE, "image/jpeg", Evidence.Status.PROCESSING)
    assert (ev.uploaded_by, ev.uploaded_at, ev.original_name) == (secretary, NOW, "nikon.JPG")
    assert not ev.file and not ev.thumbnail


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["submitted", "approved"])
def test_a_submitted_or_approved_meeting_refuses_upload_and_delete_in_the_service(
    branch, secretary, _evidence_storage, status
):
    meeting = meeting_held(branch, start=local(2026, 5, 10, 9), status="held")
    (ev,) = services.evidence_upload(
        files=[upload("a.jpg", sample("Canon_40D.jpg"))],
        category=Evidence.Category.PHOTO,
        user=secretary,
        now=NOW,
        meeting=meeting,
    ).saved
    meeting.status = status
    meeting.save(update_fields=["status"])
    before = stored_files(_evidence_storage)

    with pytest.raises(ValidationError) as refused:
        services.evidence_upload(
            files=[upload("b.png", png_bytes())],
            category=Evidence.Category.PHOTO,
            user=secretary,
            now=NOW,
            meeting=meeting,
        )
    assert refused.value.messages == [services.LOCKED_MESSAGE]
    with pytest.raises(ValidationError):
        services.evidence_delete(
            evidence=Evidence.objects.select_related("meeting").get(pk=ev.pk), user=secretary, now=NOW
        )

    assert list(Evidence.objects.values_list("pk", flat=True)) == [ev.pk]
    assert stored_files(_evidence_storage) == before


@pytest.mark.django_db
def test_a_meeting_submitted_after_the_page_was_loaded_refuses_the_upload(branch, secretary, _evidence_storage):
    meeting = meeting_held(branch, start=local(2026, 5, 10, 9), status="held")
    # The caller still holds the meeting as it was when the form was shown.
    type(meeting).objects.filter(pk=meeting.pk).update(status="submitted")

    with pytest.raises(ValidationError):
        services.evidence_upload(
            files=[upload("b.png", png_bytes())],
            category=Evidence.Category.PHOTO,
            user=secretary,
            now=NOW,
            meeting=meeting,
        )

    assert not Evidence.objects.exists()
    assert stored_files(_evidence_storage) == []


# --- Processing --------------------------------------------------------------------------


def exif_of(data: bytes):
    return Image.open(io.BytesIO(data)).getexif()


@pytest.mark.django_db
def test_a_gps_photo_keeps_its_position_as_data_and_no_served_copy_carries_it(meeting, secretary):
    original = sample("gps_DSCN0010.jpg")
    assert exif_of(original).get_ifd(ExifTags.IFD.GPSInfo)  # the sample does carry a position

    ev = upload_and_process(meeting, secretary, "gps_DSCN0010.jpg", original)

    assert ev.status == Evidence.Status.READY
    assert ev.captured_at == local(2008, 10, 22, 16, 28) + dt.timedelta(seconds=39)
    assert ev.gps_latitude == Decimal("43.467448")
    assert ev.gps_longitude == Decimal("11.885127")
    assert "NIKON" in ev.camera.upper()
    assert (ev.width, ev.height) == (640, 480)
    for name in (ev.file.name, ev.thumbnail.name):
        served = read_stored(name)
        assert served[:2] == b"\xff\xd8"
        assert b"Exif" not in served
        exif = exif_of(served)
        assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
        assert ExifTags.Base.GPSInfo not in exif
        assert len(exif) == 0
    assert ev.file.name != ev.original.name
    assert ev.file.name.startswith("files/2026/05/")
    assert ev.thumbnail.name.startswith("thumbnails/2026/05/")
    assert Image.open(io.BytesIO(read_stored(ev.thumbnail.name))).size[0] <= 640


@pytest.mark.django_db
def test_a_png_with_html_appended_is_served_without_the_html(meeting, secretary):
    payload = b"<html><body><script>alert(document.cookie)</script></body></html>"
    ev = upload_and_process(meeting, secretary, "trojan.png", png_bytes() + payload)

    served = read_stored(ev.file.name)
    assert ev.status == Evidence.Status.READY
    assert b"<script" not in served and b"<html" not in served
    assert served[:2] == b"\xff\xd8" and served.rstrip(b"\x00")[-2:] == b"\xff\xd9"
    assert b"<script" not in read_stored(ev.thumbnail.name)
    assert payload in read_stored(ev.original.name)  # the original is kept as uploaded, never served


@pytest.mark.django_db
def test_a_photo_without_a_capture_time_is_processed_with_none(meeting, secretary):
    ev = upload_and_process(meeting, secretary, "paint.jpg", sample("PaintTool_sample.jpg"))

    assert ev.status == Evidence.Status.READY
    assert ev.captured_at is None
    assert ev.gps_latitude is None and ev.gps_longitude is None


@pytest.mark.django_db
def test_a_video_gets_its_duration_and_a_served_copy(meeting, secretary):
    ev = upload_and_process(meeting, secretary, "会议.mp4", mp4_bytes(seconds=7), category=Evidence.Category.VIDEO)

    assert (ev.status, ev.kind) == (Evidence.Status.READY, Evidence.Kind.VIDEO)
    assert ev.duration_seconds == Decimal("7.00")
    assert ev.file.name.startswith("files/") and ev.file.name.endswith(".mp4")
    assert read_stored(ev.file.name)[4:8] == b"ftyp"
    assert not ev.thumbnail


@pytest.mark.django_db
def test_a_pdf_scan_is_served_as_uploaded(meeting, secretary):
    ev = upload_and_process(meeting, secretary, "会议记录.pdf", pdf_bytes(), category=Evidence.Category.MINUTES_SCAN)

    assert (ev.status, ev.kind, ev.content_type) == (Evidence.Status.READY, Evidence.Kind.PDF, "application/pdf")
    assert read_stored(ev.file.name) == pdf_bytes()


@pytest.mark.django_db
def test_processing_twice_does_nothing_the_second_time(meeting, secretary, _evidence_storage):
    ev = upload_and_process(meeting, secretary, "a.jpg", sample("gps_DSCN0012.jpg"))
    files_after_first = stored_files(_evidence_storage)
    state = Evidence.objects.values().get(pk=ev.pk)

    assert services.evidence_process(evidence_id=ev.pk, now=NOW + dt.timedelta(minutes=1)) is False
    assert services.evidence_process(evidence_id=ev.pk, now=NOW + dt.timedelta(days=1)) is False

    assert stored_files(_evidence_storage) == files_after_first
    assert Evidence.objects.values().get(pk=ev.pk) == state
    assert len(files_after_first) == 3  # original, served copy, thumbnail


@pytest.mark.django_db
def test_a_row_claimed_by_a_live_worker_is_not_processed_again(meeting, secretary, _evidence_storage):
    (ev,) = services.evidence_upload(
        files=[upload("a.jpg", sample("Canon_40D.jpg"))],
        category=Evidence.Category.PHOTO,
        user=secretary,
        now=NOW,
        meeting=meeting,
    ).saved
    assert services._claim(ev.pk, NOW)  # another worker took it and is still at it

    assert services.evidence_process(evidence_id=ev.pk, now=NOW + services.LEASE - dt.timedelta(seconds=1)) is False
    assert Evidence.objects.get(pk=ev.pk).status == Evidence.Status.PROCESSING
    assert len(stored_files(_evidence_storage)) == 1


@pytest.mark.django_db
def test_a_file_found_damaged_only_when_processed_fails_with_a_message(meeting, secretary, _evidence_storage):
    (ev,) = services.evidence_upload(
        files=[upload("a.jpg", sample("Canon_40D.jpg"))],
        category=Evidence.Category.PHOTO,
        user=secretary,
        now=NOW,
        meeting=meeting,
    ).saved
    # The stored original went bad after the upload (a disk fault): only the first bytes are left.
    path = _evidence_storage / ev.original.name
    path.write_bytes(path.read_bytes()[:600])

    assert services.evidence_process(evidence_id=ev.pk, now=NOW) is True

    ev.refresh_from_db()
    assert ev.status == Evidence.Status.FAILED
    assert any("\u4e00" <= ch <= "\u9fff" for ch in ev.error)
    assert not ev.file and not ev.thumbnail
    assert stored_files(_evidence_storage) == [ev.original.name]
    assert services.evidence_process(evidence_id=ev.pk, now=NOW + dt.timedelta(hours=1)) is False


@pytest.mark.django_db
def test_the_sweep_processes_a_row_whose_task_was_lost(meeting, secretary):
    (ev,) = services.evidence_upload(
        files=[upload("a.jpg", sample("gps_DSCN0021.jpg"))],
        category=Evidence.Category.PHOTO,
        user=secretary,
        now=NOW,
        meeting=meeting,
    ).saved
    # No worker ran: the task was never delivered.

    assert services.evidence_process_stale(now=NOW + dt.timedelta(minutes=1)) == 0  # may still be on its way
    assert services.evidence_process_stale(now=NOW + dt.timedelta(minutes=6)) == 1
    assert services.evidence_process_stale(now=NOW + dt.timedelta(minutes=7)) == 0

    ev.refresh_from_db()
    assert ev.status == Evidence.Status.READY and ev.thumbnail


@pytest.mark.django_db
def test_the_sweep_takes_over_a_row_only_after_its_workers_lease_has_expired(meeting, secretary):
    (ev,) = services.evidence_upload(
        files=[upload("a.jpg", sample("gps_DSCN0025.jpg"))],
        category=Evidence.Category.PHOTO,
        user=secretary,
        now=NOW,
        meeting=meeting,
    ).saved
    claimed = NOW + dt.timedelta(seconds=2)
    assert services._claim(ev.pk, claimed)  # a worker took it, then was killed

    assert services.evidence_process_stale(now=claimed + services.LEASE - dt.timedelta(seconds=1)) == 0
    assert services.evidence_process_stale(now=claimed + services.LEASE + dt.timedelta(seconds=1)) == 1
    assert Evidence.objects.get(pk=ev.pk).status == Evidence.Status.READY


@pytest.mark.django_db
def test_an_upload_succeeds_when_the_broker_is_down(
    meeting, secretary, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from supervision import tasks

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.process_evidence, "delay", broker_down)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = services.evidence_upload(
            files=[upload("a.jpg", sample("Canon_40D.jpg"))],
            category=Evidence.Category.PHOTO,
            user=secretary,
            now=NOW,
            meeting=meeting,
        )

    assert len(callbacks) == 1
    assert len(result.saved) == 1
    assert Evidence.objects.get().status == Evidence.Status.PROCESSING  # left for the sweep


@pytest.mark.django_db
def test_the_processing_task_is_enqueued_once_the_upload_commits(
    meeting, secretary, monkeypatch, django_capture_on_commit_callbacks
):
    from supervision import tasks

    sent = []
    monkeypatch.setattr(tasks.process_evidence, "delay", sent.append)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = services.evidence_upload(
            files=[upload("a.jpg", sample("Canon_40D.jpg")), upload("b.png", png_bytes())],
            category=Evidence.Category.PHOTO,
            user=secretary,
            now=NOW,
            meeting=meeting,
        )
        assert sent == []
    for callback in callbacks:
        callback()

    assert sent == [ev.pk for ev in result.saved]


# --- Deletion ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_deleting_a_row_deletes_its_files_once_committed(
    meeting, secretary, _evidence_storage, django_capture_on_commit_callbacks
):
    ev = upload_and_process(meeting, secretary, "a.jpg", sample("gps_DSCN0027.jpg"))
    keep = upload_and_process(meeting, secretary, "b.png", png_bytes())
    assert len(stored_files(_evidence_storage)) == 6

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.evidence_delete(
            evidence=Evidence.objects.select_related("meeting").get(pk=ev.pk), user=secretary, now=NOW
        )
    assert len(stored_files(_evidence_storage)) == 6  # nothing gone before the commit
    for callback in callbacks:
        callback()

    assert not Evidence.objects.filter(pk=ev.pk).exists()
    assert stored_files(_evidence_storage) == sorted([keep.original.name, keep.file.name, keep.thumbnail.name])


@pytest.mark.django_db
def test_deleting_a_meeting_deletes_the_files_of_its_evidence(
    meeting, secretary, _evidence_storage, django_capture_on_commit_callbacks
):
    upload_and_process(meeting, secretary, "a.jpg", sample("gps_DSCN0029.jpg"))
    upload_and_process(meeting, secretary, "s.pdf", pdf_bytes(), category=Evidence.Category.SIGNIN)
    assert stored_files(_evidence_storage)

    with django_capture_on_commit_callbacks(execute=True):
        meeting.delete()

    assert not Evidence.objects.exists()
    assert stored_files(_evidence_storage) == []


@pytest.mark.django_db
def test_the_rejections_can_be_known_before_anything_is_stored(_evidence_storage):
    rejected = services.evidence_rejections(
        files=[upload("好.jpg", sample("Canon_40D.jpg")), upload("坏.jpg", sample("corrupted.jpg"))],
        category=Evidence.Category.PHOTO,
    )

    assert [name for name, _message in rejected] == ["坏.jpg"]
    assert stored_files(_evidence_storage) == []
