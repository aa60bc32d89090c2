"""Rounds, ballots, weights, the cap, 预备党员 and the confirmation (issue 13)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from appraisal import selectors, services
from appraisal.models import Appraisee, Ballot, BallotGrade, Grade, MassesCode, Part, Round, VoterMark
from org.models import Member
from tasks.models import Task

from .conftest import AFTER, IN_WINDOW, MEETING_AT, add_members, all_grades, make_round

pytestmark = pytest.mark.django_db


def test_weighted_score_by_hand_with_a_missing_part_reweighted():
    weights = {"self": 20, "peer": 40, "masses": 20, "org": 20}
    points = {"excellent": 100, "qualified": 80, "basic": 60, "fail": 0}
    # self 优秀 (100), peers 2×优秀 + 2×合格 (mean 90), no 群众, org 合格 (80):
    # (20·100 + 40·90 + 20·80) / (20 + 40 + 20) = 7200 / 80 = 90
    score = selectors.weighted_score(
        weights=weights,
        points=points,
        grades_by_part={"self": {"excellent": 1}, "peer": {"excellent": 2, "qualified": 2}, "org": {"qualified": 1}},
    )
    assert score == Decimal("90.00")
    # With a 群众 part of 1×不合格 (0): (7200 + 20·0) / 100 = 72
    score = selectors.weighted_score(
        weights=weights,
        points=points,
        grades_by_part={
            "self": {"excellent": 1},
            "peer": {"excellent": 2, "qualified": 2},
            "masses": {"fail": 1},
            "org": {"qualified": 1},
        },
    )
    assert score == Decimal("72.00")
    assert selectors.weighted_score(weights=weights, points=points, grades_by_part={}) is None


def _small_branch(branch, appraisal_year):
    members = add_members(branch, 5)
    appraisal_year.min_voters_for_member_tallies = 2
    appraisal_year.save()
    round_ = make_round(branch)
    return members, round_


def test_a_small_branch_tally_by_hand(branch, appraisal_year):
    members, round_ = _small_branch(branch, appraisal_year)
    a0 = Appraisee.objects.get(round=round_, member=members[0])
    services.summary_write(appraisee=a0, text="认真履职", self_grade=Grade.EXCELLENT, now=IN_WINDOW)
    services.opinions_set(round_=round_, user=None, opinions={a0.pk: (Grade.QUALIFIED, "表现良好")}, now=IN_WINDOW)
    for i, voter in enumerate(members[1:3]):
        grades = all_grades(round_, voter.pk)
        grades[a0.pk] = Grade.EXCELLENT if i == 0 else Grade.BASIC
        services.ballot_cast(round_=round_, member_id=voter.pk, grades=grades, now=IN_WINDOW)
    services.round_close(round_=round_, user=None, now=AFTER)
    tally = selectors.round_tally(Round.objects.get(pk=round_.pk))
    mine = next(m for m in tally.members if m.appraisee.pk == a0.pk)
    assert mine.counts == {"self": {"excellent": 1}, "org": {"qualified": 1}, "peer": {"excellent": 1, "basic": 1}}
    # self 100·20 + peer mean (100+60)/2=80 ·40 + org 80·20 = 2000+3200+1600 = 6800 / 80 = 85
    assert mine.score == Decimal("85.00")
    assert mine.suggested == Grade.QUALIFIED
    assert tally.voters == 2 and not tally.branch_only


def test_fewer_than_five_voters_shows_only_branch_totals(branch, appraisal_year):
    members = add_members(branch, 6)
    round_ = make_round(branch)
    for voter in members[:4]:
        services.ballot_cast(round_=round_, member_id=voter.pk, grades=all_grades(round_, voter.pk), now=IN_WINDOW)
    services.round_close(round_=round_, user=None, now=AFTER)
    tally = selectors.round_tally(Round.objects.get(pk=round_.pk))
    assert tally.branch_only
    assert all(Part.PEER not in m.counts for m in tally.members)
    assert tally.branch_row(Part.PEER) == [0, 4 * 5, 0, 0]


def test_probationary_members_are_listed_never_gradable_and_vote_with_the_masses(branch, appraisal_year):
    full = add_members(branch, 3)
    (prob,) = add_members(branch, 1, prefix="预备", category=Member.Category.PROBATIONARY)
    round_ = make_round(branch)
    row = Appraisee.objects.get(round=round_, member=prob)
    assert not row.is_graded
    assert VoterMark.objects.get(round=round_, member=prob).group == Part.MASSES
    with pytest.raises(ValidationError, match="预备党员"):
        services.ballot_cast(
            round_=round_,
            member_id=full[0].pk,
            grades={**all_grades(round_, full[0].pk), row.pk: "qualified"},
            now=IN_WINDOW,
        )
    services.ballot_cast(round_=round_, member_id=prob.pk, grades=all_grades(round_, prob.pk), now=IN_WINDOW)
    assert Ballot.objects.get(round=round_).group == Part.MASSES
    services.round_close(round_=round_, user=None, now=AFTER)
    with pytest.raises(ValidationError, match="预备党员"):
        services.proposal_submit(round_=round_, user=None, proposal={row.pk: ("qualified", "")}, scores={}, now=AFTER)


def test_voting_twice_counts_once(branch, appraisal_year):
    (voter, *_rest) = add_members(branch, 4)
    round_ = make_round(branch)
    grades = all_grades(round_, voter.pk)
    services.ballot_cast(round_=round_, member_id=voter.pk, grades=grades, now=IN_WINDOW)
    with pytest.raises(services.AlreadyVoted, match="已经投过票"):
        services.ballot_cast(round_=round_, member_id=voter.pk, grades=grades, now=IN_WINDOW)
    assert Ballot.objects.count() == 1
    assert BallotGrade.objects.count() == len(grades)


def test_a_masses_code_is_used_once(branch, appraisal_year):
    add_members(branch, 3)
    round_ = make_round(branch)
    (code,) = services.codes_issue(round_=round_, count=1, expires_at=AFTER, now=IN_WINDOW)
    grades = all_grades(round_, None)
    services.ballot_cast_with_code(code=code.code.lower(), grades=grades, now=IN_WINDOW)
    with pytest.raises(services.AlreadyVoted, match="已经使用过"):
        services.ballot_cast_with_code(code=code.code, grades=grades, now=IN_WINDOW)
    assert Ballot.objects.filter(group=Part.MASSES).count() == 1
    assert MassesCode.objects.get().is_used


def test_an_expired_code_and_a_vote_outside_the_window_are_refused(branch, appraisal_year):
    (voter, *_r) = add_members(branch, 3)
    round_ = make_round(branch)
    (code,) = services.codes_issue(round_=round_, count=1, expires_at=IN_WINDOW, now=MEETING_AT)
    with pytest.raises(ValidationError, match="有效期"):
        services.ballot_cast_with_code(code=code.code, grades=all_grades(round_, None), now=IN_WINDOW)
    with pytest.raises(ValidationError, match="尚未开始"):
        services.ballot_cast(
            round_=round_, member_id=voter.pk, grades=all_grades(round_, voter.pk), now=MEETING_AT - dt.timedelta(1)
        )
    with pytest.raises(ValidationError, match="已截止"):
        services.ballot_cast(round_=round_, member_id=voter.pk, grades=all_grades(round_, voter.pk), now=AFTER)
    assert not Ballot.objects.exists()
    assert not VoterMark.objects.filter(has_voted=True).exists()


def test_grading_oneself_on_the_peer_ballot_is_refused(branch, appraisal_year):
    (voter, *_r) = add_members(branch, 3)
    round_ = make_round(branch)
    own = Appraisee.objects.get(round=round_, member=voter)
    with pytest.raises(ValidationError, match="不能给自己"):
        services.ballot_cast(
            round_=round_,
            member_id=voter.pk,
            grades={**all_grades(round_, voter.pk), own.pk: "excellent"},
            now=IN_WINDOW,
        )
    assert not VoterMark.objects.filter(has_voted=True).exists()


def test_a_ballot_after_the_close_is_refused_whole(branch, appraisal_year):
    (voter, *_r) = add_members(branch, 3)
    round_ = make_round(branch)
    services.round_close(round_=round_, user=None, now=IN_WINDOW)
    with pytest.raises(ValidationError, match="已截止"):
        services.ballot_cast(round_=round_, member_id=voter.pk, grades=all_grades(round_, voter.pk), now=IN_WINDOW)
    assert not Ballot.objects.exists() and not BallotGrade.objects.exists()
    assert not VoterMark.objects.filter(has_voted=True).exists()


def _closed_round_of(branch, n):
    add_members(branch, n)
    round_ = make_round(branch)
    services.round_close(round_=round_, user=None, now=AFTER)
    return Round.objects.get(pk=round_.pk)


def test_the_excellent_cap_at_its_boundary(branch, appraisal_year):
    round_ = _closed_round_of(branch, 9)
    rows = list(round_.appraisees.all())
    assert round_.year.excellent_cap(9) == 3
    four = {a.pk: ("excellent" if i < 4 else "qualified", "") for i, a in enumerate(rows)}
    with pytest.raises(ValidationError, match="最多 3 人"):
        services.proposal_submit(round_=round_, user=None, proposal=four, scores={}, now=AFTER)
    assert not Appraisee.objects.exclude(proposed_grade="").exists()
    three = {a.pk: ("excellent" if i < 3 else "qualified", "") for i, a in enumerate(rows)}
    services.proposal_submit(round_=round_, user=None, proposal=three, scores={}, now=AFTER)
    assert Appraisee.objects.filter(proposed_grade="excellent").count() == 3


def test_fail_needs_a_written_reason_and_confirming_gives_a_correction_task(branch, appraisal_year, committee_user):
    members = add_members(branch, 3, login=True)
    round_ = make_round(branch)
    services.round_close(round_=round_, user=None, now=AFTER)
    round_ = Round.objects.get(pk=round_.pk)
    rows = {a.member_id: a for a in round_.appraisees.all()}
    failing = rows[members[0].pk]
    proposal = {a.pk: ("qualified", "") for a in rows.values()}
    proposal[failing.pk] = ("fail", "  ")
    with pytest.raises(ValidationError, match="书面理由"):
        services.proposal_submit(round_=round_, user=None, proposal=proposal, scores={}, now=AFTER)
    round_.year.fail_requires_reason = False
    round_.year.save()
    services.proposal_submit(round_=round_, user=None, proposal=proposal, scores={}, now=AFTER)
    round_.year.fail_requires_reason = True
    round_.year.save()
    with pytest.raises(ValidationError, match="书面理由才能确认"):
        services.round_confirm(round_=round_, user=committee_user, now=AFTER)
    assert Round.objects.get(pk=round_.pk).state == Round.State.CLOSED
    services.round_confirm(round_=round_, user=committee_user, now=AFTER, reasons={failing.pk: "长期无故缺席组织生活"})
    failing.refresh_from_db()
    assert failing.confirmed_grade == "fail"
    task = Task.objects.get()
    assert task.owner_id == members[0].pk and task.title.startswith("限期改正：")
    assert failing.rectification_task_id == task.pk
    assert Round.objects.get(pk=round_.pk).state == Round.State.CONFIRMED


def test_confirmed_grades_feed_commendation_through_one_selector(branch, appraisal_year, committee_user):
    members = add_members(branch, 3, login=True)
    round_ = make_round(branch)
    services.round_close(round_=round_, user=None, now=AFTER)
    rows = {a.member_id: a for a in round_.appraisees.all()}
    proposal = {a.pk: ("qualified", "") for a in rows.values()}
    proposal[rows[members[0].pk].pk] = ("fail", "理由")
    proposal[rows[members[1].pk].pk] = ("excellent", "")
    services.proposal_submit(round_=round_, user=None, proposal=proposal, scores={}, now=AFTER)
    assert selectors.confirmed_grades(year=2026) == {}
    services.round_confirm(round_=round_, user=committee_user, now=AFTER)
    grades = selectors.confirmed_grades(year=2026)
    assert grades[members[0].pk] == "fail" and grades[members[1].pk] == "excellent"
    appraisal_year.commendation_uses_grade = False
    appraisal_year.save()
    assert selectors.confirmed_grades(year=2026) == {}


def test_the_round_meeting_counts_for_the_democratic_review_cadence(branch, appraisal_year):
    add_members(branch, 2)
    round_ = make_round(branch)
    assert round_.meeting.types.filter(code="democratic_review").exists()
    from meetings.models import CadenceRule

    rule = CadenceRule.objects.get(types__code="democratic_review")
    assert rule.period == "year"


def test_a_round_starts_only_at_a_democratic_review_meeting_of_an_opened_year(branch, appraisal_year):
    from tests.factories import MeetingFactory

    meeting = MeetingFactory(branch=branch, types=["general_meeting"], planned_start=MEETING_AT)
    with pytest.raises(ValidationError, match="民主评议党员"):
        services.round_start(meeting=meeting, user=None, window_start=MEETING_AT, window_end=AFTER, now=MEETING_AT)
    meeting = MeetingFactory(branch=branch, types=["democratic_review"], planned_start=MEETING_AT.replace(year=2025))
    with pytest.raises(ValidationError, match="尚未开启2025年"):
        services.round_start(meeting=meeting, user=None, window_start=MEETING_AT, window_end=AFTER, now=MEETING_AT)
    assert not Round.objects.exists()


def test_a_member_confirmed_unqualified_may_not_be_put_forward_for_commendation(branch, appraisal_year, committee_user):
    from assessment.models import MemberScore
    from assessment.participation import member_scores_compute
    from tests.assessment.test_participation import make_run

    members = add_members(branch, 3, login=True)
    round_ = make_round(branch)
    services.round_close(round_=round_, user=None, now=AFTER)
    rows = {a.member_id: a for a in round_.appraisees.all()}
    proposal = {a.pk: ("qualified", "") for a in rows.values()}
    proposal[rows[members[0].pk].pk] = ("fail", "理由")
    services.proposal_submit(round_=round_, user=None, proposal=proposal, scores={}, now=AFTER)
    services.round_confirm(round_=round_, user=committee_user, now=AFTER)
    run = make_run()
    member_scores_compute(run=run, failing_branch_ids=set(), now=AFTER)
    failing = MemberScore.objects.get(run=run, member=members[0])
    assert not failing.eligible and "民主评议党员评定为不合格" in failing.ineligible_reason
    other = MemberScore.objects.get(run=run, member=members[1])
    assert "民主评议" not in other.ineligible_reason
