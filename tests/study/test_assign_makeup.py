"""补学 by recording: a member who missed a 党课 reports their 补学 by finishing its published recording."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from study.assignments import on_learning_completed
from study.models import StudyItem
from tasks.follow import makeup_report_problems
from tasks.models import MakeupStudy, Task
from tasks.services import task_accept, task_create, task_report

from ..factories import MeetingFactory, StudyItemFactory
from .study_helpers import NOW, complete

pytestmark = pytest.mark.django_db


@pytest.fixture
def lesson(branch):
    return MeetingFactory(branch=branch, types=["party_lesson"], planned_start=NOW - dt.timedelta(days=2))


@pytest.fixture
def makeup(lesson, branch, secretary, member):
    task = task_create(
        organization=branch,
        owner=member.member,
        title="补学：安全生产党课",
        due_at=NOW + dt.timedelta(days=14),
        now=NOW - dt.timedelta(days=1),
        assigned_by=secretary,
        source=Task.Source.MAKEUP,
        meeting=lesson,
    )
    MakeupStudy.objects.create(task=task, min_reflection_chars=100)
    return task


def recording(lesson, **kwargs):
    return StudyItemFactory(kind="video", title="安全生产党课（录像）", source_meeting=lesson, **kwargs)


def test_finishing_the_recording_reports_the_makeup_for_the_secretary_to_confirm(makeup, lesson, member, secretary):
    record = complete(recording(lesson), member)

    on_learning_completed(record=record, now=NOW)

    makeup.refresh_from_db()
    assert makeup.status == Task.Status.SUBMITTED
    assert "已学完本次会议的录像《安全生产党课（录像）》" in makeup.reports.get().text
    task_accept(task=makeup, user=secretary, now=NOW + dt.timedelta(hours=1))
    makeup.refresh_from_db()
    assert makeup.status == Task.Status.DONE


def test_a_recording_of_another_meeting_or_not_published_does_not_count(makeup, lesson, branch, member):
    other = MeetingFactory(branch=branch, types=["party_lesson"], planned_start=NOW - dt.timedelta(days=9))
    withdrawn = recording(lesson, state=StudyItem.State.WITHDRAWN)
    for item in (recording(other), withdrawn):
        on_learning_completed(record=complete(item, member), now=NOW)

    makeup.refresh_from_db()
    assert makeup.status == Task.Status.TODO
    assert "请先打开并阅读本次会议的会议记录" in " ".join(makeup_report_problems(makeup, "短", ()))


def test_a_recording_only_half_watched_leaves_the_reading_path_as_it_was(makeup, lesson, member):
    recording(lesson)  # published, never completed

    with pytest.raises(ValidationError, match="请先打开并阅读"):
        task_report(task=makeup, user=member, text="学习了", now=NOW)
    makeup.refresh_from_db()
    assert makeup.status == Task.Status.TODO


def test_once_the_recording_is_finished_a_short_reflection_may_be_reported_by_hand(makeup, lesson, member):
    item = recording(lesson)
    complete(item, member)  # finished, but no completion callback yet (e.g. before this feature)

    task_report(task=makeup, user=member, text="看完了录像。", now=NOW)

    makeup.refresh_from_db()
    assert makeup.status == Task.Status.SUBMITTED
