"""Dispatch: one directive, one task per branch, a fixed number of queries however many branches."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from org.models import Organization, Post
from tasks.models import Dispatch, Task, TaskEvent
from tasks.services import dispatch_send

from ..factories import BranchFactory, member_with_login

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=timezone.get_default_timezone())
DUE = dt.datetime(2026, 6, 30, 0, 0, tzinfo=timezone.get_default_timezone()) + dt.timedelta(days=1)


def _branches(n):
    branches = []
    for i in range(n):
        b = BranchFactory(name=f"第{i}党支部")
        member_with_login(branch=b, username=f"sec{i}", role=Post.Role.SECRETARY, name=f"书记{i}")
        branches.append(b)
    return branches


def _send(user, **kwargs):
    return dispatch_send(
        title=kwargs.pop("title", "六月组织生活指南"),
        description="学习……，召开组织生活会",
        due_at=kwargs.pop("due_at", DUE),
        audience=kwargs.pop("audience", Dispatch.Audience.ALL_BRANCHES),
        user=user,
        now=NOW,
        **kwargs,
    )


@pytest.mark.parametrize("n", [3, 30])
def test_dispatch_to_all_branches_costs_the_same_queries(supervisor, django_assert_num_queries, n):
    _branches(n)
    # savepoint, branches, their holders, the dispatch and its history row, the tasks, their
    # history rows, their timeline rows, release
    with django_assert_num_queries(9):
        dispatch = _send(supervisor)
    tasks = Task.objects.filter(dispatch=dispatch)
    assert tasks.count() == n
    assert Task.history.filter(dispatch_id=dispatch.pk).count() == n
    assert TaskEvent.objects.filter(task__dispatch=dispatch, action="created").count() == n
    assert {t.owner.name for t in tasks.select_related("owner")} == {f"书记{i}" for i in range(n)}
    assert set(tasks.values_list("source", flat=True)) == {Task.Source.DISPATCH}


def test_dissolved_branches_are_left_out(supervisor):
    alive, gone = _branches(2)
    Organization.objects.filter(pk=gone.pk).update(is_active=False, dissolved_on=dt.date(2026, 1, 1))
    dispatch = _send(supervisor)
    assert list(dispatch.tasks.values_list("organization", flat=True)) == [alive.pk]


def test_routed_to_a_post_the_holder_on_the_due_date_owns_it(supervisor, branch, secretary):
    propaganda = member_with_login(branch=branch, username="xc", role=Post.Role.PROPAGANDA, name="宣传委员甲")
    dispatch = _send(
        supervisor,
        audience=Dispatch.Audience.CHOSEN,
        organizations=[branch],
        route_to_post=Post.Role.PROPAGANDA,
    )
    assert dispatch.tasks.get().owner == propaganda.member


def test_a_branch_without_the_post_refuses_the_whole_dispatch_naming_it(supervisor, branch, secretary, other_branch):
    with pytest.raises(ValidationError) as caught:
        _send(supervisor, audience=Dispatch.Audience.CHOSEN, organizations=[branch, other_branch])
    message = caught.value.message_dict["route_to_post"][0]
    assert "掘进二队党支部" in message
    assert "综采一队党支部" not in message
    assert not Dispatch.objects.exists()
    assert not Task.objects.exists()


def test_a_deadline_in_the_past_is_refused(supervisor, secretary):
    with pytest.raises(ValidationError) as caught:
        _send(supervisor, due_at=NOW - dt.timedelta(minutes=1))
    assert caught.value.message_dict["due_at"] == ["完成期限必须晚于现在。"]
    assert not Dispatch.objects.exists()


def test_chosen_branches_need_at_least_one(supervisor, secretary):
    with pytest.raises(ValidationError) as caught:
        _send(supervisor, audience=Dispatch.Audience.CHOSEN, organizations=[])
    assert caught.value.message_dict["organizations"] == ["请至少选择一个支部。"]
