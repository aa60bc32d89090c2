"""The page of 议定事项 open past their deadline: who sees it, what each sees, and its fixed query count."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from tasks.models import Task
from tasks.services import task_create

from ..conftest import client_for
from ..factories import MeetingFactory

pytestmark = pytest.mark.django_db

MADE = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 4, 1, 2, 0, tzinfo=dt.UTC)
URL = reverse("tasks_follow:open_decisions")


def decision_task(branch, owner, title, *, due_days=7, status=Task.Status.TODO):
    meeting = MeetingFactory(branch=branch, types=["committee_meeting"], planned_start=MADE - dt.timedelta(days=1))
    task = task_create(
        organization=branch,
        owner=owner,
        title=title,
        due_at=MADE + dt.timedelta(days=due_days),
        now=MADE,
        source=Task.Source.DECISION,
        meeting=meeting,
    )
    Task.objects.filter(pk=task.pk).update(status=status)
    return task


@pytest.fixture
def decisions(branch, other_branch, secretary, member, other_secretary):
    return {
        "overdue": decision_task(branch, member.member, "整治运输巷道隐患"),
        "returned": decision_task(branch, member.member, "补齐安全培训台账", status=Task.Status.RETURNED),
        "not_due": decision_task(branch, secretary.member, "年度发展党员计划", due_days=60),
        "done": decision_task(branch, secretary.member, "更换宣传栏", status=Task.Status.DONE),
        "elsewhere": decision_task(other_branch, other_secretary.member, "掘进面通风整改"),
    }


def titles(response):
    return [t.title for t in response.context["page"].object_list]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("supervisor", ["整治运输巷道隐患", "补齐安全培训台账", "掘进面通风整改"]),
        ("secretary", ["整治运输巷道隐患", "补齐安全培训台账"]),
        ("other_secretary", ["掘进面通风整改"]),
    ],
)
def test_each_role_sees_the_open_decisions_past_deadline_of_what_it_oversees(client, people, decisions, who, expected):
    with time_machine.travel(NOW, tick=False):
        response = client_for(client, people[who]).get(URL)
    assert response.status_code == 200
    assert sorted(titles(response)) == sorted(expected)
    page = response.content.decode()
    assert "年度发展党员计划" not in page and "更换宣传栏" not in page
    if "整治运输巷道隐患" in expected:
        assert "2026年3月8日 10:00" in page and "李党员" in page


def test_an_ordinary_member_is_refused_and_anonymous_sent_to_sign_in(client, people, decisions):
    with time_machine.travel(NOW, tick=False):
        assert client_for(client, people["member"]).get(URL).status_code == 403
        client.logout()
        response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_nothing_open_says_so(client, secretary):
    page = client_for(client, secretary).get(URL).content.decode()
    assert "没有逾期未落实的议定事项。" in page


@pytest.mark.parametrize("count", [1, 25])
def test_the_list_makes_the_same_queries_for_1_or_many_rows(
    client, branch, secretary, member, supervisor, count, django_assert_num_queries
):
    for n in range(count):
        decision_task(branch, member.member, f"议定事项{n}")
    c = client_for(client, supervisor)
    with time_machine.travel(NOW, tick=False), django_assert_num_queries(QUERIES):
        response = c.get(URL)
    assert len(titles(response)) == min(count, 20)


# Session, user, scope (staff roles and member), the count, the navbar's inbox badge and its
# member, the page of rows (organisation, owner and meeting joined), and the session saved
# (3 with its savepoint).
QUERIES = 8
