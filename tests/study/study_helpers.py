"""Shared makings of the 学习任务, 学习交流群 and 测验 tests."""

import datetime as dt

from study.models import Choice, LearningRecord, Question, Quiz

NOW = dt.datetime(2026, 3, 10, 4, 0, tzinfo=dt.UTC)  # 12:00 at the mine


def complete(item, user, *, at=NOW):
    """The member of ``user`` has finished ``item`` (their learning record completed at ``at``)."""
    return LearningRecord.objects.update_or_create(
        item=item,
        member=user.member,
        defaults={"opened_at": at - dt.timedelta(minutes=30), "completed_at": at, "credit_hours": 1},
    )[0]


def two_question_quiz(item, *, pass_percent=100):
    """A single-choice and a multiple-choice question; returns (quiz, {question: right choice ids})."""
    quiz = Quiz.objects.create(item=item, pass_percent=pass_percent)
    single = Question.objects.create(quiz=quiz, text="煤矿安全生产方针是什么？", kind=Question.Kind.SINGLE, order=1)
    right = Choice.objects.create(question=single, text="安全第一、预防为主、综合治理", is_correct=True)
    Choice.objects.create(question=single, text="产量第一", is_correct=False)
    multiple = Question.objects.create(quiz=quiz, text="“三会一课”包括哪些？", kind=Question.Kind.MULTIPLE, order=2)
    a = Choice.objects.create(question=multiple, text="支部党员大会", is_correct=True)
    b = Choice.objects.create(question=multiple, text="党课", is_correct=True)
    Choice.objects.create(question=multiple, text="班前会", is_correct=False)
    return quiz, {single.pk: [right.pk], multiple.pk: [a.pk, b.pk]}
