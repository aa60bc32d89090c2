"""学习任务: assign a published item to branches or members; each gets a task, done when they finish it.

The one home of:

- who is assigned (``assignment_create``): every member with a login of the chosen branches on
  the day, or the chosen members (in their branch on the day); created set-based, a fixed
  number of queries however many branches or members;
- when such a task is done (``close_study_tasks``): the member's learning record of the item
  is complete and, where the item asks for it, its quiz passed (``study.quiz.finished_member_ids``);
- the 补学 path by recording (``makeup_recording_proof``, ``submit_makeup_by_recording``): a
  missed meeting's 补学 is reported for the 书记 to confirm once the member finished a published
  item recorded from that meeting. tasks never imports this: it asks its registry (tasks/sources.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history

from bulletin.models import Notification
from bulletin.services import notify
from org.clock import date_label
from org.models import Member, Membership, Organization
from org.selectors import active_on
from tasks.models import Task, TaskEvent
from tasks.services import task_report

from .models import Assignment, AssignmentTarget, LearningRecord, StudyItem
from .quiz import finished_member_ids


def item_url(item: StudyItem) -> str:
    """The item's page in the library ('' where the library has none)."""
    try:
        return reverse("study:item_detail", args=[item.pk])
    except NoReverseMatch:
        return ""


STUDY_TASK_DONE_NOTE = gettext_lazy("学习记录已完成，任务自动完成")


def _members_by_branch(branch_ids: list[int], on: dt.date) -> dict[int, int]:
    """member id -> branch id for every member with a login in ``branch_ids`` on ``on`` (one query)."""
    rows = (
        Membership.objects.filter(active_on(on), organization_id__in=branch_ids, member__user__isnull=False)
        .order_by("member_id", "started_on", "id")
        .values_list("member_id", "organization_id")
    )
    return dict(rows)


def _branch_of_members(member_ids: list[int], on: dt.date) -> dict[int, int]:
    """member id -> their branch on ``on`` (one query); a member in no branch is missing."""
    rows = (
        Membership.objects.filter(active_on(on), member_id__in=member_ids, organization__kind=Organization.Kind.BRANCH)
        .order_by("member_id", "started_on", "id")
        .values_list("member_id", "organization_id")
    )
    return dict(rows)


def _unreached_branch_ids(item: StudyItem, branch_ids: set[int]) -> set[int]:
    """The branches whose members are not in the item's audience (study.selectors.audience_q's rule)."""
    if item.audience == StudyItem.Audience.MINE:
        return set()
    if item.audience == StudyItem.Audience.BRANCHES:
        return branch_ids - {b.pk for b in item.branches.all()}
    # An item for 书记/支委 only is not for every member of a branch.
    return branch_ids


@transaction.atomic
def assignment_create(
    *,
    item: StudyItem,
    due_at: dt.datetime,
    user,
    now: dt.datetime,
    branches: Iterable[Organization] = (),
    members: Iterable[Member] = (),
    own_branch: Organization | None = None,
    note: str = "",
    token: str = "",
) -> Assignment:
    """Assign ``item`` with a deadline: one 学习任务 per member, in a fixed number of queries.

    ``own_branch``: a 书记 assigns within that branch only (the branches and members must be of it).
    Members without a login cannot own a task and are left out (the page says how many).
    A member whose record is already finished gets the task closed at once.
    """
    branches = list({b.pk: b for b in branches}.values())
    members = list({m.pk: m for m in members}.values())
    errors: dict[str, list[str]] = {}
    if item.state != StudyItem.State.PUBLISHED:
        errors["item"] = [_("只能布置已发布的学习资料。")]
    if due_at <= now:
        errors["due_at"] = [_("完成期限必须晚于现在。")]
    if not branches and not members:
        errors["branches"] = [_("请至少选择一个支部或一名党员。")]
    if any(b.kind != Organization.Kind.BRANCH for b in branches):
        errors["branches"] = [_("只能选择党支部。")]
    if own_branch is not None and any(b.pk != own_branch.pk for b in branches):
        errors["branches"] = [_("书记只能给本支部布置学习任务。")]
    if errors:
        raise ValidationError(errors)
    if token and Assignment.objects.filter(token=token).exists():
        raise ValidationError(_("这项学习任务已经布置过了，请勿重复提交。"))

    today = timezone.localdate(now)
    targets = _members_by_branch([b.pk for b in branches], today) if branches else {}
    if members:
        chosen = _branch_of_members([m.pk for m in members], today)
        no_login = [m.name for m in members if not m.user_id]
        outside = [
            m.name for m in members if m.pk not in chosen or (own_branch is not None and chosen[m.pk] != own_branch.pk)
        ]
        if no_login or outside:
            problems = []
            if no_login:
                problems.append(_("以下党员还没有登录账号：{names}。").format(names="、".join(no_login)))
            if outside:
                problems.append(_("以下党员不在可布置的支部：{names}。").format(names="、".join(outside)))
            raise ValidationError({"members": problems})
        targets.update(chosen)
    if not targets:
        raise ValidationError({"branches": [_("所选支部没有可接收任务的党员（需有登录账号）。")]})
    unreached = _unreached_branch_ids(item, set(targets.values()))
    if unreached:
        names = (
            Organization.objects.filter(pk__in=unreached).order_by("sort_order", "id").values_list("name", flat=True)
        )
        raise ValidationError(
            {"branches": [_("这份资料没有发布到以下支部，其党员打不开：{names}。").format(names="、".join(names))]}
        )

    assignment = Assignment(
        item=item,
        audience=Assignment.Audience.MEMBERS if members else Assignment.Audience.BRANCHES,
        branch=own_branch,
        note=note.strip(),
        due_at=due_at,
        created_by=user,
        created_at=now,
        token=token,
    )
    assignment.full_clean()
    assignment._history_user = user
    assignment._history_date = now
    assignment.save()
    if branches:
        assignment.branches.set(branches)

    title = _("学习《{title}》").format(title=item.title)
    description = note.strip() or _("请在期限内学完这份学习资料；学完后任务自动完成。")
    member_ids = sorted(targets)
    tasks = [
        Task(
            title=title[:200],
            description=description,
            organization_id=targets[member_id],
            owner_id=member_id,
            assigned_by=user,
            source=Task.Source.STUDY,
            due_at=due_at,
            created_at=now,
        )
        for member_id in member_ids
    ]
    # One INSERT for the tasks, one for their history (as tasks.services.dispatch_send does).
    created = bulk_create_with_history(tasks, Task, default_user=user, default_date=now)
    TaskEvent.objects.bulk_create(
        TaskEvent(task=t, action=TaskEvent.Action.CREATED, by=user, at=now, note=_("学习任务")) for t in created
    )
    AssignmentTarget.objects.bulk_create(
        AssignmentTarget(assignment=assignment, member_id=t.owner_id, branch_id=t.organization_id, task=t)
        for t in created
    )
    notify(
        recipients=list(get_user_model().objects.filter(member__pk__in=member_ids)),
        subject=title,
        body=_("完成期限：{due}").format(due=assignment.due_text),
        url=reverse("study:assignment_todo", args=[assignment.pk]),
        channels=(Notification.Channel.INBOX,),
        now=now,
    )
    # A member who finished the item before it was assigned is done at once.
    close_study_tasks(item=item, member_ids=member_ids, now=now)
    return assignment


def close_study_tasks(*, item: StudyItem, member_ids: Iterable[int], now: dt.datetime) -> int:
    """Close the open 学习任务 of ``item`` for those of ``member_ids`` who have finished it; return how many.

    A conditional update (open → done): run twice, it closes nothing the second time.
    """
    finished = finished_member_ids(item=item, member_ids=member_ids)
    if not finished:
        return 0
    open_tasks = Task.objects.filter(
        study_target__assignment__item=item,
        study_target__member_id__in=finished,
        source=Task.Source.STUDY,
        status__in=Task.OPEN_STATUSES,
    )
    with transaction.atomic():
        changed_ids = list(open_tasks.select_for_update().values_list("pk", flat=True))
        if not changed_ids:
            return 0
        Task.objects.filter(pk__in=changed_ids, status__in=Task.OPEN_STATUSES).update(
            status=Task.Status.DONE, completed_at=now
        )
        TaskEvent.objects.bulk_create(
            TaskEvent(task_id=pk, action=TaskEvent.Action.ACCEPTED, at=now, note=str(STUDY_TASK_DONE_NOTE))
            for pk in changed_ids
        )
        # One INSERT of history rows for the flipped tasks (simple_history's bulk helper).
        Task.history.bulk_history_create(
            list(Task.objects.filter(pk__in=changed_ids)),
            update=True,
            default_date=now,
            default_change_reason=str(STUDY_TASK_DONE_NOTE),
        )
    return len(changed_ids)


# --- Completion, and 补学 by recording ------------------------------------------------------


def on_learning_completed(*, record: LearningRecord, now: dt.datetime) -> None:
    """A learning record completed (or its quiz passed): close its 学习任务, report its 补学 by recording."""
    close_study_tasks(item=record.item, member_ids=[record.member_id], now=now)
    submit_makeup_by_recording(item=record.item, member=record.member, now=now)


def _recorded_from(item: StudyItem) -> bool:
    return item.source_meeting_id is not None and item.state == StudyItem.State.PUBLISHED


def makeup_recording_proof(task: Task) -> str:
    """How a 补学 task was done by recording ('' when it was not): the member finished a published
    item recorded from the task's meeting. Registered into tasks/sources.py."""
    if task.source != Task.Source.MAKEUP or task.meeting_id is None:
        return ""
    items = StudyItem.objects.filter(source_meeting_id=task.meeting_id, state=StudyItem.State.PUBLISHED)
    for item in items:
        if task.owner_id in finished_member_ids(item=item, member_ids=[task.owner_id]):
            return _("已学完本次会议的录像《{title}》").format(title=item.title)
    return ""


def submit_makeup_by_recording(*, item: StudyItem, member: Member, now: dt.datetime) -> int:
    """Report each open 补学 task of ``member`` for the item's meeting; the 书记 then confirms (as always)."""
    if not _recorded_from(item) or not member.user_id:
        return 0
    tasks = Task.objects.filter(
        source=Task.Source.MAKEUP, meeting_id=item.source_meeting_id, owner=member, status__in=Task.OPEN_STATUSES
    )
    made = 0
    for task in tasks:
        proof = makeup_recording_proof(task)
        if not proof:
            continue
        when = date_label(timezone.localdate(now))
        task_report(task=task, user=member.user, text=f"{proof}（{when}）", now=now)
        made += 1
    return made


# --- The assigner's page -----------------------------------------------------------------


@dataclass(frozen=True)
class BranchProgress:
    branch_id: int
    name: str
    total: int
    done: int

    @property
    def missing(self) -> int:
        return self.total - self.done


def branch_progress(assignment: Assignment, *, branch_ids: Iterable[int] | None = None) -> list[BranchProgress]:
    """Per branch: members assigned and done (one grouped query)."""
    rows = AssignmentTarget.objects.filter(assignment=assignment)
    if branch_ids is not None:
        rows = rows.filter(branch_id__in=list(branch_ids))
    rows = (
        rows.values("branch_id", "branch__name", "branch__sort_order")
        .annotate(total=Count("id"), done=Count("id", filter=Q(task__status=Task.Status.DONE)))
        .order_by("branch__sort_order", "branch_id")
    )
    return [BranchProgress(r["branch_id"], r["branch__name"], r["total"], r["done"]) for r in rows]


def study_report_problems(task: Task, text: str, files=()) -> list[str]:
    """A 学习任务 is done by studying, not by writing that one did: a report is always refused."""
    return [_("学习任务在学完资料后自动完成，不能手动提交办理情况。请打开学习资料完成学习。")]


def learning_completed_received(sender, *, record: LearningRecord, now: dt.datetime, **kwargs) -> None:
    """The receiver of ``study.signals.learning_completed`` (inside the completing transaction)."""
    on_learning_completed(record=record, now=now)
