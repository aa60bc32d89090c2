"""Reads of the review pages: the queue of submitted records, one record with everything a supervisor checks,
and the history of its review rounds."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, Length

from bulletin.models import Notification
from meetings.models import AgendaItem, Attendance, Meeting, MeetingType, Speech
from meetings.selectors import meetings_base
from org.models import Organization

from ..models import Evidence, Flag, Review, ReviewFlagRecord
from ..services.review import HISTORY_REASON_PREFIX
from .integrity import with_open_flag_count

# Open flags first, then confirmed, then dismissed: the supervisor works from the top.
_FLAG_ORDER = Case(
    When(status=Flag.Status.OPEN, then=Value(0)),
    When(status=Flag.Status.CONFIRMED, then=Value(1)),
    default=Value(2),
)


def _count_of(model, **filters):
    """The number of ``model`` rows of each meeting, as a subquery (joins would multiply each other's counts)."""
    rows = (
        model.objects.filter(meeting=OuterRef("pk"), **filters)
        .order_by()
        .values("meeting")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def open_flags(**filters) -> QuerySet[Flag]:
    return Flag.objects.filter(status=Flag.Status.OPEN, **filters)


def review_queue(
    *,
    branch: Organization | None = None,
    branch_name: str = "",
    meeting_type: MeetingType | None = None,
    period: tuple[dt.date, dt.date] | None = None,
    has_open_flags: bool | None = None,
) -> QuerySet[Meeting]:
    """Submitted records of every branch, oldest submission first, with their evidence and open-flag counts.

    ``period`` is [first day, day after the last) of the period the meeting counts for (归属期间).
    """
    qs = (
        Meeting.objects.filter(status=Meeting.Status.SUBMITTED)
        .select_related("branch", "group")
        .prefetch_related("types")
        .annotate(
            evidence_count=_count_of(Evidence),
        )
    )
    qs = with_open_flag_count(qs)
    if branch is not None:
        qs = qs.filter(branch=branch)
    if branch_name:
        qs = qs.filter(branch__name__icontains=branch_name)
    if meeting_type is not None:
        # Exists rather than a join: a meeting appears once whatever else it is.
        qs = qs.filter(Exists(Meeting.types.through.objects.filter(meeting=OuterRef("pk"), meetingtype=meeting_type)))
    if period is not None:
        qs = qs.filter(counts_for__gte=period[0], counts_for__lt=period[1])
    if has_open_flags is not None:
        flagged = Exists(open_flags(meeting=OuterRef("pk")))
        qs = qs.filter(flagged if has_open_flags else ~flagged)
    return qs.order_by("submitted_at", "id")


def review_detail_queryset() -> QuerySet[Meeting]:
    """A meeting with its minutes, attendance, evidence, flags and reviews, in a fixed number of queries."""
    return meetings_base().prefetch_related(
        Prefetch("attendances", queryset=Attendance.objects.select_related("member").order_by("member__name", "id")),
        Prefetch(
            "agenda_items",
            queryset=AgendaItem.objects.prefetch_related(
                Prefetch("speeches", queryset=Speech.objects.select_related("speaker", "attestation"))
            ),
        ),
        "votes",
        Prefetch("evidence", queryset=Evidence.objects.order_by("category", "uploaded_at", "id")),
        Prefetch(
            "flags",
            queryset=Flag.objects.select_related(
                "related_meeting__branch", "decided_by__member", "evidence", "related_evidence"
            ).order_by(_FLAG_ORDER, "kind", "id"),
        ),
        Prefetch("reviews", queryset=Review.objects.select_related("by__member").order_by("at", "id")),
    )


def _points(corners) -> str:
    """Corners in 0–1 coordinates of a picture as an SVG ``points`` list on a 0–100 box, clamped to it."""
    try:
        return " ".join(
            f"{min(max(float(x), 0.0), 1.0) * 100:.1f},{min(max(float(y), 0.0), 1.0) * 100:.1f}" for x, y in corners
        )
    except (TypeError, ValueError):
        return ""


def match_outlines(flag: Flag) -> dict[str, str] | None:
    """A photo copy's matched region in each picture as SVG points (``Flag.match_region``), or None."""
    region = flag.match_region if isinstance(flag.match_region, dict) else None
    if not region or flag.evidence_id is None or flag.related_evidence_id is None:
        return None
    outlines = {side: _points(region.get(side) or []) for side in ("evidence", "related")}
    return outlines if all(outlines.values()) else None


def flags_by_evidence(flags: list[Flag]) -> dict[int, list[Flag]]:
    grouped: dict[int, list[Flag]] = defaultdict(list)
    for flag in flags:
        if flag.evidence_id is not None:
            grouped[flag.evidence_id].append(flag)
    return dict(grouped)


def latest_return(meeting: Meeting) -> Review | None:
    """The supervisor's last return of ``meeting`` with its comment, for the branch's meeting page (one query)."""
    return (
        Review.objects.filter(meeting_id=meeting.pk, action=Review.Action.RETURN)
        .select_related("by__member")
        .order_by("-at", "-id")
        .first()
    )


# --- The history of the rounds -------------------------------------------------------------


@dataclass(frozen=True)
class RoundEvent:
    kind: str  # "submit", "resubmit" or a Review.Action
    label: str
    at: dt.datetime | None
    by: str = ""
    comment: str = ""


@dataclass
class ReviewRound:
    number: int
    events: list[RoundEvent] = field(default_factory=list)


def review_rounds(meeting: Meeting, *, reviews: list[Review] | None = None) -> list[ReviewRound]:
    """Every round of the record: when it was submitted, and each decision on it, by whom and why.

    A submission is written by ``meeting_submit`` with a conditional update that keeps no
    history row, and a resubmission overwrites ``submitted_at``; the history row that each
    decision writes holds the ``submitted_at`` of its round, so earlier rounds are read from there.
    Pass ``reviews`` (ordered by time) when they are prefetched.
    """
    if reviews is None:
        reviews = list(Review.objects.filter(meeting_id=meeting.pk).select_related("by__member").order_by("at", "id"))
    snapshots = list(
        Meeting.history.filter(id=meeting.pk, history_change_reason__startswith=HISTORY_REASON_PREFIX)
        .order_by("history_date", "history_id")
        .values_list("submitted_at", flat=True)
    )
    if len(snapshots) != len(reviews):
        # Decisions made outside these services (or history pruned): pair nothing rather than mispair.
        snapshots = [None] * len(reviews)
    returns = sum(1 for r in reviews if r.action == Review.Action.RETURN)
    pending_round = returns + 1 if meeting.status == Meeting.Status.SUBMITTED else None
    rounds: dict[int, ReviewRound] = {}
    for review, submitted_at in zip(reviews, snapshots, strict=True):
        current = rounds.get(review.round)
        if current is None:
            current = rounds[review.round] = ReviewRound(review.round)
            current.events.append(_submission(review.round, submitted_at))
        current.events.append(
            RoundEvent(
                kind=review.action,
                label=review.get_action_display(),
                at=review.at,
                by=review.by.display_name if review.by else "",
                comment=review.comment,
            )
        )
    if pending_round is not None and pending_round not in rounds:
        rounds[pending_round] = ReviewRound(pending_round, [_submission(pending_round, meeting.submitted_at)])
    return [rounds[n] for n in sorted(rounds)]


def _submission(number: int, at: dt.datetime | None) -> RoundEvent:
    if number == 1:
        return RoundEvent(kind="submit", label="提交审核", at=at)
    return RoundEvent(kind="resubmit", label="修改后重新提交", at=at)


# --- The reviewer's signals ---------------------------------------------------------------


@dataclass(frozen=True)
class NoticeRecipient:
    name: str
    sent_at: dt.datetime | None
    read_at: dt.datetime | None


def notice_recipients(meeting: Meeting) -> list[NoticeRecipient]:
    """Who was sent the meeting's notice in the app (the inbox rows of its dedupe key), by name: one query.

    The key is the one ``meetings.services.meeting_publish_notice`` writes.
    """
    rows = (
        Notification.objects.filter(channel=Notification.Channel.INBOX, dedupe_key=f"meeting:{meeting.pk}:notice")
        .select_related("recipient__member")
        .order_by("created_at", "id")
    )
    return [
        NoticeRecipient(name=row.recipient.display_name, sent_at=row.created_at, read_at=row.read_at) for row in rows
    ]


@dataclass(frozen=True)
class CheckinRow:
    name: str
    at: dt.datetime
    device_label: str
    shared: bool
    browser: str = ""
    network: str = ""
    # The fallback signal: another check-in of the meeting came from the same browser on the same
    # network, and one of the two had no valid device cookie (cleared or forged). A hint, never a flag.
    same_browser: bool = False


def checkin_rows(rows: list[Attendance]) -> list[CheckinRow]:
    """The check-ins of the prefetched attendance rows in time order; devices as 设备1, 设备2, … (ids stay hidden).

    A device that checked in several members is ``shared`` (the rule of
    ``meetings.checkin.shared_device_checkins``, applied here to rows already loaded).
    """
    checked = sorted((r for r in rows if r.checked_in_at is not None), key=lambda r: (r.checked_in_at, r.pk))
    labels: dict[str, str] = {}
    counts: dict[str, int] = defaultdict(int)
    for row in checked:
        if row.checkin_device:
            labels.setdefault(row.checkin_device, f"设备{len(labels) + 1}")
            counts[row.checkin_device] += 1
    by_browser: dict[tuple[str, str], list[Attendance]] = defaultdict(list)
    for row in checked:
        if row.checkin_user_agent and row.checkin_network:
            by_browser[(row.checkin_user_agent, row.checkin_network)].append(row)
    hinted = {
        row.pk
        for same in by_browser.values()
        if len({r.checkin_device for r in same}) > 1 and any(r.checkin_new_device for r in same)
        for row in same
    }
    return [
        CheckinRow(
            name=row.member.name,
            at=row.checked_in_at,
            device_label=labels.get(row.checkin_device, "—"),
            shared=counts.get(row.checkin_device, 0) > 1,
            browser=row.checkin_user_agent,
            network=row.checkin_network,
            same_browser=row.pk in hinted,
        )
        for row in checked
    ]


def round_flag_records(meeting: Meeting) -> list[ReviewFlagRecord]:
    """The flag decisions kept with each decided round, oldest round first (one query, thumbnails not loaded).

    They stay when the flag itself is gone (its photo was deleted after a return): ``flag_id`` is then None.
    """
    return list(
        ReviewFlagRecord.objects.filter(review__meeting_id=meeting.pk)
        .select_related("review")
        .defer("thumbnail")
        .annotate(thumbnail_size=Length("thumbnail"))
        .order_by("review__at", "review_id", "id")
    )
