"""What the tasks app makes of a meeting: 议定事项 followed up, and 补学 for those who missed it.

Registered into ``meetings.hooks`` by ``TasksConfig.ready``; meetings never imports this.
Every callback runs inside the caller's transaction and is idempotent: a record saved,
returned and resubmitted makes each task once (and the unique constraints say so too).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from bulletin.services import notify
from meetings.models import AgendaItem, Attendance, Meeting
from org.clock import date_label, local_date, local_midnight

from .models import MakeupRule, MakeupSkip, MakeupStudy, Task
from .services import owner_problem, task_cancel, task_create
from .sources import proof_of
from .states import task_progress

# The meetings that decide (支委会, 党员大会): the same codes as meetings.services.RESOLUTION_TYPES.
DECIDING_CODES = ("committee_meeting", "general_meeting")
FOLLOW_UP_TITLE = "上次会议议定事项落实情况"


def decision_due_at(due_on: dt.date) -> dt.datetime:
    """A decision's deadline day as the task's ``due_at``: the end of that day at the mine (24:00)."""
    return local_midnight(due_on + dt.timedelta(days=1))


# --- 议定事项 ----------------------------------------------------------------------------


def decision_owner_problem(*, meeting: Meeting, owner, due_on: dt.date | None, now: dt.datetime) -> str:
    """The agenda form asks the one owner rule of tasks (``owner_problem``) of the branch."""
    return owner_problem(organization=meeting.branch, owner=owner, on=local_date(now))


def create_decision_tasks(*, meeting: Meeting, user, now: dt.datetime) -> list[Task]:
    """One task per 议定事项 of the record that has none yet (a resubmission adds only new ones)."""
    items = list(
        AgendaItem.objects.filter(meeting=meeting, is_decision=True)
        .exclude(tasks__source=Task.Source.DECISION)
        .select_related("decision_owner")
        .order_by("order", "id")
    )
    made = []
    for item in items:
        try:
            made.append(
                task_create(
                    organization=meeting.branch,
                    owner=item.decision_owner,
                    title=item.title,
                    description=_("{date}{types}议定事项").format(
                        date=date_label(meeting.held_on), types="、".join(t.name for t in meeting.types.all())
                    ),
                    due_at=decision_due_at(item.decision_due_on) if item.decision_due_on else now,
                    now=now,
                    assigned_by=user,
                    source=Task.Source.DECISION,
                    meeting=meeting,
                    agenda_item=item,
                )
            )
        except ValidationError as error:
            raise ValidationError(
                [
                    _("议定事项“{title}”：{problem}请修改议题中的责任人或落实期限后再提交。").format(
                        title=item.title, problem=message
                    )
                    for message in error.messages
                ]
            ) from None
    return made


WITHDRAWN_REASON = "议定事项已撤销"


def cancel_withdrawn_decisions(*, meeting: Meeting, item_ids: list[int], user, now: dt.datetime) -> list[Task]:
    """The tasks of 议定事项 un-marked or deleted from the record are cancelled (history kept), the owner told.

    Only tasks still live; a finished one stays finished. The task keeps its row and timeline
    (the agenda item's link turns empty if the item is deleted).
    """
    tasks = list(
        Task.objects.filter(source=Task.Source.DECISION, meeting=meeting, agenda_item_id__in=item_ids)
        .filter(status__in=Task.LIVE_STATUSES)
        .select_related("owner__user")
    )
    for task in tasks:
        task_cancel(task=task, user=user, reason=_(WITHDRAWN_REASON), now=now)
        if task.owner.user_id:
            notify(
                recipients=[task.owner.user],
                subject=_("任务已取消：{title}").format(title=task.title),
                body=_("{date}会议的议定事项“{title}”已从会议记录中撤销，该任务已取消，无需再办理。").format(
                    date=date_label(meeting.held_on), title=task.title
                ),
                url=reverse("tasks:detail", args=[task.pk]),
                dedupe_key=f"task:{task.pk}:decision-withdrawn",
                now=now,
            )
    return tasks


def previous_decisions(meeting: Meeting) -> list[Task]:
    """The decisions to report on at ``meeting``: those of the same body's last meeting, and older ones still live.

    The same body: the same branch and group, sharing a deciding type (支委会 after 支委会).
    """
    codes = [t.code for t in meeting.types.all() if t.code in DECIDING_CODES]
    if not codes:
        return []
    earlier = (
        Meeting.objects.filter(branch_id=meeting.branch_id, group_id=meeting.group_id, types__code__in=codes)
        .filter(status__in=Meeting.HELD_STATUSES, planned_start__lt=meeting.planned_start)
        .exclude(pk=meeting.pk)
    )
    last = earlier.order_by("-planned_start", "-id").values_list("pk", flat=True).first()
    if last is None:
        return []
    return list(
        Task.objects.filter(source=Task.Source.DECISION, meeting__in=earlier.values("pk"))
        .filter(Q(meeting_id=last) | Q(status__in=Task.LIVE_STATUSES))
        .select_related("owner", "agenda_item")
        .order_by("meeting__planned_start", "agenda_item__order", "id")
    )


def follow_up_line(tasks: list[Task], *, now: dt.datetime) -> str:
    """The agenda line "上次会议议定事项落实情况：1. … （责任人，状态）；…"."""
    parts = [
        _("{n}. {title}（{owner}，{state}）").format(
            n=n, title=task.title, owner=task.owner.name, state=task_progress(task, now=now).label
        )
        for n, task in enumerate(tasks, start=1)
    ]
    return f"{FOLLOW_UP_TITLE}：{'；'.join(parts)}"


def decisions_agenda_prefill(*, meeting: Meeting, now: dt.datetime) -> list[str]:
    tasks = previous_decisions(meeting)
    return [follow_up_line(tasks, now=now)] if tasks else []


# --- 补学 ------------------------------------------------------------------------------


def makeup_rule_for(meeting: Meeting) -> tuple[int, int] | None:
    """(due days, minimum reflection length) for the meeting, or None when none of its types asks for 补学.

    A combined meeting takes the strictest of its enabled types: the fewest days, the longest reflection.
    """
    rules = list(MakeupRule.objects.filter(meeting_type__meetings=meeting, is_enabled=True))
    if not rules:
        return None
    return min(r.due_days for r in rules), max(r.min_reflection_chars for r in rules)


MISSED = (Attendance.Status.LEAVE, Attendance.Status.ABSENT)


def create_makeup_tasks(*, meeting: Meeting, user, now: dt.datetime) -> list[Task]:
    """One 补学 task per member on leave or absent, owned by that member; a member who cannot own one is recorded."""
    rule = makeup_rule_for(meeting)
    if rule is None:
        return []
    days, min_chars = rule
    done = set(
        Task.objects.filter(meeting=meeting, source=Task.Source.MAKEUP).values_list("owner_id", flat=True)
    ) | set(MakeupSkip.objects.filter(meeting=meeting).values_list("member_id", flat=True))
    rows = meeting.attendances.filter(status__in=MISSED).exclude(member_id__in=done).select_related("member")
    due_at = local_midnight(local_date(now) + dt.timedelta(days=days + 1))
    made = []
    for row in rows:
        member = row.member
        problem = owner_problem(organization=meeting.branch, owner=member, on=local_date(now))
        if problem:
            MakeupSkip.objects.create(meeting=meeting, member=member, reason=problem, created_at=now)
            continue
        task = task_create(
            organization=meeting.branch,
            owner=member,
            title=_("补学：{topic}").format(topic=meeting.topic),
            description=_(
                "您{status}了{date}的{types}。请阅读会议记录，并写下不少于 {n} 字的学习心得；书记确认后完成。"
                "补学不改变当次会议的出席记录。"
            ).format(
                status=Attendance.Status(row.status).label,
                date=date_label(meeting.held_on),
                types="、".join(t.name for t in meeting.types.all()),
                n=min_chars,
            ),
            due_at=due_at,
            now=now,
            assigned_by=user,
            source=Task.Source.MAKEUP,
            meeting=meeting,
        )
        MakeupStudy.objects.create(task=task, min_reflection_chars=min_chars)
        made.append(task)
    return made


def record_minutes_opened(*, meeting: Meeting, member, now: dt.datetime) -> int:
    """The member opened the record of a meeting they missed: the reading half of 补学, kept once."""
    return MakeupStudy.objects.filter(
        task__meeting=meeting, task__owner=member, task__source=Task.Source.MAKEUP, minutes_opened_at__isnull=True
    ).update(minutes_opened_at=now)


def reflection_length(text: str) -> int:
    """The length a reflection is measured by: characters, not counting spaces and line breaks."""
    return len("".join(text.split()))


def makeup_report_problems(task: Task, text: str, files=()) -> list[str]:
    """The report rule of a 补学 task: the record was read, and the reflection is long enough.

    Or, registered by a higher app (study: the meeting's recording finished), another proof.
    """
    if proof_of(task):
        return []
    problems = []
    study = MakeupStudy.objects.filter(task=task).first()
    if study is None or study.minutes_opened_at is None:
        problems.append(_("请先打开并阅读本次会议的会议记录，再提交补学心得。"))
    need = study.min_reflection_chars if study else 0
    have = reflection_length(text)
    if have < need:
        problems.append(_("学习心得至少 {need} 字（不计空格和换行），现在 {have} 字。").format(need=need, have=have))
    return problems
