"""The supervisor opens the flags on a phone: a photo copy shows both pictures with the matched region outlined
over each, and a minutes copy shows the copied passages highlighted beside the earlier record."""

import pytest
from PIL import ImageOps
from playwright.sync_api import expect

from org.models import StaffRole
from supervision.models import Evidence, Flag
from supervision.services.integrity import evidence_checks, meeting_checks
from tests.factories import BranchFactory, staff_user
from tests.supervision.conftest import local, meeting_held
from tests.supervision.test_integrity_minutes import NOW as MINUTES_NOW
from tests.supervision.test_integrity_minutes import SEPTEMBER, held
from tests.supervision.test_minutes_copies import COPIES
from tests.supervision.test_photo_copies import NOW, _image_evidence, cropped_top, photos  # noqa: F401
from tests.test_browser_supervision import PHONE, evidence_dir, sign_in  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _boxes(flag):
    """Each side's picture and outline as [img box, polygon box] in page pixels."""
    return flag.locator(".photo-match").evaluate_all(
        """sides => sides.map(side => {
            const img = side.querySelector('img').getBoundingClientRect();
            const shape = side.querySelector('svg polygon').getBoundingClientRect();
            return {img: [img.left, img.top, img.right, img.bottom],
                    shape: [shape.left, shape.top, shape.right, shape.bottom],
                    loaded: side.querySelector('img').naturalWidth};
        })"""
    )


def test_the_supervisor_sees_both_photos_with_the_matched_region_outlined(
    browser,
    browser_context_args,
    live_server,
    transactional_db,
    evidence_dir,  # noqa: F811
    photos,  # noqa: F811
):
    branch = BranchFactory(name="综采一队党支部")
    im = photos["gps_DSCN0021.jpg"]
    march = meeting_held(branch, start=local(2026, 3, 12, 15))
    april = meeting_held(branch, start=local(2026, 4, 9, 15))
    _image_evidence(march, im, category=Evidence.Category.PHOTO, name="march")
    copy = _image_evidence(april, ImageOps.mirror(cropped_top(im)), category=Evidence.Category.PHOTO, name="april")
    assert [f for f in evidence_checks(evidence=copy, now=NOW) if f.kind == Flag.Kind.DUPLICATE_PHOTO]
    staff_user(username="dudao", role=StaffRole.Role.WORK_DEPT)

    phone = browser.new_context(**{**browser_context_args, "viewport": PHONE})
    try:
        page = phone.new_page()
        sign_in(page, live_server, "dudao")
        page.goto(f"{live_server.url}/supervision/review/{april.pk}/")
        flag = page.locator("#review-flags .flag").filter(has_text="照片重复使用")
        expect(flag).to_contain_text("镜像、裁剪约20%")
        expect(flag.locator(".photo-match img")).to_have_count(2)
        expect(flag.locator(".photo-match svg polygon")).to_have_count(2)
        page.wait_for_function(
            "[...document.querySelectorAll('.photo-match img')].every(i => i.complete && i.naturalWidth > 0)"
        )
        sides = _boxes(flag)
        assert len(sides) == 2
        for side in sides:
            (il, it, ir, ib), (sl, st, sr, sb) = side["img"], side["shape"]
            assert side["loaded"] > 0 and ir - il > 50
            assert il - 1 <= sl < sr <= ir + 1 and it - 1 <= st < sb <= ib + 1  # the outline lies on its picture
            assert (sr - sl) * (sb - st) > 0.3 * (ir - il) * (ib - it)  # and covers most of it (80 % kept)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        phone.close()


def test_the_supervisor_sees_the_copied_passages_and_the_share_copied(
    browser, browser_context_args, live_server, transactional_db
):
    september = held(BranchFactory(name="综采一队党支部"), SEPTEMBER, start=local(2026, 9, 18, 15))
    meeting_checks(meeting=september, now=local(2026, 9, 20, 9))
    the_copy = held(BranchFactory(name="机电队党支部"), COPIES["reworded"], start=local(2026, 12, 10, 15))
    meeting_checks(meeting=the_copy, now=MINUTES_NOW)
    staff_user(username="dudao", role=StaffRole.Role.WORK_DEPT)

    phone = browser.new_context(**{**browser_context_args, "viewport": PHONE})
    try:
        page = phone.new_page()
        sign_in(page, live_server, "dudao")
        page.goto(f"{live_server.url}/supervision/review/{the_copy.pk}/")
        flag = page.locator("#review-flags .flag").filter(has_text="本次记录约")
        expect(flag.locator(".flag-message")).to_contain_text("的内容与综采一队党支部 2026年9月18日的会议记录相同")
        mine, theirs = flag.locator(".minutes-mine"), flag.locator(".minutes-theirs")
        assert mine.locator("mark").count() >= 3 and theirs.locator("mark").count() >= 3
        expect(mine.locator("mark").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        phone.close()
