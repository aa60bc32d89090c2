"""The quarterly assessment in Chromium: the committee creates the run, a supervisor enters a manual
score (a triggered veto) and the committee publishes; the failing branch's secretary finds the
rectification with its deadline; a member of that branch, on a phone, reads the 通报 and their score."""

import pytest
from playwright.sync_api import expect

from assessment.models import Run
from org.models import Post, StaffRole
from supervision.models import Rectification
from tests.factories import BranchFactory, GroupFactory, member_with_login, staff_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "pw-for-tests-123"
PHONE = {"width": 390, "height": 844}
# A quarter that is over on any day this suite runs (it was written in 2026's fourth quarter).
YEAR, QUARTER = 2026, "第三季度"


@pytest.fixture
def mine(transactional_db):
    good = BranchFactory(name="综采一队党支部", sort_order=1)
    weak = BranchFactory(name="运输队党支部", sort_order=2)
    for branch, prefix in ((good, "zc"), (weak, "ys")):
        group = GroupFactory(name=f"{branch.name[:3]}第一党小组", parent=branch)
        member_with_login(branch=branch, group=group, username=f"{prefix}_shuji", role=Post.Role.SECRETARY)
        member_with_login(branch=branch, group=group, username=f"{prefix}_dangyuan", name=f"{branch.name[:3]}党员")
    staff_user(username="weiyuan", role=StaffRole.Role.COMMITTEE)
    staff_user(username="dudao", role=StaffRole.Role.WORK_DEPT)
    return {"good": good, "weak": weak}


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")


def test_a_quarter_is_scored_published_and_seen_by_the_failing_branch_and_its_members(
    browser, browser_context_args, live_server, mine
):
    # One browser context per person: each signs in with cookies of their own.
    desks = [browser.new_context(**browser_context_args) for _ in range(3)]
    phone = browser.new_context(**{**browser_context_args, "viewport": PHONE})
    try:
        # The committee creates and computes the third quarter's run.
        com = desks[0].new_page()
        sign_in(com, live_server, "weiyuan")
        com.locator("#nav-assessment").click()
        com.locator("#nav-runs").click()
        com.get_by_label("考核类型").select_option(label="季度考核")
        com.get_by_label("年度").fill(str(YEAR))
        com.get_by_label("季度").select_option(label=QUARTER)
        com.locator("#run-create-submit").click()
        expect(com.locator("#run-state")).to_have_attribute("data-status", "draft")
        expect(com.locator("#ranking tbody tr")).to_have_count(2)
        run = Run.objects.get()
        run_url = com.url

        # A supervisor enters the manual items; 运输队's minutes were copied: the veto is triggered.
        sup = desks[1].new_page()
        sign_in(sup, live_server, "dudao")
        sup.goto(run_url)
        sup.locator("#run-manual").click()
        weak_row = sup.locator(".manual-row", has_text="运输队党支部")
        veto_cell = weak_row.locator(".manual-cell", has_text="一票否决项")
        veto_cell.get_by_label("触发一票否决").check()
        veto_cell.get_by_label("评分说明（必填）").fill("9 月支委会记录照抄 6 月记录，经核实属实。")
        weak_row.get_by_role("button", name="保存运输队党支部的评分").click()
        # The row now carries the veto in its header and who entered it.
        saved_row = sup.locator(".manual-row", has_text="运输队党支部")
        expect(saved_row.locator(".card-header")).to_contain_text("一票否决")
        expect(saved_row.locator(".entered").first).to_be_visible()
        sup.goto(run_url)
        expect(sup.locator(f"#score-{mine['weak'].pk}")).to_contain_text("不合格")

        # The committee sends it through review and publishes, after the confirm step.
        com.goto(run_url)
        # 重大事项 is 未录入 for both branches: the warning is confirmed before submitting and publishing.
        expect(com.locator("#run-warnings")).to_contain_text("有人工评分项未录入")
        com.locator("#id_submit_confirm").check()
        com.locator("#run-submit").click()
        expect(com.locator("#run-state")).to_have_attribute("data-status", "review")
        com.locator("#run-publish").click()
        expect(com.locator("#publish-failing")).to_contain_text("运输队党支部")
        expect(com.locator("#notice-preview")).to_contain_text("三、整改要求")
        com.locator("#id_publish_confirm").check()
        com.locator("#publish-confirm").click()
        expect(com.locator("#run-state")).to_have_attribute("data-status", "published")

        rect = Rectification.objects.get(branch=mine["weak"])
        due = rect.due_text  # one calendar month, read as "YYYY-MM-DD 24:00"

        # The failing branch's secretary finds the rectification and its deadline from the score page.
        sec = desks[2].new_page()
        sign_in(sec, live_server, "ys_shuji")
        sec.locator("#nav-assessment").click()
        sec.locator("#nav-branch-score").click()
        expect(sec.locator("#grade")).to_contain_text("不合格")
        expect(sec.locator("#rectification-link")).to_contain_text(f"期限 {due}")
        sec.locator("#rectification-link").click()
        expect(sec.locator("#rect-due")).to_contain_text(due)
        expect(sec.locator("#answer-form")).to_be_visible()

        # A member of the branch, on a phone, reads the notice and sees their own score.
        mem = phone.new_page()
        sign_in(mem, live_server, "ys_dangyuan")
        mem.get_by_role("button", name="菜单").click()
        mem.locator("#nav-assessment").click()
        mem.locator("#nav-my-participation").click()
        expect(mem.locator("#branch-score")).to_contain_text("不合格")
        notice_title = f"关于{run.label}结果的通报"
        mem.get_by_role("link", name=notice_title).click()
        expect(mem.get_by_text("运输队党支部").first).to_be_visible()
        expect(mem.get_by_text("一、总体情况")).to_be_visible()
    finally:
        for context in (*desks, phone):
            context.close()
