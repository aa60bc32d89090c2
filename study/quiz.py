"""测验: start an attempt, answer, submit (scored once); and the one rule of "finished an item".

``finished_member_ids`` is the one home of "this member has finished this item": the learning
record is complete and, when the item has ``requires_quiz_pass`` and a quiz, an attempt passed.
Assignments, 补学 by recording and participation all ask it. An answer for a submitted attempt
is refused with a message, nothing saved. Nothing here ranks members.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from org.models import Member

from .models import Answer, Attempt, Choice, LearningRecord, Question, Quiz, StudyItem

CLOSED_ATTEMPT_MESSAGE = _("本次测验已经交卷，不能再修改答案。如需重新作答，请开始新的测验。")


def quiz_required(item: StudyItem) -> bool:
    """Whether completing ``item`` needs a passed quiz (the flag is on and the item has a quiz)."""
    return item.requires_quiz_pass and Quiz.objects.filter(item=item).exists()


def passed_member_ids(*, item: StudyItem, member_ids: Iterable[int]) -> set[int]:
    return set(
        Attempt.objects.filter(quiz__item=item, member_id__in=list(member_ids), passed=True).values_list(
            "member_id", flat=True
        )
    )


def finished_records() -> QuerySet[LearningRecord]:
    """Records whose member has finished the item: complete and, where the item requires it, its quiz passed.

    The set-based form of the rule, for counts over many items (participation).
    """
    passed = Attempt.objects.filter(quiz__item_id=OuterRef("item_id"), member_id=OuterRef("member_id"), passed=True)
    has_quiz = Quiz.objects.filter(item_id=OuterRef("item_id"))
    return LearningRecord.objects.filter(completed_at__isnull=False).filter(
        Q(item__requires_quiz_pass=False) | ~Exists(has_quiz) | Exists(passed)
    )


def finished_member_ids(*, item: StudyItem, member_ids: Iterable[int]) -> set[int]:
    """Those of ``member_ids`` who have finished ``item`` (record complete, quiz passed where required)."""
    return set(finished_records().filter(item=item, member_id__in=list(member_ids)).values_list("member_id", flat=True))


@transaction.atomic
def attempt_start(*, quiz: Quiz, member: Member, now: dt.datetime) -> Attempt:
    """An open attempt of ``member``: the one still open, or a new one."""
    open_attempt = Attempt.objects.filter(quiz=quiz, member=member, submitted_at__isnull=True).first()
    if open_attempt is not None:
        return open_attempt
    if not quiz.questions.exists():
        raise ValidationError(_("这份测验还没有题目。"))
    attempt = Attempt(quiz=quiz, member=member, started_at=now)
    attempt.full_clean()
    attempt.save()
    return attempt


def _check_choices(question: Question, choice_ids: list[int]) -> list[Choice]:
    choices = [c for c in question.choices.all() if c.pk in set(choice_ids)]
    if not choice_ids:
        raise ValidationError({"choices": [_("请选择答案：{q}").format(q=question.text)]})
    if len(choices) != len(set(choice_ids)):
        raise ValidationError({"choices": [_("所选答案不属于这道题。")]})
    if question.kind == Question.Kind.SINGLE and len(choices) != 1:
        raise ValidationError({"choices": [_("单选题只能选择一个答案：{q}").format(q=question.text)]})
    return choices


@transaction.atomic
def attempt_answer(*, attempt: Attempt, question: Question, choice_ids: Iterable[int], now: dt.datetime) -> Answer:
    """Keep the answer to one question of an open attempt; refused for a submitted attempt."""
    if Attempt.objects.filter(pk=attempt.pk, submitted_at__isnull=False).exists():
        raise ValidationError(CLOSED_ATTEMPT_MESSAGE)
    if question.quiz_id != attempt.quiz_id:
        raise ValidationError(_("这道题不属于本次测验。"))
    choices = _check_choices(question, [int(c) for c in choice_ids])
    answer, _created = Answer.objects.update_or_create(
        attempt=attempt, question=question, defaults={"answered_at": now}
    )
    answer.choices.set(choices)
    return answer


def _is_right(question: Question, chosen: set[int]) -> bool:
    return chosen == {c.pk for c in question.choices.all() if c.is_correct}


@transaction.atomic
def attempt_submit(*, attempt: Attempt, answers: dict[int, list[int]] | None = None, now: dt.datetime) -> Attempt:
    """Hand in: keep ``answers`` (question id -> choice ids), score once, close the attempt.

    Every question must be answered. A second submit is refused (the attempt is closed).
    Passing may finish the item (a record already complete): its 学习任务 closes then.
    """
    if Attempt.objects.filter(pk=attempt.pk, submitted_at__isnull=False).exists():
        raise ValidationError(CLOSED_ATTEMPT_MESSAGE)
    questions = list(attempt.quiz.questions.prefetch_related("choices"))
    for question in questions:
        if answers and question.pk in answers:
            attempt_answer(attempt=attempt, question=question, choice_ids=answers[question.pk], now=now)
    given = {
        a.question_id: {c.pk for c in a.choices.all()}
        for a in Answer.objects.filter(attempt=attempt).prefetch_related("choices")
    }
    missing = [q.text for q in questions if q.pk not in given]
    if missing:
        raise ValidationError({"choices": [_("还有题目没有作答：{q}").format(q="；".join(missing))]})
    correct = sum(1 for q in questions if _is_right(q, given[q.pk]))
    total = len(questions)
    passed = correct * 100 >= attempt.quiz.pass_percent * total
    changed = Attempt.objects.filter(pk=attempt.pk, submitted_at__isnull=True).update(
        submitted_at=now, correct=correct, total=total, passed=passed
    )
    if not changed:
        raise ValidationError(CLOSED_ATTEMPT_MESSAGE)
    attempt.refresh_from_db()
    if passed:
        record = (
            LearningRecord.objects.filter(item=attempt.quiz.item, member=attempt.member, completed_at__isnull=False)
            .select_related("item", "member")
            .first()
        )
        if record is not None:
            from .assignments import on_learning_completed

            on_learning_completed(record=record, now=now)
    return attempt
