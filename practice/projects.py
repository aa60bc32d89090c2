"""Every write to 技术攻关 projects: open (with the team and milestones), edit, start, report, verify, end.

Each step flips ``Project.state`` with a conditional update (style.md rule 3) and acts only when
it changed, so a step taken twice or after another one meanwhile changes nothing and says why.
Every step writes a history row (who, when, why) and a ``ProjectEvent`` for the timeline.
A verified outcome (已验收 / 未通过) is locked: ``project_update`` and every step refuse it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePosixPath

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from bulletin.services import notify
from org.clock import local_midnight
from org.models import Member, Organization
from org.scope import get_scope
from supervision.models import evidence_storage
from supervision.services.evidence import checked_uploads
from tasks.models import Task
from tasks.services import owner_problem, task_create

from .models import Project, ProjectEvent, ProjectEvidence, ProjectMember, ProjectMilestone, VerifyingDepartment

EVIDENCE_CATEGORY = "other"
LOCKED_MESSAGE = _("该项目的成果已验收，不能再修改。")
EDITABLE_FIELDS = (
    "title",
    "problem",
    "source",
    "metric",
    "unit",
    "baseline_value",
    "target_value",
    "started_on",
)


@dataclass(frozen=True)
class Worker:
    """A non-party worker on the team, by name and post."""

    name: str
    post: str = ""


@dataclass(frozen=True)
class MilestonePlan:
    title: str
    due_on: dt.date


# --- Rules -----------------------------------------------------------------------------------


def team_member_ids(project: Project) -> set[int]:
    """The roster members of the project: its leader and its party members (reads ``team`` prefetched)."""
    ids = {project.leader_id}
    ids.update(m.member_id for m in project.team.all() if m.member_id)
    return ids


def verifier_problem(*, project: Project, department: VerifyingDepartment | None, verifier) -> str:
    """Why ``verifier`` cannot verify ``project`` for ``department`` ('' when they can).

    The one home of "who may verify": a user of an active verifying department who is neither
    the project's leader nor a member of its team (never the team itself, domain.md).
    """
    if department is None or not department.active:
        return _("请选择验收部门。")
    if verifier is None:
        return _("请指定验收人。")
    if not department.users.filter(pk=verifier.pk).exists():
        return _("{name}不是{department}的验收人员。").format(
            name=verifier.get_full_name() or verifier.username, department=department.name
        )
    member_ids = set(Member.objects.filter(user=verifier).values_list("pk", flat=True))
    if member_ids & team_member_ids(project):
        return _("验收人不能是本项目的负责人或成员，请另选{department}的其他人员。").format(department=department.name)
    return ""


def _group_problem(branch: Organization, group: Organization | None) -> str:
    if group is not None and (group.kind != Organization.Kind.GROUP or group.parent_id != branch.pk):
        return _("所选党小组不属于{branch}。").format(branch=branch.name)
    return ""


def _leader_problem(branch: Organization, leader: Member | None, on: dt.date) -> str:
    if leader is None:
        return _("请指定项目负责人：攻关项目必须有一名党员负责人。")
    if not Member.objects.of_organization_on(branch, on).filter(pk=leader.pk).exists():
        return _("{name}不是{branch}的党员，不能担任负责人。").format(name=leader.name, branch=branch.name)
    return ""


def _target_problems(*, metric: str, baseline_value, target_value) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not (metric or "").strip():
        errors["metric"] = [_("请填写目标指标（如：粉尘浓度、吨煤电耗）。")]
    if baseline_value is None:
        errors["baseline_value"] = [_("请填写基准值。")]
    if target_value is None:
        errors["target_value"] = [_("请填写目标值。")]
    if baseline_value is not None and target_value is not None and baseline_value == target_value:
        errors["target_value"] = [_("目标值不能与基准值相同。")]
    return errors


def _history(project: Project, *, user, now: dt.datetime, reason: str) -> None:
    """One history row of the project as it now is (a queryset update writes none)."""
    obj = Project.objects.get(pk=project.pk)
    obj._history_user = user
    obj._history_date = now
    obj._change_reason = reason
    obj.save(update_fields=["state"])


def _step(project: Project, state: str, *, user, now: dt.datetime, note: str = "") -> None:
    _history(project, user=user, now=now, reason=str(Project.State(state).label))
    ProjectEvent.objects.create(project=project, state=state, by=user, at=now, note=note)
    project.refresh_from_db()


def refusal(project: Project, default: str) -> str:
    state = Project.objects.filter(pk=project.pk).values_list("state", flat=True).first()
    if state in Project.DECIDED_STATES:
        return LOCKED_MESSAGE
    if state == Project.State.TERMINATED:
        return _("该项目已终止。")
    return default


# --- Opening ---------------------------------------------------------------------------------


@transaction.atomic
def project_open(
    *,
    branch: Organization,
    group: Organization | None,
    title: str,
    problem: str,
    source: str,
    leader: Member | None,
    started_on: dt.date,
    metric: str,
    unit: str,
    baseline_value: Decimal | None,
    target_value: Decimal | None,
    party_members: Iterable[Member] = (),
    workers: Iterable[Worker] = (),
    milestones: Sequence[MilestonePlan] = (),
    user,
    now: dt.datetime,
    token: str = "",
) -> Project:
    """Open (立项) a project with its team and milestones; refused as a whole, with messages, when anything is wrong.

    Each milestone becomes one task (source 攻关节点) owned by the leader, created here once.
    The same form token twice opens one project.
    """
    if token and Project.objects.filter(token=token).exists():
        raise ValidationError(_("这个项目已经立项，请勿重复提交。"))
    today = timezone.localdate(now)
    errors: dict[str, list[str]] = {}
    if not (title or "").strip():
        errors["title"] = [_("请填写项目名称。")]
    if not (problem or "").strip():
        errors["problem"] = [_("请填写要解决的问题。")]
    if source not in Project.Source.values:
        errors["source"] = [_("请选择问题来源。")]
    if problem_text := _group_problem(branch, group):
        errors["group"] = [problem_text]
    if leader_text := _leader_problem(branch, leader, today):
        errors["leader"] = [leader_text]
    if started_on is None:
        errors["started_on"] = [_("请填写开始日期。")]
    errors.update(_target_problems(metric=metric, baseline_value=baseline_value, target_value=target_value))
    party_members = [m for m in party_members if leader is None or m.pk != leader.pk]
    roster = set(Member.objects.of_organization_on(branch, today).values_list("pk", flat=True))
    outsiders = [m.name for m in party_members if m.pk not in roster]
    if outsiders:
        errors["party_members"] = [_("{names}不是本支部的党员。").format(names="、".join(outsiders))]
    workers = [w for w in workers if w.name.strip()]
    milestones = list(milestones)
    for plan in milestones:
        if not plan.title.strip() or plan.due_on is None:
            errors["milestones"] = [_("每个攻关节点须填写名称和完成日期。")]
        elif plan.due_on < today:
            errors["milestones"] = [_("攻关节点“{title}”的完成日期已过。").format(title=plan.title)]
    if milestones and leader is not None and not errors.get("leader"):
        owner_text = owner_problem(organization=branch, owner=leader, on=today)
        if owner_text:
            errors["milestones"] = [_("攻关节点由负责人办理：{why}").format(why=owner_text)]
    if errors:
        raise ValidationError(errors)
    project = Project(
        branch=branch,
        group=group,
        title=title.strip(),
        problem=problem.strip(),
        source=source,
        leader=leader,
        started_on=started_on,
        metric=metric.strip(),
        unit=(unit or "").strip(),
        baseline_value=baseline_value,
        target_value=target_value,
        created_by=user,
        created_at=now,
        token=token or None,
    )
    project.full_clean(exclude=["token"])
    project._history_user = user
    project._history_date = now
    project._change_reason = _("立项")
    try:
        with transaction.atomic():
            project.save()
    except IntegrityError as exc:  # the same token at the same moment
        raise ValidationError(_("这个项目已经立项，请勿重复提交。")) from exc
    ProjectMember.objects.bulk_create(
        [ProjectMember(project=project, member=m) for m in {m.pk: m for m in party_members}.values()]
        + [ProjectMember(project=project, name=w.name.strip()[:50], post=w.post.strip()[:50]) for w in workers]
    )
    for order, plan in enumerate(milestones, start=1):
        task = task_create(
            organization=branch,
            owner=leader,
            title=_("攻关节点：{title}").format(title=plan.title.strip())[:200],
            description=_("技术攻关项目“{project}”的节点").format(project=project.title),
            due_at=local_midnight(plan.due_on + dt.timedelta(days=1)),
            now=now,
            assigned_by=user,
            source=Task.Source.MILESTONE,
        )
        ProjectMilestone.objects.create(project=project, task=task, order=order)
    ProjectEvent.objects.create(project=project, state=Project.State.OPENED, by=user, at=now)
    return project


@transaction.atomic
def project_update(*, project: Project, user, now: dt.datetime, **values) -> Project:
    """Edit the project's description and target while it is not reported; a locked project refuses any edit."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    locked = Project.objects.select_for_update().get(pk=project.pk)
    if locked.state not in Project.EDITABLE_STATES:
        raise ValidationError(refusal(locked, _("项目已提交验收，不能再修改。")))
    for name, value in values.items():
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    errors = _target_problems(
        metric=locked.metric, baseline_value=locked.baseline_value, target_value=locked.target_value
    )
    if not locked.title:
        errors["title"] = [_("请填写项目名称。")]
    if errors:
        raise ValidationError(errors)
    locked.full_clean(exclude=["token"])
    locked._history_user = user
    locked._history_date = now
    locked._change_reason = _("修改项目信息")
    locked.save(update_fields=list(values))
    return locked


# --- The lifecycle -----------------------------------------------------------------------------


@transaction.atomic
def project_start(*, project: Project, user, now: dt.datetime) -> Project:
    """立项 → 实施中."""
    changed = Project.objects.filter(pk=project.pk, state=Project.State.OPENED).update(
        state=Project.State.IN_PROGRESS, started_at=now
    )
    if not changed:
        raise ValidationError(refusal(project, _("只有刚立项的项目才能开始实施。")))
    _step(project, Project.State.IN_PROGRESS, user=user, now=now)
    return project


def project_report(
    *,
    project: Project,
    measured_value: Decimal | None,
    money_estimate: Decimal | None,
    outcome: str,
    files: Iterable,
    department: VerifyingDepartment | None,
    verifier,
    user,
    now: dt.datetime,
) -> Project:
    """Report the outcome (实施中 → 待验收) with evidence and name the verifier; nothing saved if anything is wrong."""
    files = list(files)
    errors: dict[str, list[str]] = {}
    if measured_value is None:
        errors["measured_value"] = [_("请填写实测值。")]
    if money_estimate is not None and money_estimate < 0:
        errors["money_estimate"] = [_("经济效益估算不能为负数。")]
    if not (outcome or "").strip():
        errors["outcome"] = [_("请填写成果说明。")]
    if not files:
        errors["files"] = [_("请上传成果佐证材料（照片、检测报告等），没有佐证的成果不能提交验收。")]
    project = Project.objects.prefetch_related("team").get(pk=project.pk)
    if why := verifier_problem(project=project, department=department, verifier=verifier):
        errors["verifier"] = [why]
    if errors:
        raise ValidationError(errors)
    checked = checked_uploads(files=files, category=EVIDENCE_CATEGORY)
    storage = evidence_storage()
    stored: list[str] = []
    try:
        for _upload, sniffed, _digest, _size in checked:
            name = f"practice/{timezone.localtime(now):%Y/%m}/{uuid.uuid4().hex}{sniffed.extension}"
            _upload.seek(0)
            stored.append(storage.save(name, _upload))
        with transaction.atomic():
            changed = Project.objects.filter(pk=project.pk, state=Project.State.IN_PROGRESS).update(
                state=Project.State.REPORTED,
                measured_value=measured_value,
                money_estimate=money_estimate,
                outcome=outcome.strip(),
                reported_at=now,
                reported_by=user,
                department=department,
                verifier=verifier,
            )
            if not changed:
                raise ValidationError(refusal(project, _("只有实施中的项目才能提交验收。")))
            ProjectEvidence.objects.bulk_create(
                ProjectEvidence(
                    project=project,
                    original_name=PurePosixPath(str(upload.name or "file")).name[-255:],
                    content_type=sniffed.content_type,
                    size=size,
                    sha256=digest,
                    stored=name,
                    uploaded_by=user,
                    uploaded_at=now,
                )
                for (upload, sniffed, digest, size), name in zip(checked, stored, strict=True)
            )
            _step(project, Project.State.REPORTED, user=user, now=now, note=outcome.strip()[:200])
            notify(
                recipients=[verifier],
                subject=_("攻关成果待你验收：{title}").format(title=project.title),
                body=_("{branch}的技术攻关项目“{title}”已提交成果，请核实后验收。").format(
                    branch=project.branch.name, title=project.title
                ),
                url=reverse("practice:project_verify", args=[project.pk]),
                dedupe_key=f"project-report-{project.pk}",
                now=now,
            )
    except BaseException:
        for name in stored:
            storage.delete(name)
        raise
    return project


@transaction.atomic
def project_verify(*, project: Project, passed: bool, comment: str, user, now: dt.datetime) -> Project:
    """The named verifier decides (待验收 → 已验收 or 未通过) with a comment; the outcome is locked from then on."""
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": [_("请填写验收意见。")]})
    fresh = (
        Project.objects.select_related("department", "leader__user", "reported_by")
        .prefetch_related("team")
        .get(pk=project.pk)
    )
    if fresh.verifier_id != user.pk:
        raise ValidationError(_("只有指定的验收人才能验收该项目。"))
    # The team may have changed since the report: the verifier is checked again.
    if fresh.state == Project.State.REPORTED and (
        why := verifier_problem(project=fresh, department=fresh.department, verifier=user)
    ):
        raise ValidationError(why)
    state = Project.State.VERIFIED if passed else Project.State.FAILED
    changed = Project.objects.filter(pk=project.pk, state=Project.State.REPORTED, verifier=user).update(
        state=state, verified_at=now, verify_comment=comment
    )
    if not changed:
        raise ValidationError(refusal(project, _("该项目不在待验收状态。")))
    _step(project, state, user=user, now=now, note=comment)
    # The people who answer for the project hear the verdict: its leader and whoever reported it.
    recipients = [u for u in (fresh.leader.user, fresh.reported_by) if u is not None]
    notify(
        recipients=recipients,
        subject=_("攻关项目“{title}”{verdict}").format(title=project.title, verdict=Project.State(state).label),
        body=comment,
        url=reverse("practice:project_detail", args=[project.pk]),
        dedupe_key=f"project-verified-{project.pk}",
        now=now,
    )
    return project


@transaction.atomic
def project_terminate(*, project: Project, reason: str, user, now: dt.datetime) -> Project:
    """End a project before it is reported (立项 / 实施中 → 终止), with a reason; its open milestones are cancelled."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写终止原因。")]})
    changed = Project.objects.filter(pk=project.pk, state__in=Project.EDITABLE_STATES).update(
        state=Project.State.TERMINATED, ended_at=now, end_reason=reason
    )
    if not changed:
        raise ValidationError(refusal(project, _("已提交验收的项目不能终止。")))
    Task.objects.filter(project_milestone__project=project, status__in=Task.LIVE_STATUSES).update(
        status=Task.Status.CANCELLED, cancelled_at=now, cancel_reason=_("攻关项目已终止")
    )
    _step(project, Project.State.TERMINATED, user=user, now=now, note=reason)
    return project


# --- Reads -------------------------------------------------------------------------------------


def projects_for_user(user):
    """The projects ``user`` may see: every one for the 党委 level, else their branches' and those they verify."""
    scope = get_scope(user)
    qs = Project.objects.select_related("branch", "group", "leader")
    if scope.sees_all_branches:
        return qs
    return qs.filter(Q(branch_id__in=scope.reachable_branch_ids) | Q(verifier_id=user.pk))


def project_detail_qs():
    """A project with everything its page shows, in a fixed number of queries."""
    return Project.objects.select_related(
        "branch", "group", "leader", "department", "verifier", "created_by", "reported_by"
    ).prefetch_related(
        Prefetch("team", queryset=ProjectMember.objects.select_related("member")),
        Prefetch("milestones", queryset=ProjectMilestone.objects.select_related("task__owner")),
        "evidence",
        Prefetch("events", queryset=ProjectEvent.objects.select_related("by__member")),
    )
