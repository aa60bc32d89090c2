"""Findings and their rectifications: raise, answer, verify or reject, and the overdue sweep.

Every state change is a conditional update on the rectification's status, so a double
submit, two supervisors clicking at once or a sweep that runs twice acts once. Every
notice goes through the bulletin outbox with a dedupe key naming its cause, written in
the transaction of the change: a notice is sent once however often its cause is computed.

Other apps open rectifications through ``finding_raise`` with a ``source_key`` (the
assessment names its failing branches that way): the same key raises one finding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext as _

from bulletin.services import notify
from meetings.models import Meeting
from org.clock import calendar_month_deadline, deadline_text, local_date
from org.models import Organization, Post, StaffRole
from org.selectors import active_on, branch_secretary_on

from ..models import Finding, Rectification, RectificationEvent, SupervisionPolicy

Status = Rectification.Status
Action = RectificationEvent.Action

ALREADY_SUBMITTED = "整改情况已提交，正在等待督导组验收。"
ALREADY_VERIFIED = "该整改已验收通过。"
NOT_SUBMITTED = "该整改尚未提交整改情况，不能验收或驳回。"
ALREADY_DECIDED = "该整改已被其他督导人员处理。"


# --- Who is told ------------------------------------------------------------------------


def _users_of_roles(roles: Iterable[str]) -> list:
    user_model = get_user_model()
    return list(user_model.objects.filter(staff_roles__role__in=list(roles), is_active=True).distinct())


def supervisor_users() -> list:
    """The 党委工作部 and 纪检部 logins: they follow every rectification."""
    return _users_of_roles(StaffRole.SUPERVISOR_ROLES)


def committee_users() -> list:
    """The 党委委员 logins, told when a rectification is escalated."""
    return _users_of_roles([StaffRole.Role.COMMITTEE])


def branch_committee_users(branch: Organization | int, *, on: dt.date) -> list:
    """Logins of the branch committee (支委) on ``on``: who a rectification without an owner goes to."""
    branch_id = branch if isinstance(branch, int) else branch.pk
    return branch_committee_users_of([branch_id], on=on).get(branch_id, [])


def branch_committee_users_of(branch_ids: Iterable[int], *, on: dt.date) -> dict[int, list]:
    """``branch_committee_users`` of several branches in one query: branch id → logins, by name."""
    posts = (
        Post.objects.filter(
            active_on(on),
            organization_id__in=list(branch_ids),
            role__in=Post.COMMITTEE_ROLES,
            member__user__isnull=False,
            member__user__is_active=True,
        )
        .select_related("member__user")
        .order_by("member__name", "member_id", "id")
    )
    found: dict[int, dict[int, object]] = {}
    for post in posts:
        user = post.member.user
        user.member = post.member  # display_name without another query
        found.setdefault(post.organization_id, {}).setdefault(user.pk, user)
    return {branch_id: list(users.values()) for branch_id, users in found.items()}


def _owner_or_committee(rectification: Rectification, *, on: dt.date) -> list:
    """The owner; a rectification whose owner left (or never had a login) goes to the branch committee."""
    if rectification.owner_id is not None:
        return [rectification.owner]
    return branch_committee_users(rectification.branch_id, on=on)


def _url(rectification: Rectification) -> str:
    return reverse("supervision:finding_detail", args=[rectification.finding_id])


def _event(rectification: Rectification, action: str, *, at: dt.datetime, by=None, text: str = "") -> None:
    event = RectificationEvent(rectification=rectification, action=action, text=text, by=by, at=at)
    # The sweep's events have no person behind them; ``by`` is nullable for them but not blank.
    event.full_clean(exclude=["by"] if by is None else None)
    event.save()


def default_due_at(now: dt.datetime) -> dt.datetime:
    """The policy's calendar months from ``now`` (one by default), to the end of that day at the mine."""
    return calendar_month_deadline(now, SupervisionPolicy.current().rectification_months)


# --- Raise ------------------------------------------------------------------------------


@transaction.atomic
def finding_raise(
    *,
    branch: Organization,
    category: str,
    severity: str,
    description: str,
    user,
    now: dt.datetime,
    meeting: Meeting | None = None,
    owner=None,
    due_at: dt.datetime | None = None,
    source_key: str = "",
) -> Finding:
    """Record a finding and open its rectification: owner the branch's 书记 by default, deadline one month.

    With a ``source_key`` the call is idempotent: a finding already raised under that key
    is returned as it is and nothing new is opened or sent.
    """
    if source_key:
        existing = Finding.objects.filter(source_key=source_key).first()
        if existing is not None:
            return existing
    if branch.kind != Organization.Kind.BRANCH:
        raise ValidationError({"branch": [_("问题只能针对党支部提出。")]})
    if meeting is not None and meeting.branch_id != branch.pk:
        raise ValidationError({"meeting": [_("所选会议不属于该支部。")]})
    description = (description or "").strip()
    if not description:
        raise ValidationError({"description": [_("请填写问题描述。")]})
    if due_at is None:
        due_at = default_due_at(now)
    elif due_at <= now:
        raise ValidationError({"due_at": [_("整改期限须晚于现在。")]})
    on = local_date(now)
    if owner is None:
        secretary = branch_secretary_on(branch, on=on)
        owner = secretary.user if secretary is not None and secretary.user_id else None

    finding = Finding(
        branch=branch,
        meeting=meeting,
        category=category,
        severity=severity,
        description=description,
        raised_by=user,
        raised_at=now,
        source_key=source_key,
    )
    # The source key's uniqueness is settled by the database below, not by a read here. A finding
    # raised by another service (an assessment run) may have no person behind it.
    finding.full_clean(exclude=["raised_by"] if user is None else None, validate_constraints=False)
    try:
        with transaction.atomic():
            finding.save()
    except IntegrityError:
        # Another call with the same key committed first: that finding is the one.
        existing = Finding.objects.filter(source_key=source_key).first() if source_key else None
        if existing is None:
            raise
        return existing

    rectification = Rectification(
        finding=finding, branch=branch, owner=owner, status=Status.OPEN, due_at=due_at, created_at=now
    )
    rectification.full_clean()
    rectification.save()
    _event(
        rectification,
        Action.OPENED,
        at=now,
        by=user,
        text=_("整改期限：{deadline_text}").format(deadline_text=deadline_text(due_at)),
    )

    recipients = branch_committee_users(branch, on=on) + ([owner] if owner is not None else [])
    notify(
        recipients=recipients,
        subject=_("整改通知：{name}（{get_category_display}）").format(
            name=branch.name, get_category_display=finding.get_category_display()
        ),
        body=(
            _(
                "督导检查发现问题：{description}\n请于 {deadline_text} 前完成整改，并在系统中提交整改措施和佐证材料。"
            ).format(description=description, deadline_text=deadline_text(due_at))
        ),
        url=_url(rectification),
        dedupe_key=f"rectification:{rectification.pk}:opened",
        now=now,
    )
    return finding


# --- The branch answers --------------------------------------------------------------------


@transaction.atomic
def rectification_submit(
    *,
    rectification: Rectification,
    measures: str,
    user,
    now: dt.datetime,
) -> Rectification:
    """The branch reports its measures (整改中 or 逾期 → 已提交); the supervisors are told.

    Its evidence is attached beforehand through ``services.evidence.evidence_upload``
    (which stores files outside any transaction of ours, so a refused answer leaves no
    file behind that no row knows of).
    """
    measures = (measures or "").strip()
    if not measures:
        raise ValidationError({"measures": [_("请填写整改措施。")]})
    changed = Rectification.objects.filter(pk=rectification.pk, status__in=Rectification.ANSWERABLE_STATUSES).update(
        status=Status.SUBMITTED, measures=measures, submitted_at=now
    )
    if changed != 1:
        current = Rectification.objects.filter(pk=rectification.pk).values_list("status", flat=True).first()
        raise ValidationError(ALREADY_VERIFIED if current == Status.VERIFIED else ALREADY_SUBMITTED, code="state")
    rectification = Rectification.objects.select_related("branch", "finding").get(pk=rectification.pk)
    _event(rectification, Action.SUBMITTED, at=now, by=user, text=measures)
    notify(
        recipients=supervisor_users(),
        subject=_("整改情况待验收：{name}").format(name=rectification.branch.name),
        body=_("{name} 已提交整改情况：{measures}").format(name=rectification.branch.name, measures=measures),
        url=_url(rectification),
        # One notice per submission: a rejected answer submitted again is a new cause.
        dedupe_key=f"rectification:{rectification.pk}:submitted:{now.isoformat()}",
        now=now,
    )
    return rectification


# --- The supervisor decides ----------------------------------------------------------------


def _refuse_decided(rectification: Rectification) -> None:
    current = Rectification.objects.filter(pk=rectification.pk).values_list("status", flat=True).first()
    if current == Status.VERIFIED:
        raise ValidationError(ALREADY_VERIFIED, code="state")
    if current in Rectification.ANSWERABLE_STATUSES:
        raise ValidationError(NOT_SUBMITTED, code="state")
    raise ValidationError(ALREADY_DECIDED, code="state")


@transaction.atomic
def rectification_verify(*, rectification: Rectification, user, now: dt.datetime) -> Rectification:
    """已提交 → 已通过: the finding is closed."""
    changed = Rectification.objects.filter(pk=rectification.pk, status=Status.SUBMITTED).update(
        status=Status.VERIFIED, verified_at=now, verified_by=user
    )
    if changed != 1:
        _refuse_decided(rectification)
    rectification = Rectification.objects.select_related("branch", "owner").get(pk=rectification.pk)
    _event(rectification, Action.VERIFIED, at=now, by=user)
    notify(
        recipients=_owner_or_committee(rectification, on=local_date(now)),
        subject=_("整改验收通过：{name}").format(name=rectification.branch.name),
        body=_("督导组已验收通过本次整改。"),
        url=_url(rectification),
        dedupe_key=f"rectification:{rectification.pk}:verified",
        now=now,
    )
    return rectification


@transaction.atomic
def rectification_reject(*, rectification: Rectification, reason: str, user, now: dt.datetime) -> Rectification:
    """已提交 → back to the branch with the reason.

    Before the deadline it is 整改中 again. Past the deadline it goes straight to 逾期
    (keeping the time it was first flagged): the branch is late, and a status of 整改中
    until the next sweep would say otherwise. The overdue notice keeps its dedupe key,
    so a branch told once that it is late is not told again; one never told is told now.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("驳回须填写理由。")]})
    past_due = rectification.due_at < now
    changed = Rectification.objects.filter(pk=rectification.pk, status=Status.SUBMITTED).update(
        status=Status.OVERDUE if past_due else Status.OPEN,
        overdue_at=Coalesce(F("overdue_at"), now) if past_due else F("overdue_at"),
    )
    if changed != 1:
        _refuse_decided(rectification)
    rectification = Rectification.objects.select_related("branch", "owner").get(pk=rectification.pk)
    _event(rectification, Action.REJECTED, at=now, by=user, text=reason)
    on = local_date(now)
    notify(
        recipients=_owner_or_committee(rectification, on=on),
        subject=_("整改被驳回：{name}").format(name=rectification.branch.name),
        body=_("驳回理由：{reason}\n请按要求继续整改后重新提交。").format(reason=reason),
        url=_url(rectification),
        dedupe_key=f"rectification:{rectification.pk}:rejected:{now.isoformat()}",
        now=now,
    )
    if past_due:
        _notify_overdue(rectification, supervisors=supervisor_users(), now=now)
    return rectification


# --- The sweep --------------------------------------------------------------------------------


def _notify_overdue(rectification: Rectification, *, supervisors: list, now: dt.datetime) -> int:
    due = deadline_text(rectification.due_at)
    return notify(
        recipients=_owner_or_committee(rectification, on=local_date(now)) + supervisors,
        subject=_("整改逾期：{name}").format(name=rectification.branch.name),
        body=_("{name} 的整改已超过期限（{due}），尚未提交整改情况。").format(name=rectification.branch.name, due=due),
        url=_url(rectification),
        dedupe_key=f"rectification:{rectification.pk}:overdue",
        now=now,
    )


def _sweep_rows(qs: QuerySet[Rectification]) -> QuerySet[Rectification]:
    return qs.select_related("branch", "owner").order_by("due_at", "id")


def rectifications_sweep(*, now: dt.datetime) -> dict[str, int]:
    """Flag rectifications past their deadline as 逾期 and escalate those overdue for N days.

    Each row is flipped by its own conditional update in its own transaction, with its
    event and notices: a sweep that runs twice, or two that overlap, flag and notify once,
    and a failure on one row keeps the others done. A rectification 已提交 is with the
    supervisors and is neither flagged nor escalated.
    """
    policy = SupervisionPolicy.current()
    overdue = 0
    supervisors = None
    # The partial index supervision_rect_open_due serves this query.
    for rect in _sweep_rows(Rectification.objects.filter(status=Status.OPEN, overdue_at__isnull=True, due_at__lt=now)):
        with transaction.atomic():
            changed = Rectification.objects.filter(pk=rect.pk, status=Status.OPEN, overdue_at__isnull=True).update(
                status=Status.OVERDUE, overdue_at=now
            )
            if changed != 1:
                continue
            if supervisors is None:
                supervisors = supervisor_users()
            _event(rect, Action.OVERDUE, at=now)
            _notify_overdue(rect, supervisors=supervisors, now=now)
            overdue += 1

    escalated = 0
    escalate_before = now - dt.timedelta(days=policy.escalation_days)
    to_escalate = Rectification.objects.filter(
        status=Status.OVERDUE, escalated_at__isnull=True, due_at__lt=escalate_before
    )
    committee = None
    # The partial index supervision_rect_escalate_due serves this query.
    for rect in _sweep_rows(to_escalate):
        with transaction.atomic():
            changed = Rectification.objects.filter(pk=rect.pk, status=Status.OVERDUE, escalated_at__isnull=True).update(
                escalated_at=now
            )
            if changed != 1:
                continue
            if committee is None:
                committee = committee_users()
            if supervisors is None:
                supervisors = supervisor_users()
            days = (now - rect.due_at).days
            _event(rect, Action.ESCALATED, at=now, text=_("逾期 {days} 天仍未整改").format(days=days))
            notify(
                recipients=_owner_or_committee(rect, on=local_date(now)) + supervisors + committee,
                subject=_("整改再次督办：{name}").format(name=rect.branch.name),
                body=(
                    _("{name} 的整改已逾期 {days} 天（期限 {deadline_text}），仍未提交整改情况，请督促落实。").format(
                        name=rect.branch.name, days=days, deadline_text=deadline_text(rect.due_at)
                    )
                ),
                url=_url(rect),
                dedupe_key=f"rectification:{rect.pk}:escalated",
                now=now,
            )
            escalated += 1
    return {"overdue": overdue, "escalated": escalated}
