"""学习 in Chromium on a phone: a member plays a short real video (made by ffmpeg here), closes the page
by reloading it, resumes where they were, plays to the end and is credited; the 书记 sees them complete."""

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.core.files import File
from django.utils import timezone
from playwright.sync_api import expect

from org.models import Organization, Post
from study.models import LearningRecord, StudyItem, StudyMedia, StudyPolicy
from supervision.models import evidence_storage
from tests.factories import BranchFactory, StudyItemFactory, member_with_login
from tests.study.videos import make_video, needs_ffmpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_ffmpeg]

PASSWORD = "pw-for-tests-123"
PHONE = {"width": 390, "height": 844}
SECONDS = 8


@pytest.fixture
def lesson(transactional_db, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence"), "base_url": None},
        },
    }
    home = BranchFactory(name="综采一队党支部", sort_order=1)
    member_with_login(branch=home, username="shuji", role=Post.Role.SECRETARY, name="王书记")
    member_with_login(branch=home, username="dangyuan", name="李党员")
    # A report every second, so the journey takes seconds, not minutes.
    policy = StudyPolicy.current()
    policy.heartbeat_seconds = 1
    policy.save()
    video = make_video(tmp_path / "lesson.mp4", seconds=SECONDS)
    item = StudyItemFactory(title="微党课：班前会讲安全", kind=StudyItem.Kind.VIDEO, credit_hours=Decimal("0.5"))
    with video.open("rb") as fh:
        name = evidence_storage().save("study/lesson.mp4", File(fh))
    StudyMedia.objects.create(
        item=item,
        original=name,
        playable=name,
        content_type="video/mp4",
        size=video.stat().st_size,
        status=StudyMedia.Status.READY,
        duration_seconds=float(SECONDS),
        uploaded_at=timezone.now() - dt.timedelta(hours=1),
    )
    return item


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")


def _record(item):
    return LearningRecord.objects.get(item=item, member__name="李党员")


def _wait_until(page, expression: str, timeout: float = 20) -> None:
    """Poll ``expression`` (about the video ``v``) from Python: the page's CSP forbids the string
    evaluation that ``wait_for_function`` polls with."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => {{ const v = document.querySelector('#study-media'); return {expression}; }}"):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {expression}")
        page.wait_for_timeout(200)


def _no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_member_watches_resumes_and_finishes_a_lesson_and_the_secretary_sees_it(
    browser, browser_context_args, live_server, lesson
):
    phone = browser.new_context(**{**browser_context_args, "viewport": PHONE})
    # the 书记's own phone: a context of their own (cookies are per context)
    phone2 = browser.new_context(**{**browser_context_args, "viewport": PHONE})
    try:
        page = phone.new_page()
        sign_in(page, live_server, "dangyuan")
        page.goto(f"{live_server.url}/study/{lesson.pk}/")
        expect(page.locator("#study-progress")).to_be_visible()
        _no_sideways_scroll(page)
        video = page.locator("#study-media")
        _wait_until(page, "v.readyState >= 1")
        # muted, as a phone on a shift bus would; muted playback needs no gesture in Chromium
        page.evaluate("v => { v.muted = true; return v.play(); }", video.element_handle())
        _wait_until(page, "v.currentTime >= 3.5")
        expect(page.locator("#study-percent")).not_to_have_text("0")
        page.reload()  # closes the page: its last stretch goes out by sendBeacon

        expect(page.locator("#study-resume")).to_be_visible()
        # the position the page was given (the closing beacon may land just after the page is made)
        resumed = float(page.locator("#study-progress").get_attribute("data-resume"))
        assert resumed >= 2.5
        _wait_until(page, f"v.readyState >= 1 && Math.abs(v.currentTime - {resumed}) < 0.6", timeout=10)
        assert _record(lesson).completed_at is None
        page.evaluate("v => { v.muted = true; return v.play(); }", video.element_handle())
        expect(page.locator("#study-done")).to_be_visible(timeout=20_000)
        record = _record(lesson)
        assert record.completed_at is not None and record.credit_hours == Decimal("0.5")
        assert record.played_seconds >= 0.9 * SECONDS
        page.goto(f"{live_server.url}/study/mine/")
        expect(page.locator("#my-done")).to_contain_text("微党课：班前会讲安全")
        expect(page.locator("#my-hours")).to_contain_text("0.5 / 32.0 学时")
        _no_sideways_scroll(page)

        sec = phone2.new_page()
        sign_in(sec, live_server, "shuji")
        home = Organization.objects.get(name="综采一队党支部")
        sec.goto(f"{live_server.url}/study/ledger/branch/{home.pk}/{timezone.localdate().year}/")
        row = sec.locator(".ledger-row", has_text="李党员")
        expect(row.locator(".ledger-completed")).to_have_text("1")
        expect(row).to_contain_text("0.5 / 32.0 学时")
        _no_sideways_scroll(sec)
    finally:
        phone.close()
        phone2.close()
