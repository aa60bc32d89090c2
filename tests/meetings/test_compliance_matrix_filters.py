"""The matrix a committee can read: grouped by 党总支, searched by name, filtered to problems, 50 a page."""

import datetime as dt

import pytest
from django.urls import reverse

from org.models import Organization
from tests.conftest import client_for
from tests.factories import BranchFactory, CommitteeFactory
from tests.meetings.test_compliance_pages import NOW, hold_every_monthly_meeting, meeting, page

pytestmark = pytest.mark.usefixtures("_july")


@pytest.fixture
def _july(time_machine):
    time_machine.move_to(NOW, tick=False)


def _rows(response):
    return [tr.get("id") for tr in page(response).get_element_by_id("compliance-matrix").findall(".//tbody/tr")]


@pytest.fixture
def mine(db):
    committee = CommitteeFactory()
    general = Organization.objects.create(name="机电总支", kind=Organization.Kind.GENERAL_BRANCH, parent=committee)
    good = BranchFactory(parent=general, name="机电一队党支部")
    for month in range(1, 7):
        hold_every_monthly_meeting(good, month)
    for month in (2, 5):  # a 党课 each quarter
        meeting(good, dt.date(2026, month, 20), ["party_lesson"])
    weak = BranchFactory(parent=committee, name="运输队党支部")
    return general, good, weak


@pytest.mark.django_db
def test_branches_are_grouped_by_general_branch_in_collapsible_sections(client, supervisor, mine):
    _general, good, _weak = mine
    doc = page(client_for(client, supervisor).get(reverse("meetings:compliance_matrix")))
    sections = doc.findall(".//details")
    summaries = [d.find("summary").text_content() for d in sections]
    assert any("机电总支" in s for s in summaries)
    in_general = next(d for d in sections if "机电总支" in d.find("summary").text_content())
    assert [tr.get("id") for tr in in_general.findall(".//tbody/tr")] == [f"branch-{good.pk}"]


@pytest.mark.django_db
def test_the_search_finds_a_branch_by_name(client, supervisor, mine):
    _general, _good, weak = mine
    response = client_for(client, supervisor).get(reverse("meetings:compliance_matrix"), {"q": "运输"})
    assert _rows(response) == [f"branch-{weak.pk}"]
    response = client_for(client, supervisor).get(reverse("meetings:compliance_matrix"), {"q": "没有这个支部"})
    assert _rows(response) == []
    assert "暂无支部" in response.content.decode()


@pytest.mark.django_db
def test_only_branches_with_a_missing_or_late_meeting(client, supervisor, mine):
    _general, good, weak = mine
    response = client_for(client, supervisor).get(reverse("meetings:compliance_matrix"), {"problems": "1"})
    rows = _rows(response)
    assert f"branch-{weak.pk}" in rows
    assert f"branch-{good.pk}" not in rows


@pytest.mark.django_db
def test_the_matrix_shows_fifty_branches_a_page(client, supervisor, mine):
    committee = mine[2].parent
    for i in range(55):
        BranchFactory(parent=committee, name=f"测试{i:02d}党支部")
    c = client_for(client, supervisor)
    first = _rows(c.get(reverse("meetings:compliance_matrix")))
    second = _rows(c.get(reverse("meetings:compliance_matrix"), {"page": 2}))
    assert len(first) == 50
    assert len(second) == Organization.objects.branches().count() - 50
    assert not set(first) & set(second)
