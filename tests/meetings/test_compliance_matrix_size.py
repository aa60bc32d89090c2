"""The matrix page's weight: bounded per branch row, and one page of 50 whatever the mine's size."""

import pytest
from django.urls import reverse

from bench.bench_matrix import matrix_kb
from tests.conftest import client_for
from tests.factories import BranchFactory, CommitteeFactory, GroupFactory
from tests.meetings.test_compliance_pages import NOW, hold_every_monthly_meeting

pytestmark = pytest.mark.usefixtures("_july")


@pytest.fixture
def _july(time_machine):
    time_machine.move_to(NOW, tick=False)


def _branches(committee, n, start=0):
    for i in range(start, start + n):
        b = BranchFactory(parent=committee, name=f"综采{i:03d}队党支部")
        GroupFactory(parent=b)
        if i % 3 == 0:
            hold_every_monthly_meeting(b, 1 + i % 6)


@pytest.mark.django_db
def test_the_first_page_stays_bounded_and_does_not_grow_past_fifty_branches(client, supervisor):
    committee = CommitteeFactory()
    _branches(committee, 50)
    c = client_for(client, supervisor)
    at_50 = len(c.get(reverse("meetings:compliance_matrix")).content)
    assert at_50 < 300_000 * 50 / 50

    _branches(committee, 10, start=50)
    at_60 = len(c.get(reverse("meetings:compliance_matrix")).content)
    assert at_60 <= at_50 + 2_000, "page 1 of 60 branches is page 1 of 50 plus the pagination links"
    # The bench's page: a closed year (every month judged, so every cell labelled) weighs the most.
    assert at_60 / 1000 < matrix_kb(supervisor.username) < 300


@pytest.mark.django_db
def test_each_branch_row_adds_a_bounded_weight(client, supervisor):
    committee = CommitteeFactory()
    _branches(committee, 10)
    c = client_for(client, supervisor)
    at_10 = len(c.get(reverse("meetings:compliance_matrix")).content)
    _branches(committee, 10, start=10)
    at_20 = len(c.get(reverse("meetings:compliance_matrix")).content)
    per_row = (at_20 - at_10) / 10
    assert 0 < per_row < 300_000 / 50, per_row
