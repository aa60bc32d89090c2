"""民主评议 in Chromium: members vote on phones, a 群众 code is used once, the 书记 closes and
proposes, the 党委 confirms, a member sees their own grade."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appraisal import services
from appraisal.models import AppraisalYear, Ballot
from org.models import Post, StaffRole
from tests.factories import BranchFactory, MeetingFactory, member_with_login, staff_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-123"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def scene(transactional_db):
    now = timezone.now()
    branch = BranchFactory(name="综采一队党支部")
    secretary = member_with_login(branch=branch, username="shuji", role=Post.Role.SECRETARY, name="王书记")
    members = [member_with_login(branch=branch, username=f"dy{i}", name=f"党员{i}") for i in range(3)]
    staff_user(username="committee", role=StaffRole.Role.COMMITTEE)
    AppraisalYear.objects.create(year=timezone.localdate(now).year, opened_at=now)
    meeting = MeetingFactory(
        branch=branch,
        types=["democratic_review"],
        planned_start=now - dt.timedelta(hours=1),
        planned_end=now + dt.timedelta(hours=1),
    )
    round_ = services.round_start(
        meeting=meeting,
        user=secretary,
        window_start=now - dt.timedelta(hours=1),
        window_end=now + dt.timedelta(days=1),
        now=now - dt.timedelta(hours=2),
    )
    services.round_open(round_=round_, user=secretary, now=now)
    (code,) = services.codes_issue(round_=round_, count=1, expires_at=now + dt.timedelta(days=1), now=now)
    return {"round": round_, "members": members, "code": code.code}


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")


def fill_ballot(page, grade="合格"):
    rows = page.locator(".ballot-row")
    for i in range(rows.count()):
        rows.nth(i).get_by_label(grade, exact=True).check()


def no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_appraisal_from_phone_ballots_to_a_confirmed_grade(browser, browser_context_args, live_server, scene):
    round_ = scene["round"]
    for username in ("dy0", "dy1"):
        phone = browser.new_context(**{**browser_context_args, "viewport": PHONE})
        page = phone.new_page()
        sign_in(page, live_server, username)
        page.goto(f"{live_server.url}/appraisal/mine/")
        page.locator(".vote-link").click()
        fill_ballot(page)
        no_sideways_scroll(page)
        page.get_by_role("button", name="提交选票").click()
        expect(page.get_by_text("投票成功")).to_be_visible()
        phone.close()

    masses = browser.new_context(**{**browser_context_args, "viewport": PHONE})
    page = masses.new_page()
    page.goto(f"{live_server.url}/appraisal/v/")
    page.get_by_label("评议码").fill(scene["code"])
    page.get_by_role("button", name="下一步").click()
    fill_ballot(page, "优秀")
    page.get_by_role("button", name="提交选票").click()
    expect(page.locator("#masses-done")).to_be_visible()
    page.goto(f"{live_server.url}/appraisal/v/?code={scene['code']}")
    expect(page.get_by_text("该评议码已经使用过")).to_be_visible()
    masses.close()
    assert Ballot.objects.count() == 3

    desk = browser.new_context(**browser_context_args)
    sec = desk.new_page()
    sign_in(sec, live_server, "shuji")
    sec.goto(f"{live_server.url}/appraisal/round/{round_.pk}/")
    expect(sec.locator("#voted")).to_have_text("2")
    sec.get_by_role("button", name="截止投票").click()
    sec.locator("#tallies-link").click()
    cards = sec.locator(".member-tally")
    for i in range(cards.count()):
        cards.nth(i).get_by_label("合格", exact=True).check()
    sec.get_by_role("button", name="提出等次，报党委确认").click()
    expect(sec.get_by_text("已提出等次")).to_be_visible()
    desk.close()

    desk = browser.new_context(**browser_context_args)
    com = desk.new_page()
    sign_in(com, live_server, "committee")
    com.goto(f"{live_server.url}/appraisal/round/{round_.pk}/confirm/")
    com.get_by_role("button", name="确认评议结果").click()
    expect(com.locator("#round-state")).to_have_text("已确认")
    desk.close()

    phone = browser.new_context(**{**browser_context_args, "viewport": PHONE})
    page = phone.new_page()
    sign_in(page, live_server, "dy2")
    page.goto(f"{live_server.url}/appraisal/mine/")
    page.locator(".result-link").click()
    expect(page.locator("#my-grade")).to_have_text("合格")
    no_sideways_scroll(page)
    phone.close()
