"""测验: single and multiple choice, a pass mark at its boundary, attempts kept, closed attempts refused."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from study.models import Answer, Attempt, Choice, Question, StudyItem
from study.quiz import attempt_answer, attempt_start, attempt_submit, finished_member_ids

from ..conftest import client_for
from ..factories import StudyItemFactory
from .study_helpers import NOW, complete, two_question_quiz

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(branch):
    return StudyItemFactory(title="煤矿安全规程", audience=StudyItem.Audience.BRANCHES, branches=[branch])


def wrong_multiple(right):
    """The right single answer, and only one of the two right multiple answers."""
    single, multiple = list(right)
    return {single: right[single], multiple: right[multiple][:1]}


@pytest.mark.parametrize(("pass_percent", "passed"), [(50, True), (51, False)])
def test_the_pass_mark_at_its_boundary(item, member, pass_percent, passed):
    quiz, right = two_question_quiz(item, pass_percent=pass_percent)
    attempt = attempt_start(quiz=quiz, member=member.member, now=NOW)

    attempt = attempt_submit(attempt=attempt, answers=wrong_multiple(right), now=NOW)

    assert (attempt.correct, attempt.total, attempt.passed) == (1, 2, passed)


def test_a_single_choice_question_takes_one_answer(item, member):
    quiz, _right = two_question_quiz(item)
    single = Question.objects.get(kind=Question.Kind.SINGLE)
    attempt = attempt_start(quiz=quiz, member=member.member, now=NOW)

    with pytest.raises(ValidationError, match="单选题只能选择一个答案"):
        attempt_answer(
            attempt=attempt, question=single, choice_ids=single.choices.values_list("pk", flat=True), now=NOW
        )
    assert not Answer.objects.exists()


def test_every_question_must_be_answered_before_handing_in(item, member):
    quiz, right = two_question_quiz(item)
    attempt = attempt_start(quiz=quiz, member=member.member, now=NOW)
    first = next(iter(right))

    with pytest.raises(ValidationError, match="还有题目没有作答"):
        attempt_submit(attempt=attempt, answers={first: right[first]}, now=NOW)
    attempt.refresh_from_db()
    assert attempt.submitted_at is None


def test_an_answer_for_a_submitted_attempt_is_refused_and_the_score_kept(item, member):
    quiz, right = two_question_quiz(item)
    attempt = attempt_submit(attempt=attempt_start(quiz=quiz, member=member.member, now=NOW), answers=right, now=NOW)
    single = Question.objects.get(kind=Question.Kind.SINGLE)
    wrong = Choice.objects.get(question=single, is_correct=False)

    with pytest.raises(ValidationError, match="本次测验已经交卷，不能再修改答案"):
        attempt_answer(attempt=attempt, question=single, choice_ids=[wrong.pk], now=NOW)
    with pytest.raises(ValidationError, match="已经交卷"):
        attempt_submit(attempt=attempt, answers=right, now=NOW)
    attempt.refresh_from_db()
    assert (attempt.correct, attempt.passed) == (2, True)
    assert list(Answer.objects.get(attempt=attempt, question=single).choices.all()) == list(
        Choice.objects.filter(question=single, is_correct=True)
    )


def test_attempts_are_kept_and_a_later_pass_counts(item, member):
    quiz, right = two_question_quiz(item)
    attempt_submit(
        attempt=attempt_start(quiz=quiz, member=member.member, now=NOW), answers=wrong_multiple(right), now=NOW
    )
    later = NOW + dt.timedelta(hours=1)
    attempt_submit(attempt=attempt_start(quiz=quiz, member=member.member, now=later), answers=right, now=later)

    assert list(
        Attempt.objects.filter(member=member.member).order_by("started_at").values_list("passed", flat=True)
    ) == [
        False,
        True,
    ]


def test_completion_needs_a_pass_only_when_the_item_asks_for_it(item, member):
    quiz, right = two_question_quiz(item)
    complete(item, member)
    assert finished_member_ids(item=item, member_ids=[member.member.pk]) == {member.member.pk}

    item.requires_quiz_pass = True
    item.save()
    assert finished_member_ids(item=item, member_ids=[member.member.pk]) == set()

    attempt_submit(attempt=attempt_start(quiz=quiz, member=member.member, now=NOW), answers=right, now=NOW)
    assert finished_member_ids(item=item, member_ids=[member.member.pk]) == {member.member.pk}


# --- The page ----------------------------------------------------------------------------------


def post_answers(right):
    return {f"q{q}": choices for q, choices in right.items()}


def test_a_member_answers_on_the_page_and_sees_only_their_own_attempts(client, item, member, secretary):
    quiz, right = two_question_quiz(item)
    attempt_submit(attempt=attempt_start(quiz=quiz, member=secretary.member, now=NOW), answers=right, now=NOW)
    c = client_for(client, member)
    url = reverse("study:quiz", args=[item.pk])

    response = c.post(url, post_answers(right), follow=True)

    body = response.content.decode()
    assert "测验通过：答对 2 / 2 题" in body
    assert [a.member for a in response.context["attempts"]] == [member.member]
    assert "王书记" not in body  # no one else's score, no ranking


def test_the_page_refuses_an_answer_for_a_closed_attempt_in_chinese(client, item, member):
    quiz, right = two_question_quiz(item)
    closed = attempt_submit(attempt=attempt_start(quiz=quiz, member=member.member, now=NOW), answers=right, now=NOW)

    response = client_for(client, member).post(
        reverse("study:quiz", args=[item.pk]), {"attempt": closed.pk, **post_answers(right)}
    )

    assert response.status_code == 400
    assert "本次测验已经交卷，不能再修改答案" in response.content.decode()
    assert Attempt.objects.count() == 1


@pytest.mark.parametrize(("who", "status"), [("other_secretary", 404), ("supervisor", 403), ("anonymous", 302)])
def test_the_quiz_is_refused_to_those_who_may_not_take_it(client, people, item, who, status):
    _quiz, right = two_question_quiz(item)

    response = client_for(client, people[who]).post(reverse("study:quiz", args=[item.pk]), post_answers(right))

    assert response.status_code == status
    assert not Attempt.objects.exists()


@pytest.mark.parametrize("extra", [0, 10])
def test_the_quiz_page_has_a_fixed_number_of_queries(client, item, member, extra, django_assert_num_queries):
    quiz, _right = two_question_quiz(item)
    for n in range(extra):
        q = Question.objects.create(quiz=quiz, text=f"第{n}题", order=10 + n)
        Choice.objects.create(question=q, text="对", is_correct=True)
        Choice.objects.create(question=q, text="错")
    c = client_for(client, member)
    url = reverse("study:quiz", args=[item.pk])
    c.get(url)

    with django_assert_num_queries(18):
        response = c.get(url)

    assert len(response.context["questions"]) == 2 + extra
