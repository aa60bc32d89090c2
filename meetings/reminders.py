"""Reminders swept by the beat: the eve of a meeting, a period ending, minutes overdue, long absence.

Every reminder goes through the outbox (``bulletin.services.notify``) with a
``dedupe_key``, so a sweep that runs twice or overlaps another sends nothing
twice. The reads are set-based: a run costs the same number of queries whether
the mine has two branches or two hundred. Writes are one ``notify`` (and for
overdue minutes one conditional update) per reminder actually due; before
calling ``notify`` each sweep reads, in one query, which (key, recipient) pairs
the outbox already holds, so a run with nothing new to send writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from bulletin.models import Notification
from bulletin.services import notify
from org.clock import (
    date_label,
    deadline_text,
    local_date,
    local_midnight,
    mine_tz,
    month_number,
    month_start,
    period_bounds,
    time_range_label,
)
from org.models import Member, Membership, Organization, Post, StaffRole, User
from org.selectors import active_on
from org.texts import prefixed, quoted

from .compliance import month_bucket
from .models import Attendance, CadenceRule, Exemption, Meeting, MeetingPolicy, type_counts_for
from .selectors import minutes_due

# A meeting is reminded of during the 24 hours before it starts.
EVE_WINDOW = dt.timedelta(hours=24)

PERIOD_LABELS = {
    CadenceRule.Period.MONTH: "本月",
    CadenceRule.Period.QUARTER: "本季度",
    CadenceRule.Period.HALF_YEAR: "本半年",
    CadenceRule.Period.YEAR: "本年度",
}


# --- Shared helpers ---------------------------------------------------------------------


def _already_sent(keys: Iterable[str]) -> set[tuple[str, int]]:
    """(dedupe_key, recipient id) pairs the outbox already holds for ``keys``: one query."""
    keys = set(keys)
    if not keys:
        return set()
    return set(
        Notification.objects.filter(dedupe_key__in=keys, recipient__isnull=False)
        .values_list("dedupe_key", "recipient_id")
        .distinct()
    )


def _secretaries_by_branch(branch_ids: Iterable[int], *, on: dt.date) -> dict[int, User]:
    """The login of each branch's current 书记 (the latest appointed if two overlap): one query."""
    branch_ids = set(branch_ids)
    if not branch_ids:
        return {}
    posts = (
        Post.objects.filter(active_on(on), role=Post.Role.SECRETARY, organization_id__in=branch_ids)
        .filter(member__user__isnull=False, member__user__is_active=True)
        .select_related("member__user")
        .order_by("organization_id", "-started_on", "-id")
    )
    result: dict[int, User] = {}
    for post in posts:
        result.setdefault(post.organization_id, post.member.user)
    return result


def _send(*, key: str, recipients: Iterable[User], sent: set[tuple[str, int]], now: dt.datetime, **message) -> bool:
    """Notify the recipients who do not have ``key`` yet; True when anything was written."""
    due = [u for u in recipients if (key, u.pk) not in sent]
    if not due:
        return False
    return notify(recipients=due, dedupe_key=key, now=now, **message) > 0


def _meeting_url(meeting_id: int) -> str:
    return reverse("meetings:meeting_detail", args=[meeting_id])


# --- The eve of a meeting ----------------------------------------------------------------


def send_eve_reminders(*, now: dt.datetime) -> int:
    """Remind every expected attendee of a notified meeting starting within the next 24 hours.

    A meeting whose notice went out less than 24 hours before it starts is left
    out: that notice was the day-before notice. Members on leave are not reminded.
    Returns the number of meetings reminded of. Two queries, plus one ``notify`` per meeting due.
    """
    rows = (
        Attendance.objects.filter(
            meeting__status=Meeting.Status.NOTIFIED,
            meeting__planned_start__gt=now,
            meeting__planned_start__lte=now + EVE_WINDOW,
            member__user__isnull=False,
            member__user__is_active=True,
        )
        .filter(
            Q(meeting__notice_published_at__isnull=True)
            | Q(meeting__notice_published_at__lte=F("meeting__planned_start") - EVE_WINDOW)
        )
        .exclude(status=Attendance.Status.LEAVE)
        .select_related("meeting", "member__user")
        .order_by("meeting_id", "id")
    )
    by_meeting: dict[int, tuple[Meeting, list[User]]] = {}
    for row in rows:
        by_meeting.setdefault(row.meeting_id, (row.meeting, []))[1].append(row.member.user)
    sent = _already_sent(f"meeting:{pk}:eve" for pk in by_meeting)
    count = 0
    for pk, (meeting, users) in by_meeting.items():
        count += _send(
            key=f"meeting:{pk}:eve",
            recipients=users,
            sent=sent,
            now=now,
            subject=prefixed(_("会议提醒"), meeting.topic),
            body=(
                _(
                    "会议主题：{topic}\n时间：{time_range_label}\n地点：{place}\n请准时参加；不能参加的请在会前在系统中请假，经书记批准。"
                ).format(
                    topic=meeting.topic,
                    time_range_label=time_range_label(meeting.planned_start, meeting.planned_end),
                    place=meeting.place,
                )
            ),
            url=_meeting_url(pk),
        )
    return count


# --- A period ending ---------------------------------------------------------------------


@dataclass(frozen=True)
class _DueRule:
    rule: CadenceRule
    type_ids: tuple[int, ...]
    type_names: str
    period_start: dt.date
    period_end: dt.date
    days_left: int
    threshold: int


def _due_rules(*, today: dt.date, thresholds: list[int]) -> list[_DueRule]:
    """Active rules whose current period ends within one of ``thresholds`` days: two queries."""
    due = []
    for rule in CadenceRule.objects.filter(is_active=True).prefetch_related("types"):
        start, end = period_bounds(rule.period, today)
        days_left = (end - today).days
        # The tightest threshold already reached: a beat that missed the 7-day
        # mark still sends it late, and once the 2-day mark is reached only that
        # one is sent, so a missed beat never makes two reminders arrive at once.
        reached = [n for n in thresholds if days_left <= n]
        if not reached:
            continue
        types = list(rule.types.all())
        if types:
            names = _("或").join(t.name for t in types)
            due.append(_DueRule(rule, tuple(t.pk for t in types), names, start, end, days_left, min(reached)))
    return due


def _meeting_counts(due: _DueRule, *, branch_ids: list[int]) -> dict[tuple[int, int | None], int]:
    """Meetings of the rule's types held, planned or notified in its current period: one query.

    Keyed by (branch id, group id); a held meeting counts for the period of its
    ``counts_for`` (per type: ``type_counts_for``); one not yet held for the period of its planned start.
    """
    period_from = local_midnight(due.period_start)
    period_to = local_midnight(due.period_end + dt.timedelta(days=1))
    # type_counts_for: a combined meeting's type may count for its own period (MeetingTypePeriod).
    in_period = (Q(status__in=Meeting.HELD_STATUSES) & Q(period_day__range=(due.period_start, due.period_end))) | (
        Q(status__in=(Meeting.Status.PLANNED, Meeting.Status.NOTIFIED))
        & Q(planned_start__gte=period_from, planned_start__lt=period_to)
    )
    rows = (
        Meeting.objects.filter(branch_id__in=branch_ids, types__in=due.type_ids)
        .annotate(period_day=type_counts_for())
        .filter(in_period)
        .values("branch_id", "group_id")
        .annotate(n=Count("pk", distinct=True))
        .order_by()
    )
    return {(r["branch_id"], r["group_id"]): r["n"] for r in rows}


def send_period_end_reminders(*, now: dt.datetime, policy: MeetingPolicy | None = None) -> int:
    """Tell each branch secretary which required meetings of a period about to end are neither held nor planned.

    For a group-scope rule (党小组会 per group) each group is checked and named.
    A branch with an exemption for the rule and period is skipped, a group with its own
    exemption too; so is a branch or group that does not exist for the whole period
    (``Organization.exists_throughout``, as in the compliance engine). Returns the
    number of reminders sent. Queries: rules (2), branches, groups, secretaries,
    exemptions, one per due rule, and the outbox check.
    """
    policy = policy or MeetingPolicy.current()
    today = local_date(now)
    due_rules = _due_rules(today=today, thresholds=policy.reminder_days)
    if not due_rules:
        return 0
    branches = list(Organization.objects.branches().active().order_by("sort_order", "id"))
    branch_ids = [b.pk for b in branches]
    groups_by_branch: dict[int, list[Organization]] = defaultdict(list)
    if any(d.rule.scope == CadenceRule.Scope.GROUP for d in due_rules):
        for group in (
            Organization.objects.groups().active().filter(parent_id__in=branch_ids).order_by("sort_order", "id")
        ):
            groups_by_branch[group.parent_id].append(group)
    # (rule, branch, group or None): a branch-wide exemption (group None) covers its groups too.
    secretaries = _secretaries_by_branch(branch_ids, on=today)
    exemptions = Q()
    for d in due_rules:
        exemptions |= Q(rule_id=d.rule.pk, period_start=d.period_start)
    exempt = set(
        Exemption.objects.filter(exemptions, branch_id__in=branch_ids).values_list("rule_id", "branch_id", "group_id")
    )

    # (key, secretary, rule, branch, group) of every unit short of meetings.
    shortfalls = []
    for d in due_rules:
        counts = _meeting_counts(d, branch_ids=branch_ids)
        if d.rule.scope == CadenceRule.Scope.BRANCH:
            per_branch: dict[int, int] = defaultdict(int)
            for (branch_id, _group_id), n in counts.items():
                per_branch[branch_id] += n
        for branch in branches:
            secretary = secretaries.get(branch.pk)
            if secretary is None or (d.rule.pk, branch.pk, None) in exempt:
                continue
            if not branch.exists_throughout(d.period_start, d.period_end):
                continue
            if d.rule.scope == CadenceRule.Scope.GROUP:
                units = [
                    (g, counts.get((branch.pk, g.pk), 0))
                    for g in groups_by_branch[branch.pk]
                    if (d.rule.pk, branch.pk, g.pk) not in exempt and g.exists_throughout(d.period_start, d.period_end)
                ]
            else:
                units = [(None, per_branch[branch.pk])]
            for group, n in units:
                if n >= d.rule.min_count:
                    continue
                key = f"period:{d.rule.pk}:{branch.pk}:{group.pk if group else 0}:{d.period_start}:{d.threshold}"
                shortfalls.append((key, secretary, d, branch, group, n))

    sent = _already_sent(s[0] for s in shortfalls)
    count = 0
    for key, secretary, d, branch, group, n in shortfalls:
        unit = f"{branch.name}{group.name}" if group else branch.name
        label = PERIOD_LABELS[d.rule.period]
        count += _send(
            key=key,
            recipients=[secretary],
            sent=sent,
            now=now,
            subject=_("期末提醒：{unit}{label}{type_names}尚未召开").format(
                unit=unit, label=label, type_names=d.type_names
            ),
            body=(
                _(
                    "按照{quoted}的要求，{unit}{label}（{date_label} 至 {date_label2}）"
                    "应至少召开 {min_count} 次，目前已召开或已计划 {n} 次。距本期结束还有 {days_left} 天，请及时安排。"
                ).format(
                    quoted=quoted(d.rule.name),
                    unit=unit,
                    label=label,
                    date_label=date_label(d.period_start),
                    date_label2=date_label(d.period_end),
                    min_count=d.rule.min_count,
                    n=n,
                    days_left=d.days_left,
                )
            ),
        )
    return count


# --- Minutes overdue ---------------------------------------------------------------------


def flag_overdue_minutes(*, now: dt.datetime, policy: MeetingPolicy | None = None) -> int:
    """Flag meetings whose record is not submitted by ``minutes_due_at``; tell the secretary once.

    The deadline is the stored ``Meeting.minutes_due_at`` (meetings.deadlines: the end of the
    ``minutes_due_days``-th calendar day after the meeting day), read through its partial index.
    A meeting is flagged by a conditional update and the secretary is told only
    when that update changed the row, in the same transaction: two sweeps at
    once flag and notify once. Returns the number of meetings flagged.
    """
    policy = policy or MeetingPolicy.current()
    candidates = list(
        minutes_due(now=now)
        .filter(minutes_due_at__lte=now, minutes_overdue_at__isnull=True)
        .annotate(held_at=Coalesce("actual_start", "planned_start"))
        .select_related("branch")
        .order_by("pk")
    )
    if not candidates:
        return 0
    secretaries = _secretaries_by_branch({m.branch_id for m in candidates}, on=local_date(now))
    flagged = 0
    for meeting in candidates:
        with transaction.atomic():
            changed = Meeting.objects.filter(pk=meeting.pk, minutes_overdue_at__isnull=True).update(
                minutes_overdue_at=now
            )
            if not changed:
                continue  # another sweep got there first and told the secretary
            flagged += 1
            secretary = secretaries.get(meeting.branch_id)
            if secretary is None:
                continue
            held = local_date(meeting.held_at)
            notify(
                recipients=[secretary],
                subject=prefixed(_("会议记录逾期"), meeting.topic),
                body=(
                    _(
                        "{name} {date_label} 的会议{quoted}应在会后 {minutes_due_days} 天内（{deadline} 前）"
                        "提交会议记录，会议记录尚未提交。请尽快录入并提交会议记录。"
                    ).format(
                        name=meeting.branch.name,
                        date_label=date_label(held),
                        quoted=quoted(meeting.topic),
                        minutes_due_days=policy.minutes_due_days,
                        deadline=deadline_text(meeting.minutes_due_at),
                    )
                ),
                url=_meeting_url(meeting.pk),
                dedupe_key=f"meeting:{meeting.pk}:minutes-overdue",
                now=now,
            )
    return flagged


# --- Long absence ------------------------------------------------------------------------


def absence_streaks(*, now: dt.datetime, lookback_months: int) -> dict[int, int]:
    """How many months in a row each on-roll member missed every required meeting they were expected at: one query.

    The rule (党章 自行脱党, with the local 2-month warning): a month counts when the member was
    expected (a recorded attendance row) at a held meeting of a type some active cadence rule
    requires, and was at none of them: 无故缺席 everywhere, no 出席, 迟到 or approved 请假. A
    month in which the member attended any such meeting, or had approved leave, ends the run.
    A month in which they were expected at none (no meeting held, not yet a member) neither
    counts nor ends it; so a member who joined three months ago has at most three months.
    Months are the mine's calendar months, counted back from the last complete one over
    ``lookback_months``; the current month only ends a run (attending this month clears it at
    once) and counts once it is over. Rows not yet recorded prove nothing and are ignored.
    Returns {member id: months} for members with at least one month.
    """
    current = month_number(local_date(now))
    first = current - lookback_months
    required = Meeting.types.through.objects.filter(
        meeting_id=OuterRef("meeting_id"), meetingtype__cadence_rules__is_active=True
    )
    attended = Q(status__in=(*Attendance.PRESENT_STATUSES, Attendance.Status.LEAVE))
    rows = (
        Attendance.objects.filter(
            Meeting.held_in_q(local_midnight(month_start(first)), now, prefix="meeting__"),
            meeting__status__in=Meeting.HELD_STATUSES,
            member__status__in=Member.ON_ROLL_STATUSES,
        )
        .filter(Exists(required))
        .exclude(status="")
        .annotate(held_at=Coalesce("meeting__actual_start", "meeting__planned_start"))
        .annotate(month=month_bucket("held_at", first, current, is_datetime=True, after=current + 1))
        .values("member_id", "month")
        .annotate(attended=Count("pk", filter=attended), absent=Count("pk", filter=Q(status=Attendance.Status.ABSENT)))
        .order_by()
    )
    months: dict[int, dict[int, bool]] = defaultdict(dict)  # member -> month -> attended any
    for row in rows:
        if row["attended"] or row["absent"]:
            months[row["member_id"]][row["month"]] = bool(row["attended"])
    streaks = {}
    for member_id, by_month in months.items():
        if by_month.get(current):
            continue  # attended (or on leave) this month: no run
        run = 0
        for number in range(current - 1, first - 1, -1):
            state = by_month.get(number)
            if state is None:
                continue  # not expected that month
            if state:
                break
            run += 1
        if run:
            streaks[member_id] = run
    return streaks


def absent_members(*, now: dt.datetime, warning_months: int, escalation_months: int) -> tuple[set[int], set[int]]:
    """Ids of members absent ``warning_months`` and ``escalation_months`` months in a row (``absence_streaks``).

    Looks back twice the escalation months, so passing over months without meetings cannot
    reach further than that. Returns (warning ids, escalation ids); a member in both is only
    in the second.
    """
    streaks = absence_streaks(now=now, lookback_months=2 * max(escalation_months, warning_months))
    escalation = {m for m, run in streaks.items() if run >= escalation_months}
    warning = {m for m, run in streaks.items() if warning_months <= run} - escalation
    return warning, escalation


def send_absence_reminders(*, now: dt.datetime, policy: MeetingPolicy | None = None) -> int:
    """Warn the secretary of members absent without leave for 2 months; at 6, also every supervisor.

    Keyed by the month, so each is sent at most once a month while it lasts.
    Returns the number of members reported. Queries: the aggregate, the members'
    current branches, their secretaries, the supervisors, and the outbox check.
    """
    policy = policy or MeetingPolicy.current()
    warning, escalation = absent_members(
        now=now,
        warning_months=policy.absence_warning_months,
        escalation_months=policy.absence_escalation_months,
    )
    if not (warning or escalation):
        return 0
    today = local_date(now)
    memberships = (
        Membership.objects.filter(active_on(today), organization__kind=Organization.Kind.BRANCH)
        .filter(member_id__in=warning | escalation)
        .select_related("member", "organization")
        .order_by("member_id", "-started_on")
    )
    branch_of: dict[int, Membership] = {}
    for membership in memberships:
        branch_of.setdefault(membership.member_id, membership)
    secretaries = _secretaries_by_branch({m.organization_id for m in branch_of.values()}, on=today)
    supervisors = []
    if escalation:
        supervisors = list(
            User.objects.filter(staff_roles__role__in=StaffRole.SUPERVISOR_ROLES, is_active=True).distinct()
        )
    month = timezone.localtime(now, mine_tz())

    messages = []
    for member_id, membership in branch_of.items():
        months = policy.absence_escalation_months if member_id in escalation else policy.absence_warning_months
        recipients = [secretaries[membership.organization_id]] if membership.organization_id in secretaries else []
        if member_id in escalation:
            recipients += supervisors
        if recipients:
            messages.append((f"absence:{member_id}:{months}m:{month:%Y-%m}", recipients, membership, months))
    sent = _already_sent(m[0] for m in messages)
    count = 0
    for key, recipients, membership, months in messages:
        name, branch = membership.member.name, membership.organization.name
        body = _(
            "{branch}党员 {name} 近 {months} 个月无故缺席了应参加的全部组织生活（会议）"
            "，未请假。请书记及时谈心谈话，了解原因，督促其参加组织生活。"
        ).format(branch=branch, name=name, months=months)
        if months >= policy.absence_escalation_months:
            body += _(
                "按照党章规定，党员连续六个月不参加党的组织生活，又不交纳党费或不做党所分配的工作，就被认为是自行脱党。"
            )
        count += _send(
            key=key,
            recipients=recipients,
            sent=sent,
            now=now,
            subject=_("连续缺席提醒：{branch} {name}（{months}个月）").format(branch=branch, name=name, months=months),
            body=body,
        )
    return count


# --- All of them -------------------------------------------------------------------------


def send_due_reminders(*, now: dt.datetime) -> dict[str, int]:
    """Run every reminder sweep once; returns how many of each were sent (or flagged)."""
    policy = MeetingPolicy.current()
    return {
        "eve": send_eve_reminders(now=now),
        "period_end": send_period_end_reminders(now=now, policy=policy),
        "minutes_overdue": flag_overdue_minutes(now=now, policy=policy),
        "absence": send_absence_reminders(now=now, policy=policy),
    }
