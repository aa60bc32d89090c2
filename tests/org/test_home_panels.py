"""The supervisor's home at group scale: the 全部支部 panel is bounded and costs the same queries."""

import pytest
from django.urls import reverse

from sanhui import views as home_views
from tests.conftest import client_for
from tests.factories import BranchFactory


@pytest.mark.django_db
@pytest.mark.parametrize("extra", [0, 49])
def test_the_branch_panel_costs_the_same_queries_and_is_bounded(
    client, supervisor, branch, secretary, member, django_assert_num_queries, extra
):
    for _ in range(extra):
        BranchFactory()
    c = client_for(client, supervisor)
    c.get(reverse("home"))
    with django_assert_num_queries(HOME_QUERIES):
        response = c.get(reverse("home"))
    rows = response.context["all_branches"]
    assert len(rows) == min(1 + extra, home_views.HOME_BRANCH_ROWS)
    first = next(b for b in rows if b.pk == branch.pk)
    assert (first.member_count, first.group_count) == (2, 1)  # the 书记 and the member, one group


# every page (session read and save, user, scope, inbox badge, navbar), the announcements and
# the branch panel (one query, whatever the number of branches)
HOME_QUERIES = 8
