"""Branches and groups have a life: a period is required of a unit only if it existed for the whole period."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from bulletin.models import Notification
from meetings import reminders
from meetings.compliance import Outcome, compliance, exemption_grant
from meetings.models import CadenceRule, Exemption
from org.models import Organization
from tests.factories import BranchFactory, GroupFactory, member_with_login
from tests.meetings.test_compliance import GROUPS, NOW, cell, meeting, rule, run

pytestmark = pytest.mark.django_db

# After the whole year is over: every month of 2026 can be judged.
YEAR_OVER = dt.datetime(2027, 1, 10, 10, 0, tzinfo=NOW.tzinfo)


def months(result, r, branch, group, *numbers):
    return [cell(result, r, branch, dt.date(2026, n, 1), group).outcome for n in numbers]


def test_a_group_founded_on_15_march_owes_nothing_before_april():
    branch = BranchFactory()
    group = GroupFactory(parent=branch, founded_on=dt.date(2026, 3, 15))

    result = run([branch], [rule(GROUPS)], now=YEAR_OVER)

    # February: not yet founded; March: founded mid-month, not a whole month; April: required.
    assert months(result, rule(GROUPS), branch, group, 2, 3, 4) == [
        Outcome.NOT_REQUIRED,
        Outcome.NOT_REQUIRED,
        Outcome.MISSING,
    ]


def test_a_group_founded_on_the_first_of_a_month_owes_that_month():
    branch = BranchFactory()
    group = GroupFactory(parent=branch, founded_on=dt.date(2026, 3, 1))

    result = run([branch], [rule(GROUPS)], now=YEAR_OVER)

    assert months(result, rule(GROUPS), branch, group, 2, 3) == [Outcome.NOT_REQUIRED, Outcome.MISSING]


def test_a_meeting_a_new_group_held_in_its_first_part_month_still_shows_as_held():
    branch = BranchFactory()
    group = GroupFactory(parent=branch, founded_on=dt.date(2026, 3, 15))
    held = meeting(branch, dt.date(2026, 3, 20), ["group_meeting"], group=group)

    march = cell(run([branch], [rule(GROUPS)], now=YEAR_OVER), rule(GROUPS), branch, dt.date(2026, 3, 1), group)

    assert (march.outcome, march.meeting_ids) == (Outcome.ON_TIME, (held.pk,))


def test_a_group_dissolved_on_10_october_keeps_what_it_missed_before_and_owes_nothing_after():
    branch = BranchFactory()
    group = GroupFactory(parent=branch, dissolved_on=dt.date(2026, 10, 10), is_active=False)
    meeting(branch, dt.date(2026, 8, 12), ["group_meeting"], group=group)

    result = run([branch], [rule(GROUPS)], now=YEAR_OVER)

    assert [g.pk for g in result.groups[branch.pk]] == [group.pk], "a dissolved group is still counted in its life"
    assert months(result, rule(GROUPS), branch, group, 8, 9, 10, 11, 12) == [
        Outcome.ON_TIME,
        Outcome.MISSING,  # September was missed while the group existed: it stays missing
        Outcome.NOT_REQUIRED,  # dissolved on 10 October: October is not a whole month of its life
        Outcome.NOT_REQUIRED,
        Outcome.NOT_REQUIRED,
    ]


def test_a_group_dissolved_on_the_first_of_november_owed_october():
    branch = BranchFactory()
    group = GroupFactory(parent=branch, dissolved_on=dt.date(2026, 11, 1), is_active=False)

    result = run([branch], [rule(GROUPS)], now=YEAR_OVER)

    assert months(result, rule(GROUPS), branch, group, 10, 11) == [Outcome.MISSING, Outcome.NOT_REQUIRED]


def test_a_group_dissolved_before_the_year_is_not_shown_and_an_inactive_one_without_a_date_neither():
    branch = BranchFactory()
    GroupFactory(parent=branch, dissolved_on=dt.date(2026, 1, 1), is_active=False)
    GroupFactory(parent=branch, is_active=False)

    assert run([branch], [rule(GROUPS)], now=YEAR_OVER).groups.get(branch.pk, []) == []


def test_a_branch_founded_mid_quarter_owes_the_next_quarter_not_this_one():
    branch = BranchFactory(founded_on=dt.date(2026, 5, 1))
    general = CadenceRule.objects.get(name="支部党员大会每季度至少1次")

    result = run([branch], [general], now=YEAR_OVER)

    assert [cell(result, general, branch, dt.date(2026, m, 1)).outcome for m in (4, 7)] == [
        Outcome.NOT_REQUIRED,
        Outcome.MISSING,
    ]


def test_the_matrix_s_worst_of_a_month_is_missing_when_one_group_is_not_required_and_another_missed():
    from meetings.compliance import worst

    assert worst([Outcome.NOT_REQUIRED, Outcome.MISSING]) == Outcome.MISSING
    assert worst([Outcome.NOT_REQUIRED, Outcome.ON_TIME]) == Outcome.ON_TIME


def test_a_dissolution_date_must_come_after_the_founding_date():
    branch = BranchFactory()
    group = Organization(
        name="临时党小组",
        kind=Organization.Kind.GROUP,
        parent=branch,
        founded_on=dt.date(2026, 3, 1),
        dissolved_on=dt.date(2026, 3, 1),
    )
    with pytest.raises(ValidationError) as error:
        group.full_clean()
    assert "撤销日期必须晚于成立日期。" in str(error.value)


# --- Exemptions for one group -------------------------------------------------------------


def test_an_exemption_for_one_group_covers_that_group_only(supervisor):
    branch = BranchFactory()
    exempted, other = GroupFactory(parent=branch, name="一组"), GroupFactory(parent=branch, name="二组")
    exemption = exemption_grant(
        branch=branch,
        group=exempted,
        rule=rule(GROUPS),
        period_start=dt.date(2026, 3, 1),
        reason="全组参加抢险",
        user=supervisor,
        now=NOW,
    )

    result = run([branch], [rule(GROUPS)])

    march = dt.date(2026, 3, 1)
    assert cell(result, rule(GROUPS), branch, march, exempted).exemption == exemption
    assert cell(result, rule(GROUPS), branch, march, exempted).outcome == Outcome.EXEMPT
    assert cell(result, rule(GROUPS), branch, march, other).outcome == Outcome.MISSING
    assert cell(result, rule(GROUPS), branch, dt.date(2026, 4, 1), exempted).outcome == Outcome.MISSING


def test_a_branch_wide_exemption_still_covers_every_group(supervisor):
    branch = BranchFactory()
    one, two = GroupFactory(parent=branch, name="一组"), GroupFactory(parent=branch, name="二组")
    exemption_grant(
        branch=branch, rule=rule(GROUPS), period_start=dt.date(2026, 3, 1), reason="新成立", user=supervisor, now=NOW
    )

    result = run([branch], [rule(GROUPS)])

    assert {cell(result, rule(GROUPS), branch, dt.date(2026, 3, 1), g).outcome for g in (one, two)} == {Outcome.EXEMPT}


def test_a_group_and_the_branch_may_each_hold_one_exemption_per_period_but_not_two(supervisor):
    branch = BranchFactory()
    group = GroupFactory(parent=branch)
    march = dt.date(2026, 3, 1)
    common = {"branch": branch, "rule": rule(GROUPS), "period_start": march, "reason": "新成立", "user": supervisor}
    exemption_grant(**common, group=group, now=NOW)
    exemption_grant(**common, now=NOW)
    with pytest.raises(ValidationError) as error:
        exemption_grant(**common, group=group, now=NOW)
    assert "该党小组在该期间已有此规则的豁免。" in str(error.value)
    with pytest.raises(ValidationError):
        exemption_grant(**common, now=NOW)
    assert Exemption.objects.count() == 2


def test_a_group_exemption_must_be_for_a_group_of_the_branch_and_a_per_group_rule(supervisor):
    branch, elsewhere = BranchFactory(), BranchFactory()
    foreign = GroupFactory(parent=elsewhere)
    common = {"branch": branch, "period_start": dt.date(2026, 3, 1), "reason": "新成立", "user": supervisor}
    with pytest.raises(ValidationError) as error:
        exemption_grant(**common, rule=rule(GROUPS), group=foreign, now=NOW)
    assert "所选党小组不属于该支部。" in str(error.value)
    with pytest.raises(ValidationError) as error:
        exemption_grant(
            **common,
            rule=CadenceRule.objects.get(name="支部委员会每月至少1次"),
            group=GroupFactory(parent=branch),
            now=NOW,
        )
    assert "该规则按支部计算，不能只豁免一个党小组。" in str(error.value)
    assert not Exemption.objects.exists()


# --- The period-end reminder follows the same life and exemptions ---------------------------


def test_the_period_end_reminder_skips_a_group_founded_this_month_and_an_exempted_group(supervisor):
    CadenceRule.objects.exclude(name=GROUPS).update(is_active=False)
    branch = BranchFactory()
    member_with_login(branch=branch, username="sec", role="secretary")
    GroupFactory(parent=branch, name="新成立党小组", founded_on=dt.date(2026, 3, 15))
    exempted = GroupFactory(parent=branch, name="抢险党小组")
    GroupFactory(parent=branch, name="普通党小组")
    Exemption.objects.create(
        branch=branch,
        group=exempted,
        rule=rule(GROUPS),
        period_start=dt.date(2026, 3, 1),
        reason="抢险",
        approved_by=supervisor,
        approved_at=NOW,
    )

    assert reminders.send_period_end_reminders(now=dt.datetime(2026, 3, 29, 9, tzinfo=NOW.tzinfo)) == 1
    [sent] = Notification.objects.filter(dedupe_key__startswith="period:", channel="inbox")
    assert "普通党小组" in sent.subject


def test_compliance_of_a_mine_with_dated_groups_costs_the_same_queries(django_assert_num_queries):
    branches = [BranchFactory() for _ in range(3)]
    for b in branches:
        GroupFactory(parent=b, founded_on=dt.date(2026, 3, 15))
        GroupFactory(parent=b, dissolved_on=dt.date(2026, 10, 10), is_active=False)
    rules = list(CadenceRule.objects.filter(is_active=True))
    # groups, exemptions, meetings
    with django_assert_num_queries(4):  # + the rollup read (empty here)
        compliance(branches=branches, start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31), now=NOW, rules=rules)


def test_a_supervisor_exempts_one_group_from_the_drill_down(client, supervisor, branch, group):
    from django.urls import reverse

    from tests.conftest import client_for

    other = GroupFactory(parent=branch, name="第二党小组")
    url = reverse("meetings:compliance_cell", args=[branch.pk, "2026-03"])
    c = client_for(client, supervisor)

    response = c.post(url, {"rule": rule(GROUPS).pk, "group": group.pk, "reason": "全组参加抢险"})

    assert response.status_code == 302
    exemption = Exemption.objects.get()
    assert (exemption.group, exemption.rule) == (group, rule(GROUPS))
    html = c.get(url).content.decode()
    assert "全组参加抢险" in html
    # the branch-wide exemption of the same rule is still offered, for the other group's sake
    assert f'<option value="{rule(GROUPS).pk}"' in html
    assert other.name in html


def test_the_matrix_keeps_a_dissolved_branch_for_the_year_it_existed_in(client, supervisor, time_machine):
    from django.urls import reverse

    from tests.conftest import client_for
    from tests.meetings.test_compliance_pages import matrix_cells

    time_machine.move_to(YEAR_OVER, tick=False)
    gone = BranchFactory(name="已撤销支部", dissolved_on=dt.date(2026, 10, 10), is_active=False)
    c = client_for(client, supervisor)

    response = c.get(reverse("meetings:compliance_matrix"), {"year": 2026})
    cells = matrix_cells(response, gone)
    assert (cells["9月"], cells["10月"]) == ("未开", "不计")

    assert f"branch-{gone.pk}" not in c.get(reverse("meetings:compliance_matrix"), {"year": 2027}).content.decode()
