"""我的待办: everything waiting for one signed-in user, from every app, in one list and one count.

A registry of providers. Each provider gives, for a user, one QuerySet of the things waiting for
them (or ``None`` when the user's scope cannot have any: no query) and turns one object of it into
a ``Row`` (kind, title, organisation, deadline, state, the URL where it is done). The page reads
each provider's QuerySet once (a fixed number of queries however many rows); the navbar count
counts the *same* QuerySets in one SQL statement (a SELECT of scalar COUNT subqueries), so the
count is the number of rows on the page by construction.

Providers of apps below tasks (meetings, supervision) live here; an app above tasks (assessment)
registers its own in its ``AppConfig.ready`` through ``register``.

Order: the earliest deadline first (the most urgent at the top), rows without a deadline last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from operator import add

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Case, DateTimeField, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from org.clock import deadline_text
from org.paging import PageWithoutTotal, page_without_total
from org.scope import Scope, get_scope

from .models import Task

CACHE_SECONDS = 60
PAGE_SIZE = 50


@dataclass(frozen=True)
class Row:
    kind: str
    kind_label: str
    title: str
    organization: str
    due_at: dt.datetime | None
    state: str
    url: str
    overdue: bool = False

    @property
    def due_text(self) -> str:
        return deadline_text(self.due_at) if self.due_at else ""


@dataclass(frozen=True)
class Provider:
    kind: str
    label: str
    # (user, scope, now) -> the waiting objects, or None when this user can have none (no query)
    queryset: Callable[..., QuerySet | None]
    # (obj, now) -> dict(title=, organization=, due_at=, state=, url=)
    row: Callable[..., dict]
    # the field path of the row's deadline in ``queryset`` (the ``due_at`` its row gives), or None
    due: str | None = None


_providers: dict[str, Provider] = {}


def register(provider: Provider) -> Provider:
    """Add (or replace, by kind) a provider; higher apps call this from ``AppConfig.ready``."""
    _providers[provider.kind] = provider
    return provider


def providers() -> list[Provider]:
    return list(_providers.values())


def _querysets(user, *, now: dt.datetime) -> list[tuple[Provider, QuerySet]]:
    if not getattr(user, "is_authenticated", False):
        return []
    scope = get_scope(user)
    out = []
    for provider in _providers.values():
        qs = provider.queryset(user=user, scope=scope, now=now)
        if qs is not None:
            out.append((provider, qs))
    return out


def _sort_key(row: Row):
    return (row.due_at is None, row.due_at or dt.datetime.min.replace(tzinfo=dt.UTC), row.title)


def _row(provider: Provider, obj, *, now: dt.datetime) -> Row:
    data = provider.row(obj, now=now)
    due = data.get("due_at")
    return Row(kind=provider.kind, kind_label=str(provider.label), overdue=due is not None and due <= now, **data)


def rows_for(user, *, now: dt.datetime, kind: str | None = None) -> list[Row]:
    """Everything waiting for ``user``: one query per provider that applies, earliest deadline first."""
    rows = [
        _row(provider, obj, now=now)
        for provider, qs in _querysets(user, now=now)
        if not kind or provider.kind == kind
        for obj in qs
    ]
    rows.sort(key=_sort_key)
    return rows


def _keys(provider: Provider, qs: QuerySet) -> QuerySet:
    """(kind, pk, no deadline?, deadline) of each row: the columns the page is ordered and cut by, in SQL."""
    due = F(provider.due) if provider.due else Value(None, output_field=DateTimeField())
    return (
        qs.order_by()
        .annotate(
            todo_kind=Value(provider.kind),
            todo_nodue=Case(When(**{f"{provider.due}__isnull": False}, then=0), default=1)
            if provider.due
            else Value(1),
            todo_due=due,
        )
        .values_list("todo_kind", "pk", "todo_nodue", "todo_due")
    )


def page_for(user, *, now: dt.datetime, page=None, kind: str | None = None, per_page: int = PAGE_SIZE):
    """One page of ``rows_for`` (the same order, cut in SQL) and no total; a fixed number of queries.

    One query (a UNION of every applicable provider's keys, ordered by the deadline, rows without
    one last) picks the page; then each applicable provider loads its rows of the page, also when it
    has none there, so that the count never depends on which kinds a page happens to hold.
    """
    sets = [(p, qs) for p, qs in _querysets(user, now=now) if not kind or p.kind == kind]
    if not sets:
        return page_without_total([], page, per_page)
    keys = [_keys(p, qs) for p, qs in sets]
    union = keys[0].union(*keys[1:], all=True) if len(keys) > 1 else keys[0]
    cut = page_without_total(union.order_by("todo_nodue", "todo_due", "todo_kind", "pk"), page, per_page)
    order = {(k, pk): i for i, (k, pk, _nodue, _due) in enumerate(cut.object_list)}
    rows: list[tuple[int, Row]] = []
    for provider, qs in sets:
        ids = [pk for k, pk in order if k == provider.kind]
        # pk 0 never exists: an empty page of this kind is still one (empty) query, not none.
        for obj in qs.filter(pk__in=ids or [0]):
            rows.append((order[(provider.kind, obj.pk)], _row(provider, obj, now=now)))
    rows.sort(key=lambda pair: pair[0])
    return PageWithoutTotal(
        object_list=[row for _i, row in rows], number=cut.number, has_next=cut.has_next, paginator=cut.paginator
    )


def counts_by_kind(user, *, now: dt.datetime) -> tuple[dict[str, int], int]:
    """(how many rows each applicable provider has, kinds with none left out; how many are overdue), one statement.

    Overdue is the page's mark: a deadline at or before ``now``.
    """
    sets = _querysets(user, now=now)
    if not sets:
        return {}, 0
    columns = []
    for provider, qs in sets:
        columns.append(_Count(qs.order_by().values("pk")))
        late = qs.filter(**{f"{provider.due}__lte": now}) if provider.due else qs.none()
        columns.append(_Count(late.order_by().values("pk")) if provider.due else Value(0))
    row = get_user_model().objects.filter(pk=user.pk).values_list(*columns).first() or (0,) * len(columns)
    counts = {p.kind: row[2 * i] for i, (p, _qs) in enumerate(sets) if row[2 * i]}
    return counts, sum(row[2 * i + 1] or 0 for i in range(len(sets)))


class _Count(Subquery):
    """``(SELECT COUNT(*) FROM (<queryset>))``: a scalar count of any queryset, to sum in one statement."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _todo_n)"
    output_field = IntegerField()


def count_for(user, *, now: dt.datetime) -> int:
    """How many rows ``rows_for`` gives: one SQL statement (none when no provider applies)."""
    return counts_with(user, now=now)[0]


def counts_with(user, *, now: dt.datetime, also: QuerySet | None = None) -> tuple[int, int]:
    """(the 我的待办 count, the count of ``also``) in one SQL statement: the navbar adds its inbox badge."""
    sets = _querysets(user, now=now)
    if not sets and also is None:
        return 0, 0
    zero = Value(0, output_field=IntegerField())
    total = reduce(add, (_Count(qs.order_by().values("pk")) for _, qs in sets)) if sets else zero
    other = _Count(also.order_by().values("pk")) if also is not None else zero
    row = get_user_model().objects.filter(pk=user.pk).values_list(total, other).first()
    return (row[0] or 0, row[1] or 0) if row else (0, 0)


def cache_key(user_id: int) -> str:
    return f"todo:count:{user_id}"


def cached_count(user, *, now: dt.datetime) -> int:
    """``count_for`` kept ``CACHE_SECONDS`` per user in Django's cache."""
    key = cache_key(user.pk)
    value = cache.get(key)
    if value is None:
        value = count_for(user, now=now)
        cache.set(key, value, CACHE_SECONDS)
    return value


def remember_count(user, value: int) -> None:
    """The page has just counted the rows: the navbar shows that number at once."""
    cache.set(cache_key(user.pk), value, CACHE_SECONDS)


def forget(*user_ids) -> None:
    """Drop the cached counts of these users (a change that is cheap to attribute)."""
    cache.delete_many([cache_key(pk) for pk in user_ids if pk])


def forget_task_people(sender, instance: Task, **kwargs) -> None:
    """A task saved: its assigner's and (when loaded, so no query) its owner's counts are stale."""
    owner_user = instance.owner.user_id if Task.owner.is_cached(instance) else None
    forget(instance.assigned_by_id, owner_user)


# --- The providers of tasks and the apps below it -------------------------------------------


def _task_url(task: Task) -> str:
    return reverse("tasks:detail", args=[task.pk])


def _tasks_base() -> QuerySet[Task]:
    return Task.objects.select_related("organization")


def _mine_q(scope: Scope) -> Q:
    helped = Task.helpers.through.objects.filter(task_id=OuterRef("pk"), member_id=scope.member_id)
    return Q(owner_id=scope.member_id) | Q(Exists(helped))


def _task_row(task: Task, *, now) -> dict:
    return {
        "title": task.title,
        "organization": task.organization.name,
        "due_at": task.due_at,
        "state": task.get_status_display(),
        "url": _task_url(task),
    }


def _my_tasks(*, user, scope: Scope, now):
    if scope.member_id is None:
        return None
    return (
        _tasks_base()
        .filter(_mine_q(scope), status__in=Task.OPEN_STATUSES)
        # 补学 has its own rows; 学习任务 rows come from study's provider (they link to the item).
        .exclude(source__in=[Task.Source.MAKEUP, Task.Source.STUDY])
        .order_by("due_at", "pk")
    )


def _my_makeups(*, user, scope: Scope, now):
    if scope.member_id is None:
        return None
    return (
        _tasks_base()
        .filter(owner_id=scope.member_id, source=Task.Source.MAKEUP, status__in=Task.OPEN_STATUSES)
        .order_by("due_at", "pk")
    )


def reports_to_decide_q(user, scope: Scope) -> Q:
    """Submitted tasks whose report this user accepts or returns.

    The assigner; for a dispatched task (上级交办) also the 党委工作部; for a 补学 the 书记 of its branch.
    """
    q = Q(assigned_by_id=user.pk)
    if "work_dept" in scope.staff_roles:
        q |= Q(dispatch__isnull=False)
    if scope.chief_secretary_branch_ids:
        q |= Q(source=Task.Source.MAKEUP, organization_id__in=scope.chief_secretary_branch_ids)
    return q


def _reports(*, user, scope: Scope, now):
    return (
        _tasks_base()
        .filter(reports_to_decide_q(user, scope), status=Task.Status.SUBMITTED)
        .select_related("owner")
        .order_by("due_at", "pk")
    )


def _report_row(task: Task, *, now) -> dict:
    return {**_task_row(task, now=now), "state": _("{name} 已提交，待验收").format(name=task.owner.name)}


register(Provider("task", _("任务"), _my_tasks, _task_row, due="due_at"))
register(Provider("makeup", _("补学"), _my_makeups, _task_row, due="due_at"))
register(Provider("report", _("待验收"), _reports, _report_row, due="due_at"))


# Meetings (meetings is below tasks)


def _leave_requests(*, user, scope: Scope, now):
    """Pending leave requests the user decides: ``org.rules.decides_leave`` (the branch's 书记; for a
    党小组会 its 党小组长) on a record still editable (``may_decide_leave``), as one filter."""
    if not (scope.chief_secretary_branch_ids or scope.led_group_ids):
        return None
    from meetings.models import LeaveRequest, Meeting

    return (
        LeaveRequest.objects.decided_by(branch_ids=scope.chief_secretary_branch_ids, group_ids=scope.led_group_ids)
        .filter(status=LeaveRequest.Status.PENDING)
        .filter(meeting__status__in=Meeting.EDITABLE_STATUSES)
        .select_related("meeting__branch", "member")
        .order_by("meeting__planned_start", "pk")
    )


def _leave_row(request, *, now) -> dict:
    meeting = request.meeting
    return {
        "title": _("{name} 请假：{topic}").format(name=request.member.name, topic=meeting.topic or str(meeting)),
        "organization": meeting.branch.name,
        # decided before the meeting starts (after it, the request is late)
        "due_at": meeting.planned_start,
        "state": request.get_status_display(),
        "url": reverse("meetings:meeting_detail", args=[meeting.pk]),
    }


def _minutes_due(*, user, scope: Scope, now):
    """Meetings whose minutes are due (``meetings.selectors.minutes_due``) whose record the user writes: the recorder
    (``org.rules.records_meeting``) or the branch's 书记/副书记 (told by the overdue sweep).
    The deadline is the stored ``Meeting.minutes_due_at`` (meetings/deadlines.py)."""
    if scope.member_id is None:
        return None
    from meetings.selectors import minutes_due

    who = Q(recorder_id=scope.member_id) | Q(branch_id__in=scope.secretary_branch_ids)
    return minutes_due(now=now).filter(who).select_related("branch").order_by("minutes_due_at", "pk")


def _minutes_row(meeting, *, now) -> dict:
    return {
        "title": meeting.topic or str(meeting),
        "organization": meeting.branch.name,
        "due_at": meeting.minutes_due_at,
        "state": _("待录入会议记录"),
        "url": reverse("meetings:meeting_minutes", args=[meeting.pk]),
    }


def _returned(*, user, scope: Scope, now):
    """Records the 督导组 returned, in the branches the user is on the committee of (or recorded)."""
    if scope.member_id is None:
        return None
    from meetings.models import Meeting

    who = Q(branch_id__in=scope.committee_branch_ids) | Q(recorder_id=scope.member_id)
    return (
        Meeting.objects.filter(who, status=Meeting.Status.RETURNED)
        .select_related("branch")
        .order_by("minutes_due_at", "pk")
    )


def _returned_row(meeting, *, now) -> dict:
    return {
        "title": meeting.topic or str(meeting),
        "organization": meeting.branch.name,
        "due_at": None,
        "state": meeting.get_status_display(),
        "url": reverse("meetings:meeting_minutes", args=[meeting.pk]),
    }


register(Provider("leave", _("请假审批"), _leave_requests, _leave_row, due="meeting__planned_start"))
register(Provider("minutes", _("会议记录"), _minutes_due, _minutes_row, due="minutes_due_at"))
register(Provider("returned", _("退回修改"), _returned, _returned_row))


# Supervision (below tasks)


def _rectifications(*, user, scope: Scope, now):
    """Rectifications the user owns (``org.rules.owns_rectification``) in a state that takes an answer."""
    from supervision.models import Rectification

    return (
        Rectification.objects.filter(owner_id=user.pk, status__in=Rectification.ANSWERABLE_STATUSES)
        .select_related("finding", "branch")
        .order_by("due_at", "pk")
    )


def _rectification_row(rect, *, now) -> dict:
    return {
        "title": rect.finding.description[:60],
        "organization": rect.branch.name,
        "due_at": rect.due_at,
        "state": rect.get_status_display(),
        "url": reverse("supervision:finding_detail", args=[rect.finding_id]),
    }


def _review(*, user, scope: Scope, now):
    """Submitted records, for the 督导组 (``supervision.review_meeting``): the review queue's records."""
    if not scope.is_supervisor:
        return None
    from supervision.selectors.review import review_queue

    return review_queue()


def _review_row(meeting, *, now) -> dict:
    return {
        "title": meeting.topic or str(meeting),
        "organization": meeting.branch.name,
        "due_at": None,
        "state": _("待审核"),
        "url": reverse("supervision:review_detail", args=[meeting.pk]),
    }


def _attestations(*, user, scope: Scope, now):
    """The user's recorded speeches still to confirm before their deadline (``supervision.attest_speech``)."""
    if scope.member_id is None:
        return None
    from supervision.models import SpeechAttestation

    return (
        SpeechAttestation.objects.filter(
            member_id=scope.member_id, status=SpeechAttestation.Status.PENDING, due_at__gt=now
        )
        .select_related("meeting__branch", "speech__agenda_item")
        .order_by("due_at", "pk")
    )


def _attestation_row(attestation, *, now) -> dict:
    meeting = attestation.meeting
    return {
        "title": _("确认发言记录：{topic}（{item}）").format(
            topic=meeting.topic or str(meeting), item=attestation.speech.agenda_item.title
        ),
        "organization": meeting.branch.name,
        "due_at": attestation.due_at,
        "state": attestation.get_status_display(),
        "url": reverse("supervision:attest_meeting", args=[meeting.pk]) + f"#attest-{attestation.pk}",
    }


register(Provider("rectification", _("整改"), _rectifications, _rectification_row, due="due_at"))
register(Provider("attestation", _("发言确认"), _attestations, _attestation_row, due="due_at"))
register(Provider("review", _("记录审核"), _review, _review_row))
