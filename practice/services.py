"""Every write of the practice app: a 主题党日's activities and hazards (each hazard one task), 先锋岗.

Keyword-only, ``now`` passed in, refused with a Chinese message and nothing saved. A form's
one-time ``token`` makes a second submit of the same form return what the first one saved.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from meetings.models import Meeting, MeetingType
from meetings.services import locked_message
from org.clock import day_after_end, local_date
from org.models import Member, Organization
from study.models import StudyItem
from supervision import imaging
from tasks.models import Task
from tasks.services import owner_problem, task_create

from .models import Activity, ActivityKind, Hazard, PioneerPost


def is_theme_day(meeting: Meeting) -> bool:
    """The one home of "this record takes activities and hazards": it is (also) a 主题党日."""
    return any(t.code == MeetingType.Code.THEME_DAY for t in meeting.types.all())


def _ensure_theme_day_editable(meeting: Meeting) -> None:
    if not is_theme_day(meeting):
        raise ValidationError(_("只有主题党日才能记录活动和隐患。"))
    if meeting.is_locked:
        raise ValidationError(locked_message(meeting))


# --- Activities ---------------------------------------------------------------------------


@transaction.atomic
def activity_add(
    *,
    meeting: Meeting,
    kind: ActivityKind | None,
    description: str,
    user,
    now: dt.datetime,
    study_item: StudyItem | None = None,
    token: str = "",
) -> Activity:
    """Add one activity to a 主题党日 record; a study item only for a kind that links study, and only published."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    _ensure_theme_day_editable(meeting)
    if token and (done := Activity.objects.filter(meeting=meeting, token=token).first()):
        return done
    errors: dict[str, list[str]] = {}
    description = (description or "").strip()
    if kind is None or not kind.active:
        errors["kind"] = [_("请选择活动形式。")]
    if not description:
        errors["description"] = [_("请填写活动内容。")]
    if study_item is not None:
        if kind is not None and not kind.links_study:
            errors["study_item"] = [_("“{kind}”不关联学习资料。").format(kind=kind.name)]
        elif study_item.state != StudyItem.State.PUBLISHED:
            errors["study_item"] = [_("只能关联已发布的学习资料。")]
    if errors:
        raise ValidationError(errors)
    order = Activity.objects.filter(meeting=meeting).count() + 1
    activity = Activity(
        meeting=meeting,
        kind=kind,
        description=description,
        study_item=study_item,
        order=order,
        token=token,
        created_at=now,
    )
    activity.full_clean()
    activity._history_user = user
    activity._history_date = now
    activity.save()
    return activity


@transaction.atomic
def activity_delete(*, activity: Activity, user, now: dt.datetime) -> None:
    meeting = Meeting.objects.select_for_update().get(pk=activity.meeting_id)
    _ensure_theme_day_editable(meeting)
    activity._history_user = user
    activity._history_date = now
    activity.delete()


# --- Hazards ------------------------------------------------------------------------------


def hazard_problems(*, meeting: Meeting, owner: Member | None, due_on: dt.date | None, now: dt.datetime) -> dict:
    """What is wrong with a hazard's owner and deadline: the owner rule of tasks, a deadline from today on."""
    errors: dict[str, list[str]] = {}
    if problem := owner_problem(organization=meeting.branch, owner=owner, on=local_date(now)):
        errors["owner"] = [problem]
    if due_on is None:
        errors["due_on"] = [_("请填写整改期限。")]
    elif due_on < local_date(now):
        errors["due_on"] = [_("整改期限不能早于今天。")]
    return errors


def _task_title(hazard: Hazard) -> str:
    return _("隐患整改：{location} {description}").format(
        location=hazard.location, description=hazard.description[:60]
    )[:200]


@transaction.atomic
def hazard_ensure_task(*, hazard: Hazard, user, now: dt.datetime) -> Task:
    """The hazard's task, made once: the hazard row is locked and its ``task`` set from empty only."""
    # of=self: only the hazard row is locked (PostgreSQL refuses FOR UPDATE on the nullable side
    # of the outer join to its task)
    hazard = (
        Hazard.objects.select_for_update(of=("self",))
        .select_related("meeting__branch", "owner", "task")
        .get(pk=hazard.pk)
    )
    if hazard.task is not None:
        return hazard.task
    task = task_create(
        organization=hazard.meeting.branch,
        owner=hazard.owner,
        title=_task_title(hazard),
        description=_("{severity}隐患，{meeting}发现。整改完成后请上传整改后的现场照片。").format(
            severity=hazard.get_severity_display(), meeting=hazard.meeting.topic or _("主题党日")
        ),
        due_at=day_after_end(hazard.due_on),
        now=now,
        assigned_by=user,
        source=Task.Source.HAZARD,
        meeting=hazard.meeting,
    )
    changed = Hazard.objects.filter(pk=hazard.pk, task__isnull=True).update(task=task)
    if not changed:  # unreachable under the row lock; kept so a second task can never be kept
        raise ValidationError(_("该隐患已生成整改任务。"))
    return task


@transaction.atomic
def hazard_add(
    *,
    meeting: Meeting,
    description: str,
    location: str,
    severity: str,
    owner: Member | None,
    due_on: dt.date | None,
    user,
    now: dt.datetime,
    token: str = "",
) -> Hazard:
    """Record a hazard named at a 主题党日 and make its task for the owner (once)."""
    meeting = Meeting.objects.select_for_update().select_related("branch").get(pk=meeting.pk)
    _ensure_theme_day_editable(meeting)
    if token and (done := Hazard.objects.filter(meeting=meeting, token=token).first()):
        return done
    errors = hazard_problems(meeting=meeting, owner=owner, due_on=due_on, now=now)
    description, location = (description or "").strip(), (location or "").strip()
    if not description:
        errors["description"] = [_("请填写隐患描述。")]
    if not location:
        errors["location"] = [_("请填写隐患所在地点。")]
    if severity not in Hazard.Severity.values:
        errors["severity"] = [_("请选择隐患等级。")]
    if errors:
        raise ValidationError(errors)
    hazard = Hazard(
        meeting=meeting,
        description=description,
        location=location,
        severity=severity,
        owner=owner,
        due_on=due_on,
        token=token,
        created_by=user,
        created_at=now,
    )
    hazard.full_clean()
    hazard._history_user = user
    hazard._history_date = now
    hazard.save()
    hazard_ensure_task(hazard=hazard, user=user, now=now)
    hazard.refresh_from_db()
    return hazard


@transaction.atomic
def hazard_update(*, hazard: Hazard, description: str, location: str, severity: str, user, now: dt.datetime) -> Hazard:
    """Correct a hazard's wording and severity; its task stays the one it has (owner and deadline
    change through the task's 调整责任人)."""
    meeting = Meeting.objects.select_for_update().get(pk=hazard.meeting_id)
    _ensure_theme_day_editable(meeting)
    errors: dict[str, list[str]] = {}
    description, location = (description or "").strip(), (location or "").strip()
    if not description:
        errors["description"] = [_("请填写隐患描述。")]
    if not location:
        errors["location"] = [_("请填写隐患所在地点。")]
    if severity not in Hazard.Severity.values:
        errors["severity"] = [_("请选择隐患等级。")]
    if errors:
        raise ValidationError(errors)
    hazard.description, hazard.location, hazard.severity = description, location, severity
    hazard.full_clean()
    hazard._history_user = user
    hazard._history_date = now
    hazard.save()
    hazard_ensure_task(hazard=hazard, user=user, now=now)
    return hazard


def hazard_report_problems(task: Task, text: str, files) -> list[str]:
    """A hazard is closed with a photo of the site after the work: a report without an image is refused."""
    for upload in files:
        upload.seek(0)
        head = upload.read(imaging.HEAD_BYTES)
        upload.seek(0)
        sniffed = imaging.sniff(head)
        if sniffed is not None and sniffed.kind == imaging.IMAGE:
            return []
    return [_("隐患整改须上传整改后的现场照片（JPEG、PNG 或 WebP）。")]


# --- 先锋岗 and 责任区 -----------------------------------------------------------------------


@transaction.atomic
def pioneer_post_add(
    *,
    branch: Organization,
    member: Member | None,
    kind: str,
    name: str,
    statement: str,
    started_on: dt.date | None,
    user,
    now: dt.datetime,
    ended_on: dt.date | None = None,
    token: str = "",
) -> PioneerPost:
    """Name a member of the branch to a 先锋岗 or 责任区."""
    if token and (done := PioneerPost.objects.filter(branch=branch, token=token).first()):
        return done
    errors: dict[str, list[str]] = {}
    if member is None:
        errors["member"] = [_("请选择党员。")]
    elif not Member.objects.of_organization_on(branch, local_date(now)).filter(pk=member.pk).exists():
        errors["member"] = [_("{name}不是本支部的党员。").format(name=member.name)]
    if kind not in PioneerPost.Kind.values:
        errors["kind"] = [_("请选择先锋岗或责任区。")]
    if not (name or "").strip():
        errors["name"] = [_("请填写岗位或区域名称。")]
    if not (statement or "").strip():
        errors["statement"] = [_("请填写承诺。")]
    if started_on is None:
        errors["started_on"] = [_("请填写开始日期。")]
    elif ended_on is not None and ended_on <= started_on:
        errors["ended_on"] = [_("结束日期须晚于开始日期。")]
    if errors:
        raise ValidationError(errors)
    post = PioneerPost(
        branch=branch,
        member=member,
        kind=kind,
        name=name.strip(),
        statement=statement.strip(),
        started_on=started_on,
        ended_on=ended_on,
        token=token,
    )
    post.full_clean()
    post._history_user = user
    post._history_date = now
    post.save()
    return post


@transaction.atomic
def pioneer_post_end(*, post: PioneerPost, ended_on: dt.date, user, now: dt.datetime) -> PioneerPost:
    """End a 先锋岗 from ``ended_on`` (the first day no longer held); an ended one stays ended."""
    if ended_on <= post.started_on:
        raise ValidationError({"ended_on": [_("结束日期须晚于开始日期。")]})
    changed = PioneerPost.objects.filter(pk=post.pk, ended_on__isnull=True).update(ended_on=ended_on)
    if not changed:
        raise ValidationError(_("该岗位已经结束。"))
    post.refresh_from_db()
    post._history_user = user
    post._history_date = now
    post._change_reason = _("结束")
    post.save(update_fields=["ended_on"])
    return post
