"""The item kind "上级交办任务按期完成": one deduction per dispatched task overdue or returned twice; off as shipped."""

import datetime as dt
from decimal import Decimal

import pytest

from assessment.models import GradeBand, Item, Scheme
from assessment.scoring import compute_scores
from tasks.models import Task
from tasks.services import task_create

pytestmark = pytest.mark.django_db

START, END = dt.date(2031, 4, 1), dt.date(2031, 7, 1)
MADE = dt.datetime(2031, 4, 1, 1, 0, tzinfo=dt.UTC)
DUE = dt.datetime(2031, 6, 15, 16, 0, tzinfo=dt.UTC)  # 2031-06-16 00:00 at the mine: "6月15日 24:00"
NOW = dt.datetime(2031, 7, 1, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def scheme():
    scheme = Scheme.objects.create(year=2031, name="小支部考核")
    Item.objects.create(
        scheme=scheme,
        category="督办落实",
        name="上级交办任务按期完成",
        max_points=5,
        kind=Item.Kind.DISPATCH_ON_TIME,
        per_unit=Decimal("1"),
    )
    GradeBand.objects.create(scheme=scheme, name="合格", min_score=0)
    return scheme


def dispatched(branch, owner, title, **fields):
    task = task_create(organization=branch, owner=owner, title=title, due_at=DUE, now=MADE, source=Task.Source.DISPATCH)
    Task.objects.filter(pk=task.pk).update(**fields)
    return task


def reasons(scheme, branch):
    result = compute_scores(scheme=scheme, kind="quarter", branches=[branch], start=START, end=END, now=NOW)
    [item] = result.for_branch(branch.pk).items
    return [(line.points, line.reason) for line in item.lines], item.points


def test_one_overdue_task_costs_one_deduction_with_a_chinese_reason(scheme, branch, secretary):
    dispatched(branch, secretary.member, "六月组织生活指南", status=Task.Status.IN_PROGRESS)
    lines, points = reasons(scheme, branch)
    assert lines == [(Decimal("1"), "上级交办任务“六月组织生活指南”逾期未完成（期限 2031年6月15日 24:00） −1")]
    assert points == Decimal("4.00")


def test_a_task_returned_twice_costs_one_even_when_done_in_time(scheme, branch, secretary):
    dispatched(
        branch,
        secretary.member,
        "安全生产月活动",
        status=Task.Status.DONE,
        return_count=2,
        submitted_at=DUE - dt.timedelta(days=1),
        completed_at=DUE - dt.timedelta(hours=1),
    )
    lines, _points = reasons(scheme, branch)
    assert lines == [(Decimal("1"), "上级交办任务“安全生产月活动”被退回 2 次（期限 2031年6月15日 24:00） −1")]


def test_a_task_done_on_time_and_returned_once_costs_nothing(scheme, branch, secretary):
    dispatched(
        branch,
        secretary.member,
        "七一慰问",
        status=Task.Status.DONE,
        return_count=1,
        submitted_at=DUE - dt.timedelta(days=1),
        completed_at=DUE - dt.timedelta(hours=1),
    )
    dispatched(branch, secretary.member, "已取消的任务", status=Task.Status.CANCELLED)
    lines, points = reasons(scheme, branch)
    assert lines == []
    assert points == Decimal("5.00")


def test_a_task_late_and_returned_twice_costs_once(scheme, branch, secretary):
    dispatched(
        branch,
        secretary.member,
        "党费收缴",
        status=Task.Status.DONE,
        return_count=3,
        submitted_at=DUE + dt.timedelta(days=1),
        completed_at=DUE + dt.timedelta(days=2),
    )
    lines, _points = reasons(scheme, branch)
    assert [r for _p, r in lines] == ["上级交办任务“党费收缴”逾期完成，被退回 3 次（期限 2031年6月15日 24:00） −1"]


def test_the_shipped_scheme_has_no_such_item():
    assert not Item.objects.filter(kind=Item.Kind.DISPATCH_ON_TIME).exists()
