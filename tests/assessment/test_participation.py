"""Member participation in a run: counts, score at its boundaries, eligibility for 评优, moves, query count."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from assessment.models import MemberScore, Run, Scheme
from assessment.participation import member_scores_compute, participation_points
from meetings.models import Attendance, Meeting
from org.models import Member
from tests.factories import BranchFactory, MeetingFactory, MemberFactory, MembershipFactory

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 4, 10, 9, tzinfo=TZ)
Q1 = (dt.date(2026, 1, 1), dt.date(2026, 4, 1))

P, L, LV, A = (Attendance.Status.PRESENT, Attendance.Status.LATE, Attendance.Status.LEAVE, Attendance.Status.ABSENT)


# --- Helpers shared by the assessment participation tests ------------------------------------


def at(y, m, d, h=9, minute=0):
    return dt.datetime(y, m, d, h, minute, tzinfo=TZ)


def make_scheme(year=2091, **rules):
    return Scheme.objects.create(year=year, name="测试方案", **rules)


def make_run(scheme=None, *, start=Q1[0], end=Q1[1], kind=Run.Kind.QUARTER, status=Run.Status.DRAFT, published_at=None):
    return Run.objects.create(
        scheme=scheme or make_scheme(),
        kind=kind,
        period_start=start,
        period_end=end,
        status=status,
        published_at=published_at,
        created_at=NOW,
    )


def make_member(branch, *, name=None, category=Member.Category.FULL, since=dt.date(2020, 1, 1), until=None, **kw):
    member = MemberFactory(category=category, **({"name": name} if name else {}), **kw)
    MembershipFactory(member=member, organization=branch, started_on=since, ended_on=until)
    return member


def held_meeting(branch, when, attendance=None, *, status=Meeting.Status.APPROVED, lecturer=None, actual=True):
    """A meeting held at ``when`` with the given {member: status} rows."""
    meeting = MeetingFactory(
        branch=branch,
        planned_start=when,
        actual_start=when if actual else None,
        actual_end=when + dt.timedelta(hours=1) if actual else None,
        status=status,
        lecturer=lecturer,
    )
    for member, state in (attendance or {}).items():
        probationary = member.category == Member.Category.PROBATIONARY
        Attendance.objects.create(
            meeting=meeting,
            member=member,
            status=state,
            leave_reason="因公出差" if state == LV else "",
            is_probationary=probationary,
            can_vote=not probationary,
        )
    return meeting


def meetings_with(branch, member, statuses, *, month=2):
    """One held meeting per status, on consecutive days of ``month`` 2026."""
    for day, state in enumerate(statuses, start=1):
        held_meeting(branch, at(2026, month, day), {member: state})


def score_of(run, member):
    return MemberScore.objects.get(run=run, member=member)


# --- The score ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("absences", "points"),
    [(0, "10.00"), (1, "7.00"), (2, "5.00"), (3, "0.00"), (4, "0.00")],
)
def test_unexcused_absences_cost_3_then_5_then_everything(db, absences, points):
    branch = BranchFactory()
    member = make_member(branch)
    meetings_with(branch, member, [A] * absences + [P] * 5)
    run = make_run()

    member_scores_compute(run=run, failing_branch_ids=set(), now=NOW)

    score = score_of(run, member)
    assert score.absent == absences
    assert score.expected == absences + 5
    assert score.attended == 5
    assert score.points == Decimal(points)


def test_each_late_arrival_costs_half_a_point_and_still_counts_as_attended(db):
    branch = BranchFactory()
    member = make_member(branch)
    meetings_with(branch, member, [L, L, L, P])
    run = make_run()

    member_scores_compute(run=run, failing_branch_ids=set(), now=NOW)

    score = score_of(run, member)
    assert (score.late, score.attended, score.expected) == (3, 4, 4)
    assert score.points == Decimal("8.50")


def test_lates_come_on_top_of_an_absence(db):
    branch = BranchFactory()
    member = make_member(branch)
    meetings_with(branch, member, [A, L])
    run = make_run()

    member_scores_compute(run=run, failing_branch_ids=set(), now=NOW)

    assert score_of(run, member).points == Decimal("6.50")


def test_the_score_never_goes_below_zero(db):
    branch = BranchFactory()
    member = make_member(branch)
    meetings_with(branch, member, [A, A] + [L] * 12)  # 10 − 5 − 6 = −1
    run = make_run()

    member_scores_compute(run=run, failing_branch_ids=set(), now=NOW)

    assert score_of(run, member).points == Decimal("0.00")


def test_absences_between_two_and_the_zero_point_keep_the_two_absence_deduction():
    scheme = Scheme(member_zero_at_absences=5)
    assert participation_points(scheme=scheme, absent=3, late=0) == Decimal("5.00")
    assert participation_points(scheme=scheme, absent=4, late=0) == Decimal("5.00")
    assert participation_points(scheme=scheme, absent=5, late=0) == Decimal("0.00")


def test_a_zero_point_of_one_makes_any_absence_cost_everything():
    scheme = Scheme(member_zero_at_absences=1)
    assert participation_points(scheme=scheme, absent=1, late=0) == Decimal("0.00")
    assert participation_points(scheme=scheme, absent=0, late=2) == Decimal("9.00")


def test_the_rules_come_from_the_runs_scheme(db):
    branch = BranchFactory()
    member = make_member(branch)
    meetings_with(branch, member, [A, L])
    run = make_run(
        make_scheme(member_max_points=Decimal("20"), member_one_absence_deduction=Decimal("4"), member_late_deduction=1)
    )

    member_scores_compute(run=run, failing_branch_ids=set(), now=NOW)

    assert score_of(run, member).points == Decimal("15.00")


def test_leave_is_not_an_absence(db):
    branch = BranchFactory()
    member = make_member(branch)
    meetings_with(branch, member, [LV, LV, LV, P])
    run = make_run()

    member_scores_compute(run=run, failing_branch_ids=set(), now=NOW)

    score = score_of(run, member)
    assert (score.on_leave, score.absent, score.attended, score.expected) == (3, 0, 1, 4)
    assert score.points == Decimal("10.00")
    assert "无故缺席" not in score.ineligible_reason


def test_a_probationary_member_is_counted_and_scored_like_any_member(db):
    branch = BranchFactory()
    member = make_member(branch, category=Member.Category.PROBATIONARY)
    meetings_with(branch, member, [A, P, P])
    run = make_run()

    member_scores_compute(run=run, failing_branch_ids=set(), now=NOW)

    score = score_of(run, member)
    assert (score.expected, score.attended, score.absent) == (3, 2, 1)
    assert score.points == Decimal("7.00")


# --- What counts ---------------------------------------------------------------------------------


def test_only_held_meetings_of_the_period_count_and_unrecorded_rows_wait(db):
    branch = BranchFactory()
    member = make_member(branch)
    for status in Meeting.HELD_STATUSES:
        held_meeting(branch, at(2026, 2, 3), {member: P}, status=status)
    held_meeting(branch, at(2026, 2, 4), {member: A}, status=Meeting.Status.PLANNED)
    cancelled = MeetingFactory(
        branch=branch, planned_start=at(2026, 2, 5), status="cancelled", cancel_reason="停产检修"
    )
    Attendance.objects.create(meeting=cancelled, member=member, status=A)
    held_meeting(branch, at(2026, 2, 6), {member: ""})  # minutes not yet entered
    held_meeting(branch, at(2025, 12, 31, 23, 30), {member: A})  # local time: December
    held_meeting(branch, at(2026, 4, 1, 0, 30), {member: A})  # local time: April (UTC: still March 31)
    held_meeting(branch, at(2026, 1, 1, 0, 10), {member: L})  # the first minutes of the period
    held_meeting(branch, at(2026, 3, 31, 23, 50), {member: LV})  # the last minutes of the period
    held_meeting(branch, at(2026, 3, 10), {member: P}, actual=False)  # no actual time: the planned one counts
    run = make_run()

    member_scores_compute(run=run, failing_branch_ids=set(), now=NOW)

    score = score_of(run, member)
    assert (score.expected, score.attended, score.late, score.on_leave, score.absent) == (7, 6, 1, 1, 0)


def test_lessons_given_counts_the_held_lessons_of_the_period_the_member_lectured(db):
    branch, other = BranchFactory(), BranchFactory()
    member = make_member(branch)
    held_meeting(branch, at(2026, 1, 20), lecturer=member)
    held_meeting(other, at(2026, 3, 5), lecturer=member)  # a lesson given to another branch counts too
    held_meeting(branch, at(2026, 2, 20), lecturer=member, status=Meeting.Status.PLANNED)
    held_meeting(branch, at(2026, 4, 2), lecturer=member)
    run = make_run()

    member_scores_compute(run=run, failing_branch_ids=set(), now=NOW)

    assert score_of(run, member).lessons_given == 2


# --- Eligibility for 评优 ---------------------------------------------------------------------


def test_an_attendance_rate_at_the_threshold_is_eligible(db):
    branch = BranchFactory()
    member = make_member(branch)
    meetings_with(branch, member, [P] * 9 + [LV])
    run = make_run()

    member_scores_compute(run=run, failing_branch_ids=set(), now=NOW)

    score = score_of(run, member)
    assert score.attendance_rate == Decimal("90.0")
    assert (score.eligible, score.ineligible_reason) == (True, "")


def test_an_attendance_rate_below_the_threshold_is_not_eligible(db):
    branch = BranchFactory()
    member = make_member(branch)
    meetings_with(branch, member, [P] * 8 + [LV, LV])
    run = make_run()

    member_scores_compute(run=run, failing_branch_ids=set(), now=NOW)

    score = score_of(run, member)
    assert score.eligible is False
    assert score.ineligible_reason == "出勤率 80.0% 低于 90%"


def test_one_unexcused_absence_rules_out_commendation_when_the_scheme_says_so(db):
    branch = BranchFactory()
    member = make_member(branch)
    meetings_with(branch, member, [P] * 19 + [A])
    strict, lenient = (
        make_run(),
        make_run(make_scheme(2092, eligibility_no_unexcused_absence=False), start=Q1[1], end=dt.date(2026, 7, 1)),
    )
    meetings_with(branch, member, [P] * 19 + [A], month=5)

    member_scores_compute(run=strict, failing_branch_ids=set(), now=NOW)
    member_scores_compute(run=lenient, failing_branch_ids=set(), now=NOW)

    assert (score_of(strict, member).eligible, score_of(strict, member).ineligible_reason) == (False, "无故缺席 1 次")
    assert score_of(lenient, member).eligible is True


def test_a_failing_branch_rules_out_its_members_when_the_scheme_says_so(db):
    branch, other = BranchFactory(), BranchFactory()
    member, elsewhere = make_member(branch), make_member(other)
    meetings_with(branch, member, [P])
    meetings_with(other, elsewhere, [P], month=3)
    strict = make_run()
    lenient = make_run(make_scheme(2092, eligibility_branch_not_failing=False), kind=Run.Kind.YEAR)

    member_scores_compute(run=strict, failing_branch_ids={branch.pk}, now=NOW)
    member_scores_compute(run=lenient, failing_branch_ids={branch.pk}, now=NOW)

    assert score_of(strict, member).ineligible_reason == "所在支部考核不合格"
    assert score_of(strict, elsewhere).eligible is True
    assert score_of(lenient, member).eligible is True


def test_every_reason_is_recorded_together(db):
    branch = BranchFactory()
    member = make_member(branch)
    meetings_with(branch, member, [P, A])
    run = make_run()

    member_scores_compute(run=run, failing_branch_ids={branch.pk}, now=NOW)

    assert score_of(run, member).ineligible_reason == "出勤率 50.0% 低于 90%；无故缺席 1 次；所在支部考核不合格"


def test_a_member_without_any_meeting_keeps_full_points_but_is_not_put_forward(db):
    branch = BranchFactory()
    member = make_member(branch)
    run = make_run()

    member_scores_compute(run=run, failing_branch_ids=set(), now=NOW)

    score = score_of(run, member)
    assert (score.expected, score.points, score.eligible) == (0, Decimal("10.00"), False)
    assert score.ineligible_reason == "期间内无应参加的会议，无法计算出勤率"


# --- Who is scored, and in which branch ---------------------------------------------------------


def test_a_member_who_moved_is_scored_in_the_branch_they_ended_the_period_in_with_all_their_meetings(db):
    old, new = BranchFactory(), BranchFactory()
    member = MemberFactory()
    MembershipFactory(member=member, organization=old, started_on=dt.date(2020, 1, 1), ended_on=dt.date(2026, 2, 15))
    MembershipFactory(member=member, organization=new, started_on=dt.date(2026, 2, 15))
    held_meeting(old, at(2026, 1, 10), {member: A})
    held_meeting(new, at(2026, 3, 10), {member: P})
    run = make_run()

    member_scores_compute(run=run, failing_branch_ids={old.pk}, now=NOW)

    score = score_of(run, member)
    assert score.branch_id == new.pk
    assert (score.expected, score.attended, score.absent) == (2, 1, 1)
    assert "所在支部考核不合格" not in score.ineligible_reason


def test_a_move_after_the_period_leaves_the_member_in_the_old_branch_for_that_period(db):
    old, new = BranchFactory(), BranchFactory()
    member = MemberFactory()
    MembershipFactory(member=member, organization=old, started_on=dt.date(2020, 1, 1), ended_on=dt.date(2026, 5, 1))
    MembershipFactory(member=member, organization=new, started_on=dt.date(2026, 5, 1))
    run = make_run()

    member_scores_compute(run=run, failing_branch_ids=set(), now=NOW)

    assert score_of(run, member).branch_id == old.pk


def test_group_memberships_do_not_decide_the_branch_and_off_roll_members_appear_only_when_expected(db):
    branch = BranchFactory()
    member = make_member(branch)
    from tests.factories import GroupFactory

    MembershipFactory(member=member, organization=GroupFactory(parent=branch), started_on=dt.date(2025, 6, 1))
    gone = make_member(branch, status=Member.Status.TRANSFERRED_OUT, until=dt.date(2026, 2, 1))
    gone_silently = make_member(branch, status=Member.Status.TRANSFERRED_OUT, until=dt.date(2026, 2, 1))
    held_meeting(branch, at(2026, 1, 15), {gone: P})
    make_member(branch, since=dt.date(2026, 4, 1))  # joined after the period
    run = make_run()

    member_scores_compute(run=run, failing_branch_ids=set(), now=NOW)

    assert set(MemberScore.objects.filter(run=run).values_list("member_id", "branch_id")) == {
        (member.pk, branch.pk),
        (gone.pk, branch.pk),
    }
    assert not MemberScore.objects.filter(member=gone_silently).exists()


def test_recomputing_replaces_the_rows_with_the_same_numbers(db):
    branch = BranchFactory()
    member, leaving = make_member(branch), make_member(branch)
    meetings_with(branch, member, [A, L, P])
    run = make_run()
    assert member_scores_compute(run=run, failing_branch_ids=set(), now=NOW) == 2
    first = list(MemberScore.objects.filter(run=run).values_list("member_id", "points", "eligible", "absent"))
    leaving.memberships.update(started_on=dt.date(2026, 4, 1))  # corrected: joined after the period

    assert member_scores_compute(run=run, failing_branch_ids=set(), now=NOW) == 1

    assert list(MemberScore.objects.filter(run=run).values_list("member_id", "points", "eligible", "absent")) == [
        row for row in first if row[0] == member.pk
    ]


def test_a_published_run_is_not_recomputed(db):
    branch = BranchFactory()
    member = make_member(branch)
    run = make_run(status=Run.Status.PUBLISHED, published_at=NOW)
    MemberScore.objects.create(
        run=run,
        member=member,
        branch=branch,
        expected=1,
        attended=1,
        on_leave=0,
        absent=0,
        lessons_given=0,
        points=Decimal("10"),
        eligible=True,
    )

    with pytest.raises(ValidationError):
        member_scores_compute(run=run, failing_branch_ids=set(), now=NOW)

    assert MemberScore.objects.filter(run=run).count() == 1


# --- Query count ------------------------------------------------------------------------------------


def _mine_of(size):
    branches = [BranchFactory() for _ in range(3)]
    for i in range(size):
        branch = branches[i % 3]
        member = make_member(branch)
        held_meeting(branch, at(2026, 1 + i % 3, 1 + i % 28), {member: [P, L, LV, A][i % 4]}, lecturer=member)
    return make_run()


# 100 members are more than one bulk_create batch on SQLite (999 parameters, 83 rows of 12 columns).
@pytest.mark.parametrize("size", [3, 30, 100])
def test_computing_costs_the_same_queries_for_3_30_or_100_members(db, django_assert_num_queries, size):
    run = _mine_of(size)

    # scheme, memberships, attendance, lessons, 民主评议 grades, the study rule, delete, insert, and the savepoint pair
    with django_assert_num_queries(10):
        written = member_scores_compute(run=run, failing_branch_ids=set(), now=NOW)

    assert written == size
    assert MemberScore.objects.filter(run=run).count() == size
    # the i-th member was present, late, on leave or absent in turn: 10, 9.5, 10, 7 points
    expected_total = sum(Decimal(["10", "9.5", "10", "7"][i % 4]) for i in range(size))
    assert sum(MemberScore.objects.filter(run=run).values_list("points", flat=True)) == expected_total
