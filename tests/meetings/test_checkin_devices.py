"""Devices at check-in: a signed, long-lived device cookie that survives a cleared session; one device checking
in several members becomes a flag in the review queue with the members and times; a forged cookie is replaced."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from meetings import checkin as service
from meetings import services
from meetings.models import Attendance, Meeting, MeetingPolicy
from meetings.views.checkin import DEVICE_COOKIE, device_cookie_id
from supervision.models import Flag
from supervision.services import integrity
from tests.conftest import client_for
from tests.factories import MeetingFactory, member_with_login

from .test_checkin import START

PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 MicroMessenger/8.0.47"


@pytest.fixture
def third(branch, group):
    return member_with_login(branch=branch, group=group, username="third", name="张党员")


@pytest.fixture
def meeting(branch, secretary, member, third):
    meeting = MeetingFactory(
        branch=branch,
        types=["general_meeting"],
        status=Meeting.Status.NOTIFIED,
        planned_start=START,
        planned_end=START + dt.timedelta(hours=1, minutes=30),
    )
    services.meeting_sync_expected(meeting=meeting)
    return meeting


def check_in(client, meeting, user, *, minute, ip="10.8.3.21"):
    """``user`` signs in on ``client`` (one browser) and checks in ``minute`` minutes before the start."""
    now = START - dt.timedelta(minutes=minute)
    with time_machine.travel(now, tick=False):
        client.force_login(user)
        token = service.current_token(meeting, now=now, policy=MeetingPolicy.current())
        return client.post(
            reverse("meetings:checkin", args=[meeting.pk]), {"t": token}, HTTP_USER_AGENT=PHONE_UA, REMOTE_ADDR=ip
        )


def shared_flag(meeting):
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.SUBMITTED)
    integrity.meeting_checks(meeting=Meeting.objects.get(pk=meeting.pk), now=START + dt.timedelta(hours=3))
    return Flag.objects.filter(meeting=meeting, kind=Flag.Kind.SHARED_DEVICE).first()


def cookie_id(response) -> str:
    return device_cookie_id(response.cookies[DEVICE_COOKIE].value)


@pytest.mark.django_db
def test_the_device_cookie_is_signed_lasts_two_years_and_keeps_browser_and_network(client, meeting, member):
    response = check_in(client, meeting, member, minute=5)

    cookie = response.cookies[DEVICE_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 2 * 365 * 24 * 3600
    assert cookie.value.count(":") == 2  # value:timestamp:signature
    row = Attendance.objects.get(meeting=meeting, member=member.member)
    assert row.checkin_device == service.device_hash(cookie_id(response))
    assert (row.checkin_user_agent, row.checkin_network, row.checkin_new_device) == (PHONE_UA, "10.8.3.0/24", True)


@pytest.mark.django_db
def test_two_members_checked_in_from_one_device_raise_a_flag_with_their_names_and_times(
    client, meeting, secretary, member, supervisor
):
    check_in(client, meeting, member, minute=5)
    check_in(client, meeting, secretary, minute=4)  # the same phone: its cookie is sent back

    flag = shared_flag(meeting)
    assert flag is not None
    assert flag.message.startswith("同一台设备为 2 名党员扫码签到：李党员（14:55）、王书记（14:56）")
    assert Attendance.objects.get(meeting=meeting, member=secretary.member).checkin_new_device is False

    queue = client_for(client, supervisor).get(reverse("supervision:review_queue"), {"flags": "open"})
    assert [m.pk for m in queue.context["page"].object_list] == [meeting.pk]


@pytest.mark.django_db
def test_a_cleared_session_with_the_same_device_cookie_still_flags(client, meeting, secretary, member):
    check_in(client, meeting, member, minute=5)
    client.cookies.pop(settings.SESSION_COOKIE_NAME)  # the session cookie cleared, the device cookie kept
    assert DEVICE_COOKIE in client.cookies

    check_in(client, meeting, secretary, minute=4)

    flag = shared_flag(meeting)
    assert flag is not None and "李党员（14:55）、王书记（14:56）" in flag.message


@pytest.mark.django_db
@pytest.mark.parametrize("forged", ["tampered", "unsigned", "garbage"])
def test_a_forged_or_tampered_device_cookie_is_ignored_and_replaced(client, meeting, secretary, member, forged):
    first = check_in(client, meeting, member, minute=5)
    genuine = first.cookies[DEVICE_COOKIE].value
    value, stamp, signature = genuine.split(":")
    client.cookies[DEVICE_COOKIE] = {
        # Another device's id under the first one's signature: claiming to be the member's phone.
        "tampered": f"{'A' * 32}:{stamp}:{signature}",
        "unsigned": value,
        "garbage": "x" * 500,
    }[forged]

    second = check_in(client, meeting, secretary, minute=4)

    replaced = second.cookies[DEVICE_COOKIE]
    assert replaced.value != genuine and cookie_id(second) != value
    rows = {a.member_id: a for a in Attendance.objects.filter(meeting=meeting)}
    assert rows[secretary.member.pk].checkin_device == service.device_hash(cookie_id(second))
    assert rows[secretary.member.pk].checkin_device != rows[member.member.pk].checkin_device
    assert rows[secretary.member.pk].checkin_new_device is True
    assert shared_flag(meeting) is None


@pytest.mark.django_db
def test_the_same_network_on_different_devices_does_not_flag(client, meeting, secretary, member, third):
    check_in(client, meeting, member, minute=5, ip="10.8.3.21")
    client.cookies.clear()  # another phone: no cookies at all
    check_in(client, meeting, secretary, minute=4, ip="10.8.3.77")

    assert {a.checkin_network for a in Attendance.objects.filter(meeting=meeting, checked_in_at__isnull=False)} == {
        "10.8.3.0/24"
    }
    assert shared_flag(meeting) is None


@pytest.mark.django_db
def test_the_review_page_shows_the_browser_and_network_and_hints_at_a_cleared_device_cookie(
    client, meeting, secretary, member, supervisor
):
    check_in(client, meeting, member, minute=5)
    client.cookies.clear()  # the same browser, every cookie cleared: a new device id
    check_in(client, meeting, secretary, minute=4)
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.SUBMITTED)

    html = client_for(client, supervisor).get(reverse("supervision:review_detail", args=[meeting.pk])).content.decode()

    assert html.count("同浏览器同网络，设备标识曾被清除") == 2
    assert html.count('class="small text-muted text-break checkin-browser">10.8.3.0/24 · Mozilla/5.0 (iPhone') == 2
    assert shared_flag(meeting) is None  # a hint for the supervisor, not a flag


def test_the_network_is_the_address_prefix():
    assert service.network_prefix("10.8.3.21") == "10.8.3.0/24"
    assert service.network_prefix("2408:8456:1:2::5") == "2408:8456:1::/48"
    assert service.network_prefix("not an address") == ""
    assert service.network_prefix(None) == ""
