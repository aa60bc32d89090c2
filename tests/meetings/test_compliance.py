"""The compliance engine: every rule, every branch or group, every calendar period, never averaged."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from meetings.compliance import (
    Outcome,
    compliance,
    exemption_grant,
    parse_period_key,
    period_bounds,
    period_key,
    periods_in,
    worst,
)
from meetings.models import CadenceRule, Exemption, Meeting, MeetingType
from org.models import Organization
from tests.factories import BranchFactory, GroupFactory, MeetingFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Mid-July 2026: the first half-year is over, July, Q3 and the year are still running.
NOW = dt.datetime(2026, 7, 15, 10, 0, tzinfo=SHANGHAI)
YEAR_START, YEAR_END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)

COMMITTEE = "支部委员会每月至少1次"
GROUPS = "党小组会每月至少1次"
GENERAL = "支部党员大会每季度至少1次"
LESSON = "党课每季度至少1次"
BASIC = "基层会议每月至少1次（支部党员大会）"


def rule(name: str) -> CadenceRule:
    return CadenceRule.objects.get(name=name)


def custom_rule(name, codes, *, period=CadenceRule.Period.MONTH, min_count=1, scope=CadenceRule.Scope.BRANCH):
    r = CadenceRule.objects.create(name=name, period=period, min_count=min_count, scope=scope)
    r.types.set(MeetingType.objects.filter(code__in=codes))
    return r


def meeting(branch, held_on, types, *, counts_for=None, group=None, status=Meeting.Status.APPROVED, hour=15, minute=0):
    """A meeting of ``branch`` held (or planned) on ``held_on`` at ``hour`` Beijing time."""
    start = dt.datetime.combine(held_on, dt.time(hour, minute), tzinfo=SHANGHAI)
    held = status in Meeting.HELD_STATUSES
    return MeetingFactory(
        branch=branch,
        group=group,
        types=types,
        status=status,
        planned_start=start,
        actual_start=start if held else None,
        counts_for=(counts_for or held_on) if held else None,
        cancel_reason="井下停电，改期" if status == Meeting.Status.CANCELLED else "",
    )


def run(branches, rules, *, now=NOW, start=YEAR_START, end=YEAR_END):
    return compliance(branches=branches, start=start, end=end, now=now, rules=rules)


def cell(result, r, branch, day, group=None):
    found = result.cell(rule_id=r.pk, branch_id=branch.pk, group_id=group and group.pk, start=day)
    assert found is not None, f"no cell for {r} {branch} {day} {group}"
    return found


# --- Periods ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "day", "bounds"),
    [
        ("month", dt.date(2026, 2, 14), (dt.date(2026, 2, 1), dt.date(2026, 2, 28))),
        ("month", dt.date(2024, 2, 29), (dt.date(2024, 2, 1), dt.date(2024, 2, 29))),
        ("quarter", dt.date(2026, 5, 31), (dt.date(2026, 4, 1), dt.date(2026, 6, 30))),
        ("quarter", dt.date(2026, 12, 31), (dt.date(2026, 10, 1), dt.date(2026, 12, 31))),
        ("half_year", dt.date(2026, 7, 1), (dt.date(2026, 7, 1), dt.date(2026, 12, 31))),
        ("year", dt.date(2026, 3, 3), (dt.date(2026, 1, 1), dt.date(2026, 12, 31))),
    ],
)
def test_period_bounds_are_the_calendar_period_around_a_day(period, day, bounds):
    assert period_bounds(period, day) == bounds


def test_periods_in_lists_every_period_overlapping_the_range():
    quarters = periods_in("quarter", dt.date(2025, 12, 15), dt.date(2026, 4, 1))
    assert [s for s, _ in quarters] == [dt.date(2025, 10, 1), dt.date(2026, 1, 1), dt.date(2026, 4, 1)]
    assert len(periods_in("month", YEAR_START, YEAR_END)) == 12
    assert periods_in("month", YEAR_END, YEAR_START) == []


@pytest.mark.parametrize("key", ["2026-03", "2026-Q4", "2026-H2", "2026"])
def test_a_period_key_reads_back_as_the_same_period(key):
    period, start, end = parse_period_key(key)
    assert period_key(period, start) == key
    assert period_bounds(period, start) == (start, end)


@pytest.mark.parametrize("key", ["2026-13", "2026-Q5", "2026-H3", "26-03", "2026-3", "abcd", "2026-", "2026-Q"])
def test_a_malformed_period_key_is_refused(key):
    with pytest.raises(ValueError):
        parse_period_key(key)


def test_the_worst_outcome_is_missing_then_late_then_pending():
    assert worst([Outcome.ON_TIME, Outcome.LATE, Outcome.PENDING]) == Outcome.LATE
    assert worst([Outcome.EXEMPT, Outcome.MISSING, Outcome.LATE]) == Outcome.MISSING
    assert worst([Outcome.ON_TIME, Outcome.EXEMPT]) == Outcome.EXEMPT
    assert worst([]) is None


# --- Counting -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_general_meeting_that_is_also_a_party_lesson_satisfies_both_rules(branch):
    m = meeting(branch, dt.date(2026, 2, 10), ["general_meeting", "party_lesson"])

    result = run([branch], [rule(GENERAL), rule(LESSON)])

    for name in (GENERAL, LESSON):
        q1 = cell(result, rule(name), branch, dt.date(2026, 1, 1))
        assert (q1.outcome, q1.count, q1.meeting_ids) == (Outcome.ON_TIME, 1, (m.pk,))
        assert cell(result, rule(name), branch, dt.date(2026, 4, 1)).outcome == Outcome.MISSING


@pytest.mark.django_db
def test_a_meeting_with_two_types_of_an_any_of_rule_counts_once(branch, group):
    both = meeting(branch, dt.date(2026, 3, 5), ["general_meeting", "group_meeting"], group=group)
    any_of = custom_rule("党员大会或党小组会每月至少1次", ["general_meeting", "group_meeting"])
    twice = custom_rule("基层会议每月至少2次", ["general_meeting", "group_meeting"], min_count=2)

    result = run([branch], [any_of, twice])

    march = cell(result, any_of, branch, dt.date(2026, 3, 1))
    assert (march.outcome, march.count, march.meeting_ids) == (Outcome.ON_TIME, 1, (both.pk,))
    assert cell(result, twice, branch, dt.date(2026, 3, 1)).outcome == Outcome.MISSING


@pytest.mark.django_db
def test_the_any_of_rule_counts_group_meetings_of_every_group_of_the_branch(branch, group):
    second = GroupFactory(parent=branch, name="第二党小组")
    meeting(branch, dt.date(2026, 5, 6), ["group_meeting"], group=group)
    meeting(branch, dt.date(2026, 5, 7), ["group_meeting"], group=second)

    any_of = custom_rule("党员大会或党小组会每月至少1次", ["general_meeting", "group_meeting"])
    may = cell(run([branch], [any_of]), any_of, branch, dt.date(2026, 5, 1))

    assert (may.outcome, may.count, may.group_id) == (Outcome.ON_TIME, 2, None)


@pytest.mark.django_db
def test_a_group_scope_rule_is_counted_per_group(branch, group):
    quiet = GroupFactory(parent=branch, name="第二党小组")
    GroupFactory(parent=branch, name="已撤销党小组", is_active=False)
    held = meeting(branch, dt.date(2026, 3, 12), ["group_meeting"], group=group)
    # A group meeting of another branch's group never counts here.
    other = BranchFactory()
    meeting(other, dt.date(2026, 3, 12), ["group_meeting"], group=GroupFactory(parent=other))

    result = run([branch], [rule(GROUPS)])

    march = dt.date(2026, 3, 1)
    assert cell(result, rule(GROUPS), branch, march, group).meeting_ids == (held.pk,)
    assert cell(result, rule(GROUPS), branch, march, group).outcome == Outcome.ON_TIME
    assert cell(result, rule(GROUPS), branch, march, quiet).outcome == Outcome.MISSING
    assert {c.group_id for c in result.cells} == {group.pk, quiet.pk}, "one row per active group, none per branch"
    assert [g.name for g in result.groups[branch.pk]] == [group.name, quiet.name]


@pytest.mark.django_db
def test_an_exempt_period_is_exempt_and_the_others_are_still_missing(branch, supervisor):
    committee = rule(COMMITTEE)
    exemption = exemption_grant(
        branch=branch, rule=committee, period_start=dt.date(2026, 3, 1), reason="新成立支部", user=supervisor, now=NOW
    )
    exemption_grant(
        branch=branch, rule=committee, period_start=dt.date(2026, 5, 1), reason="全员井下抢险", user=supervisor, now=NOW
    )
    meeting(branch, dt.date(2026, 5, 20), ["committee_meeting"])

    result = run([branch], [committee])

    march = cell(result, committee, branch, dt.date(2026, 3, 1))
    assert (march.outcome, march.exemption) == (Outcome.EXEMPT, exemption)
    assert cell(result, committee, branch, dt.date(2026, 4, 1)).outcome == Outcome.MISSING
    may = cell(result, committee, branch, dt.date(2026, 5, 1))
    assert may.outcome == Outcome.ON_TIME, "a meeting held on time says more than the exemption"
    assert may.exemption is not None


@pytest.mark.django_db
def test_an_exemption_of_one_branch_does_not_excuse_another(branch, other_branch, supervisor):
    exemption_grant(
        branch=branch, rule=rule(COMMITTEE), period_start=dt.date(2026, 3, 1), reason="新成立", user=supervisor, now=NOW
    )

    result = run([branch, other_branch], [rule(COMMITTEE)])

    assert cell(result, rule(COMMITTEE), other_branch, dt.date(2026, 3, 1)).outcome == Outcome.MISSING


@pytest.mark.django_db
def test_a_make_up_meeting_held_after_the_period_makes_it_late():
    branch = BranchFactory()
    make_up = meeting(
        branch, dt.date(2026, 4, 3), ["committee_meeting", "general_meeting"], counts_for=dt.date(2026, 3, 20)
    )

    result = run([branch], [rule(COMMITTEE), rule(GENERAL)])

    march = cell(result, rule(COMMITTEE), branch, dt.date(2026, 3, 1))
    assert (march.outcome, march.count, march.on_time_count, march.meeting_ids) == (Outcome.LATE, 1, 0, (make_up.pk,))
    assert cell(result, rule(GENERAL), branch, dt.date(2026, 1, 1)).outcome == Outcome.LATE
    april = cell(result, rule(COMMITTEE), branch, dt.date(2026, 4, 1))
    assert (april.outcome, april.count) == (Outcome.MISSING, 0), "it counts for March, not for the month it was held"
    assert cell(result, rule(GENERAL), branch, dt.date(2026, 4, 1)).outcome == Outcome.MISSING


@pytest.mark.django_db
def test_a_make_up_held_inside_the_same_quarter_is_late_for_the_month_but_on_time_for_the_quarter():
    branch = BranchFactory()
    meeting(branch, dt.date(2026, 3, 10), ["general_meeting"], counts_for=dt.date(2026, 2, 15))

    result = run([branch], [rule(GENERAL), rule(BASIC)])

    assert cell(result, rule(GENERAL), branch, dt.date(2026, 1, 1)).outcome == Outcome.ON_TIME
    assert cell(result, rule(BASIC), branch, dt.date(2026, 2, 1)).outcome == Outcome.LATE
    assert cell(result, rule(BASIC), branch, dt.date(2026, 3, 1)).outcome == Outcome.MISSING


@pytest.mark.django_db
def test_the_month_is_the_beijing_month_of_the_meeting():
    on_time, late = BranchFactory(), BranchFactory()
    # 23:30 on 31 March in Beijing is still March (15:30 UTC) ...
    meeting(on_time, dt.date(2026, 3, 31), ["committee_meeting"], hour=23, minute=30)
    # ... and 00:30 on 1 April is April, although it is still 31 March in UTC.
    meeting(late, dt.date(2026, 4, 1), ["committee_meeting"], counts_for=dt.date(2026, 3, 31), hour=0, minute=30)

    result = run([on_time, late], [rule(COMMITTEE)])

    assert cell(result, rule(COMMITTEE), on_time, dt.date(2026, 3, 1)).outcome == Outcome.ON_TIME
    assert cell(result, rule(COMMITTEE), late, dt.date(2026, 3, 1)).outcome == Outcome.LATE


@pytest.mark.django_db
def test_a_period_in_progress_is_pending_never_missing(branch):
    meeting(branch, dt.date(2026, 7, 10), ["committee_meeting"])

    result = run([branch], [rule(COMMITTEE), rule(GENERAL), custom_rule("全年", ["org_life"], period="year")])

    assert cell(result, rule(COMMITTEE), branch, dt.date(2026, 6, 1)).outcome == Outcome.MISSING
    assert cell(result, rule(COMMITTEE), branch, dt.date(2026, 7, 1)).outcome == Outcome.ON_TIME
    assert cell(result, rule(COMMITTEE), branch, dt.date(2026, 8, 1)).outcome == Outcome.PENDING
    assert cell(result, rule(GENERAL), branch, dt.date(2026, 7, 1)).outcome == Outcome.PENDING
    assert cell(result, rule(GENERAL), branch, dt.date(2026, 4, 1)).outcome == Outcome.MISSING
    year = CadenceRule.objects.get(name="全年")
    assert cell(result, year, branch, YEAR_START).outcome == Outcome.PENDING
    # The last day of a period is still inside it.
    on_30_june = run([branch], [rule(COMMITTEE)], now=dt.datetime(2026, 6, 30, 23, 0, tzinfo=SHANGHAI))
    assert cell(on_30_june, rule(COMMITTEE), branch, dt.date(2026, 6, 1)).outcome == Outcome.PENDING


@pytest.mark.django_db
def test_cancelled_and_planned_meetings_do_not_count(branch):
    meeting(branch, dt.date(2026, 5, 8), ["committee_meeting"], status=Meeting.Status.CANCELLED)
    meeting(branch, dt.date(2026, 5, 9), ["committee_meeting"], status=Meeting.Status.PLANNED)
    meeting(branch, dt.date(2026, 5, 10), ["committee_meeting"], status=Meeting.Status.NOTIFIED)
    for status in (Meeting.Status.HELD, Meeting.Status.SUBMITTED, Meeting.Status.RETURNED):
        meeting(branch, dt.date(2026, 6, 10), ["committee_meeting"], status=status)

    result = run([branch], [rule(COMMITTEE)])

    may = cell(result, rule(COMMITTEE), branch, dt.date(2026, 5, 1))
    assert (may.outcome, may.count) == (Outcome.MISSING, 0)
    assert cell(result, rule(COMMITTEE), branch, dt.date(2026, 6, 1)).count == 3


@pytest.mark.django_db
def test_a_held_meeting_without_counts_for_counts_for_the_month_it_was_held(branch):
    m = meeting(branch, dt.date(2026, 2, 3), ["committee_meeting"])
    Meeting.objects.filter(pk=m.pk).update(counts_for=None)

    result = run([branch], [rule(COMMITTEE)])

    assert cell(result, rule(COMMITTEE), branch, dt.date(2026, 2, 1)).meeting_ids == (m.pk,)


@pytest.mark.django_db
def test_a_rule_needing_two_meetings_needs_two_on_time(branch, other_branch):
    twice = custom_rule("支部委员会每月至少2次", ["committee_meeting"], min_count=2)
    third = BranchFactory()
    meeting(branch, dt.date(2026, 3, 2), ["committee_meeting"])
    for day in (2, 20):
        meeting(other_branch, dt.date(2026, 3, day), ["committee_meeting"])
    meeting(third, dt.date(2026, 3, 2), ["committee_meeting"])
    meeting(third, dt.date(2026, 4, 2), ["committee_meeting"], counts_for=dt.date(2026, 3, 31))

    result = run([branch, other_branch, third], [twice])

    march = dt.date(2026, 3, 1)
    assert (cell(result, twice, branch, march).outcome, cell(result, twice, branch, march).count) == (
        Outcome.MISSING,
        1,
    )
    assert cell(result, twice, other_branch, march).outcome == Outcome.ON_TIME
    assert cell(result, twice, third, march).outcome == Outcome.LATE


@pytest.mark.django_db
def test_every_month_is_judged_on_its_own_never_averaged(branch):
    # Twelve meetings in the year, but two in March and none in April: April is missing.
    for month in (1, 2, 3, 3, 5, 6, 7, 8, 9, 10, 11, 12):
        meeting(branch, dt.date(2025, month, 10 + month % 2), ["committee_meeting"])

    result = run([branch], [rule(COMMITTEE)], start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))

    outcomes = [c.outcome for c in result.cells]
    assert outcomes.count(Outcome.MISSING) == 1
    assert cell(result, rule(COMMITTEE), branch, dt.date(2025, 4, 1)).outcome == Outcome.MISSING


@pytest.mark.django_db
def test_a_quarter_overlapping_the_range_is_counted_in_full(branch):
    meeting(branch, dt.date(2026, 3, 25), ["general_meeting"])

    result = run([branch], [rule(GENERAL)], start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31))

    assert [(c.start, c.outcome) for c in result.cells] == [(dt.date(2026, 1, 1), Outcome.ON_TIME)]


@pytest.mark.django_db
def test_all_active_rules_are_evaluated_by_default(branch):
    CadenceRule.objects.filter(name=LESSON).update(is_active=False)

    result = compliance(branches=[branch], start=YEAR_START, end=YEAR_END, now=NOW)

    names = {r.name for r in result.rules}
    assert LESSON not in names
    assert {COMMITTEE, GENERAL, BASIC} <= names


def _mine(n_branches: int) -> list[Organization]:
    branches = []
    for i in range(n_branches):
        b = BranchFactory()
        groups = [GroupFactory(parent=b), GroupFactory(parent=b)]
        meeting(b, dt.date(2026, 1 + i % 6, 5), ["general_meeting", "party_lesson"])
        meeting(b, dt.date(2026, 2, 5), ["group_meeting"], group=groups[i % 2])
        meeting(b, dt.date(2026, 3, 5), ["committee_meeting"], counts_for=dt.date(2026, 2, 5))
        branches.append(b)
    return branches


@pytest.mark.django_db
@pytest.mark.parametrize("n_branches", [2, 20])
def test_the_query_count_does_not_grow_with_branches_groups_and_meetings(n_branches, django_assert_num_queries):
    _mine(n_branches)
    branches = Organization.objects.branches()

    # branches, rules, groups, exemptions, meetings
    with django_assert_num_queries(6):  # + the rollup read (ComplianceRollup), empty here: then all live
        result = compliance(branches=branches, start=YEAR_START, end=YEAR_END, now=NOW)

    assert len({c.branch_id for c in result.cells}) == n_branches
    assert sum(c.count for c in result.cells) > 0


# --- Exemptions ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_exemption_records_who_approved_it_when_and_why(branch, supervisor):
    e = exemption_grant(
        branch=branch,
        rule=rule(GENERAL),
        period_start=dt.date(2026, 4, 1),
        reason=" 新成立支部 ",
        user=supervisor,
        now=NOW,
    )

    e.refresh_from_db()
    assert (e.approved_by, e.approved_at, e.reason) == (supervisor, NOW, "新成立支部")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "day"), [(GENERAL, dt.date(2026, 5, 1)), (COMMITTEE, dt.date(2026, 5, 2)), (GENERAL, dt.date(2026, 4, 30))]
)
def test_an_exemption_must_start_on_the_first_day_of_the_rules_period(branch, supervisor, name, day):
    with pytest.raises(ValidationError) as excinfo:
        exemption_grant(branch=branch, rule=rule(name), period_start=day, reason="新成立", user=supervisor, now=NOW)

    assert "period_start" in excinfo.value.message_dict
    assert not Exemption.objects.exists()


@pytest.mark.django_db
def test_an_exemption_needs_a_reason_and_a_branch(branch, group, supervisor):
    with pytest.raises(ValidationError) as excinfo:
        exemption_grant(
            branch=group, rule=rule(GENERAL), period_start=YEAR_START, reason="  ", user=supervisor, now=NOW
        )

    assert set(excinfo.value.message_dict) == {"branch", "reason"}
    assert not Exemption.objects.exists()


@pytest.mark.django_db
def test_a_period_is_exempted_only_once(branch, supervisor):
    exemption_grant(
        branch=branch, rule=rule(GENERAL), period_start=YEAR_START, reason="新成立", user=supervisor, now=NOW
    )

    with pytest.raises(ValidationError):
        exemption_grant(
            branch=branch, rule=rule(GENERAL), period_start=YEAR_START, reason="再次", user=supervisor, now=NOW
        )

    assert Exemption.objects.get().reason == "新成立"
