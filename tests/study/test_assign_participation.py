"""Study in participation: lessons given and study completed on 我的参与 and as 评优 conditions, off by default."""

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse

from assessment.models import MemberScore
from assessment.participation import member_scores_compute
from study.models import StudyItem, StudyParticipationRule
from study.participation import member_study_summary, study_counts
from study.quiz import attempt_start, attempt_submit

from ..assessment.test_participation import held_meeting, make_run
from ..conftest import client_for
from ..factories import StudyItemFactory
from .study_helpers import complete, two_question_quiz

pytestmark = pytest.mark.django_db

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
NEW_YEAR = dt.datetime(2026, 1, 1, tzinfo=TZ)
Q1 = (dt.date(2026, 1, 1), dt.date(2026, 4, 1))


def rule(**kwargs):
    return StudyParticipationRule.objects.create(**kwargs)


def test_study_counts_at_the_year_boundary_in_shanghai(member):
    last_minute = NEW_YEAR - dt.timedelta(minutes=1)
    complete(StudyItemFactory(), member, at=last_minute)
    complete(StudyItemFactory(), member, at=NEW_YEAR)
    StudyItemFactory(lecturer=member.member, published_at=last_minute)
    StudyItemFactory(lecturer=member.member, published_at=NEW_YEAR)
    StudyItemFactory(lecturer=member.member, state=StudyItem.State.DRAFT, published_at=None)

    counts = study_counts(start=dt.date(2026, 1, 1), end=dt.date(2027, 1, 1))

    assert counts[member.member.pk].completed == 1
    assert counts[member.member.pk].lessons_given == 1


def test_an_item_needing_its_quiz_counts_only_once_passed(member):
    item = StudyItemFactory(requires_quiz_pass=True)
    quiz, right = two_question_quiz(item)
    complete(item, member, at=NEW_YEAR)
    year = {"start": dt.date(2026, 1, 1), "end": dt.date(2027, 1, 1)}
    assert study_counts(**year) == {}

    attempt_submit(attempt=attempt_start(quiz=quiz, member=member.member, now=NEW_YEAR), answers=right, now=NEW_YEAR)

    assert study_counts(**year)[member.member.pk].completed == 1


def test_my_participation_shows_study_only_when_the_rule_says_so(client, member):
    complete(StudyItemFactory(), member)
    url = reverse("assessment:my_participation")
    c = client_for(client, member)

    assert "study-summary" not in c.get(url).content.decode()

    rule(show_on_participation=True)
    body = c.get(url).content.decode()
    assert 'id="study-summary"' in body and '完成学习资料 <strong class="study-completed">1</strong> 份' in body


def test_the_secretary_sees_the_study_of_a_member_on_the_member_page(client, secretary, member):
    rule(show_on_participation=True)
    StudyItemFactory(lecturer=member.member)

    response = client_for(client, secretary).get(reverse("assessment:member_participation", args=[member.member.pk]))

    assert response.context["study"].counts.lessons_given == 1


def test_the_summary_is_one_query_when_off(member, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert member_study_summary(member.member.pk, today=dt.date(2026, 3, 1)) is None


@pytest.mark.parametrize(("finished", "eligible"), [(1, False), (2, True)])
def test_completed_study_as_a_commendation_condition_at_its_boundary(branch, member, finished, eligible):
    rule(commendation_min_completed=2)
    held_meeting(branch, dt.datetime(2026, 2, 3, 9, tzinfo=TZ), {member.member: "present"})
    for n in range(finished):
        complete(StudyItemFactory(), member, at=dt.datetime(2026, 3, 1 + n, tzinfo=TZ))
    run = make_run(start=Q1[0], end=Q1[1])

    member_scores_compute(run=run, failing_branch_ids=set(), now=NEW_YEAR)

    score = MemberScore.objects.get(run=run, member=member.member)
    assert score.eligible is eligible
    assert ("完成学习资料 1 份，少于 2 份" in score.ineligible_reason) is not eligible


def test_study_is_no_commendation_condition_by_default(branch, member):
    held_meeting(branch, dt.datetime(2026, 2, 3, 9, tzinfo=TZ), {member.member: "present"})
    run = make_run(start=Q1[0], end=Q1[1])

    member_scores_compute(run=run, failing_branch_ids=set(), now=NEW_YEAR)

    assert MemberScore.objects.get(run=run, member=member.member).eligible is True


def test_lessons_given_as_a_commendation_condition(branch, member):
    rule(commendation_min_lessons=1)
    held_meeting(branch, dt.datetime(2026, 2, 3, 9, tzinfo=TZ), {member.member: "present"})
    run = make_run(start=Q1[0], end=Q1[1])
    member_scores_compute(run=run, failing_branch_ids=set(), now=NEW_YEAR)
    assert "讲授微党课 0 次，少于 1 次" in MemberScore.objects.get(run=run, member=member.member).ineligible_reason

    StudyItemFactory(lecturer=member.member, published_at=dt.datetime(2026, 3, 31, 23, 59, tzinfo=TZ))
    member_scores_compute(run=run, failing_branch_ids=set(), now=NEW_YEAR)
    assert MemberScore.objects.get(run=run, member=member.member).eligible is True
