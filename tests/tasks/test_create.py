"""Creating a task: the owner is required, belongs to the task's organisation and has an account."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tasks.models import Task
from tasks.services import task_create

from ..factories import MemberFactory, MembershipFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=timezone.get_default_timezone())


def _create(branch, owner, **kwargs):
    return task_create(
        organization=branch,
        owner=owner,
        title=kwargs.pop("title", "六月组织生活指南"),
        due_at=kwargs.pop("due_at", NOW + dt.timedelta(days=14)),
        now=NOW,
        **kwargs,
    )


def test_it_creates_a_task_owned_by_a_member_of_the_branch(branch, secretary, supervisor):
    task = _create(branch, secretary.member, assigned_by=supervisor, source=Task.Source.DISPATCH)
    assert task.status == Task.Status.TODO
    assert task.owner == secretary.member
    assert task.history.get().history_user == supervisor


def test_it_refuses_a_task_without_an_owner(branch):
    with pytest.raises(ValidationError) as caught:
        _create(branch, None)
    assert "请指定责任人" in str(caught.value.message_dict["owner"])
    assert not Task.objects.exists()


def test_it_refuses_an_owner_from_another_branch(branch, other_secretary):
    with pytest.raises(ValidationError) as caught:
        _create(branch, other_secretary.member)
    assert "不是综采一队党支部的党员" in caught.value.message_dict["owner"][0]


def test_it_refuses_an_owner_without_an_account(branch):
    member = MemberFactory(user=None, name="张无号")
    MembershipFactory(member=member, organization=branch)
    with pytest.raises(ValidationError) as caught:
        _create(branch, member)
    assert "还没有登录账号" in caught.value.message_dict["owner"][0]


@pytest.mark.parametrize("minutes", [0, -1])
def test_it_refuses_a_deadline_that_is_not_in_the_future(branch, secretary, minutes):
    with pytest.raises(ValidationError) as caught:
        _create(branch, secretary.member, due_at=NOW + dt.timedelta(minutes=minutes))
    assert caught.value.message_dict["due_at"] == ["完成期限必须晚于现在。"]


def test_a_deadline_one_minute_ahead_is_accepted(branch, secretary):
    assert _create(branch, secretary.member, due_at=NOW + dt.timedelta(minutes=1)).pk
