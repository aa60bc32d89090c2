"""The supervisor opens a 会议记录雷同 flag on a phone and sees the copied passages highlighted side by side."""

import pytest
from playwright.sync_api import expect

from org.models import StaffRole
from supervision.services.integrity import meeting_checks
from tests.factories import BranchFactory, staff_user
from tests.supervision.conftest import local
from tests.supervision.test_integrity_minutes import NOW, SEPTEMBER, held
from tests.supervision.test_minutes_copies import COPIES
from tests.test_browser_supervision import PHONE, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_supervisor_sees_the_copied_passages_highlighted_beside_the_earlier_record(
    browser, browser_context_args, live_server, transactional_db
):
    september = held(BranchFactory(name="综采一队党支部"), SEPTEMBER, start=local(2026, 9, 18, 15))
    meeting_checks(meeting=september, now=local(2026, 9, 20, 9))
    the_copy = held(BranchFactory(name="机电队党支部"), COPIES["padded"], start=local(2026, 12, 10, 15))
    meeting_checks(meeting=the_copy, now=NOW)
    staff_user(username="dudao", role=StaffRole.Role.WORK_DEPT)

    phone = browser.new_context(**{**browser_context_args, "viewport": PHONE})
    try:
        page = phone.new_page()
        sign_in(page, live_server, "dudao")
        page.goto(f"{live_server.url}/supervision/review/{the_copy.pk}/")
        flag = page.locator("#review-flags .flag").filter(has_text="本次记录约")
        expect(flag).to_contain_text("综采一队党支部 2026年9月18日的会议记录相同")
        mine, theirs = flag.locator(".minutes-mine"), flag.locator(".minutes-theirs")
        expect(mine.locator("mark").first).to_be_visible()
        expect(mine.locator("mark", has_text="警示片里的事故都是违章作业造成的")).to_have_count(1)
        expect(theirs.locator("mark", has_text="警示片里的事故都是违章作业造成的")).to_have_count(1)
        expect(theirs).to_contain_text("综采一队党支部 2026年9月18日 的记录")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        phone.close()
