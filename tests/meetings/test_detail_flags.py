import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import services
from meetings.models import Attendance
from tests.conftest import client_for
from tests.factories import MeetingFactory


@pytest.fixture
def meeting_with_shared_device(branch, secretary, member):
    meeting = MeetingFactory(branch=branch, types=["general_meeting"])
    meeting = services.meeting_publish_notice(meeting=meeting, user=secretary, now=timezone.now())
    meeting.attendances.update(checked_in_at=timezone.now(), checkin_device="dev-1", status=Attendance.Status.PRESENT)
    return meeting


@pytest.mark.django_db
def test_the_secretary_sees_one_device_checking_in_two_members_flagged(client, secretary, meeting_with_shared_device):
    html = client_for(client, secretary).get(reverse("meetings:meeting_detail", args=[meeting_with_shared_device.pk]))
    text = html.content.decode()
    assert "同一设备签到 2 人" in text
    assert "王书记" in text and "李党员" in text


@pytest.mark.django_db
def test_a_member_does_not_see_the_shared_device_flag(client, member, meeting_with_shared_device):
    text = client_for(client, member).get(reverse("meetings:meeting_detail", args=[meeting_with_shared_device.pk]))
    assert "同一设备签到" not in text.content.decode()


@pytest.mark.django_db
def test_the_detail_links_the_check_in_screen_for_managers_only(client, secretary, member, meeting_with_shared_device):
    url = reverse("meetings:meeting_detail", args=[meeting_with_shared_device.pk])
    screen = reverse("meetings:checkin_screen", args=[meeting_with_shared_device.pk])
    assert screen in client_for(client, secretary).get(url).content.decode()
    client.logout()
    assert screen not in client_for(client, member).get(url).content.decode()
