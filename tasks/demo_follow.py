"""议定事项 and 补学 in every state for the demo mine (called from ``seed_demo_activity``).

The demo's meetings are written in bulk, not through ``meeting_submit``, so the hooks never ran
for them: this marks decisions on 综采一队's two latest committee meetings and makes the 补学 of
its latest meetings that members with a login missed, through the same callbacks and the task
lifecycle, then moves each to a state (待办, 办理中, 已提交, 已退回, 已完成, 逾期).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction

from meetings.models import AgendaItem, Attendance, Meeting
from org.clock import local_date
from org.models import Member, Organization

from .follow import MISSED, create_decision_tasks, create_makeup_tasks
from .models import MakeupStudy, Task
from .services import task_accept, task_report, task_return, task_start

DAY = dt.timedelta(days=1)
BRANCH = "综采一队党支部"
SECRETARY = "shuji"
REFLECTION = (
    "认真阅读了本次会议记录，学习了矿党委关于安全生产的工作部署。作为一线采煤工人，我要从自身岗位做起，"
    "班前认真排查顶板和设备隐患，严格执行操作规程，不违章、不冒险；同时主动帮带新工人，"
    "把会议精神落实到每一个班次的安全生产中，以实际行动发挥党员先锋模范作用。"
)
DECISIONS = ("整治综采工作面顶板隐患", "完善班组安全确认制度", "组织入党积极分子培训", "更新党员责任区公示牌")
# When each of the six 补学 was made (newest first): 待办, 办理中, 已提交, 已退回 in their 14 days; 逾期; 已完成.
MAKEUP_DAYS_AGO = (3, 5, 7, 9, 20, 25)
HELD = (Meeting.Status.SUBMITTED, Meeting.Status.APPROVED, Meeting.Status.RETURNED)


@transaction.atomic
def seed_follow(*, now: dt.datetime) -> int:
    """Decisions (done, open, overdue, reported) and 补学 in every state; returns the tasks made (0 if seeded)."""
    branch = Organization.objects.branches().filter(name=BRANCH).first()
    secretary = get_user_model().objects.filter(username=SECRETARY).first()
    if branch is None or secretary is None:
        return 0
    if Task.objects.filter(source__in=[Task.Source.DECISION, Task.Source.MAKEUP]).exists():
        return 0
    logins = list(
        Member.objects.of_organization_on(branch, local_date(now)).filter(user__isnull=False).order_by("name", "id")
    )
    return _decisions(branch, secretary, logins, now=now) + _makeups(branch, secretary, now=now)


def _decisions(branch, secretary, logins: list[Member], *, now: dt.datetime) -> int:
    meetings = list(
        Meeting.objects.filter(branch=branch, types__code="committee_meeting", status__in=HELD)
        .order_by("-planned_start")
        .prefetch_related("agenda_items")[:2]
    )
    if len(meetings) < 2 or not logins:
        return 0
    made = 0
    # The older meeting: one decision done on time, one overdue. The latest: one open, one reported.
    for meeting, due_days in ((meetings[1], (-20, -5)), (meetings[0], (20, 25))):
        created = now - 28 * DAY if meeting is meetings[1] else now - 3 * DAY
        after = len(meeting.agenda_items.all())
        titles = DECISIONS[0:2] if meeting is meetings[1] else DECISIONS[2:4]
        for n, (title, days) in enumerate(zip(titles, due_days, strict=True)):
            AgendaItem.objects.create(
                meeting=meeting,
                order=after + n + 1,
                title=title,
                is_decision=True,
                decision_owner=logins[(made + n) % len(logins)],
                decision_due_on=local_date(now + days * DAY),
            )
        tasks = create_decision_tasks(meeting=meeting, user=secretary, now=created)
        made += len(tasks)
        if meeting is meetings[1] and tasks:
            task_report(
                task=tasks[0], user=tasks[0].owner.user, text="已按期整改完毕，详见整改记录。", now=created + 5 * DAY
            )
            task_accept(task=tasks[0], user=secretary, now=created + 6 * DAY)
        if meeting is meetings[0] and len(tasks) > 1:
            task_start(task=tasks[0], user=tasks[0].owner.user, now=created + DAY)
            task_report(task=tasks[1], user=tasks[1].owner.user, text="已组织落实。", now=created + 2 * DAY)
    return made


def _makeups(branch, secretary, *, now: dt.datetime) -> int:
    """The latest meetings a member with a login missed, one state each (newest: 待办 … oldest: 已完成)."""
    missed = Attendance.objects.filter(
        meeting__branch=branch, meeting__status__in=HELD, status__in=MISSED, member__user__isnull=False
    ).filter(meeting__types__makeup_rule__is_enabled=True)
    meeting_ids = list(dict.fromkeys(missed.order_by("-meeting__planned_start").values_list("meeting_id", flat=True)))[
        :6
    ]
    made = 0
    for i, meeting in enumerate(Meeting.objects.filter(pk__in=meeting_ids).order_by("-planned_start")):
        created = now - MAKEUP_DAYS_AGO[i] * DAY
        tasks = create_makeup_tasks(meeting=meeting, user=secretary, now=created)
        made += len(tasks)
        if not tasks:
            continue
        task = tasks[0]
        user = task.owner.user
        if i >= 1 and i != 4:  # read the record (i == 4 stays unread: overdue)
            MakeupStudy.objects.filter(task=task).update(minutes_opened_at=created + DAY)
        if i == 1:
            task_start(task=task, user=user, now=created + DAY)  # 办理中
        elif i in (2, 3, 5):
            task_report(task=task, user=user, text=REFLECTION, now=created + 2 * DAY)  # 已提交
            if i == 3:
                task_return(task=task, user=secretary, reason="请结合本岗位谈谈具体打算。", now=created + 3 * DAY)
            if i == 5:
                task_accept(task=task, user=secretary, now=created + 3 * DAY)  # 已完成
    return made
