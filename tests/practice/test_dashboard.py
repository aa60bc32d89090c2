"""The 党建+业务 dashboard: who may open it for which scope, what it counts, and a query count that ignores the size."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import ThemeTag
from org.models import Organization, StaffRole
from practice.dashboard import practice_figures
from practice.models import Hazard, Project
from practice.services import hazard_add
from tasks.services import task_report
from tests.conftest import client_for
from tests.factories import BranchFactory, MeetingFactory, OrganizationFactory, staff_user

from .conftest import SHANGHAI, member_of, photo

pytestmark = pytest.mark.django_db

YEAR = 2031
URL = reverse("dashboard")
NOW = dt.datetime(YEAR + 1, 1, 5, tzinfo=SHANGHAI)


def theme_day(branch, when, *tags, status="submitted"):
    meeting = MeetingFactory(branch=branch, planned_start=when, actual_start=when, status=status, types=["theme_day"])
    meeting.theme_tags.set([ThemeTag.objects.get_or_create(name=t)[0] for t in tags])
    return meeting


def project(branch, leader, *, state, money=None, verified_at=dt.datetime(YEAR, 5, 1, tzinfo=SHANGHAI), title="节能"):
    return Project.objects.create(
        branch=branch,
        title=title,
        problem="电耗高",
        source="cost",
        leader=leader,
        started_on=dt.date(YEAR, 1, 1),
        metric="吨煤电耗",
        unit="kWh/t",
        baseline_value=Decimal("20"),
        target_value=Decimal("17"),
        measured_value=Decimal("17") if state in Project.DECIDED_STATES else None,
        money_estimate=money,
        state=state,
        created_at=dt.datetime(YEAR, 1, 2, tzinfo=SHANGHAI),
        verified_at=verified_at if state in Project.DECIDED_STATES else None,
    )


@pytest.fixture
def committee(db):
    return staff_user(username="committee", role=StaffRole.Role.COMMITTEE)


def test_it_counts_theme_days_by_theme_projects_by_state_and_sums_the_verified_savings(branch, other_branch, secretary):
    leader = member_of(secretary)
    theme_day(branch, dt.datetime(YEAR, 3, 5, 9, tzinfo=SHANGHAI), "安全生产")
    theme_day(branch, dt.datetime(YEAR, 4, 5, 9, tzinfo=SHANGHAI), "安全生产", "节能降耗")
    theme_day(branch, dt.datetime(YEAR, 5, 5, 9, tzinfo=SHANGHAI))
    theme_day(branch, dt.datetime(YEAR, 6, 5, 9, tzinfo=SHANGHAI), "安全生产", status="planned")  # not held
    theme_day(branch, dt.datetime(YEAR - 1, 12, 31, 23, 59, tzinfo=SHANGHAI), "安全生产")  # last year
    project(branch, leader, state=Project.State.VERIFIED, money=Decimal("1500000"), title="节能降耗 15%")
    project(branch, leader, state=Project.State.VERIFIED, money=None, title="现场整治")
    project(branch, leader, state=Project.State.FAILED, money=Decimal("99"))
    project(branch, leader, state=Project.State.IN_PROGRESS)
    project(other_branch, leader, state=Project.State.VERIFIED, money=Decimal("7"))
    figures = practice_figures(scope=branch, start=dt.date(YEAR, 1, 1), end=dt.date(YEAR + 1, 1, 1), now=NOW)
    assert [(t.name, t.meetings) for t in figures.themes] == [("安全生产", 2), ("节能降耗", 1), ("未标注主题", 1)]
    states = {s.state: s.projects for s in figures.states}
    assert (states["verified"], states["failed"], states["in_progress"], states["opened"]) == (2, 1, 1, 0)
    assert figures.verified_count == 2
    assert figures.money_total == Decimal("1500000")
    assert {p.title for p in figures.verified} == {"节能降耗 15%", "现场整治"}
    mine = practice_figures(scope=None, start=dt.date(YEAR, 1, 1), end=dt.date(YEAR + 1, 1, 1), now=NOW)
    assert (mine.verified_count, mine.money_total) == (3, Decimal("1500007"))


def test_a_general_branch_scope_counts_only_its_branches(secretary):
    general = OrganizationFactory(name="第一党总支", kind=Organization.Kind.GENERAL_BRANCH)
    inside = BranchFactory(name="机电队党支部", parent=general)
    outside = BranchFactory(name="运输队党支部")
    project(inside, member_of(secretary), state=Project.State.VERIFIED, money=Decimal("10"))
    project(outside, member_of(secretary), state=Project.State.VERIFIED, money=Decimal("20"))
    figures = practice_figures(scope=general, start=dt.date(YEAR, 1, 1), end=dt.date(YEAR + 1, 1, 1), now=NOW)
    assert figures.money_total == Decimal("10")


def test_the_committee_sees_the_mine_with_a_table_under_each_chart(client, committee, branch, secretary):
    project(branch, member_of(secretary), state=Project.State.VERIFIED, money=Decimal("1500000"), title="节能降耗")
    response = client_for(client, committee).get(URL, {"year": YEAR})
    body = response.content.decode()
    assert response.status_code == 200
    for table in ("themes-table", "states-table", "verified-table", "trend-table"):
        assert f'id="{table}"' in body
    assert "节能降耗" in body
    assert 'id="money-total">1500000.00<' in body
    assert "chartjs/chart.umd.js" in body


@pytest.mark.parametrize(("role", "status"), [("secretary", 200), ("other_secretary", 404)])
def test_a_secretary_sees_only_their_own_branch(client, people, branch, role, status):
    response = client_for(client, people[role]).get(URL, {"scope": branch.pk, "year": YEAR})
    assert response.status_code == status


def test_a_secretary_without_a_scope_gets_their_branch_and_never_the_mine(client, secretary, branch):
    body = client_for(client, secretary).get(URL).content.decode()
    assert f"党建+业务看板 · {branch.name}" in body
    assert "全矿" not in body


@pytest.mark.parametrize(("role", "status"), [("member", 403), ("anonymous", 302)])
def test_members_and_anonymous_are_refused(client, people, role, status):
    assert client_for(client, people[role]).get(URL).status_code == status


def test_the_supervisor_may_open_any_branch(client, supervisor, other_branch):
    assert client_for(client, supervisor).get(URL, {"scope": other_branch.pk}).status_code == 200


def _mine_of(n: int, leader):
    branches = [BranchFactory(name=f"支部{i}") for i in range(n)]
    for i, b in enumerate(branches):
        project(b, leader, state=Project.State.VERIFIED, money=Decimal(i), title=f"攻关{i}")
        if i % 3 == 0:
            theme_day(b, dt.datetime(YEAR, 3, 5, 9, tzinfo=SHANGHAI), "安全生产")
    return branches


DASHBOARD_QUERIES = 16


@pytest.mark.parametrize("n", [8, 200])
def test_the_query_count_is_the_same_at_8_and_200_branches(client, committee, secretary, n, django_assert_num_queries):
    _mine_of(n, member_of(secretary))
    c = client_for(client, committee)
    c.get(URL, {"year": YEAR})
    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = c.get(URL, {"year": YEAR})
    assert response.status_code == 200


def test_hazards_found_closed_and_overdue_come_from_the_theme_days_of_the_period(
    client, theme_day, secretary, member, branch
):
    now = timezone.now()
    tasks = [
        hazard_add(
            meeting=theme_day,
            description=f"隐患{i}",
            location="3101 运输巷",
            severity=Hazard.Severity.SERIOUS,
            owner=member_of(member),
            due_on=timezone.localdate(now) + dt.timedelta(days=7),
            user=secretary,
            now=now,
        ).task
        for i in range(3)
    ]
    task_report(task=tasks[0], user=member, text="", files=[photo()], now=now)
    year = timezone.localtime(theme_day.planned_start).year
    start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    later = now + dt.timedelta(days=30)
    figures = practice_figures(scope=branch, start=start, end=end, now=later)
    assert (figures.hazards_found, figures.hazards_closed, figures.hazards_overdue) == (3, 1, 2)
    assert practice_figures(scope=None, start=start, end=end, now=now).hazards_overdue == 0
    body = client_for(client, secretary).get(URL, {"year": year}).content.decode()
    assert 'id="hazards-table"' in body
    assert '<th scope="row">发现</th><td>3</td>' in body
