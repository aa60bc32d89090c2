"""Reads of findings and rectifications shared by the ledger page, its export and the detail page.

The permission filter reads the same ``Scope`` as ``supervision.view_finding`` in
``org.rules`` (the 督导组 and the 党委 see every branch, a branch committee its own), and
adds the rectifications a user owns, since an owner may answer and so must see them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from meetings.models import Meeting
from org.clock import deadline_last_day, year_bounds
from org.models import Organization
from org.scope import get_scope

from ..models import Evidence, Finding, Rectification, RectificationEvent

Status = Rectification.Status
OPEN_STATUSES = Rectification.ANSWERABLE_STATUSES


# --- Who sees what ---------------------------------------------------------------------------


def sees_all_findings(user) -> bool:
    return get_scope(user).sees_all_branches


def findings_visible_to(user, *, mine: bool = False) -> QuerySet[Finding]:
    """Findings ``user`` may see; ``mine`` narrows to the branches they manage and what they own."""
    scope = get_scope(user)
    qs = Finding.objects.all()
    if scope.sees_all_branches and not mine:
        return qs
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    return qs.filter(Q(branch_id__in=scope.committee_branch_ids) | Q(rectification__owner=user))


def may_see_finding(user, finding: Finding) -> bool:
    """``supervision.view_finding``, or the owner of its rectification."""
    if user.has_perm("supervision.view_finding", finding):
        return True
    rectification = getattr(finding, "rectification", None)
    return rectification is not None and user.is_authenticated and rectification.owner_id == user.pk


def has_any_visible(user) -> bool:
    """Whether the ledger has anything for ``user`` at all (an ordinary member has nothing)."""
    scope = get_scope(user)
    if scope.sees_all_branches or scope.committee_branch_ids:
        return True
    return getattr(user, "is_authenticated", False) and Rectification.objects.filter(owner=user).exists()


def visible_branches(user) -> QuerySet[Organization] | None:
    """The branch filter's choices; None when the user sees a single branch (no filter shown)."""
    scope = get_scope(user)
    qs = Organization.objects.branches().order_by("sort_order", "id")
    if scope.sees_all_branches:
        return qs
    if len(scope.committee_branch_ids) > 1:
        return qs.filter(pk__in=scope.committee_branch_ids)
    return None


# --- Filters -----------------------------------------------------------------------------------


def overdue_q(now: dt.datetime, prefix: str = "rectification__") -> Q:
    """Past the deadline and not answered: flagged by the sweep, or past due since its last run."""
    return Q(**{f"{prefix}status": Status.OVERDUE}) | Q(**{f"{prefix}status": Status.OPEN, f"{prefix}due_at__lt": now})


def filter_findings(
    qs: QuerySet[Finding],
    *,
    now: dt.datetime,
    branch: Organization | None = None,
    branch_name: str = "",
    category: str = "",
    severity: str = "",
    status: str = "",
    overdue: bool = False,
    year: int | None = None,
) -> QuerySet[Finding]:
    """Narrow the ledger; ``year`` is the local year the finding was raised in."""
    if branch is not None:
        qs = qs.filter(branch=branch)
    if branch_name:
        qs = qs.filter(branch__name__icontains=branch_name)
    if category:
        qs = qs.filter(category=category)
    if severity:
        qs = qs.filter(severity=severity)
    if status:
        qs = qs.filter(rectification__status=status)
    if overdue:
        qs = qs.filter(overdue_q(now))
    if year:
        start, end = year_bounds(year)
        qs = qs.filter(raised_at__gte=start, raised_at__lt=end)
    return qs


def _rejections():
    return RectificationEvent.objects.filter(
        rectification_id=OuterRef("rectification__pk"), action=RectificationEvent.Action.REJECTED
    )


def ledger_page_queryset(qs: QuerySet[Finding]) -> QuerySet[Finding]:
    """The ledger page's rows: finding, branch, meeting and rectification with its owner, in one query."""
    return (
        qs.select_related("branch", "meeting", "rectification__owner__member")
        .annotate(was_rejected=Exists(_rejections()))
        .order_by("-raised_at", "-id")
    )


def finding_detail_queryset() -> QuerySet[Finding]:
    """A finding with everything its page shows, in a fixed number of queries."""
    events = RectificationEvent.objects.select_related("by__member").order_by("at", "id")
    evidence = Evidence.objects.select_related("uploaded_by__member").order_by("uploaded_at", "id")
    return Finding.objects.select_related(
        "branch",
        "meeting",
        "raised_by__member",
        "rectification__owner__member",
        "rectification__verified_by__member",
    ).prefetch_related(
        Prefetch("evidence", queryset=evidence),
        Prefetch("rectification__events", queryset=events),
        Prefetch("rectification__evidence", queryset=evidence),
    )


def rectification_for_action() -> QuerySet[Rectification]:
    """A rectification with what its actions' permission checks and messages read."""
    return Rectification.objects.select_related("finding", "branch", "owner")


def branch_meetings_for_finding(branch: Organization) -> QuerySet[Meeting]:
    """The meetings a finding may name: the branch's, most recent first, cancelled ones left out."""
    return (
        Meeting.objects.filter(branch=branch).exclude(status=Meeting.Status.CANCELLED).order_by("-planned_start", "-id")
    )


# --- The deadline as people read it ---------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    text: str
    css: str
    days: int | None  # days left (positive) or overdue (negative); None once answered or closed


def deadline(rectification: Rectification, *, now: dt.datetime) -> Deadline:
    """ "剩余 N 天" / "今日到期" / "逾期 N 天", counted in local calendar days."""
    if rectification.status == Status.VERIFIED:
        return Deadline("已完成", "text-success", None)
    if rectification.status == Status.SUBMITTED:
        return Deadline("待验收", "text-primary", None)
    days = (deadline_last_day(rectification.due_at) - timezone.localtime(now).date()).days
    if rectification.due_at >= now:
        if days <= 0:
            return Deadline("今日到期", "text-warning", 0)
        return Deadline(f"剩余 {days} 天", "text-warning" if days <= 7 else "text-body", days)
    if days >= 0:
        return Deadline("已逾期", "text-danger", 0)
    return Deadline(f"逾期 {-days} 天", "text-danger", days)


def status_label(rectification: Rectification, *, now: dt.datetime, was_rejected: bool = False) -> tuple[str, str]:
    """The status shown to people: 逾期 as soon as the deadline passes, 被驳回 while a rejected answer is redone."""
    status = rectification.status
    if status in OPEN_STATUSES and (status == Status.OVERDUE or rectification.due_at < now):
        label, css = str(Status.OVERDUE.label), "danger"
    elif status == Status.OPEN:
        label, css = str(Status.OPEN.label), "warning"
    elif status == Status.SUBMITTED:
        return str(Status.SUBMITTED.label), "primary"
    else:
        return str(Status.VERIFIED.label), "success"
    if was_rejected:
        label = f"{label}（被驳回）"
    return label, css


# --- The export ---------------------------------------------------------------------------------


_EXPORT_FIELDS = (
    "id",
    "branch__name",
    "category",
    "severity",
    "description",
    "meeting__planned_start",
    "meeting__topic",
    "raised_by__username",
    "raised_by__member__name",
    "raised_at",
    "rectification__owner__username",
    "rectification__owner__member__name",
    "rectification__status",
    "rectification__due_at",
    "rectification__measures",
    "rectification__submitted_at",
    "rectification__verified_by__username",
    "rectification__verified_by__member__name",
    "rectification__verified_at",
    "rectification__overdue_at",
    "rectification__escalated_at",
    "last_rejection",
)


@dataclass(slots=True)
class ExportRow:
    branch: str
    category: str
    severity: str
    description: str
    meeting: str
    raised_by: str
    raised_at: dt.datetime
    owner: str
    status: str
    due_at: dt.datetime | None
    deadline: str
    measures: str
    submitted_at: dt.datetime | None
    verified_by: str
    verified_at: dt.datetime | None
    overdue_at: dt.datetime | None
    escalated_at: dt.datetime | None
    last_rejection: str


_CATEGORY = dict(Finding.Category.choices)
_SEVERITY = dict(Finding.Severity.choices)


def export_rows(qs: QuerySet[Finding], *, now: dt.datetime, chunk_size: int = 2000) -> Iterator[ExportRow]:
    """The ledger's rows for Excel: one ``values()`` query, iterated in chunks."""
    last_rejection = Subquery(_rejections().order_by("-at", "-id").values("text")[:1])
    rows = (
        qs.annotate(last_rejection=last_rejection, was_rejected=Exists(_rejections()))
        .order_by("-raised_at", "-id")
        .values_list(*_EXPORT_FIELDS, "was_rejected")
        .iterator(chunk_size=chunk_size)
    )
    for (
        _pk,
        branch,
        category,
        severity,
        description,
        meeting_start,
        meeting_topic,
        raised_by_username,
        raised_by_name,
        raised_at,
        owner_username,
        owner_name,
        status,
        due_at,
        measures,
        submitted_at,
        verified_by_username,
        verified_by_name,
        verified_at,
        overdue_at,
        escalated_at,
        rejection,
        was_rejected,
    ) in rows:
        meeting = ""
        if meeting_start is not None:
            meeting = f"{timezone.localtime(meeting_start):%Y-%m-%d} {meeting_topic}".strip()
        label = deadline_text = ""
        if status:
            rect = Rectification(status=status, due_at=due_at)
            label, _css = status_label(rect, now=now, was_rejected=was_rejected)
            deadline_text = deadline(rect, now=now).text
        yield ExportRow(
            branch=branch,
            category=str(_CATEGORY.get(category, category)),
            severity=str(_SEVERITY.get(severity, severity)),
            description=description,
            meeting=meeting,
            raised_by=raised_by_name or raised_by_username or "",
            raised_at=raised_at,
            owner=owner_name or owner_username or "",
            status=label,
            due_at=due_at,
            deadline=deadline_text,
            measures=measures or "",
            submitted_at=submitted_at,
            verified_by=verified_by_name or verified_by_username or "",
            verified_at=verified_at,
            overdue_at=overdue_at,
            escalated_at=escalated_at,
            last_rejection=rejection or "",
        )
