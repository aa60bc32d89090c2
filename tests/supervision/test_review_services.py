"""Approve, return with comments and reopen: rounds kept, history of who and when, one action per click."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from bulletin.models import Notification
from meetings import services as meetings
from meetings.models import Meeting
from supervision.models import Review
from supervision.selectors.review import latest_return, review_queue, review_rounds
from supervision.services import review
from tests.factories import MeetingFactory

from .conftest import local

START = local(2026, 5, 12, 9)


def submitted_record(
    branch, secretary, recorder, *, start=START, topic="学习安全生产责任制", types=("general_meeting",)
):
    """A meeting taken from plan to submitted record through the meetings services, as the branch does it."""
    meeting = MeetingFactory(
        branch=branch,
        types=list(types),
        topic=topic,
        planned_start=start,
        planned_end=start + dt.timedelta(hours=1, minutes=30),
    )
    meetings.meeting_publish_notice(meeting=meeting, user=secretary, now=start - dt.timedelta(days=3))
    meetings.meeting_record_minutes(
        meeting=meeting,
        user=secretary,
        now=start + dt.timedelta(hours=2),
        actual_start=start,
        actual_end=start + dt.timedelta(hours=1, minutes=30),
        place="三楼党员活动室",
        chair=secretary.member,
        recorder=recorder.member,
        resolutions="同意年度党建工作计划。",
    )
    entries = {a.member_id: "present" for a in meeting.attendances.all()}
    meetings.attendance_record(meeting=meeting, entries=entries, user=secretary, now=start + dt.timedelta(hours=2))
    meetings.meeting_save_agenda(
        meeting=meeting,
        user=secretary,
        now=start + dt.timedelta(hours=2),
        items=[
            meetings.AgendaItemData(
                title="传达安全生产会议精神",
                speeches=[meetings.SpeechData(speaker=secretary.member, points="井下作业必须落实手指口述。")],
            )
        ],
    )
    return meetings.meeting_submit(meeting=meeting, user=secretary, now=start + dt.timedelta(hours=3))


@pytest.fixture
def record(branch, secretary, member):
    return submitted_record(branch, secretary, member)


T_SUBMIT = START + dt.timedelta(hours=3)
T_RETURN = local(2026, 5, 14, 10)
T_RESUBMIT = local(2026, 5, 15, 16)
T_APPROVE = local(2026, 5, 18, 9, 30)


def notices(user):
    """The review notices in ``user``'s inbox (the branch also got the meeting's notice)."""
    return list(
        Notification.objects.filter(
            recipient=user, channel=Notification.Channel.INBOX, dedupe_key__startswith="review:"
        ).order_by("pk")
    )


@pytest.mark.django_db
def test_a_returned_record_resubmitted_and_approved_keeps_both_rounds_with_who_and_when(
    record, secretary, member, supervisor
):
    review.review_return(meeting=record, comment="发言要点过于简略，请补充。", user=supervisor, now=T_RETURN)
    record.refresh_from_db()
    assert record.status == Meeting.Status.RETURNED and not record.is_locked

    # The secretary corrects the record and submits it again with the meetings flow.
    meetings.meeting_record_minutes(
        meeting=record,
        user=secretary,
        now=T_RESUBMIT,
        actual_start=START,
        actual_end=START + dt.timedelta(hours=1, minutes=30),
        place="三楼党员活动室",
        chair=secretary.member,
        recorder=member.member,
        resolutions="同意年度党建工作计划；补充了各人发言。",
    )
    meetings.meeting_submit(meeting=record, user=secretary, now=T_RESUBMIT)
    review.review_approve(meeting=record, user=supervisor, now=T_APPROVE)

    record.refresh_from_db()
    assert record.status == Meeting.Status.APPROVED and record.is_locked
    assert list(Review.objects.filter(meeting=record).values_list("action", "round", "by", "at", "comment")) == [
        ("return", 1, supervisor.pk, T_RETURN, "发言要点过于简略，请补充。"),
        ("approve", 2, supervisor.pk, T_APPROVE, ""),
    ]
    rounds = review_rounds(record)
    assert [(r.number, [(e.kind, e.at, e.by, e.comment) for e in r.events]) for r in rounds] == [
        (1, [("submit", T_SUBMIT, "", ""), ("return", T_RETURN, "supervisor", "发言要点过于简略，请补充。")]),
        (2, [("resubmit", T_RESUBMIT, "", ""), ("approve", T_APPROVE, "supervisor", "")]),
    ]
    decided = list(
        record.history.filter(history_change_reason__startswith="审核：")
        .order_by("history_date")
        .values_list("status", "history_user", "history_date", "history_change_reason")
    )
    assert decided == [
        ("returned", supervisor.pk, T_RETURN, "审核：退回修改"),
        ("approved", supervisor.pk, T_APPROVE, "审核：审核通过"),
    ]


@pytest.mark.django_db
def test_a_return_tells_the_secretary_and_the_recorder_once_with_the_comment(record, secretary, member, supervisor):
    returned = review.review_return(meeting=record, comment="缺少签到表照片。", user=supervisor, now=T_RETURN)

    for user in (secretary, member):
        [notice] = notices(user)
        assert notice.subject == f"会议记录被退回：{record.topic}"
        assert "缺少签到表照片。" in notice.body and "第 1 轮" in notice.body
        assert notice.url == f"/meetings/{record.pk}/"
    assert not notices(supervisor)
    # Written again (a retried task, a second call): the dedupe key per review keeps it to one.
    review._notify_return(returned, now=T_RETURN)
    assert len(notices(secretary)) == len(notices(member)) == 1


@pytest.mark.django_db
def test_a_second_return_in_a_later_round_is_a_new_notice(record, secretary, member, supervisor):
    review.review_return(meeting=record, comment="第一次意见", user=supervisor, now=T_RETURN)
    meetings.meeting_submit(meeting=record, user=secretary, now=T_RESUBMIT)
    review.review_return(meeting=record, comment="第二次意见", user=supervisor, now=T_APPROVE)

    assert [n.body.split("\n")[1] for n in notices(secretary)] == [
        "审核意见：第一次意见",
        "审核意见：第二次意见",
    ]
    assert latest_return(record).comment == "第二次意见"
    assert latest_return(record).round == 2


@pytest.mark.django_db
@pytest.mark.parametrize("comment", ["", "   \n "])
def test_a_return_without_a_comment_is_refused_and_changes_nothing(record, supervisor, comment):
    with pytest.raises(ValidationError) as refused:
        review.review_return(meeting=record, comment=comment, user=supervisor, now=T_RETURN)

    assert refused.value.message_dict == {"comment": ["退回须填写意见，说明需要修改什么。"]}
    record.refresh_from_db()
    assert record.status == Meeting.Status.SUBMITTED
    assert not Review.objects.exists()
    assert not Notification.objects.filter(dedupe_key__startswith="review:").exists()


@pytest.mark.django_db
def test_approving_twice_acts_once(record, supervisor):
    review.review_approve(meeting=record, user=supervisor, now=T_APPROVE)
    history_rows = record.history.count()

    with pytest.raises(ValidationError) as second:
        review.review_approve(meeting=record, user=supervisor, now=T_APPROVE + dt.timedelta(seconds=1))

    assert second.value.messages == ["该记录已被审核。"]
    assert Review.objects.filter(meeting=record).count() == 1
    assert record.history.count() == history_rows


@pytest.mark.django_db
def test_an_approved_record_cannot_then_be_returned_by_a_stale_page(record, supervisor):
    review.review_approve(meeting=record, user=supervisor, now=T_APPROVE)

    with pytest.raises(ValidationError, match="该记录已被审核"):
        review.review_return(meeting=record, comment="晚了一步", user=supervisor, now=T_APPROVE)

    record.refresh_from_db()
    assert record.status == Meeting.Status.APPROVED
    assert list(Review.objects.values_list("action", flat=True)) == ["approve"]
    assert not Notification.objects.filter(dedupe_key__startswith="review:").exists()


@pytest.mark.django_db
def test_a_decision_from_a_page_older_than_the_resubmission_is_refused(record, secretary, supervisor):
    review.review_return(meeting=record, comment="请补充", user=supervisor, now=T_RETURN)
    meetings.meeting_submit(meeting=record, user=secretary, now=T_RESUBMIT)

    with pytest.raises(ValidationError) as stale:
        review.review_approve(meeting=record, user=supervisor, now=T_APPROVE, seen_round=1)

    assert stale.value.messages == [review.STALE_ROUND]
    record.refresh_from_db()
    assert record.status == Meeting.Status.SUBMITTED
    review.review_approve(meeting=record, user=supervisor, now=T_APPROVE, seen_round=2)
    record.refresh_from_db()
    assert record.status == Meeting.Status.APPROVED


@pytest.mark.django_db
def test_only_a_submitted_record_can_be_approved(branch, secretary, member, supervisor):
    held = MeetingFactory(branch=branch, status=Meeting.Status.HELD)

    with pytest.raises(ValidationError, match="该记录已被审核"):
        review.review_approve(meeting=held, user=supervisor, now=T_APPROVE)

    held.refresh_from_db()
    assert held.status == Meeting.Status.HELD


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "  "])
def test_a_reopen_needs_a_reason(record, supervisor, reason):
    review.review_approve(meeting=record, user=supervisor, now=T_APPROVE)

    with pytest.raises(ValidationError) as refused:
        review.review_reopen(meeting=record, reason=reason, user=supervisor, now=T_APPROVE)

    assert refused.value.message_dict == {"reason": ["抽查重开须填写理由。"]}
    record.refresh_from_db()
    assert record.status == Meeting.Status.APPROVED


@pytest.mark.django_db
def test_a_reopened_record_is_back_in_the_queue_and_still_locked_to_the_branch(record, secretary, member, supervisor):
    review.review_approve(meeting=record, user=supervisor, now=T_APPROVE)
    assert record not in review_queue()
    reopened_at = T_APPROVE + dt.timedelta(days=30)

    reopen = review.review_reopen(meeting=record, reason="年度抽查", user=supervisor, now=reopened_at)

    record.refresh_from_db()
    assert (record.status, record.is_locked) == (Meeting.Status.SUBMITTED, True)
    assert (reopen.action, reopen.round, reopen.comment, reopen.at) == ("reopen", 1, "年度抽查", reopened_at)
    assert list(review_queue()) == [record]
    with pytest.raises(ValidationError, match="已锁定"):
        meetings.meeting_save_agenda(meeting=record, items=[], user=secretary, now=reopened_at)
    # The spot check ends like any review; the round is still the first one.
    review.review_approve(meeting=record, user=supervisor, now=reopened_at + dt.timedelta(days=1))
    [round_one] = review_rounds(record)
    assert [e.kind for e in round_one.events] == ["submit", "approve", "reopen", "approve"]
    assert round_one.events[2].comment == "年度抽查"


@pytest.mark.django_db
def test_a_reopen_of_a_record_that_is_not_approved_is_refused(record, supervisor):
    with pytest.raises(ValidationError, match="该记录已被审核"):
        review.review_reopen(meeting=record, reason="抽查", user=supervisor, now=T_APPROVE)

    assert not Review.objects.exists()


@pytest.mark.django_db
def test_the_round_being_reviewed_counts_the_returns(record, secretary, supervisor):
    assert review.current_round(record) == 1
    review.review_return(meeting=record, comment="一", user=supervisor, now=T_RETURN)
    assert review.current_round(record) == 2
    meetings.meeting_submit(meeting=record, user=secretary, now=T_RESUBMIT)

    assert review.review_return(meeting=record, comment="二", user=supervisor, now=T_APPROVE).round == 2
    assert review.current_round(record) == 3
