"""Copies people really make of a photo, built from the real sample photos: found and confirmed.

The evaluation set: every sample photo of at least 200 px (12) under ten transformations
(mirrored, cropped by a fifth, cropped 10 % each side, rotated 4°, a phone screenshot with
bars, padded to a square, each half of a two-photo collage, a red banner over the top 15 %,
recompressed, resized), and every pair of two different sample photos as the honest pairs
(66, among them the nine shots of one scene by one camera within half an hour, the most
alike pictures in the set). One threshold for all: nothing here is tuned per image.
"""

import io
import itertools

import pytest
from django.core.files.base import ContentFile
from PIL import Image, ImageDraw, ImageOps

from supervision import photocopies
from supervision.imaging import hamming
from supervision.models import Evidence, Flag, PhotoView, SupervisionPolicy
from supervision.services.integrity import evidence_checks, fingerprint_store
from tests.supervision.conftest import SAMPLES, local, meeting_held

NOW = local(2026, 3, 20, 9)
MAX_DISTANCE = SupervisionPolicy().photo_hash_max_distance


def _load(path):
    im = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    im.thumbnail((320, 320))  # what the worker keeps and compares: the 320 px thumbnail
    return im


@pytest.fixture(scope="module")
def photos():
    paths = sorted(p for p in SAMPLES.glob("*.jpg") if "corrupt" not in p.name and "invalid" not in p.name)
    loaded = {p.name: _load(p) for p in paths}
    return {name: im for name, im in loaded.items() if min(Image.open(SAMPLES / name).size) >= 200}


def recompressed(im, quality=60):
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def cropped_top(im):
    return im.crop((0, round(im.height * 0.2), im.width, im.height))


def cropped_sides(im):
    dx, dy = round(im.width * 0.1), round(im.height * 0.1)
    return im.crop((dx, dy, im.width - dx, im.height - dy))


def rotated(im):
    turned = im.rotate(4, resample=Image.Resampling.BICUBIC)
    dx, dy = round(im.width * 0.06), round(im.height * 0.06)
    return turned.crop((dx, dy, im.width - dx, im.height - dy))


def screenshot(im):
    """The photo as a phone shows it: a tall black frame, a status bar with the clock, a bottom bar."""
    frame = Image.new("RGB", (im.width, int(im.width * 2.1)), (0, 0, 0))
    frame.paste(im, (0, (frame.height - im.height) // 2))
    draw = ImageDraw.Draw(frame)
    draw.rectangle((0, 0, frame.width, int(frame.height * 0.04)), fill=(245, 245, 245))
    draw.text((5, 2), "09:41  5G 87%", fill=(0, 0, 0))
    draw.rectangle((0, frame.height - int(frame.height * 0.06), frame.width, frame.height), fill=(250, 250, 250))
    return frame


def squared(im):
    side = max(im.size)
    frame = Image.new("RGB", (side, side), (255, 255, 255))
    frame.paste(im, ((side - im.width) // 2, (side - im.height) // 2))
    return frame


def bannered(im):
    im = im.copy()
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 0, im.width, int(im.height * 0.15)), fill=(200, 16, 30))
    draw.text((10, 5), "2026 ANQUAN SHENGCHAN", fill=(255, 230, 0))
    return im


def resized(im):
    return im.resize((im.width * 3 // 4, im.height * 3 // 4))


def collage(a, b):
    """Two photos side by side with a white gap, as a phone's collage maker lays them."""
    h = max(a.height, b.height)
    a2, b2 = (p.resize((round(p.width * h / p.height), h)) for p in (a, b))
    frame = Image.new("RGB", (a2.width + b2.width + 6, h), (255, 255, 255))
    frame.paste(a2, (0, 0))
    frame.paste(b2, (a2.width + 6, 0))
    return frame


TRANSFORMS = {
    "mirrored": ImageOps.mirror,
    "cropped by a fifth": cropped_top,
    "cropped 10% each side": cropped_sides,
    "rotated 4°": rotated,
    "phone screenshot": screenshot,
    "padded to a square": squared,
    "red banner over the top 15%": bannered,
    "recompressed": recompressed,
    "resized": resized,
}


def found(original, copy) -> tuple[bool, photocopies.CopyMatch]:
    """What the check does: a candidate from the view hashes, then the keypoint confirmation."""
    distance = min(hamming(x, y) for x in photocopies.copy_hashes(original) for y in photocopies.copy_hashes(copy))
    match = photocopies.confirm_copy(original, copy)
    return distance <= MAX_DISTANCE and match.is_copy, match


@pytest.fixture(scope="module")
def planted(photos):
    names = sorted(photos)
    outcomes = {}
    for i, name in enumerate(names):
        for label, transform in TRANSFORMS.items():
            outcomes[(label, name)] = found(photos[name], transform(photos[name]))[0]
        partner = photos[names[(i + 1) % len(names)]]
        outcomes[("two-photo collage", name)] = found(photos[name], collage(photos[name], partner))[0]
    return outcomes


@pytest.fixture(scope="module")
def honest(photos):
    return {(a, b): found(photos[a], photos[b])[0] for a, b in itertools.combinations(sorted(photos), 2)}


def test_the_evaluation_set_is_the_whole_sample_set(photos, planted, honest):
    assert len(photos) == 12
    assert len(planted) == 12 * 10
    assert len(honest) == 66


@pytest.mark.parametrize("label", [*TRANSFORMS, "two-photo collage"])
def test_each_kind_of_copy_is_found_in_most_photos(planted, label):
    outcomes = [ok for (kind, _name), ok in planted.items() if kind == label]
    assert sum(outcomes) >= len(outcomes) - 1, [
        name for (kind, name), ok in planted.items() if kind == label and not ok
    ]


def test_overall_rates_over_the_whole_set(planted, honest):
    detection = sum(planted.values()) / len(planted)
    false_flags = sum(honest.values()) / len(honest)
    assert detection >= 0.95, detection
    assert false_flags <= 0.02, [pair for pair, ok in honest.items() if ok]


def test_the_nine_shots_of_one_scene_are_not_copies_of_each_other(photos):
    shots = sorted(name for name in photos if name.startswith("gps_DSCN"))
    assert len(shots) == 9
    scores = [photocopies.confirm_copy(photos[a], photos[b]).score for a, b in itertools.combinations(shots, 2)]
    assert max(scores) < photocopies.COPY_BLOCK_SHARE / 2


def test_the_match_says_mirrored_and_outlines_the_cropped_region(photos):
    original = photos["gps_DSCN0010.jpg"]
    match = photocopies.confirm_copy(original, ImageOps.mirror(cropped_top(original)))
    assert match.is_copy and match.mirrored
    assert 0.15 <= match.cropped <= 0.25
    # In the original, the copy covers the lower four fifths.
    ys = [y for _x, y in match.region_a]
    assert min(ys) == pytest.approx(0.2, abs=0.04) and max(ys) == pytest.approx(1.0, abs=0.02)


def test_a_collage_part_is_outlined_in_its_half(photos):
    a, b = photos["gps_DSCN0010.jpg"], photos["mobile_jolla.jpg"]
    match = photocopies.confirm_copy(a, collage(a, b))
    assert match.is_copy
    xs = [x for x, _y in match.region_b]
    assert max(xs) <= 0.55


def test_trim_removes_a_screenshots_bars_and_a_squares_padding(photos):
    im = photos["gps_DSCN0010.jpg"]
    for framed in (screenshot(im), squared(im)):
        left, top, right, bottom = photocopies.trim_box(framed)
        assert abs((right - left) - im.width) <= 2 and abs((bottom - top) - im.height) <= 2


def _image_evidence(meeting, im, *, category, name):
    thumb = io.BytesIO()
    im.save(thumb, "JPEG", quality=80)
    evidence = Evidence.objects.create(
        meeting=meeting,
        category=category,
        kind=Evidence.Kind.IMAGE,
        content_type="image/jpeg",
        original_name=name,
        size=1,
        sha256=name.ljust(64, "0")[:64],
        original=f"originals/{name}",
        status=Evidence.Status.READY,
        uploaded_at=NOW,
        processed_at=NOW,
        width=im.width,
        height=im.height,
    )
    evidence.thumbnail.save(f"{name}.jpg", ContentFile(thumb.getvalue()), save=True)
    views = photocopies.copy_hashes(im)
    fingerprint_store(evidence=evidence, phash=views[0], views=views)
    return evidence


@pytest.mark.django_db
def test_a_sign_in_sheet_reused_in_another_meeting_is_flagged(branch, photos):
    sheet = photos["mobile_jolla.jpg"]  # stands for a photographed sheet: any real picture
    march = meeting_held(branch, start=local(2026, 3, 12, 15))
    april = meeting_held(branch, start=local(2026, 4, 9, 15))
    _image_evidence(march, sheet, category=Evidence.Category.SIGNIN, name="march-sheet")
    reused = _image_evidence(april, recompressed(cropped_sides(sheet)), category=Evidence.Category.SIGNIN, name="april")
    assert PhotoView.objects.filter(evidence=reused).count() > 10
    flags = evidence_checks(evidence=reused, now=NOW)
    (flag,) = flags
    assert flag.kind == Flag.Kind.DUPLICATE_PHOTO
    assert flag.message.startswith("此签到表与本支部 2026年3月12日 的签到表（裁剪约")
    assert flag.match_score >= photocopies.COPY_BLOCK_SHARE
    assert len(flag.match_region["evidence"]) == 4 and len(flag.match_region["related"]) == 4
    assert Flag.objects.filter(meeting=march, related_meeting=april).count() == 1


@pytest.mark.django_db
def test_a_mirrored_photo_of_another_meeting_is_flagged_in_plain_chinese(branch, photos):
    im = photos["gps_DSCN0021.jpg"]
    march = meeting_held(branch, start=local(2026, 3, 12, 15))
    april = meeting_held(branch, start=local(2026, 4, 9, 15))
    _image_evidence(march, im, category=Evidence.Category.PHOTO, name="march")
    copy = _image_evidence(april, ImageOps.mirror(cropped_top(im)), category=Evidence.Category.PHOTO, name="april")
    (flag,) = [f for f in evidence_checks(evidence=copy, now=NOW) if f.kind == Flag.Kind.DUPLICATE_PHOTO]
    assert flag.message.startswith("此照片与本支部 2026年3月12日 的会议照片（镜像、裁剪约20%）相同（匹配得分 ")


@pytest.mark.django_db
def test_two_shots_of_one_scene_in_two_meetings_are_not_flagged(branch, photos):
    march = meeting_held(branch, start=local(2026, 3, 12, 15))
    april = meeting_held(branch, start=local(2026, 4, 9, 15))
    _image_evidence(march, photos["gps_DSCN0010.jpg"], category=Evidence.Category.PHOTO, name="march")
    other = _image_evidence(april, photos["gps_DSCN0012.jpg"], category=Evidence.Category.PHOTO, name="april")
    assert not [f for f in evidence_checks(evidence=other, now=NOW) if f.kind == Flag.Kind.DUPLICATE_PHOTO]


@pytest.mark.django_db
def test_reindex_command_indexes_old_images_and_finds_the_copy_idempotently(branch, photos):
    from django.core.management import call_command

    march = meeting_held(branch, start=local(2026, 3, 12, 15))
    april = meeting_held(branch, start=local(2026, 4, 9, 15))
    first = _image_evidence(march, photos["gps_DSCN0038.jpg"], category=Evidence.Category.OTHER, name="march")
    second = _image_evidence(april, bannered(photos["gps_DSCN0038.jpg"]), category=Evidence.Category.PHOTO, name="a")
    PhotoView.objects.all().delete()  # indexed before the views existed
    out = io.StringIO()
    call_command("reindex_photos", "--batch", "1", stdout=out)
    assert "进度：1/2" in out.getvalue() and "进度：2/2" in out.getvalue()
    assert PhotoView.objects.filter(evidence=first).exists() and PhotoView.objects.filter(evidence=second).exists()
    assert Flag.objects.filter(kind=Flag.Kind.DUPLICATE_PHOTO).count() == 2
    call_command("reindex_photos", stdout=io.StringIO())
    assert Flag.objects.filter(kind=Flag.Kind.DUPLICATE_PHOTO).count() == 2
