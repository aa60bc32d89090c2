import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from bulletin.models import Notification
from meetings import services
from meetings.models import Meeting
from tests.factories import MeetingFactory


@pytest.fixture
def general_meeting(branch, secretary, member):
    return MeetingFactory(branch=branch, types=["general_meeting"])


@pytest.mark.django_db
def test_a_meeting_goes_from_plan_to_submitted_record(general_meeting, secretary, member):
    now = timezone.now()
    meeting = services.meeting_publish_notice(meeting=general_meeting, user=secretary, now=now)
    assert meeting.status == Meeting.Status.NOTIFIED
    assert meeting.attendances.count() == 2
    assert Notification.objects.filter(dedupe_key=f"meeting:{meeting.pk}:notice", channel="inbox").count() == 2

    start = now - dt.timedelta(hours=2)
    chair = secretary.member
    services.meeting_record_minutes(
        meeting=meeting,
        user=secretary,
        now=now,
        actual_start=start,
        actual_end=start + dt.timedelta(hours=1),
        place="党员活动室",
        chair=chair,
        recorder=member.member,
        resolutions="一致同意。",
    )
    with pytest.raises(ValidationError) as excinfo:
        services.meeting_submit(meeting=meeting, user=secretary, now=now)
    assert any("不等于应到 2 人" in m for m in excinfo.value.messages)

    services.attendance_record(
        meeting=meeting,
        user=secretary,
        now=now,
        entries={chair.pk: "present", member.member.pk: "present"},
    )
    services.meeting_save_agenda(
        meeting=meeting,
        user=secretary,
        now=now,
        items=[
            services.AgendaItemData(
                title="学习文件", speeches=[services.SpeechData(speaker=chair, points="要抓好安全。")]
            )
        ],
    )
    vote = services.vote_record(
        meeting=meeting, kind="motion", motion="年度计划", yes=2, no=0, abstain=0, user=secretary, now=now
    )
    assert vote.passed
    meeting = services.meeting_submit(meeting=meeting, user=secretary, now=now)
    assert meeting.status == Meeting.Status.SUBMITTED
    with pytest.raises(ValidationError, match="已提交"):
        services.meeting_submit(meeting=meeting, user=secretary, now=now)


@pytest.mark.django_db
def test_a_notice_cannot_be_published_without_a_topic(branch, secretary):
    meeting = MeetingFactory(branch=branch, topic="")
    with pytest.raises(ValidationError) as excinfo:
        services.meeting_publish_notice(meeting=meeting, user=secretary, now=timezone.now())
    assert "发布通知前须确定会议主题。" in excinfo.value.messages
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.PLANNED
