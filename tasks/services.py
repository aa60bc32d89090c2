"""Every write to tasks: create, and (issue 10) dispatch, hand over, report, accept, return, cancel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from org.models import Member, Organization

from .models import Task


def owner_problem(*, organization: Organization, owner: Member | None, on: dt.date) -> str:
    """Why ``owner`` cannot own a task of ``organization`` on ``on`` ('' when they can).

    The one home of "who may own a task": a member with an account who belongs to the
    organisation (a branch, or a group of it) on the day.
    """
    if owner is None:
        return _("请指定责任人：每项任务都必须有一名责任人。")
    if not owner.user_id:
        return _("{name}还没有登录账号，不能作为责任人。").format(name=owner.name)
    if not Member.objects.of_organization_on(organization, on).filter(pk=owner.pk).exists():
        return _("{name}不是{org}的党员，不能作为责任人。").format(name=owner.name, org=organization.name)
    return ""


@transaction.atomic
def task_create(
    *,
    organization: Organization,
    owner: Member | None,
    title: str,
    due_at: dt.datetime,
    now: dt.datetime,
    assigned_by=None,
    description: str = "",
    source: str = Task.Source.OTHER,
    helpers: Iterable[Member] = (),
    meeting=None,
    agenda_item=None,
    finding=None,
    dispatch=None,
) -> Task:
    """Create one task with a named owner; refused with a message when the owner or deadline is wrong."""
    errors: dict[str, list[str]] = {}
    problem = owner_problem(organization=organization, owner=owner, on=now.date())
    if problem:
        errors["owner"] = [problem]
    if due_at <= now:
        errors["due_at"] = [_("完成期限必须晚于现在。")]
    if not title.strip():
        errors["title"] = [_("请填写任务名称。")]
    if errors:
        raise ValidationError(errors)
    task = Task(
        organization=organization,
        owner=owner,
        title=title.strip(),
        description=description,
        source=source,
        due_at=due_at,
        assigned_by=assigned_by,
        meeting=meeting,
        agenda_item=agenda_item,
        finding=finding,
        dispatch=dispatch,
        created_at=now,
    )
    task.full_clean()
    task._history_user = assigned_by
    task._history_date = now
    task.save()
    helpers = [m for m in helpers if m.pk != owner.pk]
    if helpers:
        task.helpers.set(helpers)
    return task
