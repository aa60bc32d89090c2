"""Evidence and review in Chromium: the secretary uploads photos from a phone-sized window and submits,
the supervisor sees the system's flags and returns the record, the secretary resubmits, the supervisor
approves and the record is locked.

The worker's part (processing the photos, checking the submitted record) is run by the test between
the steps by calling the same services the Celery tasks call: what the browser sees is then exactly
what a user sees once the worker has been.
"""

import datetime as dt
import shutil

import pytest
from django.utils import timezone
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from meetings.models import AgendaItem, Attendance, Meeting, Speech
from org.models import Member, Post, StaffRole
from supervision.models import Evidence
from supervision.services.evidence import evidence_process
from supervision.services.integrity import meetings_check_due
from tests.factories import BranchFactory, GroupFactory, MeetingFactory, member_with_login, staff_user
from tests.supervision.conftest import GPS_PHOTOS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "pw-for-tests-123"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def evidence_dir(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence"), "base_url": None},
        },
    }
    return tmp_path


@pytest.fixture
def held(transactional_db, evidence_dir):
    """A general meeting held yesterday with its minutes complete, not yet submitted."""
    branch = BranchFactory(name="综采一队党支部")
    group = GroupFactory(name="综采一队第一党小组", parent=branch)
    secretary = member_with_login(branch=branch, group=group, username="shuji", role=Post.Role.SECRETARY, name="王书记")
    member_with_login(branch=branch, group=group, username="dangyuan", name="李党员")
    staff_user(username="dudao", role=StaffRole.Role.WORK_DEPT)
    start = timezone.now() - dt.timedelta(days=1)
    chair = Member.objects.get(user=secretary)
    meeting = MeetingFactory(
        branch=branch,
        topic="学习贯彻安全生产会议精神",
        planned_start=start,
        planned_end=start + dt.timedelta(hours=1),
        actual_start=start,
        actual_end=start + dt.timedelta(hours=1),
        status=Meeting.Status.HELD,
        chair=chair,
        recorder=chair,
        counts_for=timezone.localdate(start),
        minutes_entered_at=start + dt.timedelta(hours=2),
        resolutions="同意年度党建工作计划。",
        types=["general_meeting"],
    )
    for person in Member.objects.filter(memberships__organization=branch).distinct():
        Attendance.objects.create(meeting=meeting, member=person, status=Attendance.Status.PRESENT)
    item = AgendaItem.objects.create(meeting=meeting, order=1, title="传达安全生产会议精神")
    Speech.objects.create(agenda_item=item, speaker=chair, points="要把安全放在第一位。", order=1)
    return meeting


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")


def meeting_photo(folder, taken: dt.datetime) -> str:
    """A phone photo whose EXIF says it was taken at ``taken`` (local time), as a camera writes it."""
    image = Image.new("RGB", (1200, 900), (90, 120, 160))
    ImageDraw.Draw(image).rectangle((200, 200, 900, 700), fill=(200, 40, 40))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = timezone.localtime(taken + dt.timedelta(minutes=10)).strftime("%Y:%m:%d %H:%M:%S")
    path = folder / "IMG_meeting.jpg"
    image.save(path, "JPEG", exif=exif)
    return str(path)


def run_the_worker():
    """What the Celery worker does after an upload and after a submission."""
    now = timezone.now()
    for pk in Evidence.objects.filter(status=Evidence.Status.PROCESSING).values_list("pk", flat=True):
        evidence_process(evidence_id=pk, now=now)
    meetings_check_due(now=now)


def test_evidence_goes_from_a_phone_upload_through_return_and_resubmission_to_approval(
    browser, browser_context_args, live_server, held, evidence_dir
):
    # A photo file named as a phone names it: the server decides by content, not by name.
    photos = []
    for n, source in enumerate(GPS_PHOTOS[:2]):
        target = evidence_dir / f"IMG_2026112{n}.jpg"
        shutil.copy(source, target)
        photos.append(str(target))

    phone = browser.new_context(**{**browser_context_args, "viewport": PHONE})
    desk = browser.new_context(**browser_context_args)
    try:
        sec = phone.new_page()
        sign_in(sec, live_server, "shuji")
        meeting_url = f"{live_server.url}/meetings/{held.pk}/"
        sec.goto(meeting_url)
        sec.locator("#open-evidence").click()
        sec.get_by_label("材料类别").select_option(label="会议照片")
        sec.locator("#id_files").set_input_files(photos)
        sec.locator("#upload-submit").click()
        expect(sec.locator("#evidence-gallery .evidence-processing")).to_have_count(2)

        run_the_worker()
        # The page reloads itself while files are 处理中 (static/js/evidence.js), no tap needed.
        expect(sec.locator("#evidence-gallery .evidence-processing")).to_have_count(0, timeout=15_000)
        expect(sec.locator("#evidence-gallery img")).to_have_count(2)

        sec.goto(meeting_url)
        sec.get_by_role("button", name="提交会议记录").click()
        expect(sec.get_by_text("会议记录已提交，等待审核。")).to_be_visible()
        run_the_worker()

        # The supervisor sees the record in the queue with the system's warnings.
        sup = desk.new_page()
        sign_in(sup, live_server, "dudao")
        sup.goto(f"{live_server.url}/supervision/review/")
        sup.get_by_role("link", name="学习贯彻安全生产会议精神").click()
        flags = sup.locator("#review-flags")
        # The photos were taken on 22 October 2008, not at this meeting.
        expect(flags).to_contain_text("拍摄时间")
        expect(flags).to_contain_text("2008年10月22日")
        expect(sup.locator("#review-evidence img")).to_have_count(2)
        sup.locator("#return-form textarea[name=comment]").fill("照片不是本次会议拍摄的，请上传本次会议的照片。")
        sup.locator("#return").click()
        # Back to the queue for the next record; this one has left it.
        expect(sup.get_by_text("已退回修改，已通知支部书记和记录人。")).to_be_visible()
        expect(sup.get_by_text("没有待审核的会议记录。")).to_be_visible()
        review_url = f"{live_server.url}/supervision/review/{held.pk}/"

        # The secretary reads why, replaces the photos with one taken at the meeting and resubmits.
        sec.goto(meeting_url)
        expect(sec.locator("#review-comments")).to_contain_text("照片不是本次会议拍摄的")
        expect(sec.locator("#meeting-status")).to_have_text("已退回")
        sec.locator("#open-evidence").click()
        sec.on("dialog", lambda dialog: dialog.accept())
        for _ in range(2):
            sec.locator(".evidence-delete").first.click()
            expect(sec.get_by_text("已删除")).to_be_visible()
        expect(sec.locator("#evidence-gallery .evidence-item")).to_have_count(0)
        sec.get_by_label("材料类别").select_option(label="会议照片")
        sec.locator("#id_files").set_input_files([meeting_photo(evidence_dir, held.actual_start)])
        sec.locator("#upload-submit").click()
        expect(sec.locator("#evidence-gallery .evidence-processing")).to_have_count(1)
        run_the_worker()
        sec.goto(meeting_url)
        sec.get_by_role("button", name="提交会议记录").click()
        expect(sec.get_by_text("会议记录已提交，等待审核。")).to_be_visible()
        run_the_worker()

        # The supervisor approves from the queue; both rounds are in the history; the record is locked.
        sup.reload()
        sup.get_by_role("link", name="学习贯彻安全生产会议精神").click()
        expect(sup.locator("#review-history")).to_contain_text("退回修改")
        expect(sup.locator("#review-evidence img")).to_have_count(1)
        expect(sup.locator("#review-flags")).not_to_contain_text("2008年10月22日")
        sup.locator("#approve").click()
        expect(sup.get_by_text("已审核通过，会议记录及佐证材料已锁定。")).to_be_visible()
        sup.goto(review_url)
        expect(sup.locator("#review-state")).to_contain_text("已审核通过")
        expect(sup.locator("#review-history")).to_contain_text("审核通过")
        expect(sup.locator("#review-history")).to_contain_text("照片不是本次会议拍摄的")

        sec.goto(meeting_url)
        expect(sec.locator("#meeting-status")).to_have_text("已通过")
        sec.locator("#open-evidence").click()
        expect(sec.locator("#evidence-locked")).to_be_visible()
        expect(sec.locator("#evidence-upload")).to_have_count(0)
    finally:
        desk.close()
        phone.close()
