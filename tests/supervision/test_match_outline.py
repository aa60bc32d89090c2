"""The flag of a photo copy shows the two pictures side by side, the matched region outlined over each."""

import re

import pytest
from django.urls import reverse
from PIL import ImageOps

from supervision.models import Evidence, Flag
from supervision.selectors.review import match_outlines
from supervision.services.integrity import evidence_checks
from tests.conftest import client_for
from tests.supervision.conftest import local, meeting_held

from .test_photo_copies import NOW, _image_evidence, cropped_top, photos  # noqa: F401  (photos is a fixture)


@pytest.fixture
def copy_flag(branch, photos):  # noqa: F811
    im = photos["gps_DSCN0021.jpg"]
    march = meeting_held(branch, start=local(2026, 3, 12, 15))
    april = meeting_held(branch, start=local(2026, 4, 9, 15))
    _image_evidence(march, im, category=Evidence.Category.PHOTO, name="march")
    copy = _image_evidence(april, ImageOps.mirror(cropped_top(im)), category=Evidence.Category.PHOTO, name="april")
    (flag,) = [f for f in evidence_checks(evidence=copy, now=NOW) if f.kind == Flag.Kind.DUPLICATE_PHOTO]
    return flag


def polygon_points(html: str) -> list[list[tuple[float, float]]]:
    return [
        [tuple(float(v) for v in pair.split(",")) for pair in points.split()]
        for points in re.findall(r'<polygon points="([^"]+)"', html)
    ]


@pytest.mark.django_db
def test_the_review_page_shows_both_photos_with_the_matched_region_outlined(client, supervisor, copy_flag):
    html = (
        client_for(client, supervisor)
        .get(reverse("supervision:review_detail", args=[copy_flag.meeting_id]))
        .content.decode()
    )

    block = html[html.index('class="row g-2 small photo-compare') :]
    block = block[: block.index("flag-message") if "flag-message" in block else len(block)]
    assert reverse("supervision:evidence_thumbnail", args=[copy_flag.evidence_id]) in block
    assert reverse("supervision:evidence_thumbnail", args=[copy_flag.related_evidence_id]) in block
    assert "本支部" not in block and "2026年3月12日 的材料" in block
    outlines = polygon_points(block)
    assert len(outlines) == 2 and all(len(corners) == 4 for corners in outlines)
    assert all(0 <= x <= 100 and 0 <= y <= 100 for corners in outlines for x, y in corners)
    # The copy is the lower 80 % of the original, mirrored: the outline in the original covers its lower part.
    related = outlines[1]
    assert min(y for _x, y in related) >= 10 and max(y for _x, y in related) >= 90


def test_a_region_out_of_the_picture_is_clamped_and_a_broken_one_shows_no_outline():
    flag = Flag(
        evidence_id=1,
        related_evidence_id=2,
        match_region={"evidence": [[-0.2, 0], [1.5, 0], [1, 1], [0, 1]], "related": [[0, 0], [1, 0], [1, 1], [0, 1]]},
    )
    assert match_outlines(flag)["evidence"] == "0.0,0.0 100.0,0.0 100.0,100.0 0.0,100.0"
    assert match_outlines(Flag(evidence_id=1, related_evidence_id=2, match_region={"evidence": "x"})) is None
    assert match_outlines(Flag(evidence_id=1, related_evidence_id=None, match_region=flag.match_region)) is None
