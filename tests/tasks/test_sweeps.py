"""The task sweep: reminders before and on the day, overdue once, escalation once; run twice, sent once."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bulletin.models import Notification
from org.clock import local_midnight
from org.models import StaffRole
from tasks.models import Task, TaskEvent, TaskPolicy
from tasks.reminders import tasks_sweep
from tasks.services import task_create, task_report

from ..factories import staff_user

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
CREATED = dt.datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI)
# 2026年6月30日 24:00
DUE = local_midnight(dt.date(2026, 7, 1))


@pytest.fixture
def task(branch, secretary, member, supervisor):
    return task_create(
        organization=branch,
        owner=member.member,
        title="六月组织生活指南",
        due_at=DUE,
        now=CREATED,
        assigned_by=supervisor,
        source=Task.Source.DISPATCH,
    )


def _keys():
    return sorted(set(Notification.objects.values_list("dedupe_key", flat=True)))


def _at(day, hour, minute=0):
    return dt.datetime(2026, 6 if day <= 30 else 7, day if day <= 30 else day - 30, hour, minute, tzinfo=SHANGHAI)


def test_nothing_before_the_reminder_window(task):
    assert tasks_sweep(now=_at(26, 23, 59)) == {"reminded": 0, "due_today": 0, "overdue": 0, "escalated": 0}
    assert not Notification.objects.exists()


def test_the_early_reminder_goes_to_the_owner_once(task, member):
    first = tasks_sweep(now=_at(27, 0, 0))
    second = tasks_sweep(now=_at(27, 0, 15))
    assert first["reminded"] == 1
    assert second["reminded"] == 0
    assert set(Notification.objects.values_list("recipient", flat=True)) == {member.pk}
    assert _keys() == [f"task:{task.pk}:remind"]


def test_the_due_day_reminder_at_the_last_minute_then_overdue_from_midnight(task, member, secretary, supervisor):
    tasks_sweep(now=_at(30, 23, 59))
    tasks_sweep(now=_at(30, 23, 59))
    task.refresh_from_db()
    assert task.reminded_due_day_at == _at(30, 23, 59)
    assert task.overdue_at is None
    # 24:00 itself is still within the deadline.
    assert tasks_sweep(now=DUE)["overdue"] == 0
    after = DUE + dt.timedelta(minutes=1)
    assert tasks_sweep(now=after)["overdue"] == 1
    assert tasks_sweep(now=after)["overdue"] == 0
    task.refresh_from_db()
    assert task.overdue_at == after
    overdue = Notification.objects.filter(dedupe_key=f"task:{task.pk}:overdue")
    assert set(overdue.values_list("recipient", flat=True)) == {member.pk, secretary.pk, supervisor.pk}
    assert overdue.count() == 3 * len(set(overdue.values_list("channel", flat=True)))
    assert task.events.filter(action=TaskEvent.Action.OVERDUE).count() == 1


def test_escalation_to_the_committee_after_n_more_days_once(task):
    committee = staff_user(username="dw", role=StaffRole.Role.COMMITTEE)
    TaskPolicy.objects.create(remind_days_before=3, escalate_days_after=2)
    tasks_sweep(now=DUE + dt.timedelta(minutes=1))
    assert tasks_sweep(now=DUE + dt.timedelta(days=2))["escalated"] == 0
    later = DUE + dt.timedelta(days=2, minutes=1)
    assert tasks_sweep(now=later)["escalated"] == 1
    assert tasks_sweep(now=later)["escalated"] == 0
    escalated = Notification.objects.filter(dedupe_key=f"task:{task.pk}:escalated")
    assert set(escalated.values_list("recipient", flat=True)) == {committee.pk}


def test_a_submitted_task_is_neither_reminded_nor_flagged(task, member):
    task_report(task=task, user=member, text="已完成", now=_at(20, 9))
    counts = tasks_sweep(now=DUE + dt.timedelta(days=30))
    assert counts == {"reminded": 0, "due_today": 0, "overdue": 0, "escalated": 0}
    task.refresh_from_db()
    assert task.overdue_at is None
