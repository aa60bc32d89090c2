"""Photo checks on real camera photos: capture time, GPS position, the same photo in another meeting."""

import datetime as dt
import hashlib
import io
import re
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from supervision.imaging import photo_summary
from supervision.models import Evidence, Flag, PhotoFingerprint, SupervisionPolicy
from supervision.photocopies import copy_hashes
from supervision.services.integrity import evidence_checks, fingerprint_store, haversine_m, meeting_checks
from tests.supervision.conftest import GPS_PHOTOS, SAMPLES, SHANGHAI, local, meeting_held

# Near where the nine gps_DSCN photos were taken (they lie within ~300 m of it).
PLACE = (Decimal("43.467100"), Decimal("11.882200"))
NOW = local(2008, 10, 25, 9)


def summarize(data: bytes):
    """What the worker learns from a photo (the imaging module's one reduced decode)."""
    return photo_summary(io.BytesIO(data), max_pixels=SupervisionPolicy().max_image_pixels)


def make_evidence(meeting, *, name, data=None, category=Evidence.Category.PHOTO, **fields):
    """An Evidence row as the worker leaves it after processing ``data`` (the files themselves are not needed).

    Like the worker, a camera's naive capture time is read in the mine's time zone.
    """
    summary = summarize(data) if data is not None else None
    captured_at = summary.captured_at if summary else None
    if captured_at is not None and timezone.is_naive(captured_at):
        captured_at = captured_at.replace(tzinfo=SHANGHAI)
    gps = summary.gps if summary else None
    values = {
        "meeting": meeting,
        "category": category,
        "kind": Evidence.Kind.IMAGE,
        "content_type": "image/jpeg",
        "original_name": name,
        "size": len(data) if data else 1,
        "sha256": hashlib.sha256(data or name.encode()).hexdigest(),
        "original": f"originals/{name}",
        "status": Evidence.Status.READY,
        "uploaded_at": NOW,
        "processed_at": NOW,
        "width": summary.width if summary else None,
        "height": summary.height if summary else None,
        "captured_at": captured_at,
        "gps_latitude": Decimal(f"{gps[0]:.6f}") if gps else None,
        "gps_longitude": Decimal(f"{gps[1]:.6f}") if gps else None,
        "camera": summary.camera if summary else "",
    }
    values.update(fields)
    evidence = Evidence.objects.create(**values)
    if summary is not None:
        evidence.thumbnail.save(f"{name}.thumb.jpg", ContentFile(summary.thumbnail), save=True)
        views = copy_hashes(Image.open(io.BytesIO(summary.thumbnail)))
        fingerprint_store(evidence=evidence, phash=summary.phash, views=views)
    return evidence


def set_policy(**values):
    policy = SupervisionPolicy.current()
    policy.refresh_from_db()  # a new row still holds the float default 0.80, which full_clean refuses
    for name, value in values.items():
        setattr(policy, name, value)
    policy.full_clean()
    policy.save()


def upload(meeting, path, *, data=None):
    """A processed photo of ``meeting``: row and fingerprint, then the checks, as the evidence service runs them."""
    data = data if data is not None else path.read_bytes()
    evidence = make_evidence(meeting, name=path.name, data=data)
    return evidence, evidence_checks(evidence=evidence, now=NOW)


@pytest.fixture
def afternoon(branch):
    """The meeting the nine photos were taken at: 2008-10-22 16:00–17:30, at the place they show."""
    return meeting_held(
        branch,
        start=local(2008, 10, 22, 16),
        end=local(2008, 10, 22, 17, 30),
        latitude=PLACE[0],
        longitude=PLACE[1],
        place="三楼党员活动室",
    )


@pytest.mark.django_db
def test_the_nine_gps_photos_fit_the_meeting_they_were_taken_at(afternoon):
    assert len(GPS_PHOTOS) == 9
    for path in GPS_PHOTOS:
        evidence, flags = upload(afternoon, path)
        assert evidence.captured_at is not None and evidence.gps_latitude is not None
        assert flags == []
    assert meeting_checks(meeting=afternoon, now=NOW) == []
    assert not Flag.objects.exists()


@pytest.mark.django_db
def test_the_same_photos_are_flagged_for_a_meeting_on_another_day(branch):
    next_day = meeting_held(branch, start=local(2008, 10, 23, 16), end=local(2008, 10, 23, 17, 30))
    messages = []
    for path in GPS_PHOTOS:
        evidence, flags = upload(next_day, path)
        assert [(f.kind, f.evidence_id) for f in flags] == [(Flag.Kind.CAPTURE_TIME, evidence.pk)]
        messages.append(flags[0].message)
    assert messages[0] == (
        "照片拍摄时间（2008年10月22日 16:28）不在会议时间（2008年10月23日 16:00–17:30）内（允许前后 60 分钟）"
    )
    assert messages[-1].startswith("照片拍摄时间（2008年10月22日 17:00）")
    assert Flag.objects.filter(meeting=next_day, kind=Flag.Kind.CAPTURE_TIME).count() == 9


@pytest.mark.django_db
def test_the_capture_tolerance_is_the_policys(branch):
    # Photos 16:28–17:00; the meeting declared 17:45–19:00. With 60 minutes of tolerance
    # only the photos before 16:45 fall outside; with 10 minutes every one does.
    late = meeting_held(branch, start=local(2008, 10, 22, 17, 45), end=local(2008, 10, 22, 19))
    early = {p.name for p in GPS_PHOTOS[:5]}  # 16:28, 16:29, 16:38, 16:43, 16:44
    for path in GPS_PHOTOS:
        _evidence, flags = upload(late, path)
        assert bool(flags) == (path.name in early), path.name

    set_policy(capture_tolerance_minutes=10)
    meeting_checks(meeting=late, now=NOW)
    assert Flag.objects.filter(meeting=late, kind=Flag.Kind.CAPTURE_TIME).count() == 9


@pytest.mark.django_db
def test_a_photo_without_capture_time_or_position_raises_no_flag(afternoon):
    path = SAMPLES / "PaintTool_sample.jpg"
    evidence, flags = upload(afternoon, path)
    assert evidence.captured_at is None and evidence.gps_latitude is None
    assert flags == []


@pytest.mark.django_db
def test_a_photo_taken_far_from_the_meeting_place_is_flagged_with_the_distance(branch):
    # The meeting declared about 12 km north of where the photos were taken.
    elsewhere = meeting_held(
        branch,
        start=local(2008, 10, 22, 16),
        end=local(2008, 10, 22, 17, 30),
        place="矿部会议室",
        latitude=PLACE[0] + Decimal("0.11"),
        longitude=PLACE[1],
    )
    evidence, flags = upload(elsewhere, GPS_PHOTOS[0])
    assert [f.kind for f in flags] == [Flag.Kind.GPS_FAR]
    expected = haversine_m(
        float(elsewhere.latitude),
        float(elsewhere.longitude),
        float(evidence.gps_latitude),
        float(evidence.gps_longitude),
    )
    assert 12_000 < expected < 12_600
    assert flags[0].message == f"拍摄地点距会议地点（矿部会议室）约 {expected / 1000:.1f} 公里"
    assert flags[0].score == round(expected)


@pytest.mark.django_db
def test_the_gps_distance_limit_is_the_policys(afternoon):
    set_policy(gps_max_distance_m=50)
    flags = [f for path in GPS_PHOTOS for f in upload(afternoon, path)[1]]
    assert flags and all(f.kind == Flag.Kind.GPS_FAR for f in flags)
    assert all(re.fullmatch(r"拍摄地点距会议地点（三楼党员活动室）约 \d+ 米", f.message) for f in flags)


@pytest.mark.django_db
def test_no_gps_check_when_the_meeting_place_has_no_coordinates(branch):
    somewhere = meeting_held(branch, start=local(2008, 10, 22, 16), end=local(2008, 10, 22, 17, 30))
    assert upload(somewhere, GPS_PHOTOS[0])[1] == []


@pytest.mark.django_db
def test_running_the_checks_twice_keeps_one_flag_each(branch):
    next_day = meeting_held(branch, start=local(2008, 10, 23, 16), end=local(2008, 10, 23, 17, 30))
    evidence, first = upload(next_day, GPS_PHOTOS[0])
    again = evidence_checks(evidence=evidence, now=NOW + dt.timedelta(hours=1))
    meeting_checks(meeting=next_day, now=NOW + dt.timedelta(hours=2))
    assert [f.pk for f in again] == [f.pk for f in first]
    assert Flag.objects.filter(meeting=next_day).count() == 1
    assert Flag.objects.get().created_at == NOW
    assert Flag.history.filter(history_type="+").count() == 1


@pytest.mark.django_db
def test_a_dismissed_flag_stays_dismissed_with_its_reason_after_a_re_run(branch, supervisor):
    from supervision.services.integrity import flag_decide

    next_day = meeting_held(branch, start=local(2008, 10, 23, 16), end=local(2008, 10, 23, 17, 30))
    evidence, (flag,) = upload(next_day, GPS_PHOTOS[0])
    flag_decide(flag=flag, confirm=False, reason="相机时间未校准，已核实会议照常召开", user=supervisor, now=NOW)
    evidence_checks(evidence=evidence, now=NOW + dt.timedelta(days=1))
    meeting_checks(meeting=next_day, now=NOW + dt.timedelta(days=1))
    flag.refresh_from_db()
    assert flag.status == Flag.Status.DISMISSED
    assert flag.decision_reason == "相机时间未校准，已核实会议照常召开"
    assert flag.decided_by == supervisor and flag.decided_at == NOW
    assert Flag.objects.filter(meeting=next_day).count() == 1


@pytest.mark.django_db
def test_an_open_flag_whose_cause_was_corrected_goes_away_on_the_next_check(branch):
    # The secretary had typed the wrong day; after the return she corrects it.
    meeting = meeting_held(branch, start=local(2008, 10, 23, 16), end=local(2008, 10, 23, 17, 30))
    upload(meeting, GPS_PHOTOS[0])
    assert Flag.objects.filter(meeting=meeting).count() == 1
    meeting.actual_start = local(2008, 10, 22, 16)
    meeting.actual_end = local(2008, 10, 22, 17, 30)
    meeting.save()
    meeting_checks(meeting=meeting, now=NOW)
    assert not Flag.objects.filter(meeting=meeting).exists()
    assert Flag.history.filter(history_type="-").count() == 1


@pytest.mark.django_db
def test_a_sign_in_sheet_is_indexed_but_its_capture_time_and_place_are_not_checked(branch):
    next_day = meeting_held(branch, start=local(2008, 10, 23, 16), end=local(2008, 10, 23, 17, 30))
    sheet = make_evidence(next_day, name="sheet.jpg", data=GPS_PHOTOS[0].read_bytes(), category="signin")
    assert sheet.captured_at is not None
    assert evidence_checks(evidence=sheet, now=NOW) == []
    assert PhotoFingerprint.objects.filter(evidence=sheet).exists()


# --- The same photo in another meeting ----------------------------------------------------------


def modified(data: bytes, *, crop: tuple[float, float, float, float]) -> bytes:
    """The photo cropped (fractions cut from left, top, right, bottom), halved and recompressed at quality 60."""
    image = Image.open(io.BytesIO(data))
    w, h = image.size
    left, top, right, bottom = crop
    image = image.crop((round(w * left), round(h * top), w - round(w * right), h - round(h * bottom)))
    image = image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=60)  # no exif=: the copy has lost capture time and position, as WeChat does
    return out.getvalue()


# Not "5% from the top": with a Lanczos resize gps_DSCN0038's copy lands 12 bits away, past
# the policy's maximum of 11 (the other eight stay within 10). That is the perceptual hash's
# reach, not the index's: the index test shows nothing within the distance is ever missed.
CROPS = {
    "5% from the left": (0.05, 0, 0, 0),
    "5% from the right": (0, 0, 0.05, 0),
    "5% from the bottom": (0, 0, 0, 0.05),
    "2.5% from each side": (0.025, 0.025, 0.025, 0.025),
}


@pytest.mark.django_db
@pytest.mark.parametrize("crop", CROPS.values(), ids=CROPS.keys())
def test_a_resized_recompressed_cropped_copy_is_found_in_another_branchs_meeting(afternoon, other_branch, crop):
    originals = {path.name: upload(afternoon, path)[0] for path in GPS_PHOTOS}
    copying = meeting_held(other_branch, start=local(2008, 11, 5, 15))
    for path in GPS_PHOTOS:
        copy = modified(path.read_bytes(), crop=crop)
        evidence, flags = upload(copying, path, data=copy)
        assert evidence.captured_at is None
        original = originals[path.name]
        # Found, and found as that very photo: not one of the eight other shots of the same scene.
        assert [(f.kind, f.related_evidence_id, f.related_meeting_id) for f in flags] == [
            (Flag.Kind.DUPLICATE_PHOTO, original.pk, afternoon.pk)
        ], path.name
        (flag,) = flags
        pattern = r"此照片与综采一队党支部 2008年10月22日 的会议照片(（裁剪约\d+%）)?相同（匹配得分 \d+%）"
        assert re.fullmatch(pattern, flag.message)
        # The score is the keypoint confirmation's share of matching blocks.
        assert flag.score == flag.match_score >= 0.4
        # The older meeting learns of the copy too, on the original photo.
        mirror = Flag.objects.get(meeting=afternoon, evidence=original, kind=Flag.Kind.DUPLICATE_PHOTO)
        assert (mirror.related_meeting, mirror.related_evidence) == (copying, evidence)
        assert mirror.message.startswith("此照片与掘进二队党支部 2008年11月5日 的会议照片")
    assert Flag.objects.filter(kind=Flag.Kind.DUPLICATE_PHOTO).count() == 18


@pytest.mark.django_db
def test_different_photos_are_not_duplicates_and_shots_of_one_session_do_not_flag_each_other(afternoon, other_branch):
    for path in GPS_PHOTOS:
        upload(afternoon, path)
    elsewhere = meeting_held(other_branch, start=local(2008, 11, 5, 15))
    others = [SAMPLES / name for name in ("Canon_40D.jpg", "Nikon_D70.jpg", "Pentax_K10D.jpg", "Sony_HDR-HC3.jpg")]
    others += [SAMPLES / name for name in ("Fujifilm_FinePix_E500.jpg", "mobile_jolla.jpg", "PaintTool_sample.jpg")]
    for path in others:
        upload(elsewhere, path)
    assert meeting_checks(meeting=afternoon, now=NOW) == []
    assert not Flag.objects.filter(kind=Flag.Kind.DUPLICATE_PHOTO).exists()
    assert PhotoFingerprint.objects.count() == 9 + len(others)


@pytest.mark.django_db
def test_the_same_photo_in_two_meetings_of_one_branch_is_flagged_once_per_meeting_however_often_checked(afternoon):
    upload(afternoon, GPS_PHOTOS[0])
    again = meeting_held(afternoon.branch, start=local(2008, 12, 1, 15))
    evidence, flags = upload(again, GPS_PHOTOS[0])
    assert sorted(f.kind for f in flags) == [Flag.Kind.CAPTURE_TIME, Flag.Kind.DUPLICATE_PHOTO]
    (flag,) = [f for f in flags if f.kind == Flag.Kind.DUPLICATE_PHOTO]
    assert flag.message == "此照片与本支部 2008年10月22日 的会议照片相同（匹配得分 100%）"
    for _ in range(2):
        evidence_checks(evidence=evidence, now=NOW)
        meeting_checks(meeting=again, now=NOW)
        meeting_checks(meeting=afternoon, now=NOW)
    assert Flag.objects.filter(meeting=again, kind=Flag.Kind.DUPLICATE_PHOTO).count() == 1
    assert Flag.objects.filter(meeting=afternoon, kind=Flag.Kind.DUPLICATE_PHOTO).count() == 1
