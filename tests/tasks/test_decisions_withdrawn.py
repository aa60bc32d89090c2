"""议定事项 withdrawn from a record cancel their task; a decision's deadline day at its boundaries."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from bulletin.models import Notification
from meetings import services
from meetings.models import AgendaItem, Meeting
from supervision.services.review import review_return
from tasks.models import Task, TaskEvent

from ..factories import MeetingFactory
from .follow_helpers import NOW, decision, record

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DUE = dt.date(2026, 3, 31)


def local(day, hour, minute=0):
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


def committee_meeting(branch, *, start=NOW - dt.timedelta(hours=3)):
    return MeetingFactory(branch=branch, types=["committee_meeting"], planned_start=start)


def submitted_with_two_decisions(branch, secretary, member, supervisor):
    meeting = record(
        committee_meeting(branch),
        secretary,
        items=[decision("整治隐患", member.member, DUE), decision("开展安全培训", member.member, DUE)],
    )
    services.meeting_submit(meeting=meeting, user=secretary, now=NOW)
    review_return(meeting=meeting, comment="请补充。", user=supervisor, now=NOW)
    return meeting


def _item(meeting, title, *, is_decision, owner=None):
    item = AgendaItem.objects.get(meeting=meeting, title=title)
    speeches = [services.SpeechData(speaker=item.meeting.chair, points="抓好落实。")]
    if is_decision:
        return decision(title, owner, DUE, pk=item.pk, speeches=speeches)
    return services.AgendaItemData(title=title, pk=item.pk, speeches=speeches)


def _withdrawn(meeting):
    return {t.title: t for t in Task.objects.filter(meeting=meeting, source=Task.Source.DECISION)}


@pytest.mark.parametrize("how", ["unmarked", "deleted"])
def test_a_decision_withdrawn_after_submission_cancels_its_task_and_tells_the_owner(
    branch, secretary, member, supervisor, how
):
    meeting = submitted_with_two_decisions(branch, secretary, member, supervisor)
    later = NOW + dt.timedelta(hours=1)
    items = [_item(meeting, "开展安全培训", is_decision=True, owner=member.member)]
    if how == "unmarked":
        items.insert(0, _item(meeting, "整治隐患", is_decision=False))

    for _ in range(2):  # saved twice: cancelled and told once
        services.meeting_save_agenda(meeting=meeting, items=items, user=secretary, now=later)

    tasks = _withdrawn(meeting)
    cancelled, kept = tasks["整治隐患"], tasks["开展安全培训"]
    assert cancelled.status == Task.Status.CANCELLED
    assert cancelled.cancel_reason == "议定事项已撤销"
    assert cancelled.cancelled_at == later
    assert kept.status == Task.Status.TODO
    assert [e.action for e in cancelled.events.all()][-1] == TaskEvent.Action.CANCELLED
    assert cancelled.history.first().history_change_reason  # history kept, with the reason
    told = Notification.objects.filter(recipient=member, subject="任务已取消：整治隐患")
    assert told.count() == told.values("channel").distinct().count() >= 1
    assert "已从会议记录中撤销" in told.first().body
    # The resubmission does not bring it back.
    services.meeting_submit(meeting=meeting, user=secretary, now=later)
    assert _withdrawn(meeting)["整治隐患"].status == Task.Status.CANCELLED


def test_a_finished_decision_task_stays_finished_when_the_item_is_withdrawn(branch, secretary, member, supervisor):
    meeting = submitted_with_two_decisions(branch, secretary, member, supervisor)
    Task.objects.filter(meeting=meeting, title="整治隐患").update(status=Task.Status.DONE)
    services.meeting_save_agenda(
        meeting=meeting,
        items=[_item(meeting, "开展安全培训", is_decision=True, owner=member.member)],
        user=secretary,
        now=NOW + dt.timedelta(hours=1),
    )
    assert _withdrawn(meeting)["整治隐患"].status == Task.Status.DONE
    assert not Notification.objects.filter(subject__startswith="任务已取消").exists()


def test_a_decision_unmarked_before_submission_never_becomes_a_task(branch, secretary, member):
    meeting = record(committee_meeting(branch), secretary, items=[decision("整治隐患", member.member, DUE)])
    services.meeting_save_agenda(
        meeting=meeting, items=[_item(meeting, "整治隐患", is_decision=False)], user=secretary, now=NOW
    )
    services.meeting_submit(meeting=meeting, user=secretary, now=NOW)
    assert _withdrawn(meeting) == {}
    assert not Notification.objects.filter(subject__startswith="任务已取消").exists()


# --- The deadline day: read as 24:00 of that day at the mine (Asia/Shanghai) ---------------------


def _recorded_on_the_10th(branch, secretary, member, due_on):
    # Held and recorded on 10 March, 20:00 at the mine.
    return record(
        committee_meeting(branch, start=local(10, 17)),
        secretary,
        now=local(10, 20),
        items=[decision("整治隐患", member.member, due_on)],
    )


def test_a_decision_due_on_the_day_of_submission_is_accepted_until_the_last_minute(branch, secretary, member):
    meeting = _recorded_on_the_10th(branch, secretary, member, dt.date(2026, 3, 10))
    services.meeting_submit(meeting=meeting, user=secretary, now=local(10, 23, 59))
    [task] = _withdrawn(meeting).values()
    assert task.due_at == local(11, 0)
    assert Meeting.objects.get(pk=meeting.pk).status == Meeting.Status.SUBMITTED


@pytest.mark.parametrize("submitted_at", [local(11, 0), local(11, 0, 1)], ids=["at-midnight", "a-minute-after"])
def test_a_decision_whose_day_ended_refuses_the_submission_in_chinese(branch, secretary, member, submitted_at):
    meeting = _recorded_on_the_10th(branch, secretary, member, dt.date(2026, 3, 10))
    with pytest.raises(ValidationError) as caught:
        services.meeting_submit(meeting=meeting, user=secretary, now=submitted_at)
    assert caught.value.messages == [
        "议定事项“整治隐患”：完成期限必须晚于现在。请修改议题中的责任人或落实期限后再提交。"
    ]
    assert Meeting.objects.get(pk=meeting.pk).status == Meeting.Status.HELD
    assert _withdrawn(meeting) == {}


def test_a_decision_due_the_day_before_is_refused_when_the_agenda_is_saved(branch, secretary, member):
    meeting = _recorded_on_the_10th(branch, secretary, member, dt.date(2026, 3, 10))
    item = AgendaItem.objects.get(meeting=meeting)
    with pytest.raises(ValidationError) as caught:
        services.meeting_save_agenda(
            meeting=meeting,
            items=[decision("整治隐患", member.member, dt.date(2026, 3, 9), pk=item.pk)],
            user=secretary,
            now=local(10, 21),
        )
    assert caught.value.messages == ["第 1 项议定事项的落实期限已过，请填写今天或以后的日期。"]
    assert AgendaItem.objects.get(pk=item.pk).decision_due_on == dt.date(2026, 3, 10)
