import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from meetings import checkin as service
from meetings import services
from meetings.models import Attendance, Meeting, MeetingPolicy
from meetings.views.checkin import DEVICE_COOKIE, device_cookie_id
from tests.conftest import client_for
from tests.factories import MeetingFactory, member_with_login

TZ = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 3, 10, 15, 0, tzinfo=TZ)  # a slot boundary (30 s slots)


@pytest.fixture
def meeting(branch, secretary, member):
    meeting = MeetingFactory(
        branch=branch,
        types=["general_meeting"],
        status=Meeting.Status.NOTIFIED,
        planned_start=START,
        planned_end=START + dt.timedelta(hours=1, minutes=30),
    )
    services.meeting_sync_expected(meeting=meeting)
    assert meeting.attendances.count() == 2
    return meeting


@pytest.fixture
def policy(db):
    return MeetingPolicy.current()


def url_at(meeting, now, policy):
    return service.checkin_path(meeting, now=now, policy=policy)


def attendance_of(meeting, user):
    return Attendance.objects.get(meeting=meeting, member=user.member)


@pytest.mark.django_db
def test_opening_the_link_shows_a_confirm_button_and_checks_no_one_in(client, meeting, member, policy):
    with time_machine.travel(START - dt.timedelta(minutes=5), tick=False):
        response = client_for(client, member).get(url_at(meeting, START - dt.timedelta(minutes=5), policy))
    assert response.status_code == 200
    assert "确认签到" in response.text
    row = attendance_of(meeting, member)
    assert row.checked_in_at is None and row.status == ""


@pytest.mark.django_db
def test_a_member_confirms_and_is_checked_in_present_with_a_device_cookie(client, meeting, member, policy):
    now = START - dt.timedelta(minutes=5)
    with time_machine.travel(now, tick=False):
        client_for(client, member)
        token = service.current_token(meeting, now=now, policy=policy)
        response = client.post(reverse("meetings:checkin", args=[meeting.pk]), {"t": token})
        assert response.status_code == 302
        page = client.get(response["Location"])
    assert "签到成功（出席），签到时间 14:55" in page.text
    row = attendance_of(meeting, member)
    assert row.status == Attendance.Status.PRESENT
    assert row.checked_in_at == now
    cookie = response.cookies[DEVICE_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and int(cookie["max-age"]) > 365 * 24 * 3600
    # Signed, and only a keyed hash of the id is stored.
    device_id = device_cookie_id(cookie.value)
    assert row.checkin_device == service.device_hash(device_id) and device_id not in row.checkin_device


@pytest.mark.django_db
def test_a_member_checked_in_after_the_late_threshold_is_late(meeting, member, policy):
    on_time = START + dt.timedelta(minutes=policy.late_after_minutes)
    row = service.checkin_member(
        meeting=meeting,
        member=member.member,
        token=service.current_token(meeting, now=on_time, policy=policy),
        device="device-one-aaaaaaaa",
        now=on_time,
    )
    assert row.status == Attendance.Status.PRESENT

    late = START + dt.timedelta(minutes=policy.late_after_minutes, seconds=1)
    row = service.checkin_member(
        meeting=meeting,
        member=meeting.attendances.exclude(member=member.member).get().member,
        token=service.current_token(meeting, now=late, policy=policy),
        device="device-two-bbbbbbbb",
        now=late,
    )
    assert row.status == Attendance.Status.LATE
    assert row.get_status_display() == "迟到"


@pytest.mark.django_db
def test_the_previous_code_still_works_but_a_code_two_slots_old_is_stale(client, meeting, member, policy):
    token = service.current_token(meeting, now=START, policy=policy)
    assert service.token_is_valid(meeting, token, now=START + dt.timedelta(seconds=31), policy=policy)

    stale_at = START + dt.timedelta(seconds=2 * policy.checkin_token_seconds + 5)
    with time_machine.travel(stale_at, tick=False):
        client_for(client, member)
        page = client.get(reverse("meetings:checkin", args=[meeting.pk]), {"t": token})
        response = client.post(reverse("meetings:checkin", args=[meeting.pk]), {"t": token})
    assert "二维码已过期，请重新扫描" in page.text
    assert "确认签到" not in page.text
    assert response.status_code == 400
    assert "二维码已过期，请重新扫描" in response.text
    assert attendance_of(meeting, member).checked_in_at is None


@pytest.mark.django_db
def test_a_code_of_another_meeting_is_refused(client, branch, meeting, member, policy):
    other = MeetingFactory(branch=branch, status=Meeting.Status.NOTIFIED, planned_start=START)
    foreign = service.current_token(other, now=START, policy=policy)
    with time_machine.travel(START, tick=False):
        response = client_for(client, member).post(reverse("meetings:checkin", args=[meeting.pk]), {"t": foreign})
    assert response.status_code == 400
    assert "二维码已过期，请重新扫描" in response.text
    assert attendance_of(meeting, member).checked_in_at is None


@pytest.mark.django_db
def test_check_in_before_the_window_opens_is_refused(client, meeting, member, policy):
    early = START - dt.timedelta(minutes=policy.checkin_opens_minutes_before + 1)
    with time_machine.travel(early, tick=False):
        response = client_for(client, member).post(
            reverse("meetings:checkin", args=[meeting.pk]),
            {"t": service.current_token(meeting, now=early, policy=policy)},
        )
    assert response.status_code == 400
    assert "签到尚未开始（14:30 开放）" in response.text
    assert attendance_of(meeting, member).checked_in_at is None


@pytest.mark.django_db
def test_check_in_when_the_meeting_ends_is_refused(client, meeting, member, policy):
    # Check-in closes at the end: signing in afterwards is 代签到 (it used to stay open 30 minutes).
    after = meeting.planned_end
    with time_machine.travel(after, tick=False):
        response = client_for(client, member).post(
            reverse("meetings:checkin", args=[meeting.pk]),
            {"t": service.current_token(meeting, now=after, policy=policy)},
        )
    assert response.status_code == 400
    assert "会议已结束，签到已关闭" in response.text
    assert attendance_of(meeting, member).checked_in_at is None


@pytest.mark.django_db
def test_the_window_follows_the_actual_end_when_the_meeting_ran_long(meeting, member, policy):
    meeting.actual_end = meeting.planned_end + dt.timedelta(hours=1)
    window = policy.checkin_window(meeting)
    assert window.contains(meeting.planned_end + dt.timedelta(minutes=5))
    assert not window.contains(meeting.actual_end)


@pytest.mark.django_db
def test_a_cancelled_meeting_takes_no_check_in(meeting, member, policy):
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.CANCELLED, cancel_reason="停电")
    meeting.refresh_from_db()
    with pytest.raises(service.CheckinError) as excinfo:
        service.checkin_member(
            meeting=meeting,
            member=member.member,
            token=service.current_token(meeting, now=START, policy=policy),
            device="x" * 20,
            now=START,
        )
    assert excinfo.value.code == "not_open"


@pytest.mark.django_db
def test_checking_in_twice_records_once_and_says_when(client, meeting, member, policy):
    first = START - dt.timedelta(minutes=2)
    with time_machine.travel(first, tick=False):
        client_for(client, member)
        token = service.current_token(meeting, now=first, policy=policy)
        client.post(reverse("meetings:checkin", args=[meeting.pk]), {"t": token})
    second = first + dt.timedelta(seconds=20)
    with time_machine.travel(second, tick=False):
        response = client.post(reverse("meetings:checkin", args=[meeting.pk]), {"t": token})
    assert response.status_code == 400
    assert "您已于 14:58 签到" in response.text
    assert attendance_of(meeting, member).checked_in_at == first


@pytest.mark.django_db
def test_a_double_tap_loses_the_conditional_update(meeting, member, policy):
    token = service.current_token(meeting, now=START, policy=policy)
    row = attendance_of(meeting, member)
    # The second request passed its checks before the first one wrote.
    Attendance.objects.filter(pk=row.pk).update(checked_in_at=START, status=Attendance.Status.PRESENT)
    with pytest.raises(service.CheckinError) as excinfo:
        service.checkin_precheck(meeting=meeting, member=member.member, token=token, now=START, policy=policy)
    assert excinfo.value.code == "already"


@pytest.mark.django_db
def test_a_member_not_expected_is_told_so(client, meeting, other_secretary, policy):
    with time_machine.travel(START, tick=False):
        response = client_for(client, other_secretary).post(
            reverse("meetings:checkin", args=[meeting.pk]),
            {"t": service.current_token(meeting, now=START, policy=policy)},
        )
    assert response.status_code == 400
    assert "您不是本次会议的应到人员" in response.text
    assert not Attendance.objects.filter(meeting=meeting, member=other_secretary.member).exists()


@pytest.mark.django_db
def test_a_member_who_signs_in_first_keeps_the_code_seen_while_valid(client, meeting, member, policy):
    url = url_at(meeting, START, policy)
    with time_machine.travel(START, tick=False):
        response = client.get(url)
    assert response.status_code == 302 and reverse("login") in response["Location"]
    later = START + dt.timedelta(minutes=2)  # signing in on a phone takes a while
    with time_machine.travel(later, tick=False):
        client.force_login(member)
        assert "确认签到" in client.get(url).text
        client.post(reverse("meetings:checkin", args=[meeting.pk]), {"t": url.split("t=")[1]})
    assert attendance_of(meeting, member).checked_in_at == later


@pytest.mark.django_db
def test_one_device_checking_in_two_members_is_flagged(client, meeting, secretary, member, policy):
    for user in (member, secretary):  # one phone, its device cookie kept from the first check-in
        with time_machine.travel(START, tick=False):
            client.force_login(user)
            client.post(
                reverse("meetings:checkin", args=[meeting.pk]), {"t": url_at(meeting, START, policy).split("t=")[1]}
            )
    (device,) = set(meeting.attendances.values_list("checkin_device", flat=True))
    assert len(device) == 64

    shared = service.shared_device_checkins(meeting)
    assert len(shared) == 1 and shared[0].count == 2
    assert set(shared[0].names) == {"王书记", "李党员"}

    with time_machine.travel(START, tick=False):
        client.force_login(secretary)
        screen = client.get(reverse("meetings:checkin_screen", args=[meeting.pk]))
        live = client.get(reverse("meetings:checkin_live", args=[meeting.pk])).json()
    assert "⚠ 同一设备签到 2 人" in screen.text
    assert live["count"] == 2 and live["shared_devices"][0]["count"] == 2
    assert all(c["shared"] for c in live["checked_in"])
    assert device not in str(live)  # the device id stays on the server


@pytest.mark.django_db
def test_members_on_different_devices_are_not_flagged(meeting, secretary, member, policy):
    for i, user in enumerate((member, secretary)):
        service.checkin_member(
            meeting=meeting,
            member=user.member,
            token=service.current_token(meeting, now=START, policy=policy),
            device=f"device-{i}-abcdefghijkl",
            now=START,
        )
    assert service.shared_device_checkins(meeting) == []


@pytest.mark.django_db
def test_the_screen_shows_the_code_and_who_checked_in(client, meeting, secretary, member, policy):
    service.checkin_member(
        meeting=meeting,
        member=member.member,
        token=service.current_token(meeting, now=START, policy=policy),
        device="device-abcdefghijklmn",
        now=START,
    )
    with time_machine.travel(START, tick=False):
        response = client_for(client, secretary).get(reverse("meetings:checkin_screen", args=[meeting.pk]))
    assert response.status_code == 200
    assert reverse("meetings:checkin_qr", args=[meeting.pk]) in response.text
    assert "js/checkin.js" in response.text
    assert "李党员" in response.text and '1</strong> / <span id="checkin-expected">2' in response.text


@pytest.mark.django_db
def test_the_qr_image_is_an_uncached_svg_that_changes_with_the_slot(client, meeting, secretary, policy):
    client_for(client, secretary)
    url = reverse("meetings:checkin_qr", args=[meeting.pk])
    with time_machine.travel(START, tick=False):
        first = client.get(url)
    with time_machine.travel(START + dt.timedelta(seconds=5), tick=False):
        same_slot = client.get(url)
    with time_machine.travel(START + dt.timedelta(seconds=policy.checkin_token_seconds), tick=False):
        next_slot = client.get(url)
    assert first["Content-Type"] == "image/svg+xml"
    assert "no-cache" in first["Cache-Control"] and "no-store" in first["Cache-Control"]
    assert first.content.startswith(b"<svg")
    assert first.content == same_slot.content
    assert first.content != next_slot.content


@pytest.mark.django_db
def test_the_qr_code_encodes_the_absolute_check_in_url(meeting, policy):
    path = service.checkin_path(meeting, now=START, policy=policy)
    assert path == f"/meetings/checkin/{meeting.pk}/?t={service.current_token(meeting, now=START, policy=policy)}"
    assert len(path.split("t=")[1]) == service.TOKEN_LENGTH


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["checkin_screen", "checkin_qr", "checkin_live"])
@pytest.mark.parametrize(
    ("role", "expected"),
    [("secretary", 200), ("member", 403), ("other_secretary", 403), ("supervisor", 403), ("anonymous", 302)],
)
def test_only_the_meetings_managers_see_the_screen_the_code_and_the_list(client, people, meeting, name, role, expected):
    response = client_for(client, people[role]).get(reverse(f"meetings:{name}", args=[meeting.pk]))
    assert response.status_code == expected
    if role == "anonymous":
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_a_group_leader_manages_check_in_of_the_groups_meeting(client, branch, group, member):
    from org.models import Post

    leader = member_with_login(branch=branch, group=group, username="leader", role=Post.Role.GROUP_LEADER)
    meeting = MeetingFactory(branch=branch, group=group, types=["group_meeting"], status=Meeting.Status.NOTIFIED)
    response = client_for(client, leader).get(reverse("meetings:checkin_screen", args=[meeting.pk]))
    assert response.status_code == 200


@pytest.mark.django_db
def test_the_screen_query_count_does_not_grow_with_check_ins(
    client, branch, meeting, secretary, policy, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client_for(client, secretary)
    url = reverse("meetings:checkin_screen", args=[meeting.pk])
    with time_machine.travel(START, tick=False), CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(10):
        user = member_with_login(branch=branch, username=f"extra{i}")
        Attendance.objects.create(
            meeting=meeting,
            member=user.member,
            checked_in_at=START,
            status="present",
            checkin_device=f"device-{i}-abcdefghijk",
        )
    with time_machine.travel(START, tick=False), django_assert_num_queries(len(few)):
        client.get(url)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_member_scans_confirms_and_sees_the_meeting_in_my_attendance(live_server, page, branch, group, secretary):
    from django.utils import timezone

    user = member_with_login(branch=branch, group=group, username="scanner", name="张扫码")
    user.set_password("scan-pass-2026")
    user.save()
    now = timezone.now()
    meeting = MeetingFactory(
        branch=branch,
        topic="安全我先行主题党日",
        status=Meeting.Status.NOTIFIED,
        planned_start=now - dt.timedelta(minutes=3),
        planned_end=now + dt.timedelta(hours=1),
    )
    services.meeting_sync_expected(meeting=meeting)

    page.goto(live_server.url + reverse("login"))
    page.fill("input[name=username]", "scanner")
    page.fill("input[name=password]", "scan-pass-2026")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")

    # What the secretary's screen encodes right now, read through the server's own helper.
    page.goto(live_server.url + service.checkin_path(meeting, now=timezone.now(), policy=MeetingPolicy.current()))
    page.click("#checkin-confirm")
    page.wait_for_selector("text=签到成功（出席）")
    assert page.locator("#checkin-result").inner_text().startswith("您已于")

    page.goto(live_server.url + reverse("meetings:my_attendance"))
    row = page.locator("#attendance-rows tbody tr").first
    assert "安全我先行主题党日" in row.inner_text()
    assert "出席" in row.inner_text()
    assert Attendance.objects.get(meeting=meeting, member=user.member).checkin_device
