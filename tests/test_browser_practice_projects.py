"""技术攻关 in Chromium on a phone: a 党小组长 opens a project and reports the outcome with a photo, the
安监处 verifier verifies it, and the branch's score (with the 攻关成果 bonus switched on in this
test's scheme) shows the bonus, linked to the project."""

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from assessment.models import Item, Scheme
from assessment.services import run_compute, run_create, run_publish, run_submit_for_review
from org.models import Post, StaffRole
from practice.models import Project, VerifyingDepartment
from tests.factories import BranchFactory, GroupFactory, UserFactory, member_with_login, staff_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-123"
PHONE = {"width": 390, "height": 844}
PHOTO = Path(__file__).resolve().parents[2] / "shared" / "samples" / "photos" / "Canon_40D.jpg"


@pytest.fixture
def mine(transactional_db, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence"), "base_url": None},
        },
    }
    branch = BranchFactory(name="综采一队党支部", sort_order=1)
    group = GroupFactory(name="综采一队第一党小组", parent=branch)
    member_with_login(branch=branch, group=group, username="shuji", role=Post.Role.SECRETARY, name="王书记")
    member_with_login(branch=branch, group=group, username="zuzhang", role=Post.Role.GROUP_LEADER, name="孙组长")
    member_with_login(branch=branch, group=group, username="dangyuan", name="李党员")
    verifier = UserFactory(username="anjian", first_name="王安监")
    # A transactional test before this one may have flushed the departments the migration ships.
    department, _ = VerifyingDepartment.objects.get_or_create(name="安监处")
    department.users.add(verifier)
    staff_user(username="weiyuan", role=StaffRole.Role.COMMITTEE)
    year = timezone.localdate().year
    scheme = Scheme.objects.filter(year=year).first() or Scheme.objects.create(year=year, name="考核方案")
    Item.objects.create(
        scheme=scheme,
        category="实践活动",
        name="攻关成果",
        max_points=Decimal("4"),
        per_unit=Decimal("2"),
        kind=Item.Kind.PROJECT_RESULT,
        is_bonus=True,
        order=999,
    )
    return {"branch": branch, "tmp": tmp_path, "year": year}


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")


def no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_group_opens_reports_the_safety_office_verifies_and_the_branch_score_shows_the_bonus(
    browser, browser_context_args, live_server, mine
):
    photo = mine["tmp"] / "粉尘检测.jpg"
    shutil.copy(PHOTO, photo)
    phones = [browser.new_context(**{**browser_context_args, "viewport": PHONE}) for _ in range(2)]
    try:
        leader = phones[0].new_page()
        sign_in(leader, live_server, "zuzhang")
        leader.get_by_role("button", name="菜单").click()
        leader.locator("#nav-projects").click()
        leader.locator(f"#open-project-{mine['branch'].pk}").click()
        leader.locator("#id_title").fill("综采工作面降尘")
        leader.locator("#id_source").select_option(label="安全隐患")
        leader.locator("#id_problem").fill("割煤时工作面粉尘浓度超标")
        leader.locator("#id_group").select_option(label="综采一队第一党小组")
        leader.locator("#id_leader").select_option(label="孙组长")
        leader.locator("#id_party_members").select_option(label="李党员")
        leader.locator("#id_workers").fill("张三 采煤机司机")
        leader.locator("#id_metric").fill("粉尘浓度")
        leader.locator("#id_unit").fill("mg/m³")
        leader.locator("#id_baseline_value").fill("10")
        leader.locator("#id_target_value").fill("6")
        due = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
        leader.locator("#id_milestones").fill(f"{due} 完成高压喷雾装置安装")
        no_sideways_scroll(leader)
        leader.get_by_role("button", name="立项").click()
        expect(leader.locator("#state")).to_have_text("立项")
        expect(leader.locator("#team")).to_contain_text("张三（采煤机司机）")
        expect(leader.locator("#milestones")).to_contain_text("攻关节点：完成高压喷雾装置安装")
        leader.locator("#start").click()
        expect(leader.locator("#state")).to_have_text("实施中")

        leader.locator("#report").click()
        leader.locator("#id_measured_value").fill("6")
        leader.locator("#id_outcome").fill("粉尘浓度下降 40 %")
        leader.locator("#id_verifier").select_option(label="安监处 · 王安监")
        leader.locator("#id_files").set_input_files(str(photo))
        no_sideways_scroll(leader)
        leader.get_by_role("button", name="提交验收").click()
        expect(leader.locator("#state")).to_have_text("待验收")
        expect(leader.locator("#evidence img")).to_have_count(1)
        project = Project.objects.get()

        checker = phones[1].new_page()
        sign_in(checker, live_server, "anjian")
        checker.goto(f"{live_server.url}/practice/projects/{project.pk}/")
        checker.locator("#verify").click()
        checker.get_by_label("通过（已验收）").check()
        checker.locator("#id_comment").fill("经现场检测，粉尘浓度降至 6 mg/m³，属实。")
        no_sideways_scroll(checker)
        checker.get_by_role("button", name="提交验收结论").click()
        expect(checker.locator("#state")).to_have_text("已验收")
        expect(checker.locator("#locked")).to_be_visible()

        # The year is scored and published; the branch's score carries the bonus line.
        now = timezone.now()
        committee = staff_user(username="weiyuan2", role=StaffRole.Role.COMMITTEE)
        run = run_create(kind="year", period_start=dt.date(mine["year"], 1, 1), user=committee, now=now)
        run_compute(run=run, now=now)
        run_submit_for_review(run=run, user=committee, now=now, confirmed=True)
        run_publish(run=run, user=committee, now=now, confirmed=True)

        leader.goto(f"{live_server.url}/assessment/my-branch/")
        bonus = leader.locator(".item-score", has_text="攻关成果")
        expect(bonus).to_contain_text("得分 2.00 / 4.00")
        expect(bonus.locator(".deduction")).to_contain_text("攻关成果“综采工作面降尘”")
        no_sideways_scroll(leader)
        bonus.get_by_role("link", name="查看攻关项目").click()
        expect(leader.locator("h1")).to_contain_text("综采工作面降尘")
    finally:
        for context in phones:
            context.close()
