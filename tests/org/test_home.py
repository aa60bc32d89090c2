import pytest
from django.urls import reverse

from tests.conftest import client_for


@pytest.mark.django_db
def test_anonymous_is_sent_to_the_sign_in_page(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_secretary_home_shows_my_branch_and_not_all_branches(client, secretary, branch, other_branch):
    html = client_for(client, secretary).get(reverse("home")).content.decode()
    assert 'id="my-branch"' in html
    assert branch.name in html
    assert 'id="all-branches"' not in html
    assert other_branch.name not in html


@pytest.mark.django_db
def test_supervisor_home_lists_every_branch(client, supervisor, branch, other_branch):
    html = client_for(client, supervisor).get(reverse("home")).content.decode()
    assert 'id="all-branches"' in html
    assert branch.name in html and other_branch.name in html


@pytest.mark.django_db
def test_login_page_is_in_chinese(client):
    html = client.get(reverse("login")).content.decode()
    assert "登录三会一课管理系统" in html
    assert 'lang="zh-hans"' in html


@pytest.mark.django_db
def test_supervisor_home_lists_branches_with_most_missed_meetings_this_year_first(client, supervisor, time_machine):
    import datetime as dt

    from django.utils import timezone

    from meetings.compliance import Outcome
    from meetings.models import CadenceRule, ComplianceRollup
    from tests.factories import BranchFactory

    time_machine.move_to(dt.datetime(2026, 7, 1, 9, 0, tzinfo=timezone.get_default_timezone()))
    calm, worst, middle = (BranchFactory(name=n, sort_order=i) for i, n in enumerate(["甲支部", "乙支部", "丙支部"]))
    rule = CadenceRule.objects.order_by("pk").first()

    def cell(branch, month, outcome, year=2026):
        start = dt.date(year, month, 1)
        ComplianceRollup.objects.create(
            rule=rule,
            branch=branch,
            period_start=start,
            period_end=start + dt.timedelta(days=27),
            outcome=outcome,
            computed_at=timezone.now(),
        )

    cell(calm, 1, Outcome.ON_TIME)
    cell(worst, 1, Outcome.MISSING)
    cell(worst, 2, Outcome.LATE)
    cell(middle, 3, Outcome.MISSING)
    for month in (1, 2, 3):  # last year's misses do not count this year
        cell(middle, month, Outcome.MISSING, year=2025)

    html = client_for(client, supervisor).get(reverse("home")).content.decode()
    panel = html[html.index('id="all-branches"') :]
    assert panel.index("乙支部") < panel.index("丙支部") < panel.index("甲支部")
