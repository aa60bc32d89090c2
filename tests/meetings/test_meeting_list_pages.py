"""The all-meetings list at group scale: pages without a total, the branch search box, scope unchanged."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import client_for
from tests.factories import MeetingFactory

ROW = 'class="list-group-item list-group-item-action meeting-row"'


def _meetings(branch, n, *, topic="会议"):
    base = timezone.now()
    return [
        MeetingFactory(branch=branch, topic=f"{topic}{i:02d}", planned_start=base - dt.timedelta(days=i))
        for i in range(n)
    ]


@pytest.mark.django_db
def test_the_next_page_keeps_the_filters_and_shows_the_last_row(client, branch, other_branch, supervisor):
    made = _meetings(branch, 23, topic="综采")
    _meetings(other_branch, 3, topic="掘进")
    c = client_for(client, supervisor)

    first = c.get(reverse("meetings:meeting_list"), {"branch_name": "综采", "status": "planned"})
    body = first.content.decode()
    assert body.count(ROW) == 20
    assert "第 1 页" in body and "共 " not in body  # no total: no count query
    assert "branch_name=%E7%BB%BC%E9%87%87" in body and "page=2" in body  # the link keeps the filter

    second = c.get(reverse("meetings:meeting_list"), {"branch_name": "综采", "status": "planned", "page": "2"})
    body = second.content.decode()
    assert body.count(ROW) == 3
    assert made[-1].topic in body  # the oldest, last row
    assert "掘进" not in body.replace("掘进二队党支部", "")
    assert "下一页" not in body and "上一页" in body


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["abc", "-3", "0", ""])
def test_a_garbage_page_number_is_the_first_page(client, branch, supervisor, raw):
    _meetings(branch, 2)
    response = client_for(client, supervisor).get(reverse("meetings:meeting_list"), {"page": raw})
    assert response.status_code == 200
    assert response.content.decode().count(ROW) == 2


@pytest.mark.django_db
def test_a_page_past_the_end_is_empty_and_says_so(client, branch, supervisor):
    _meetings(branch, 2)
    response = client_for(client, supervisor).get(reverse("meetings:meeting_list"), {"page": "99"})
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count(ROW) == 0
    assert "这一页没有内容了" in body and "回到第 1 页" in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [("综采一队党支部", {"综采"}), ("一队", {"综采"}), ("党支部", {"综采", "掘进"}), ("露天矿", set())],
)
def test_the_branch_search_box(client, branch, other_branch, supervisor, query, expected):
    _meetings(branch, 1, topic="综采")
    _meetings(other_branch, 1, topic="掘进")
    body = client_for(client, supervisor).get(reverse("meetings:meeting_list"), {"branch_name": query}).content.decode()
    found = {t for t in ("综采", "掘进") if f"{t}00" in body}
    assert found == expected
    if not expected:
        assert "没有符合条件的会议" in body
    assert '<select name="branch"' not in body and 'name="branch_name"' in body  # a search box, no dropdown


@pytest.mark.django_db
def test_a_branch_pk_link_still_filters(client, branch, other_branch, supervisor):
    _meetings(branch, 1, topic="综采")
    _meetings(other_branch, 1, topic="掘进")
    body = (
        client_for(client, supervisor)
        .get(reverse("meetings:meeting_list"), {"branch": other_branch.pk})
        .content.decode()
    )
    assert "掘进00" in body and "综采00" not in body


@pytest.mark.django_db
def test_a_secretary_searching_another_branch_sees_nothing_of_it(client, branch, other_branch, secretary):
    _meetings(branch, 1, topic="综采")
    _meetings(other_branch, 1, topic="掘进")
    c = client_for(client, secretary)
    assert "掘进00" not in c.get(reverse("meetings:meeting_list"), {"branch_name": "掘进"}).content.decode()
    assert "掘进00" not in c.get(reverse("meetings:meeting_list"), {"branch": other_branch.pk}).content.decode()
    assert "综采00" in c.get(reverse("meetings:meeting_list")).content.decode()
