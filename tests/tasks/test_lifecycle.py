"""A task's life: start, hand over, report, accept, return, cancel; each refused step changes nothing."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from org.models import Post
from tasks.models import Task, TaskEvent, TaskReport, TaskReportFile
from tasks.services import (
    task_accept,
    task_cancel,
    task_create,
    task_hand_over,
    task_report,
    task_return,
    task_start,
)
from tasks.sources import _REPORT_RULES, register_report_rule
from tasks.states import Progress, task_progress
from tests.supervision.conftest import SAMPLES

from ..factories import member_with_login

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=timezone.get_default_timezone())
PHOTO = SAMPLES / "Canon_40D.jpg"


@pytest.fixture
def task(branch, secretary, supervisor):
    return task_create(
        organization=branch,
        owner=secretary.member,
        title="六月组织生活指南",
        due_at=NOW + dt.timedelta(days=14),
        now=NOW,
        assigned_by=supervisor,
        source=Task.Source.DISPATCH,
    )


def _photo(name="现场.jpg"):
    return SimpleUploadedFile(name, PHOTO.read_bytes(), content_type="image/jpeg")


def test_the_owner_starts_once(task, secretary):
    assert task_start(task=task, user=secretary, now=NOW) is True
    assert task_start(task=task, user=secretary, now=NOW) is False
    task.refresh_from_db()
    assert task.status == Task.Status.IN_PROGRESS
    assert task.started_at == NOW
    assert list(task.events.values_list("action", flat=True)) == ["created", "started"]


def test_a_report_with_text_and_a_photo_is_submitted(task, secretary, _evidence_storage):
    report = task_report(task=task, user=secretary, text="已组织学习", files=[_photo()], now=NOW)
    task.refresh_from_db()
    assert task.status == Task.Status.SUBMITTED
    assert task.submitted_at == NOW
    (file,) = report.files.all()
    assert (_evidence_storage / file.stored).read_bytes() == PHOTO.read_bytes()
    assert file.content_type == "image/jpeg"
    assert file.original_name == "现场.jpg"
    assert task.history.first().history_user == secretary
    assert task_progress(task, now=NOW) == Progress.SUBMITTED


def test_a_report_with_neither_text_nor_file_is_refused(task, secretary):
    with pytest.raises(ValidationError) as caught:
        task_report(task=task, user=secretary, text="  ", files=[], now=NOW)
    assert "至少有一项" in caught.value.message_dict["text"][0]
    task.refresh_from_db()
    assert task.status == Task.Status.TODO
    assert not TaskReport.objects.exists()


def test_a_file_that_is_not_what_it_claims_is_refused_and_nothing_is_stored(task, secretary, _evidence_storage):
    fake = SimpleUploadedFile("照片.jpg", b"not a picture at all", content_type="image/jpeg")
    with pytest.raises(ValidationError) as caught:
        task_report(task=task, user=secretary, text="见附件", files=[fake], now=NOW)
    assert caught.value.message_dict["files"][0].startswith("照片.jpg：")
    task.refresh_from_db()
    assert task.status == Task.Status.TODO
    assert not TaskReportFile.objects.exists()
    assert not list(_evidence_storage.rglob("*.jpg"))


def test_a_second_submit_of_the_same_form_is_refused(task, secretary):
    task_report(task=task, user=secretary, text="已完成", now=NOW, token="form-1")
    with pytest.raises(ValidationError) as caught:
        task_report(task=task, user=secretary, text="已完成", now=NOW, token="form-1")
    assert "已经提交过了" in caught.value.messages[0]
    assert TaskReport.objects.count() == 1


def test_a_second_report_while_the_first_waits_is_refused(task, secretary):
    task_report(task=task, user=secretary, text="已完成", now=NOW)
    with pytest.raises(ValidationError) as caught:
        task_report(task=task, user=secretary, text="再交一次", now=NOW)
    assert caught.value.messages == ["该任务已提交、已完成或已取消，不能再提交办理情况。"]
    assert TaskReport.objects.count() == 1


def test_returned_then_reported_again_then_accepted(task, secretary, supervisor):
    task_report(task=task, user=secretary, text="初稿", now=NOW)
    task_return(task=task, user=supervisor, reason="缺少照片", now=NOW + dt.timedelta(hours=1))
    task.refresh_from_db()
    assert (task.status, task.return_reason, task.return_count) == (Task.Status.RETURNED, "缺少照片", 1)
    assert task.is_open
    assert task_progress(task, now=NOW + dt.timedelta(hours=1)) == Progress.RETURNED
    task_report(task=task, user=secretary, text="补充照片", files=[_photo()], now=NOW + dt.timedelta(hours=2))
    task_accept(task=task, user=supervisor, now=NOW + dt.timedelta(hours=3))
    task.refresh_from_db()
    assert task.status == Task.Status.DONE
    assert task.completed_by == supervisor
    assert task_progress(task, now=NOW + dt.timedelta(days=30)) == Progress.DONE_ON_TIME
    assert [e.action for e in task.events.all()][-3:] == ["returned", "reported", "accepted"]


def test_a_return_needs_a_reason(task, secretary, supervisor):
    task_report(task=task, user=secretary, text="初稿", now=NOW)
    with pytest.raises(ValidationError) as caught:
        task_return(task=task, user=supervisor, reason="", now=NOW)
    assert caught.value.message_dict["reason"] == ["请填写退回原因。"]
    task.refresh_from_db()
    assert task.status == Task.Status.SUBMITTED


def test_accepting_a_task_cancelled_meanwhile_is_refused_and_changes_nothing(task, secretary, supervisor):
    task_report(task=task, user=secretary, text="已完成", now=NOW)
    stale = Task.objects.get(pk=task.pk)
    task_cancel(task=task, user=supervisor, reason="任务调整", now=NOW)
    with pytest.raises(ValidationError) as caught:
        task_accept(task=stale, user=supervisor, now=NOW)
    assert caught.value.messages == ["该任务已被取消，不能再办理。"]
    task.refresh_from_db()
    assert task.status == Task.Status.CANCELLED
    assert task.completed_at is None
    assert not task.events.filter(action=TaskEvent.Action.ACCEPTED).exists()


def test_a_done_task_cannot_be_cancelled(task, secretary, supervisor):
    task_report(task=task, user=secretary, text="已完成", now=NOW)
    task_accept(task=task, user=supervisor, now=NOW)
    with pytest.raises(ValidationError):
        task_cancel(task=task, user=supervisor, reason="撤回", now=NOW)
    task.refresh_from_db()
    assert task.status == Task.Status.DONE


def test_the_secretary_hands_the_task_to_a_committee_member(task, branch, secretary):
    deputy = member_with_login(branch=branch, username="deputy", role=Post.Role.ORGANIZATION, name="孙委员")
    task_hand_over(task=task, owner=deputy.member, helpers=[secretary.member], user=secretary, now=NOW)
    task.refresh_from_db()
    assert task.owner == deputy.member
    assert list(task.helpers.all()) == [secretary.member]
    assert "孙委员" in task.events.last().note


def test_hand_over_to_nobody_or_an_outsider_is_refused(task, secretary, other_secretary):
    for owner, message in ((None, "请指定责任人"), (other_secretary.member, "不是综采一队党支部的党员")):
        with pytest.raises(ValidationError) as caught:
            task_hand_over(task=task, owner=owner, user=secretary, now=NOW)
        assert message in caught.value.message_dict["owner"][0]
    task.refresh_from_db()
    assert task.owner == secretary.member


def test_a_source_rule_refuses_a_report(task, secretary, monkeypatch):
    monkeypatch.setitem(_REPORT_RULES, Task.Source.DISPATCH, [])
    register_report_rule(Task.Source.DISPATCH, lambda t, text, files: [] if len(text) >= 10 else ["心得不少于10字。"])
    with pytest.raises(ValidationError) as caught:
        task_report(task=task, user=secretary, text="太短", now=NOW)
    assert caught.value.message_dict["text"] == ["心得不少于10字。"]
    task.refresh_from_db()
    assert task.status == Task.Status.TODO


@pytest.mark.parametrize(
    ("status", "completed", "now", "expected"),
    [
        ("done", dt.timedelta(days=13), dt.timedelta(days=20), Progress.DONE_ON_TIME),
        ("done", dt.timedelta(days=15), dt.timedelta(days=20), Progress.DONE_LATE),
        ("in_progress", None, dt.timedelta(days=15), Progress.OVERDUE),
        ("returned", None, dt.timedelta(days=1), Progress.RETURNED),
        ("todo", None, dt.timedelta(days=1), Progress.IN_PROGRESS),
        ("submitted", None, dt.timedelta(days=20), Progress.SUBMITTED),
    ],
)
def test_the_progress_of_a_task(status, completed, now, expected):
    task = Task(status=status, due_at=NOW + dt.timedelta(days=14), completed_at=completed and NOW + completed)
    assert task_progress(task, now=NOW + now) == expected
