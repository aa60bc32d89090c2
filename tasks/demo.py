"""Dispatched tasks in every state for the demo mine (called from ``seed_demo_activity``)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction

from org.models import Organization, Post
from org.selectors import holders_of

from .models import Dispatch
from .reminders import tasks_sweep
from .services import dispatch_send, task_accept, task_report, task_return, task_start

DAY = dt.timedelta(days=1)


@transaction.atomic
def seed_tasks(*, now: dt.datetime) -> int:
    """Four directives to the branches whose 书记 has a login, their tasks in every state; returns the tasks made."""
    user_model = get_user_model()
    sender = user_model.objects.filter(username="supervisor").first()
    if sender is None or Dispatch.objects.exists():
        return 0
    branches = list(Organization.objects.branches().active().order_by("sort_order", "id"))
    holders = holders_of([b.pk for b in branches], Post.Role.SECRETARY, on=now.date())
    recipients = [b for b in branches if b.pk in holders and holders[b.pk].user_id][:2]
    if len(recipients) < 2:
        return 0

    def send(title, created, due):
        dispatch = dispatch_send(
            title=title,
            description="请按要求组织学习，并上传会议照片和学习记录。",
            due_at=now + due,
            audience=Dispatch.Audience.CHOSEN,
            organizations=recipients,
            user=sender,
            now=now + created,
        )
        return list(
            dispatch.tasks.select_related("owner__user").order_by("organization__sort_order", "organization_id")
        )

    def report(task, at, text="已按要求完成，详见记录。"):
        task_report(task=task, user=task.owner.user, text=text, now=now + at)

    first, second = send("五月组织生活指南", -40 * DAY, -10 * DAY)
    report(first, -20 * DAY)
    task_accept(task=first, user=sender, now=now - 15 * DAY)  # 按期完成
    report(second, -5 * DAY)
    task_accept(task=second, user=sender, now=now - 4 * DAY)  # 逾期完成

    first, second = send("学习矿党委安全生产工作部署", -20 * DAY, -2 * DAY)
    task_start(task=first, user=first.owner.user, now=now - 18 * DAY)  # 逾期未完成
    report(second, -1 * DAY)  # 已提交（逾期后提交）

    first, second = send("六月组织生活指南", -3 * DAY, 14 * DAY)
    task_start(task=second, user=second.owner.user, now=now - 2 * DAY)  # 办理中; the first stays 待办

    first, second = send("开展“安全生产月”主题党日", -6 * DAY, 10 * DAY)
    report(first, -4 * DAY, "已开展主题党日。")
    task_return(task=first, user=sender, reason="请补充活动照片。", now=now - 3 * DAY)  # 已退回
    report(second, -2 * DAY)  # 已提交
    tasks_sweep(now=now)
    return 8
