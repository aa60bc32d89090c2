"""The task sweeps (style.md rules 2-4): reminders before and on the due day, overdue, escalation.

Each step is a conditional update of its own timestamp (``reminded_at``, ``reminded_due_day_at``,
``overdue_at``, ``escalated_at``) in its own transaction with its notices, and each notice carries
a dedupe key: a sweep that runs twice, or two that overlap, send everything once. Days are local
(Asia/Shanghai): a deadline at 24:00 of a day is due on that day and overdue from the next minute.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from bulletin.services import notify
from org.clock import deadline_text, local_date, local_midnight
from org.history import record_history
from org.models import Post
from org.selectors import holders_of
from supervision.services.findings import committee_users

from .models import Task, TaskEvent, TaskPolicy


def _url(task: Task) -> str:
    return reverse("tasks:detail", args=[task.pk])


def _rows(qs: QuerySet[Task]) -> list[Task]:
    return list(qs.select_related("owner__user", "organization", "assigned_by").order_by("due_at", "id"))


def _secretaries(tasks: list[Task], on: dt.date) -> dict[int, object]:
    holders = holders_of({t.organization_id for t in tasks}, Post.Role.SECRETARY, on=on)
    return {org_id: m.user for org_id, m in holders.items() if m.user_id}


def _owner_users(task: Task) -> list:
    return [task.owner.user] if task.owner.user_id else []


def _remind(tasks: list[Task], field: str, *, now: dt.datetime, key: str, subject: str) -> int:
    sent = 0
    for task in tasks:
        with transaction.atomic():
            changed = Task.objects.filter(
                pk=task.pk, status__in=Task.OPEN_STATUSES, **{f"{field}__isnull": True}
            ).update(**{field: now})
            if changed != 1:
                continue
            notify(
                recipients=_owner_users(task),
                subject=subject.format(title=task.title),
                body=_("请于 {deadline} 前完成并提交办理情况。").format(deadline=deadline_text(task.due_at)),
                url=_url(task),
                dedupe_key=f"task:{task.pk}:{key}",
                now=now,
            )
            sent += 1
    return sent


def tasks_sweep(*, now: dt.datetime) -> dict[str, int]:
    """Remind, flag overdue and escalate open tasks; every step and notice happens once."""
    policy = TaskPolicy.current()
    today = local_date(now)
    open_ = Q(status__in=Task.OPEN_STATUSES, overdue_at__isnull=True)
    tomorrow = local_midnight(today + dt.timedelta(days=1))
    # Due on a later day, but within N days: the early reminder.
    early = _rows(
        Task.objects.filter(
            open_,
            reminded_at__isnull=True,
            due_at__gt=tomorrow,
            due_at__lte=local_midnight(today + dt.timedelta(days=policy.remind_days_before + 1)),
        )
    )
    counts = {"reminded": _remind(early, "reminded_at", now=now, key="remind", subject=_("任务即将到期：{title}"))}
    # Due today (a deadline at 24:00 today included) and not past yet.
    today_rows = _rows(
        Task.objects.filter(open_, reminded_due_day_at__isnull=True, due_at__gt=now, due_at__lte=tomorrow)
    )
    counts["due_today"] = _remind(
        today_rows, "reminded_due_day_at", now=now, key="due-today", subject=_("任务今日到期：{title}")
    )

    overdue = _rows(Task.objects.filter(open_, due_at__lt=now))
    secretaries = _secretaries(overdue, today) if overdue else {}
    counts["overdue"] = 0
    for task in overdue:
        with transaction.atomic():
            changed = Task.objects.filter(pk=task.pk, status__in=Task.OPEN_STATUSES, overdue_at__isnull=True).update(
                overdue_at=now
            )
            if changed != 1:
                continue
            TaskEvent.objects.create(task=task, action=TaskEvent.Action.OVERDUE, at=now)
            record_history(Task, task.pk, user=None, now=now, reason=TaskEvent.Action.OVERDUE.label)
            recipients = [*_owner_users(task), *([task.assigned_by] if task.assigned_by_id else [])]
            if task.organization_id in secretaries:
                recipients.append(secretaries[task.organization_id])
            notify(
                recipients=recipients,
                subject=_("任务已逾期：{org} {title}").format(org=task.organization.name, title=task.title),
                body=_("完成期限 {deadline} 已过，责任人 {owner} 尚未提交办理情况。").format(
                    deadline=deadline_text(task.due_at), owner=task.owner.name
                ),
                url=_url(task),
                dedupe_key=f"task:{task.pk}:overdue",
                now=now,
            )
            counts["overdue"] += 1

    to_escalate = _rows(
        Task.objects.filter(
            status__in=Task.OPEN_STATUSES,
            overdue_at__isnull=False,
            escalated_at__isnull=True,
            due_at__lt=now - dt.timedelta(days=policy.escalate_days_after),
        )
    )
    committee = committee_users() if to_escalate else []
    counts["escalated"] = 0
    for task in to_escalate:
        with transaction.atomic():
            changed = Task.objects.filter(pk=task.pk, status__in=Task.OPEN_STATUSES, escalated_at__isnull=True).update(
                escalated_at=now
            )
            if changed != 1:
                continue
            days = (now - task.due_at).days
            note = _("逾期 {days} 天仍未完成").format(days=days)
            TaskEvent.objects.create(task=task, action=TaskEvent.Action.ESCALATED, at=now, note=note)
            notify(
                recipients=committee,
                subject=_("督办任务逾期上报：{org} {title}").format(org=task.organization.name, title=task.title),
                body=note,
                url=_url(task),
                dedupe_key=f"task:{task.pk}:escalated",
                now=now,
            )
            counts["escalated"] += 1
    return counts
