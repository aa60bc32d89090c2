"""The participation trend: monthly rates by hand, the change against the baseline, per branch, permissions, chart."""

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.urls import reverse

from assessment.models import ParticipationBaseline
from assessment.participation import baseline_set, monthly_rates, participation_trend, rate_between
from meetings.models import Meeting
from org.models import StaffRole
from tests.conftest import client_for
from tests.factories import UserFactory, staff_user

from .test_participation import LV, A, L, P, at, held_meeting, make_member

NOW = at(2026, 11, 20)


def _meeting(branch, members, when, present, leave=0, late=0):
    """A held meeting of ``len(members)`` expected: ``present`` attended (``late`` of them late), ``leave`` on
    leave, the rest absent."""
    states = [L] * late + [P] * (present - late) + [LV] * leave
    states += [A] * (len(members) - len(states))
    return held_meeting(branch, when, dict(zip(members, states, strict=True)))


@pytest.fixture
def mine(branch, other_branch):
    """Baseline Jan–Feb 2025 at 50% (5 of 10), then March–April at 65% (13 of 20).

    Branch A (``branch``): January 2 of 4 (50%), March 7 of 10 (70%).
    Branch B (``other_branch``): February 3 of 6 (50%), April 6 of 10 (60%).
    """
    a = [make_member(branch) for _ in range(10)]
    b = [make_member(other_branch) for _ in range(10)]
    _meeting(branch, a[:4], at(2025, 1, 15), present=2, leave=1)
    _meeting(other_branch, b[:6], at(2025, 2, 15), present=3, late=1)
    _meeting(branch, a, at(2025, 3, 15), present=7, late=2, leave=2)
    _meeting(other_branch, b, at(2025, 4, 15), present=6)
    ParticipationBaseline.objects.create(start=dt.date(2025, 1, 1), end=dt.date(2025, 3, 1), set_at=NOW)
    return {"a": a, "b": b}


def _page(client, user, **params):
    response = client_for(client, user).get(reverse("assessment:trend"), params)
    return response, response.content.decode()


def _table(page):
    """{month: (expected, attended, rate, points, relative)} read from the table's cells."""
    rows = {}
    for month, cells in re.findall(r'<tr data-month="([\d-]+)">(.*?)</tr>', page, re.S):
        values = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)]
        rows[month] = tuple(values)
    return rows


# --- The numbers ------------------------------------------------------------------------------


def test_the_mines_rate_rises_from_a_50_percent_baseline_to_65_percent_which_is_plus_30_percent(mine):
    trend = participation_trend(start=dt.date(2025, 3, 1), end=dt.date(2025, 5, 1))

    assert [(m.month, m.expected, m.attended, m.rate) for m in trend.months] == [
        (dt.date(2025, 3, 1), 10, 7, Decimal("70.0")),
        (dt.date(2025, 4, 1), 10, 6, Decimal("60.0")),
    ]
    assert (trend.total.expected, trend.total.attended, trend.total.rate) == (20, 13, Decimal("65.0"))
    assert (trend.baseline_rate.expected, trend.baseline_rate.attended) == (10, 5)
    assert trend.baseline_rate.rate == Decimal("50.0")
    assert trend.relative_change == Decimal("30.0")
    assert trend.points_change == Decimal("15.0")


def test_each_branch_is_compared_with_its_own_baseline(mine, branch, other_branch):
    a = participation_trend(start=dt.date(2025, 3, 1), end=dt.date(2025, 5, 1), branch_id=branch.pk)
    b = participation_trend(start=dt.date(2025, 3, 1), end=dt.date(2025, 5, 1), branch_id=other_branch.pk)

    assert [(m.expected, m.attended) for m in a.months] == [(10, 7), (0, 0)]
    assert (a.baseline_rate.rate, a.total.rate, a.relative_change, a.points_change) == (
        Decimal("50.0"),
        Decimal("70.0"),
        Decimal("40.0"),
        Decimal("20.0"),
    )
    assert [(m.expected, m.attended) for m in b.months] == [(0, 0), (10, 6)]
    assert (b.relative_change, b.points_change) == (Decimal("20.0"), Decimal("10.0"))


def test_a_month_without_meetings_has_no_rate_and_no_change(mine):
    months = monthly_rates(start=dt.date(2025, 5, 1), end=dt.date(2025, 6, 1))
    baseline = rate_between(start=dt.date(2025, 1, 1), end=dt.date(2025, 3, 1))

    assert [(m.expected, m.attended, m.rate) for m in months] == [(0, 0, None)]
    assert months[0].relative_change(baseline) is None
    assert months[0].points_change(baseline) is None


def test_a_falling_rate_shows_as_a_negative_change(mine, supervisor, client):
    # Branch A's baseline is January, 2 of 4; a May meeting with 4 of 10 (40%) is 20% worse, 10 points down.
    _meeting(mine["a"][0].memberships.get().organization, mine["a"], at(2025, 5, 15), present=4)

    trend = participation_trend(start=dt.date(2025, 5, 1), end=dt.date(2025, 6, 1))
    assert (trend.total.rate, trend.relative_change, trend.points_change) == (
        Decimal("40.0"),
        Decimal("-20.0"),
        Decimal("-10.0"),
    )
    _response, page = _page(client, supervisor, start="2025-05", end="2025-05")
    assert _table(page) == {"2025-05": ("10", "4", "40.0%", "-10.0", "-20.0%")}
    assert '<strong id="relative-change">-20.0%</strong>' in page


def test_months_are_local_months_and_only_held_recorded_attendance_counts(db, branch):
    people = [make_member(branch) for _ in range(2)]
    held_meeting(branch, at(2025, 3, 31, 23, 30), {people[0]: P, people[1]: A})  # March, local time
    held_meeting(branch, at(2025, 4, 1, 0, 10), {people[0]: P})  # April (UTC: March 31)
    held_meeting(branch, at(2025, 4, 20), {people[0]: P, people[1]: L}, actual=False)  # planned time counts
    held_meeting(branch, at(2025, 4, 21), {people[0]: A}, status=Meeting.Status.PLANNED)
    held_meeting(branch, at(2025, 4, 22), {people[0]: ""})  # not yet recorded

    months = monthly_rates(start=dt.date(2025, 3, 1), end=dt.date(2025, 5, 1))

    assert [(m.label, m.expected, m.attended) for m in months] == [("2025年3月", 2, 1), ("2025年4月", 3, 3)]


def test_the_monthly_rates_are_one_query_however_many_months(mine, django_assert_num_queries):
    with django_assert_num_queries(1):
        months = monthly_rates(start=dt.date(2024, 1, 1), end=dt.date(2026, 1, 1))
    assert len(months) == 24
    assert sum(m.expected for m in months) == 30


# --- The baseline -------------------------------------------------------------------------------


def test_setting_the_baseline_keeps_one_row(db, supervisor):
    baseline_set(start=dt.date(2025, 1, 1), end=dt.date(2025, 7, 1), user=supervisor, now=NOW)
    baseline_set(start=dt.date(2024, 1, 1), end=dt.date(2025, 1, 1), user=supervisor, now=NOW)

    assert list(ParticipationBaseline.objects.values_list("start", "end", "set_by")) == [
        (dt.date(2024, 1, 1), dt.date(2025, 1, 1), supervisor.pk)
    ]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (dt.date(2025, 1, 2), dt.date(2025, 3, 1)),  # not a whole month
        (dt.date(2025, 3, 1), dt.date(2025, 3, 1)),  # empty
        (dt.date(2025, 3, 1), dt.date(2025, 1, 1)),  # backwards
        (dt.date(2026, 11, 1), dt.date(2027, 1, 1)),  # reaches past this month
    ],
)
def test_a_baseline_must_be_whole_months_that_have_begun(db, supervisor, start, end):
    with pytest.raises(ValidationError):
        baseline_set(start=start, end=end, user=supervisor, now=NOW)
    assert not ParticipationBaseline.objects.exists()


def test_the_committee_sets_the_baseline_on_the_page(db, client):
    committee = staff_user(username="committee", role=StaffRole.Role.COMMITTEE)
    c = client_for(client, committee)
    assert 'id="baseline-form"' in c.get(reverse("assessment:trend")).content.decode()

    response = c.post(reverse("assessment:trend_baseline"), {"start": "2025-01", "end": "2025-02"})

    assert response.status_code == 302
    baseline = ParticipationBaseline.objects.get()
    assert (baseline.start, baseline.end, baseline.set_by) == (dt.date(2025, 1, 1), dt.date(2025, 3, 1), committee)


def test_a_baseline_ending_before_it_starts_is_refused_with_the_reason(db, client):
    committee = staff_user(username="committee", role=StaffRole.Role.COMMITTEE)

    response = client_for(client, committee).post(
        reverse("assessment:trend_baseline"), {"start": "2025-05", "end": "2025-02"}
    )

    assert response.status_code == 400
    assert "截止月份不能早于起始月份。" in response.content.decode()
    assert not ParticipationBaseline.objects.exists()


@pytest.mark.parametrize("who", ["supervisor", "secretary", "member"])
def test_only_the_committee_may_set_the_baseline(db, people, client, who):
    c = client_for(client, people[who])
    response = c.post(reverse("assessment:trend_baseline"), {"start": "2025-01", "end": "2025-02"})

    assert response.status_code == 403
    assert not ParticipationBaseline.objects.exists()
    assert 'id="baseline-form"' not in c.get(reverse("assessment:trend")).content.decode()


# --- The page -------------------------------------------------------------------------------------


def test_the_page_shows_plus_30_percent_against_the_baseline_in_its_summary_and_table(mine, supervisor, client):
    response, page = _page(client, supervisor, start="2025-03", end="2025-04")

    assert response.status_code == 200
    assert "全矿" in page
    assert '<strong id="relative-change">+30.0%</strong>' in page
    assert '<span id="points-change">+15.0</span>' in page
    assert '<strong id="baseline-rate">50.0%</strong>' in page
    assert _table(page) == {
        "2025-03": ("10", "7", "70.0%", "+20.0", "+40.0%"),
        "2025-04": ("10", "6", "60.0%", "+10.0", "+20.0%"),
    }


def test_the_page_shows_one_branch_on_request(mine, other_branch, supervisor, client):
    _response, page = _page(client, supervisor, start="2025-01", end="2025-04", branch=other_branch.pk)

    assert f"党员参与率趋势 · {other_branch.name}" in page
    assert _table(page) == {
        "2025-01": ("0", "0", "—", "—", "—"),
        "2025-02": ("6", "3", "50.0%", "0.0", "0.0%"),
        "2025-03": ("0", "0", "—", "—", "—"),
        "2025-04": ("10", "6", "60.0%", "+10.0", "+20.0%"),
    }
    assert page.count('<span class="badge bg-secondary">基准期</span>') == 2


def test_the_chart_data_is_json_in_the_page_and_the_code_a_self_hosted_static_file(mine, supervisor, client):
    _response, page = _page(client, supervisor, start="2025-03", end="2025-04")

    data = json.loads(re.search(r'<script id="trend-data" type="application/json">(.*?)</script>', page, re.S)[1])
    assert data == {"title": "全矿", "labels": ["2025年3月", "2025年4月"], "rates": [70.0, 60.0], "baseline": 50.0}
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    for attrs, body in scripts:
        # The CSP allows 'self' only: every script is a file of ours, or data the browser does not run.
        assert 'type="application/json"' in attrs or ('src="/static/' in attrs and not body.strip())
    sources = [re.search(r'src="([^"]+)"', attrs)[1] for attrs, _body in scripts if "src=" in attrs]
    assert "/static/vendor/chartjs/chart.umd.js" in sources
    assert "/static/assessment/trend.js" in sources
    assert "//" not in "".join(s.removeprefix("/static/") for s in sources)
    assert "cdn" not in page.lower()
    assert finders.find("vendor/chartjs/chart.umd.js")
    with open(finders.find("assessment/trend.js"), encoding="utf-8") as script:
        assert "window.Chart" in script.read()


def test_the_table_reads_without_the_chart(mine, supervisor, client):
    _response, page = _page(client, supervisor, start="2025-03", end="2025-04")
    assert '<canvas id="trend-chart"' in page
    assert 'aria-label="各月党员参与率折线图，数据见下表"' in page
    assert "<caption>参与率 = 出席 ÷ 应参加" in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2025-13", "end": "2025-04"}, "请按“年-月”填写"),
        ({"start": "2025-05", "end": "2025-04"}, "截止月份不能早于起始月份。"),
        ({"start": "2015-01", "end": "2025-04"}, "最多显示 60 个月。"),
        ({"branch": "abc"}, "支部参数无效。"),
    ],
)
def test_bad_filters_are_explained_and_the_default_range_shown(mine, supervisor, client, params, message):
    response, page = _page(client, supervisor, **params)

    assert response.status_code == 200
    assert message in page
    assert page.count("<tr data-month=") == 12


# --- Who sees what ----------------------------------------------------------------------------------


def test_a_member_sees_their_own_branchs_trend_by_default(mine, branch, member, client):
    response, page = _page(client, member, start="2025-03", end="2025-03")

    assert response.status_code == 200
    assert f"党员参与率趋势 · {branch.name}" in page
    assert _table(page)["2025-03"][:3] == ("10", "7", "70.0%")
    assert '<option value="">全矿</option>' not in page


def test_a_member_may_not_see_another_branchs_trend(mine, other_branch, member, other_secretary, client):
    assert _page(client, member, branch=other_branch.pk)[0].status_code == 403


def test_supervisors_and_the_committee_see_the_mine_and_every_branch(mine, branch, supervisor, client):
    committee = staff_user(username="committee", role=StaffRole.Role.COMMITTEE)
    for user in (supervisor, committee):
        client.logout()
        assert _page(client, user)[0].status_code == 200
        client.logout()
        assert _page(client, user, branch=branch.pk)[0].status_code == 200


def test_a_login_without_a_branch_or_a_staff_role_is_refused(db, client):
    assert _page(client, UserFactory(username="nobody"))[0].status_code == 403


def test_an_unknown_branch_is_404(db, supervisor, client):
    assert _page(client, supervisor, branch=999999)[0].status_code == 404


def test_anonymous_is_sent_to_sign_in(db, client):
    for response in (client.get(reverse("assessment:trend")), client.post(reverse("assessment:trend_baseline"))):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# session (2 + savepoint pair), user, scope (staff roles, member), monthly rates, baseline, its rate,
# branch picker, the navbar's Django permissions (2), inbox badge and member name
TREND_QUERIES = 16


@pytest.mark.parametrize("meetings", [1, 12])
def test_the_page_costs_the_same_queries_whatever_the_meetings(
    db, branch, supervisor, client, django_assert_num_queries, meetings
):
    people = [make_member(branch) for _ in range(3)]
    for i in range(meetings):
        _meeting(branch, people, at(2025, 1 + i, 10), present=2)
    ParticipationBaseline.objects.create(start=dt.date(2025, 1, 1), end=dt.date(2025, 3, 1), set_at=NOW)
    client_for(client, supervisor)

    with django_assert_num_queries(TREND_QUERIES):
        response = client.get(reverse("assessment:trend"), {"start": "2025-01", "end": "2025-12"})

    rates = [row[2] for row in _table(response.content.decode()).values()]
    assert rates.count("66.7%") == meetings
    assert len(rates) == 12
