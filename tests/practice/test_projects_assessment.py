"""The 攻关成果 bonus (points per project verified as passed in the period, capped) and the 评优 condition."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from assessment.models import Deduction, GradeBand, Item, MemberScore, Run, Scheme
from assessment.participation import deduction_link, member_scores_compute
from assessment.scoring import compute_scores
from assessment.services import run_compute, run_create
from practice.models import Project, ProjectMember

from .conftest import SHANGHAI, member_of

pytestmark = pytest.mark.django_db

YEAR = 2031
LAST_MINUTE = dt.datetime(YEAR, 12, 31, 23, 59, tzinfo=SHANGHAI)
NEXT_YEAR = dt.datetime(YEAR + 1, 1, 1, 0, 0, tzinfo=SHANGHAI)
AFTER = dt.datetime(YEAR + 1, 1, 5, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def scheme():
    scheme = Scheme.objects.create(year=YEAR, name="攻关考核")
    Item.objects.create(
        scheme=scheme,
        category="实践活动",
        name="攻关成果",
        max_points=Decimal("2"),
        kind=Item.Kind.PROJECT_RESULT,
        per_unit=Decimal("1"),
        is_bonus=True,
    )
    GradeBand.objects.create(scheme=scheme, run_kind="year", name="合格", min_score=0)
    return scheme


def project(
    branch, leader, *, state=Project.State.VERIFIED, verified_at=dt.datetime(YEAR, 6, 1, tzinfo=SHANGHAI), title="降尘"
):
    return Project.objects.create(
        branch=branch,
        title=title,
        problem="粉尘",
        source="safety",
        leader=leader,
        started_on=dt.date(YEAR, 1, 1),
        metric="粉尘浓度",
        baseline_value=10,
        target_value=6,
        state=state,
        created_at=dt.datetime(YEAR, 1, 1, tzinfo=SHANGHAI),
        verified_at=verified_at if state in Project.DECIDED_STATES else None,
    )


def bonus(scheme, branch, year=YEAR):
    result = compute_scores(
        scheme=scheme,
        kind="year",
        branches=[branch],
        start=dt.date(year, 1, 1),
        end=dt.date(year + 1, 1, 1),
        now=AFTER + dt.timedelta(days=400),
    )
    [item] = result.for_branch(branch.pk).items
    return item.points, item.lines


def test_a_project_verified_in_the_period_adds_the_bonus_with_a_line_linked_to_it(scheme, branch, secretary):
    verified = project(branch, member_of(secretary), title="综采工作面降尘")
    points, lines = bonus(scheme, branch)
    assert points == Decimal("1.00")
    assert [(ln.points, ln.reason, ln.project_id) for ln in lines] == [
        (Decimal("-1"), f"攻关成果“综采工作面降尘”已于 {YEAR}-06-01 验收 +1", verified.pk)
    ]


@pytest.mark.parametrize("state", [Project.State.FAILED, Project.State.REPORTED, Project.State.IN_PROGRESS])
def test_a_project_not_passed_or_not_verified_adds_nothing(scheme, branch, secretary, state):
    project(branch, member_of(secretary), state=state)
    assert bonus(scheme, branch) == (Decimal("0.00"), [])


@pytest.mark.parametrize(("verified", "expected"), [(2, Decimal("2.00")), (3, Decimal("2.00")), (1, Decimal("1.00"))])
def test_the_cap_holds_at_cap_and_cap_plus_one_projects(scheme, branch, secretary, verified, expected):
    for n in range(verified):
        project(branch, member_of(secretary), title=f"攻关{n}")
    points, lines = bonus(scheme, branch)
    assert points == expected
    assert len(lines) == verified


def test_the_last_minute_of_the_year_at_the_mine_counts_and_the_first_of_the_next_does_not(scheme, branch, secretary):
    last = project(branch, member_of(secretary), verified_at=LAST_MINUTE, title="年末验收")
    project(branch, member_of(secretary), verified_at=NEXT_YEAR, title="新年验收")
    points, lines = bonus(scheme, branch)
    assert points == Decimal("1.00")
    assert [ln.project_id for ln in lines] == [last.pk]
    next_scheme = Scheme.objects.create(year=YEAR + 1, name="次年")
    Item.objects.create(
        scheme=next_scheme,
        category="实践活动",
        name="攻关成果",
        max_points=2,
        kind=Item.Kind.PROJECT_RESULT,
        per_unit=1,
        is_bonus=True,
    )
    points, lines = bonus(next_scheme, branch, year=YEAR + 1)
    assert [ln.reason[:10] for ln in lines] == ["攻关成果“新年验收”"]


def test_a_stored_run_keeps_the_bonus_line_linked_to_the_project_for_those_who_may_see_it(
    scheme, branch, secretary, other_secretary, supervisor
):
    verified = project(branch, member_of(secretary))
    run = run_create(kind="year", period_start=dt.date(YEAR, 1, 1), user=supervisor, now=AFTER)
    run_compute(run=run, now=AFTER)
    line = Deduction.objects.select_related("project").get(item_score__branch_score__branch=branch)
    assert (line.points, line.project_id) == (Decimal("-1.00"), verified.pk)
    link = deduction_link(secretary, line)
    assert (link.url_name, link.pk) == ("practice:project_detail", verified.pk)
    assert deduction_link(other_secretary, line) is None


def test_the_commendation_condition_is_off_as_shipped_and_when_on_needs_a_verified_project(
    scheme, branch, secretary, member
):
    verified = project(branch, member_of(secretary))
    ProjectMember.objects.create(project=verified, member=member_of(member))
    outsider = member_of(member).__class__.objects.exclude(pk__in=[member_of(secretary).pk, member_of(member).pk])
    run = Run.objects.create(
        scheme=scheme,
        kind="year",
        period_start=dt.date(YEAR, 1, 1),
        period_end=dt.date(YEAR + 1, 1, 1),
        created_at=AFTER,
    )
    member_scores_compute(run=run, failing_branch_ids=set(), now=AFTER)
    assert not MemberScore.objects.filter(ineligible_reason__contains="攻关").exists()
    scheme.eligibility_verified_project = True
    scheme.save()
    member_scores_compute(run=run, failing_branch_ids=set(), now=AFTER)
    reasons = dict(MemberScore.objects.filter(run=run).values_list("member_id", "ineligible_reason"))
    assert "攻关" not in reasons[member_of(secretary).pk]
    assert "攻关" not in reasons[member_of(member).pk]
    assert not outsider.exists() or all("攻关" in reasons[m.pk] for m in outsider if m.pk in reasons)


def test_a_member_only_in_a_failed_project_does_not_meet_the_condition(scheme, branch, secretary, member):
    failed = project(branch, member_of(secretary), state=Project.State.FAILED)
    ProjectMember.objects.create(project=failed, member=member_of(member))
    scheme.eligibility_verified_project = True
    scheme.save()
    run = Run.objects.create(
        scheme=scheme,
        kind="year",
        period_start=dt.date(YEAR, 1, 1),
        period_end=dt.date(YEAR + 1, 1, 1),
        created_at=AFTER,
    )
    member_scores_compute(run=run, failing_branch_ids=set(), now=AFTER)
    reason = MemberScore.objects.get(run=run, member=member_of(member)).ineligible_reason
    assert "期间内未参与已验收的技术攻关项目" in reason


def test_the_shipped_scheme_has_neither_the_bonus_nor_the_condition():
    shipped = Scheme.objects.get(year=2026)
    assert not shipped.items.filter(kind=Item.Kind.PROJECT_RESULT).exists()
    assert shipped.eligibility_verified_project is False
    assert timezone.is_aware(LAST_MINUTE)
