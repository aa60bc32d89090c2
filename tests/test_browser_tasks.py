"""督办 in Chromium: the 党委工作部 dispatches to all branches, the 书记 hands the task to a 支委委员,
who reports with a photo from a phone; the 党委工作部 returns it, then accepts it, and the matrix
shows it done on time."""

import datetime as dt
import shutil
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from org.models import Post, StaffRole
from tasks.models import Task, TaskReportFile
from tasks.report_files import report_file_process
from tests.factories import BranchFactory, member_with_login, staff_user

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
    home = BranchFactory(name="综采一队党支部", sort_order=1)
    other = BranchFactory(name="掘进二队党支部", sort_order=2)
    member_with_login(branch=home, username="shuji", role=Post.Role.SECRETARY, name="王书记")
    member_with_login(branch=home, username="weiyuan", role=Post.Role.ORGANIZATION, name="孙委员")
    member_with_login(branch=other, username="shuji2", role=Post.Role.SECRETARY, name="赵书记")
    staff_user(username="dudao", role=StaffRole.Role.WORK_DEPT)
    return tmp_path


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")


def test_a_dispatched_task_goes_from_the_work_dept_to_a_committee_member_and_back(
    browser, browser_context_args, live_server, mine
):
    photo = mine / "IMG_20260601.jpg"
    shutil.copy(PHOTO, photo)
    desk = browser.new_context(**browser_context_args)
    phone = browser.new_context(**{**browser_context_args, "viewport": PHONE})
    # The committee member's own phone: a context of their own (cookies are per context).
    phone2 = browser.new_context(**{**browser_context_args, "viewport": PHONE})
    try:
        dept = desk.new_page()
        sign_in(dept, live_server, "dudao")
        dept.locator("#nav-dispatch").click()
        dept.locator("#dispatch-new").click()
        dept.locator("#id_title").fill("六月组织生活指南")
        dept.locator("#id_description").fill("学习……，召开组织生活会")
        dept.locator("#id_due_date").fill((timezone.localdate() + dt.timedelta(days=7)).isoformat())
        dept.locator("#dispatch-submit").click()
        expect(dept.get_by_text("已下发给 2 个支部。")).to_be_visible()
        expect(dept.locator("#dispatch-rows .dispatch-row")).to_have_count(2)
        task = Task.objects.get(organization__name="综采一队党支部")

        sec = phone.new_page()
        sign_in(sec, live_server, "shuji")
        sec.goto(f"{live_server.url}/tasks/")
        sec.get_by_role("link", name="六月组织生活指南").click()
        sec.locator("#task-hand-over").click()
        sec.locator("#id_owner").select_option(label="孙委员")
        sec.locator("#hand-over-submit").click()
        expect(sec.locator("#task-owner")).to_have_text("孙委员")

        member = phone2.new_page()
        sign_in(member, live_server, "weiyuan")
        member.goto(f"{live_server.url}/tasks/")
        member.get_by_role("link", name="六月组织生活指南").click()
        member.locator("#task-report").click()
        member.locator("#id_text").fill("已组织全体党员学习。")
        member.locator("#id_files").set_input_files(str(photo))
        member.locator("#report-submit").click()
        expect(member.get_by_text("办理情况已提交，等待交办人验收。")).to_be_visible()
        # the photo waits for the worker (its metadata is stripped there): 处理中 until then
        expect(member.locator(".report-file-processing")).to_have_count(1)
        for report_file in TaskReportFile.objects.filter(report__task=task):
            assert report_file_process(file_id=report_file.pk, now=timezone.now())
        member.reload()
        expect(member.locator(".report-photo")).to_have_count(1)
        assert member.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        dept.goto(f"{live_server.url}/tasks/{task.pk}/")
        dept.locator("#return-reason").fill("请补充学习记录。")
        dept.locator("#task-return").click()
        expect(dept.locator("#task-progress")).to_have_text("已退回")

        member.goto(f"{live_server.url}/tasks/{task.pk}/report/")
        member.locator("#id_text").fill("已补充学习记录。")
        member.locator("#report-submit").click()
        expect(member.get_by_text("办理情况已提交，等待交办人验收。")).to_be_visible()

        dept.goto(f"{live_server.url}/tasks/{task.pk}/")
        dept.locator("#task-accept").click()
        expect(dept.locator("#task-progress")).to_have_text("按期完成")
        dept.goto(f"{live_server.url}/tasks/dispatch/")
        expect(dept.locator("#dispatch-matrix .matrix-cell").first).to_have_text("按期完成")
        expect(dept.locator("#dispatch-matrix .matrix-cell").nth(1)).to_have_text("办理中")
    finally:
        desk.close()
        phone.close()
        phone2.close()
