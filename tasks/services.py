"""Every write to tasks: create, and (issue 10) dispatch, hand over, report, accept, return, cancel."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from pathlib import PurePosixPath

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from org.history import record_history
from org.models import Member, Organization, Post
from org.selectors import active_on, holders_of
from supervision.models import evidence_storage
from supervision.services.evidence import checked_uploads

from .models import Dispatch, Task, TaskEvent, TaskReport, TaskReportFile
from .report_files import enqueue_report_files
from .sources import report_problems


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
    TaskEvent.objects.create(task=task, action=TaskEvent.Action.CREATED, by=assigned_by, at=now)
    return task


# --- The lifecycle -----------------------------------------------------------------------
# Every step flips ``status`` with a conditional update (style.md rule 3): a step taken twice,
# or after another step meanwhile, changes nothing and says why. ``record_history`` keeps the
# actor in the simple_history rows; ``TaskEvent`` is the timeline shown on the task page.

NOT_OPEN_MESSAGE = _("该任务已提交、已完成或已取消，不能再提交办理情况。")


def _event(task: Task, action: str, *, user, now: dt.datetime, note: str = "") -> TaskEvent:
    return TaskEvent.objects.create(task=task, action=action, by=user, at=now, note=note)


def _refused_because(task: Task, default: str) -> str:
    """Why a step found the task in another state: cancelled meanwhile reads differently."""
    status = Task.objects.filter(pk=task.pk).values_list("status", flat=True).first()
    if status == Task.Status.CANCELLED:
        return _("该任务已被取消，不能再办理。")
    if status == Task.Status.DONE:
        return _("该任务已经验收完成。")
    return default


def _after_flip(task: Task, *, user, now: dt.datetime, action: str, note: str = "") -> None:
    task.refresh_from_db()
    record_history(Task, task.pk, user=user, now=now, reason=TaskEvent.Action(action).label)
    _event(task, action, user=user, now=now, note=note)


@transaction.atomic
def task_start(*, task: Task, user, now: dt.datetime) -> bool:
    """The owner starts work (待办 → 进行中); a task already started stays as it is (returns False)."""
    changed = Task.objects.filter(pk=task.pk, status=Task.Status.TODO).update(
        status=Task.Status.IN_PROGRESS, started_at=now
    )
    if changed:
        _after_flip(task, user=user, now=now, action=TaskEvent.Action.STARTED)
    return bool(changed)


@transaction.atomic
def task_hand_over(*, task: Task, owner: Member | None, helpers: Iterable[Member] = (), user, now: dt.datetime) -> Task:
    """The 书记 names another owner (never none) and the helpers of a task not finished yet."""
    problem = owner_problem(organization=task.organization, owner=owner, on=timezone.localdate(now))
    if problem:
        raise ValidationError({"owner": [problem]})
    helpers = [m for m in helpers if m.pk != owner.pk]
    for helper in helpers:
        helper_problem = owner_problem(organization=task.organization, owner=helper, on=timezone.localdate(now))
        if helper_problem:
            raise ValidationError({"helpers": [helper_problem]})
    changed = Task.objects.filter(pk=task.pk, status__in=Task.LIVE_STATUSES).update(owner=owner)
    if not changed:
        raise ValidationError(_refused_because(task, _("该任务已结束，不能再调整责任人。")))
    task.refresh_from_db()
    task.helpers.set(helpers)
    record_history(Task, task.pk, user=user, now=now, reason=TaskEvent.Action.HANDED_OVER.label)
    names = "、".join([owner.name, *[h.name for h in helpers]])
    _event(task, TaskEvent.Action.HANDED_OVER, user=user, now=now, note=_("责任人：{names}").format(names=names))
    return task


REPORT_FILE_CATEGORY = "other"


def task_report(*, task: Task, user, text: str, files: Iterable = (), now: dt.datetime, token: str = "") -> TaskReport:
    """The owner (or a helper) reports what was done: text and/or files; the task waits for the assigner (已提交).

    A second submit (the same form token, or a task already reported) is refused and stores nothing.
    """
    text = (text or "").strip()
    files = list(files)
    if not text and not files:
        raise ValidationError({"text": [_("请填写办理情况或上传附件，二者至少有一项。")]})
    problems = report_problems(task, text, files)
    if problems:
        raise ValidationError({"text": problems})
    if token and TaskReport.objects.filter(task=task, token=token).exists():
        raise ValidationError(_("这份办理情况已经提交过了，请勿重复提交。"))
    checked = checked_uploads(files=files, category=REPORT_FILE_CATEGORY)
    storage = evidence_storage()
    stored: list[str] = []
    try:
        for upload, sniffed, _digest, _size in checked:
            name = f"tasks/{timezone.localtime(now):%Y/%m}/{uuid.uuid4().hex}{sniffed.extension}"
            upload.seek(0)
            stored.append(storage.save(name, upload))
        with transaction.atomic():
            changed = Task.objects.filter(pk=task.pk, status__in=Task.OPEN_STATUSES).update(
                status=Task.Status.SUBMITTED, submitted_at=now, started_at=Coalesce(F("started_at"), Value(now))
            )
            if not changed:
                raise ValidationError(_refused_because(task, NOT_OPEN_MESSAGE))
            report = TaskReport.objects.create(task=task, text=text, submitted_by=user, submitted_at=now, token=token)
            saved = TaskReportFile.objects.bulk_create(
                TaskReportFile(
                    report=report,
                    kind=sniffed.kind,
                    original_name=PurePosixPath(str(upload.name or "file")).name[-255:],
                    content_type=sniffed.content_type,
                    size=size,
                    sha256=digest,
                    stored=name,
                )
                for (upload, sniffed, digest, size), name in zip(checked, stored, strict=True)
            )
            _after_flip(task, user=user, now=now, action=TaskEvent.Action.REPORTED, note=text[:200])
            # The served copies are made by the worker once this commits (report_files.py).
            enqueue_report_files([f.pk for f in saved])
    except BaseException:
        for name in stored:
            storage.delete(name)
        raise
    return report


@transaction.atomic
def task_accept(*, task: Task, user, now: dt.datetime) -> Task:
    """The assigner accepts the report (已提交 → 已完成); a task cancelled meanwhile is refused, unchanged."""
    changed = Task.objects.filter(pk=task.pk, status=Task.Status.SUBMITTED).update(
        status=Task.Status.DONE, completed_at=now, completed_by=user
    )
    if not changed:
        raise ValidationError(_refused_because(task, _("只有已提交的任务才能验收。")))
    _after_flip(task, user=user, now=now, action=TaskEvent.Action.ACCEPTED)
    return task


@transaction.atomic
def task_return(*, task: Task, user, reason: str, now: dt.datetime) -> Task:
    """The assigner returns the report with a reason (已提交 → 已退回); the owner works on it again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写退回原因。")]})
    changed = Task.objects.filter(pk=task.pk, status=Task.Status.SUBMITTED).update(
        status=Task.Status.RETURNED, return_reason=reason, return_count=F("return_count") + 1
    )
    if not changed:
        raise ValidationError(_refused_because(task, _("只有已提交的任务才能退回。")))
    _after_flip(task, user=user, now=now, action=TaskEvent.Action.RETURNED, note=reason)
    return task


@transaction.atomic
def task_cancel(*, task: Task, user, reason: str, now: dt.datetime) -> Task:
    """The assigner cancels a task not finished yet, with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写取消原因。")]})
    changed = Task.objects.filter(pk=task.pk, status__in=Task.LIVE_STATUSES).update(
        status=Task.Status.CANCELLED, cancelled_at=now, cancel_reason=reason
    )
    if not changed:
        raise ValidationError(_refused_because(task, _("该任务已结束，不能取消。")))
    _after_flip(task, user=user, now=now, action=TaskEvent.Action.CANCELLED, note=reason)
    return task


# --- Dispatch ----------------------------------------------------------------------------


@transaction.atomic
def dispatch_send(
    *,
    title: str,
    description: str = "",
    due_at: dt.datetime,
    audience: str,
    organizations: Iterable[Organization] = (),
    route_to_post: str = "",
    user,
    now: dt.datetime,
) -> Dispatch:
    """Send one directive down: each recipient branch gets its own task, in a fixed number of queries.

    The owner is the branch's 书记 on the day, or with ``route_to_post`` the member holding that
    post on the due date. A branch without such a holder refuses the whole dispatch, naming it.
    """
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = [_("请填写任务名称。")]
    if due_at <= now:
        errors["due_at"] = [_("完成期限必须晚于现在。")]
    if audience not in Dispatch.Audience.values:
        errors["audience"] = [_("请选择下发范围。")]
    if route_to_post and route_to_post not in Post.COMMITTEE_ROLES:
        errors["route_to_post"] = [_("请选择支委职务。")]
    if errors:
        raise ValidationError(errors)
    today = timezone.localdate(now)
    due_day = timezone.localdate(due_at)
    if audience == Dispatch.Audience.ALL_BRANCHES:
        recipients = list(Organization.objects.branches().alive_during(today, due_day).order_by("sort_order", "id"))
    else:
        recipients = sorted({o.pk: o for o in organizations}.values(), key=lambda o: (o.sort_order, o.pk))
        # The form offers only these; a caller passing anything else is refused here too.
        not_branches = [o.name for o in recipients if o.kind != Organization.Kind.BRANCH or not o.is_active]
        if not_branches:
            raise ValidationError(
                {"organizations": [_("只能下发给现有的党支部：{names}。").format(names="、".join(not_branches))]}
            )
    if not recipients:
        raise ValidationError({"organizations": [_("请至少选择一个支部。")]})
    role = route_to_post or Post.Role.SECRETARY
    on = due_day if route_to_post else today
    holders = holders_of([o.pk for o in recipients], role, on=on)
    missing = [o.name for o in recipients if o.pk not in holders or not holders[o.pk].user_id]
    if missing:
        raise ValidationError(
            {
                "route_to_post": [
                    _("以下支部没有可以承办的{role}（需有登录账号）：{names}。请先补齐职务或改选承办职务。").format(
                        role=Post.Role(role).label, names="、".join(missing)
                    )
                ]
            }
        )
    dispatch = Dispatch(
        title=title,
        description=description,
        audience=audience,
        route_to_post=route_to_post,
        due_at=due_at,
        created_by=user,
        created_at=now,
    )
    dispatch._history_user = user
    dispatch._history_date = now
    dispatch.save()
    tasks = [
        Task(
            title=title,
            description=description,
            organization=o,
            owner=holders[o.pk],
            assigned_by=user,
            source=Task.Source.DISPATCH,
            dispatch=dispatch,
            due_at=due_at,
            created_at=now,
        )
        for o in recipients
    ]
    # One INSERT for the tasks and one for their history rows (simple_history's bulk helper);
    # on SQLite and PostgreSQL bulk_create returns the primary keys the events need.
    created = bulk_create_with_history(tasks, Task, default_user=user, default_date=now)
    TaskEvent.objects.bulk_create(
        TaskEvent(task=t, action=TaskEvent.Action.CREATED, by=user, at=now, note=dispatch.get_audience_display())
        for t in created
    )
    if audience == Dispatch.Audience.COMMITTEE:
        # To the branch committee: the owner leads, the other 支委 with a login help (two queries).
        committee = Post.objects.filter(
            active_on(today),
            organization_id__in=[o.pk for o in recipients],
            role__in=Post.COMMITTEE_ROLES,
            member__user__isnull=False,
        ).values_list("organization_id", "member_id")
        by_org = {t.organization_id: t for t in created}
        through = Task.helpers.through
        through.objects.bulk_create(
            {
                (org_id, member_id): through(task_id=by_org[org_id].pk, member_id=member_id)
                for org_id, member_id in committee
                if member_id != by_org[org_id].owner_id
            }.values()
        )
    return dispatch
