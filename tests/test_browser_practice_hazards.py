"""主题党日 hazards in Chromium at 390 px: a 书记 records a 主题党日 with an activity and two hazards, the
owner closes one with a photo from a phone, and the supervisor sees 1 closed and 1 open for the branch."""

import datetime as dt
import shutil

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from org.models import Post, StaffRole
from practice.models import Hazard
from tests.factories import BranchFactory, MeetingFactory, member_with_login, staff_user
from tests.supervision.conftest import SAMPLES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-123"
PHONE = {"width": 390, "height": 844}


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
    BranchFactory(name="掘进二队党支部", sort_order=2)
    member_with_login(branch=home, username="shuji", role=Post.Role.SECRETARY, name="王书记")
    member_with_login(branch=home, username="dangyuan", name="孙党员")
    staff_user(username="dudao", role=StaffRole.Role.WORK_DEPT)
    start = timezone.now() - dt.timedelta(hours=3)
    meeting = MeetingFactory(
        branch=home,
        types=["theme_day"],
        topic="安全我先行",
        status="held",
        planned_start=start,
        planned_end=start + dt.timedelta(hours=2),
        actual_start=start,
        actual_end=start + dt.timedelta(hours=2),
    )
    return tmp_path, meeting


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")


def no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def add_hazard(page, *, description, location, owner):
    page.locator("#id_hazard-description").fill(description)
    page.locator("#id_hazard-location").fill(location)
    page.locator("#id_hazard-owner").select_option(label=owner)
    page.locator("#id_hazard-due_on").fill((timezone.localdate() + dt.timedelta(days=7)).isoformat())
    page.locator("#hazard-submit").click()
    expect(page.get_by_text(f"隐患已保存，整改任务已发给{owner}。")).to_be_visible()


def test_a_secretary_records_two_hazards_an_owner_closes_one_and_the_supervisor_sees_it(
    browser, browser_context_args, live_server, mine
):
    tmp_path, meeting = mine
    photo = tmp_path / "IMG_20260610.jpg"
    shutil.copy(SAMPLES / "Canon_40D.jpg", photo)
    contexts = [browser.new_context(**{**browser_context_args, "viewport": PHONE}) for _ in range(3)]
    try:
        sec = contexts[0].new_page()
        sign_in(sec, live_server, "shuji")
        sec.goto(f"{live_server.url}/meetings/{meeting.pk}/")
        sec.locator("#edit-theme-day").click()
        sec.locator("#id_activity-kind").select_option(label="隐患排查/讨论")
        sec.locator("#id_activity-description").fill("隐患大家谈：查找身边的隐患")
        sec.locator("#activity-submit").click()
        expect(sec.get_by_text("活动已保存。")).to_be_visible()
        add_hazard(sec, description="皮带机尾护罩缺失", location="3101 运输巷", owner="孙党员")
        add_hazard(sec, description="电缆吊挂不规范", location="中央变电所", owner="孙党员")
        expect(sec.locator("#hazards .hazard-row")).to_have_count(2)
        no_sideways_scroll(sec)
        sec.locator("#back-to-meeting").click()
        expect(sec.locator("#theme-day-panel .hazard-row")).to_have_count(2)
        no_sideways_scroll(sec)

        task = Hazard.objects.get(location="3101 运输巷").task
        owner = contexts[1].new_page()
        sign_in(owner, live_server, "dangyuan")
        owner.goto(f"{live_server.url}/tasks/{task.pk}/")
        owner.locator("#task-report").click()
        owner.locator("#id_text").fill("已补装护罩。")
        owner.locator("#report-submit").click()
        expect(owner.get_by_text("隐患整改须上传整改后的现场照片")).to_be_visible()
        owner.locator("#id_files").set_input_files(str(photo))
        owner.locator("#report-submit").click()
        expect(owner.get_by_text("办理情况已提交，等待交办人验收。")).to_be_visible()
        no_sideways_scroll(owner)

        sup = contexts[2].new_page()
        sign_in(sup, live_server, "dudao")
        sup.goto(f"{live_server.url}/practice/hazards/")
        row = sup.locator(f'#hazard-table tr[data-branch="{meeting.branch_id}"]')
        expect(row.locator(".found")).to_have_text("2")
        expect(row.locator(".closed")).to_have_text("1")
        expect(row.locator(".open")).to_have_text("1")
        expect(row.locator(".overdue")).to_have_text("0")
        no_sideways_scroll(sup)
    finally:
        for c in contexts:
            c.close()
