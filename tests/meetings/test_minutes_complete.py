"""Complete minutes (issue 9 rule 4): every item has a speech, deciding meetings record resolutions,
attendance only once the meeting has started; and the messages the record page shows per state."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from meetings import services
from meetings.models import Meeting
from supervision.models import Evidence
from tests.conftest import client_for
from tests.factories import MeetingFactory, approved_leave

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


def held_meeting(branch, secretary, member, *, types, resolutions="", items=None, present=True):
    """A meeting held two hours before NOW, attendance complete, with the given agenda ``items``."""
    meeting = MeetingFactory(branch=branch, types=types, planned_start=NOW - dt.timedelta(hours=3))
    start = NOW - dt.timedelta(hours=2)
    services.meeting_record_minutes(
        meeting=meeting,
        user=secretary,
        now=NOW,
        actual_start=start,
        actual_end=start + dt.timedelta(hours=1),
        place="党员活动室",
        chair=secretary.member,
        # The recorder is there by definition (the chair and the recorder cannot be on leave).
        recorder=member.member if present else secretary.member,
        resolutions=resolutions,
    )
    if not present:
        approved_leave(meeting, member.member)
    status = "present" if present else "leave"
    entries = {secretary.member.pk: "present", member.member.pk: status}
    expected = set(meeting.attendances.values_list("member_id", flat=True))  # a 支委会 expects the committee only
    services.attendance_record(
        meeting=meeting, user=secretary, now=NOW, entries={k: v for k, v in entries.items() if k in expected}
    )
    if items is None:
        items = [
            services.AgendaItemData(
                title="学习文件", speeches=[services.SpeechData(speaker=secretary.member, points="抓好安全。")]
            )
        ]
    services.meeting_save_agenda(meeting=meeting, items=items, user=secretary, now=NOW)
    return Meeting.objects.get(pk=meeting.pk)


# --- Every agenda item carries a speech ----------------------------------------------------------


@pytest.mark.django_db
def test_an_agenda_item_without_a_speech_blocks_submission(branch, secretary, member):
    items = [
        services.AgendaItemData(
            title="学习文件", speeches=[services.SpeechData(speaker=secretary.member, points="抓好安全。")]
        ),
        services.AgendaItemData(title="讨论隐患整改"),
    ]
    meeting = held_meeting(branch, secretary, member, types=["theme_day"], items=items)

    with pytest.raises(ValidationError) as caught:
        services.meeting_submit(meeting=meeting, user=secretary, now=NOW)

    assert "第 2 项议题“讨论隐患整改”没有发言要点：每项议题至少记录一位发言人的发言要点。" in caught.value.messages
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD


@pytest.mark.django_db
def test_every_agenda_item_with_one_speech_is_enough(branch, secretary, member):
    meeting = held_meeting(branch, secretary, member, types=["theme_day"])

    assert services.submission_problems(meeting) == []
    assert services.meeting_submit(meeting=meeting, user=secretary, now=NOW).status == Meeting.Status.SUBMITTED


@pytest.mark.django_db
def test_a_speaker_recorded_as_on_leave_blocks_submission(branch, secretary, member):
    items = [
        services.AgendaItemData(title="学习文件", speeches=[services.SpeechData(speaker=member.member, points="好。")])
    ]
    meeting = held_meeting(branch, secretary, member, types=["theme_day"], items=items, present=False)

    assert "第 1 项议题的发言人李党员登记为请假，请核对出席情况或发言记录。" in services.submission_problems(meeting)


@pytest.mark.django_db
def test_a_speaker_recorded_as_absent_blocks_submission_and_nothing_is_asked_of_them(branch, secretary, member):
    items = [
        services.AgendaItemData(title="学习文件", speeches=[services.SpeechData(speaker=member.member, points="好。")])
    ]
    meeting = held_meeting(branch, secretary, member, types=["theme_day"], items=items)
    Meeting.objects.filter(pk=meeting.pk).update(recorder=secretary.member)  # the recorder must be there
    services.attendance_record(meeting=meeting, user=secretary, now=NOW, entries={member.member.pk: "absent"})
    meeting = Meeting.objects.get(pk=meeting.pk)

    assert "第 1 项议题的发言人李党员登记为无故缺席，请核对出席情况或发言记录。" in services.submission_problems(
        meeting
    )
    with pytest.raises(ValidationError):
        services.meeting_submit(meeting=meeting, user=secretary, now=NOW)
    assert Meeting.objects.get(pk=meeting.pk).status == Meeting.Status.HELD


# --- Deciding meetings record their resolutions --------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("code", "name"), [("committee_meeting", "支部委员会"), ("general_meeting", "支部党员大会")])
def test_a_deciding_meeting_without_resolutions_or_votes_blocks_submission(branch, secretary, member, code, name):
    meeting = held_meeting(branch, secretary, member, types=[code])

    problems = services.submission_problems(meeting)

    assert f"{name}须记录会议决议（在会议基本情况中填写决议，或录入表决结果）。" in problems
    with pytest.raises(ValidationError):
        services.meeting_submit(meeting=meeting, user=secretary, now=NOW)


@pytest.mark.django_db
def test_a_committee_meeting_with_written_resolutions_is_complete(branch, secretary, member):
    meeting = held_meeting(branch, secretary, member, types=["committee_meeting"], resolutions="同意本月党建计划。")

    assert not [p for p in services.submission_problems(meeting) if "会议决议" in p]


@pytest.mark.django_db
def test_a_general_meeting_with_a_recorded_vote_is_complete(branch, secretary, member):
    meeting = held_meeting(branch, secretary, member, types=["general_meeting"])
    services.vote_record(
        meeting=meeting, kind="motion", motion="年度计划", yes=2, no=0, abstain=0, user=secretary, now=NOW
    )

    assert services.submission_problems(meeting) == []


@pytest.mark.django_db
def test_a_theme_day_needs_no_resolutions(branch, secretary, member):
    meeting = held_meeting(branch, secretary, member, types=["theme_day"])

    assert not [p for p in services.submission_problems(meeting) if "会议决议" in p]


# --- Attendance only once the meeting has started -----------------------------------------------


def future_meeting(branch, secretary, *, start):
    meeting = MeetingFactory(branch=branch, planned_start=start, planned_end=start + dt.timedelta(hours=1))
    services.meeting_sync_expected(meeting=meeting)
    return meeting


@pytest.mark.django_db
def test_attendance_cannot_be_recorded_a_minute_before_the_meeting_starts(branch, secretary, member):
    meeting = future_meeting(branch, secretary, start=NOW + dt.timedelta(minutes=1))

    with pytest.raises(ValidationError) as caught:
        services.attendance_record(meeting=meeting, user=secretary, now=NOW, entries={member.member.pk: "absent"})

    assert caught.value.messages == ["会议尚未开始（2026-03-10 20:01），不能登记出席情况。"]
    assert not meeting.attendances.exclude(status="").exists()


@pytest.mark.django_db
def test_attendance_can_be_recorded_from_the_minute_the_meeting_starts(branch, secretary, member):
    meeting = future_meeting(branch, secretary, start=NOW)

    services.attendance_record(meeting=meeting, user=secretary, now=NOW, entries={member.member.pk: "absent"})

    assert meeting.attendances.get(member=member.member).status == "absent"


# --- Messages per state --------------------------------------------------------------------------


def detail(client, user, meeting) -> str:
    return client_for(client, user).get(reverse("meetings:meeting_detail", args=[meeting.pk])).content.decode()


@pytest.mark.django_db
def test_a_submitted_record_says_it_awaits_review_not_that_it_was_approved(client, branch, secretary, member):
    meeting = held_meeting(branch, secretary, member, types=["theme_day"])
    services.meeting_submit(meeting=meeting, user=secretary, now=NOW)

    html = detail(client, secretary, meeting)

    assert "会议记录已提交，正在等待审核；审核期间不能修改，如需修改请等待督导退回。" in html
    assert "已审核通过" not in html


@pytest.mark.django_db
def test_an_edit_of_a_submitted_record_is_refused_with_the_submitted_message(branch, secretary, member):
    meeting = held_meeting(branch, secretary, member, types=["theme_day"])
    services.meeting_submit(meeting=meeting, user=secretary, now=NOW)

    with pytest.raises(ValidationError) as caught:
        services.meeting_save_agenda(meeting=meeting, items=[], user=secretary, now=NOW)

    assert caught.value.messages == ["该会议记录已提交，正在等待审核，已锁定，不能修改；如需修改，请等待督导退回。"]


@pytest.mark.django_db
def test_an_approved_record_says_it_is_locked(client, branch, secretary, member):
    meeting = held_meeting(branch, secretary, member, types=["theme_day"])
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.APPROVED)

    assert "会议记录已审核通过，已锁定，不能再修改。" in detail(client, secretary, meeting)


@pytest.mark.django_db
def test_a_complete_record_of_a_type_needing_photos_without_one_says_so(client, branch, secretary, member):
    meeting = held_meeting(branch, secretary, member, types=["theme_day"])

    with time_machine.travel(NOW + dt.timedelta(hours=1)):
        html = detail(client, secretary, meeting)

    assert "会议记录完整，可以提交审核。" not in html
    assert "会议记录已填写完整，但尚未上传会议照片（主题党日须上传）。" in html
    assert 'id="submit-record"' in html


@pytest.mark.django_db
def test_a_complete_record_with_its_photo_may_be_submitted(client, branch, secretary, member):
    meeting = held_meeting(branch, secretary, member, types=["theme_day"])
    Evidence.objects.create(
        meeting=meeting,
        category=Evidence.Category.PHOTO,
        kind=Evidence.Kind.IMAGE,
        content_type="image/jpeg",
        original_name="会场.jpg",
        size=1000,
        sha256="0" * 64,
        original="originals/x.jpg",
        file="files/x.jpg",
        status=Evidence.Status.READY,
        uploaded_by=secretary,
        uploaded_at=timezone.now(),
    )

    html = detail(client, secretary, meeting)

    assert "会议记录完整，可以提交审核。" in html
    assert 'id="photo-missing"' not in html
