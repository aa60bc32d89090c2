"""The compliance matrix in Chromium at desktop width and at 390 px: a 党总支's section collapses
and opens, the branch search and the 只看有未开或补开的支部 filter narrow the rows, and the page
never scrolls sideways (the matrix scrolls inside its own box)."""

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from org.models import Organization, StaffRole
from tests.factories import BranchFactory, CommitteeFactory, staff_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "pw-for-tests-123"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def mine(transactional_db):
    committee = CommitteeFactory()
    general = Organization.objects.create(name="机电总支", kind=Organization.Kind.GENERAL_BRANCH, parent=committee)
    # Founded this month: nothing before it is counted, this month is still open, so no problem.
    new = BranchFactory(parent=general, name="机电一队党支部", founded_on=timezone.localdate().replace(day=1))
    weak = BranchFactory(parent=general, name="机电二队党支部")
    direct = BranchFactory(parent=committee, name="运输队党支部")
    staff_user(username="committee", role=StaffRole.Role.WORK_DEPT)
    return {"general": general, "new": new, "weak": weak, "direct": direct}


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")


def no_sideways_scroll(page):
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"the page scrolls sideways: {width} > {inner}"


def rows(page):
    return page.locator("#compliance-matrix tbody tr")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_matrix_groups_searches_and_filters(browser, browser_context_args, live_server, mine, viewport):
    context = browser.new_context(**{**browser_context_args, "viewport": viewport})
    try:
        page = context.new_page()
        sign_in(page, live_server, "committee")
        page.goto(live_server.url + reverse("meetings:compliance_matrix"))
        expect(rows(page)).to_have_count(3)
        no_sideways_scroll(page)

        # A 党总支's section collapses and opens again.
        section = page.locator(f'details[data-group="{mine["general"].pk}"]')
        expect(section.locator("summary")).to_contain_text("机电总支")
        expect(section.locator("summary")).to_contain_text("2 个支部")
        new_row = page.locator(f"#branch-{mine['new'].pk}")
        expect(new_row).to_be_visible()
        section.locator("summary").click()
        expect(new_row).to_be_hidden()
        expect(page.locator(f"#branch-{mine['direct'].pk}")).to_be_visible()
        no_sideways_scroll(page)
        section.locator("summary").click()
        expect(new_row).to_be_visible()

        # The search finds a branch by part of its name.
        page.get_by_placeholder("搜索支部").fill("运输")
        page.get_by_role("button", name="查看").click()
        expect(rows(page)).to_have_count(1)
        expect(page.locator(f"#branch-{mine['direct'].pk}")).to_be_visible()
        no_sideways_scroll(page)

        # Only the branches with a missed or late period.
        page.get_by_placeholder("搜索支部").fill("")
        page.get_by_label("只看有未开或补开的支部").check()
        page.get_by_role("button", name="查看").click()
        expect(rows(page)).to_have_count(2)
        expect(new_row).to_have_count(0)
        expect(page.locator(f"#branch-{mine['weak'].pk}")).to_be_visible()
        expect(page.get_by_label("只看有未开或补开的支部")).to_be_checked()
        no_sideways_scroll(page)

        # The export link carries the filters.
        href = page.locator("#compliance-matrix-xlsx").get_attribute("href")
        assert href.startswith(reverse("meetings:compliance_matrix_xlsx")) and "problems=1" in href
    finally:
        context.close()
