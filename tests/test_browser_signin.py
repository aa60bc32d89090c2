"""Each demo role signs in through the real form in Chromium and lands on its own home page."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from org.demo import DEMO_PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

BOOTSTRAP_CSS = "/static/vendor/bootstrap/css/bootstrap.min.css"
BRANCH_ANNOUNCEMENT = "综采一队党支部召开支部党员大会的通知"
OTHER_BRANCH_ANNOUNCEMENT = "掘进二队党支部“安全生产”主题党日安排"

# username -> (the card that must be on the home page, a text in it, the cards that must not be there)
HOMES = {
    "admin": ("#all-branches", "机关第二党支部", ["#my-branch"]),
    "supervisor": ("#all-branches", "综采一队党支部", ["#my-branch"]),
    "jijian": ("#all-branches", "掘进二队党支部", ["#my-branch"]),
    "committee": ("#all-branches", "洗煤厂党支部", ["#my-branch"]),
    "shuji": ("#my-branch", "综采一队党支部", ["#all-branches"]),
    "shuji2": ("#my-branch", "掘进二队党支部", ["#all-branches"]),
    "zuzhang": ("#my-branch", "综采一队党支部", ["#all-branches"]),
    "dangyuan": ("#announcements", BRANCH_ANNOUNCEMENT, ["#all-branches"]),
    "yubei": ("#announcements", BRANCH_ANNOUNCEMENT, ["#all-branches"]),
}


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=StringIO())


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", name="登录三会一课管理系统")).to_be_visible()
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")


@pytest.mark.parametrize("username", list(HOMES))
def test_each_demo_role_signs_in_through_the_form_and_sees_its_home(page, live_server, demo, username):
    card, text, absent = HOMES[username]

    sign_in(page, live_server, username)

    expect(page.get_by_role("heading", name=re.compile("^您好，"))).to_be_visible()
    expect(page.locator(card)).to_contain_text(text)
    for other in absent:
        expect(page.locator(other)).to_have_count(0)
    # Everyone reads the mine-wide notices, the pinned one first.
    expect(page.locator("#announcements li").first).to_contain_text("置顶")
    if username in ("dangyuan", "yubei"):
        expect(page.locator("#announcements")).not_to_contain_text(OTHER_BRANCH_ANNOUNCEMENT)


def test_a_wrong_password_in_the_browser_stays_on_the_form_with_a_chinese_message(page, live_server, demo):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("shuji")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()

    expect(page.get_by_text("用户名或密码不正确。")).to_be_visible()
    assert page.url.startswith(f"{live_server.url}/accounts/login/")


def test_on_a_phone_the_menu_folds_into_the_toggler(browser, browser_context_args, live_server, demo):
    context = browser.new_context(**{**browser_context_args, "viewport": {"width": 390, "height": 844}})
    page = context.new_page()
    try:
        sign_in(page, live_server, "shuji")
        expect(page.locator("#my-branch")).to_contain_text("综采一队党支部")

        my_branch_link = page.locator("#mainnav").get_by_role("link", name="我的支部")
        toggler = page.get_by_role("button", name="菜单")
        expect(toggler).to_be_visible()
        expect(my_branch_link).to_be_hidden()

        toggler.click()  # Bootstrap's own script opens it: served by the app, allowed by the CSP

        expect(my_branch_link).to_be_visible()
        my_branch_link.click()
        expect(page.get_by_role("heading", name="综采一队党支部")).to_be_visible()
    finally:
        context.close()


def test_on_a_desktop_the_menu_is_open_without_a_toggler(page, live_server, demo):
    sign_in(page, live_server, "supervisor")

    expect(page.get_by_role("button", name="菜单")).to_be_hidden()
    expect(page.locator("#mainnav").get_by_role("link", name="全部支部")).to_be_visible()


def test_bootstrap_is_served_by_the_app_and_applied(page, live_server):
    response = page.request.get(f"{live_server.url}{BOOTSTRAP_CSS}")

    assert response.status == 200
    assert response.headers["content-type"].startswith("text/css")
    assert ".navbar" in response.text()

    page.goto(f"{live_server.url}/accounts/login/")
    # The login button is .btn-danger: Bootstrap's red, not the browser's grey.
    expect(page.get_by_role("button", name="登录")).to_have_css("background-color", "rgb(220, 53, 69)")
