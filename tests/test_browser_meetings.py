"""A meeting from plan to submitted record in Chromium: the secretary plans and notifies, the member asks
for leave on a phone, the secretary approves it, enters the minutes and submits; the member sees 已提交."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from meetings import services
from org.models import Post
from tests.factories import BranchFactory, GroupFactory, MeetingFactory, member_with_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "pw-for-tests-123"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def people(transactional_db):
    branch = BranchFactory(name="综采一队党支部")
    group = GroupFactory(name="综采一队第一党小组", parent=branch)
    secretary = member_with_login(branch=branch, group=group, username="shuji", role=Post.Role.SECRETARY, name="王书记")
    member = member_with_login(branch=branch, group=group, username="dangyuan", name="李党员")
    return {"branch": branch, "secretary": secretary, "member": member}


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")


def local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_a_meeting_goes_from_plan_to_a_submitted_record_in_the_browser(
    browser, browser_context_args, live_server, people
):
    desk = browser.new_context(**browser_context_args)
    phone = browser.new_context(**{**browser_context_args, "viewport": PHONE})
    try:
        sec = desk.new_page()
        sign_in(sec, live_server, "shuji")

        # The secretary plans from the branch page.
        sec.goto(f"{live_server.url}/org/branches/{people['branch'].pk}/")
        sec.locator("#branch-meeting-actions").get_by_role("link", name="计划会议").click()
        expect(sec.get_by_role("heading", name="计划会议")).to_be_visible()
        # The lecturer field shows only for a 党课.
        expect(sec.get_by_label("授课人（党课）")).to_be_hidden()
        sec.get_by_label("党课", exact=True).check()
        expect(sec.get_by_label("授课人（党课）")).to_be_visible()
        sec.get_by_label("党课", exact=True).uncheck()
        sec.get_by_label("支部党员大会", exact=True).check()
        sec.get_by_label("会议主题").fill("学习贯彻安全生产会议精神")
        start = timezone.now() + dt.timedelta(days=1)
        sec.get_by_label("计划开始时间").fill(local(start))
        sec.get_by_label("计划结束时间").fill(local(start + dt.timedelta(hours=1)))
        sec.locator("#id_place").fill("三楼党员活动室")
        sec.get_by_role("button", name="保存").click()
        expect(sec.get_by_text("会议计划已保存，可以发布会议通知。")).to_be_visible()
        expect(sec.locator("#meeting-status")).to_have_text("计划")
        meeting_url = sec.url

        sec.get_by_role("button", name="发布会议通知").click()
        expect(sec.get_by_text("会议通知已发布，已通知应到党员 2 名。")).to_be_visible()
        expect(sec.locator("#meeting-status")).to_have_text("已通知")

        # The member, on a phone, finds the meeting in the list and asks for leave.
        mem = phone.new_page()
        sign_in(mem, live_server, "dangyuan")
        mem.get_by_role("button", name="菜单").click()
        mem.locator("#mainnav").get_by_role("link", name="会议", exact=True).click()
        mem.get_by_role("link", name="学习贯彻安全生产会议精神").click()
        expect(mem.locator("#meeting-status")).to_have_text("已通知")
        mem.get_by_role("link", name="请假").click()
        mem.get_by_label("请假事由").fill("井下值班")
        mem.get_by_role("button", name="提交请假申请").click()
        expect(mem.get_by_text("请假申请已提交，等待书记审批。")).to_be_visible()
        expect(mem.locator("#my-leave")).to_contain_text("待审批")

        # The secretary approves, then enters the minutes after the meeting.
        sec.goto(meeting_url)
        sec.locator("#leave-requests").get_by_role("button", name="批准", exact=True).click()
        expect(sec.get_by_text("已批准 李党员 的请假申请。")).to_be_visible()

        sec.get_by_role("link", name="录入会议记录").click()
        held = timezone.now() - dt.timedelta(hours=2)
        sec.get_by_label("实际开始时间").fill(local(held))
        sec.get_by_label("实际结束时间").fill(local(held + dt.timedelta(hours=1)))
        sec.get_by_label("主持人").select_option(label="王书记")
        sec.get_by_label("记录人").select_option(label="王书记")
        sec.get_by_label("会议决议").fill("同意年度党建工作计划。")
        sec.get_by_role("button", name="保存").click()
        expect(sec.locator("#meeting-status")).to_have_text("已召开")
        expect(sec.locator("#submit-checklist")).to_contain_text("缺少议题及发言要点。")

        sec.get_by_role("link", name="出席登记").click()
        sec.get_by_label("王书记 出席情况").select_option("present")
        expect(sec.get_by_label("李党员 出席情况")).to_have_value("leave")
        sec.get_by_role("button", name="保存出席情况").click()
        expect(
            sec.get_by_text("出席情况已保存：应到 2 人，实到 1 人，请假 1 人，缺席 0 人，未登记 0 人。")
        ).to_be_visible()

        sec.get_by_role("link", name="议题及发言").click()
        sec.locator("#id_items-0-title").fill("传达安全生产会议精神")
        sec.locator("#id_speeches-0-item").fill("1")
        sec.locator("#id_speeches-0-speaker").select_option(label="王书记")
        sec.locator("#id_speeches-0-points").fill("要把安全放在第一位。")
        sec.get_by_role("button", name="+ 添加发言").click()
        sec.locator("#id_speeches-3-item").fill("1")
        sec.locator("#id_speeches-3-speaker").select_option(label="王书记")
        sec.locator("#id_speeches-3-points").fill("下周组织隐患排查。")
        sec.get_by_role("button", name="保存议题及发言").click()
        expect(sec.get_by_text("议题及发言已保存（1 项议题）。")).to_be_visible()
        expect(sec.locator("#agenda-items")).to_contain_text("下周组织隐患排查。")

        # Complete, but a 党员大会 needs its photo: the checklist says so instead of "complete".
        expect(sec.locator("#submit-checklist")).to_contain_text("会议记录已填写完整，但尚未上传会议照片")
        sec.get_by_role("button", name="提交会议记录").click()
        expect(sec.get_by_text("会议记录已提交，等待审核。")).to_be_visible()

        # The member sees the submitted record, with their leave in it.
        mem.goto(meeting_url)
        expect(mem.locator("#meeting-status")).to_have_text("已提交")
        expect(mem.locator("#not-present")).to_contain_text("李党员：请假（井下值班）")
        expect(mem.locator("#meeting-actions").get_by_role("link")).to_have_count(0)
    finally:
        desk.close()
        phone.close()


def test_the_secretary_marks_everyone_present_on_a_phone_then_one_exception(
    browser, browser_context_args, live_server, people
):
    secretary, member = people["secretary"], people["member"]
    absent = member_with_login(branch=people["branch"], username="quexi", name="缺席的")
    held = timezone.now() - dt.timedelta(hours=3)
    meeting = MeetingFactory(branch=people["branch"], planned_start=held, planned_end=held + dt.timedelta(hours=1))
    services.meeting_publish_notice(meeting=meeting, user=secretary, now=held - dt.timedelta(days=2))
    services.meeting_record_minutes(
        meeting=meeting,
        user=secretary,
        now=timezone.now(),
        actual_start=held,
        actual_end=held + dt.timedelta(hours=1),
        place="三楼党员活动室",
        chair=secretary.member,
        recorder=member.member,
    )
    phone = browser.new_context(**{**browser_context_args, "viewport": PHONE})
    try:
        sec = phone.new_page()
        sign_in(sec, live_server, "shuji")
        sec.goto(f"{live_server.url}/meetings/{meeting.pk}/attendance/")
        sec.get_by_role("button", name="全部出席").click()
        expect(sec.get_by_text("已将 3 人标为出席")).to_be_visible()
        expect(sec.get_by_label("缺席的 出席情况")).to_have_value("present")
        # 请假 is not on offer without approved leave; the exception is 无故缺席.
        expect(sec.get_by_label("缺席的 出席情况").locator("option[value=leave]")).to_have_count(0)
        sec.get_by_label("缺席的 出席情况").select_option("absent")
        assert sec.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        sec.get_by_role("button", name="保存出席情况").click()
        expect(
            sec.get_by_text("出席情况已保存：应到 3 人，实到 2 人，请假 0 人，缺席 1 人，未登记 0 人。")
        ).to_be_visible()
        assert absent.member.attendances.get().status == "absent"
    finally:
        phone.close()
