"""Photo checks on real camera photos: capture time, GPS position, the same photo in another meeting."""

import datetime as dt
import hashlib
import io
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from PIL import ExifTags, Image

from supervision.models import Evidence, Flag, SupervisionPolicy
from supervision.services.integrity import evidence_checks, fingerprint_store, haversine_m, meeting_checks
from tests.supervision.conftest import GPS_PHOTOS, SAMPLES, SHANGHAI, local, meeting_held

# Near where the nine gps_DSCN photos were taken (they lie within ~300 m of it).
PLACE = (Decimal("43.467100"), Decimal("11.882200"))
NOW = local(2008, 10, 25, 9)


def exif_facts(data: bytes) -> dict:
    """Capture time (camera clock read as local time) and GPS position, as the processing keeps them."""
    image = Image.open(io.BytesIO(data))
    exif = image.getexif()
    facts = {"width": image.width, "height": image.height, "captured_at": None, "gps": None}
    taken = exif.get_ifd(ExifTags.IFD.Exif).get(36867) or exif.get(306)
    if taken:
        facts["captured_at"] = dt.datetime.strptime(taken, "%Y:%m:%d %H:%M:%S").replace(tzinfo=SHANGHAI)
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    if gps.get(2) and gps.get(4):

        def degrees(dms, ref):
            value = float(dms[0]) + float(dms[1]) / 60 + float(dms[2]) / 3600
            return -value if ref in ("S", "W") else value

        facts["gps"] = (degrees(gps[2], gps.get(1)), degrees(gps[4], gps.get(3)))
    return facts


def make_evidence(meeting, *, name, data=None, category=Evidence.Category.PHOTO, stored=True, **fields):
    """An Evidence row as the worker leaves it after processing (the file itself is not needed by the checks)."""
    facts = exif_facts(data) if data is not None else {}
    gps = facts.get("gps")
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
        "width": facts.get("width"),
        "height": facts.get("height"),
        "captured_at": facts.get("captured_at"),
        "gps_latitude": Decimal(f"{gps[0]:.6f}") if gps else None,
        "gps_longitude": Decimal(f"{gps[1]:.6f}") if gps else None,
    }
    values.update(fields)
    return Evidence.objects.create(**values)


def set_policy(**values):
    policy = SupervisionPolicy.current()
    policy.refresh_from_db()  # a new row still holds the float default 0.80, which full_clean refuses
    for name, value in values.items():
        setattr(policy, name, value)
    policy.full_clean()
    policy.save()


def upload(meeting, path, *, data=None):
    """A processed photo of ``meeting``: the row, then the checks, as the evidence service runs them."""
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
        "照片拍摄时间（2008-10-22 16:28）不在会议时间（2008-10-23 16:00–17:30）内（允许前后 60 分钟）"
    )
    assert messages[-1].startswith("照片拍摄时间（2008-10-22 17:00）")
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
def test_files_other_than_meeting_photos_are_not_checked_or_indexed(branch):
    next_day = meeting_held(branch, start=local(2008, 10, 23, 16), end=local(2008, 10, 23, 17, 30))
    data = GPS_PHOTOS[0].read_bytes()
    sheet = make_evidence(next_day, name="sheet.jpg", data=data, category=Evidence.Category.SIGNIN)
    fingerprint_store(evidence=sheet, phash=12345)
    assert evidence_checks(evidence=sheet, now=NOW) == []
    assert not sheet.__class__.objects.filter(fingerprint__isnull=False).exists()
    assert timezone.is_aware(exif_facts(data)["captured_at"])
