"""Reads of the bulletin, with the permission filter."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from org.models import Member, Membership, Organization, User
from org.scope import get_scope

from .models import Announcement, Notification, ReadReceipt, WorkerHeartbeat


def announcements_for_user(user, *, now: dt.datetime) -> QuerySet[Announcement]:
    """Published announcements the user may read: mine-wide ones and those of their branches."""
    scope = get_scope(user)
    qs = Announcement.objects.filter(published_at__lte=now).select_related("organization")
    if scope.sees_all_branches:
        return qs
    branch_ids = scope.reachable_branch_ids
    return qs.filter(Q(organization__isnull=True) | Q(organization_id__in=branch_ids))


def announcement_list(user, *, now: dt.datetime, kind: str = "") -> QuerySet[Announcement]:
    """The list page's rows: pinned first, then newest, each with whether the user has read it."""
    qs = announcements_for_user(user, now=now).annotate(
        is_read=Exists(ReadReceipt.objects.filter(announcement=OuterRef("pk"), user=user))
    )
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-pinned", "-published_at", "-id")


def scheduled_announcements_for_manager(user, *, now: dt.datetime) -> QuerySet[Announcement]:
    """Announcements not yet published that the user may edit (shown to them above the list)."""
    scope = get_scope(user)
    qs = Announcement.objects.filter(published_at__gt=now).select_related("organization")
    if scope.sees_all_branches:
        return qs.order_by("published_at", "id")
    return qs.filter(organization_id__in=scope.committee_branch_ids).order_by("published_at", "id")


def publishable_branches(user) -> QuerySet[Organization]:
    """Branches the user may address an announcement to: the ones they manage, or every one from the 党委."""
    scope = get_scope(user)
    qs = Organization.objects.branches().active()
    if scope.sees_all_branches:
        return qs
    return qs.filter(pk__in=scope.committee_branch_ids)


def may_publish_mine_wide(user) -> bool:
    return get_scope(user).sees_all_branches


def announcement_audience(*, organization: Organization | None, on: dt.date) -> QuerySet[User]:
    """The active logins an announcement addresses, as one query.

    A branch's audience is the users of members on the roll who belong to the branch
    on ``on``; the mine's is every active login linked to a member on the roll.
    """
    qs = User.objects.filter(is_active=True, member__status__in=Member.ON_ROLL_STATUSES)
    if organization is None:
        return qs
    current = Membership.objects.filter(
        Q(ended_on__isnull=True) | Q(ended_on__gt=on),
        member_id=OuterRef("member__pk"),
        organization=organization,
        started_on__lte=on,
    )
    return qs.filter(Exists(current))


def read_receipts_summary(announcement: Announcement, *, on: dt.date) -> dict:
    """Who of the audience has read the announcement: the unread people (with names) and the counts.

    Two queries whatever the audience's size: one aggregate, one list of the unread.
    """
    audience = announcement_audience(organization=announcement.organization, on=on)
    read = ReadReceipt.objects.filter(announcement=announcement, user=OuterRef("pk"))
    annotated = audience.annotate(has_read=Exists(read))
    counts = annotated.aggregate(total=Count("pk"), read=Count("pk", filter=Q(has_read=True)))
    unread = annotated.filter(has_read=False).order_by("member__name", "pk").values("pk", "username", "member__name")
    return {"total": counts["total"], "read": counts["read"], "unread": list(unread)}


def inbox_for_user(user) -> QuerySet[Notification]:
    """The user's delivered in-app messages, newest first (unread ones are those with no ``read_at``)."""
    return Notification.objects.filter(
        recipient=user, channel=Notification.Channel.INBOX, status=Notification.Status.SENT
    ).order_by("-created_at", "-id")


def due_notification_ids(*, now: dt.datetime, after_id: int = 0, limit: int = 100) -> list[int]:
    """Outbox rows the sweep should deliver: pending ones that are due, and claims whose lease ran out.

    Both states keep their deadline in ``next_attempt_at`` (the lease of a claim is
    stored there too), so one range on the partial index ``bulletin_notif_due`` finds them.
    """
    return list(
        Notification.objects.filter(
            status__in=[Notification.Status.PENDING, Notification.Status.SENDING],
            next_attempt_at__lte=now,
            pk__gt=after_id,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


# --- The status page -----------------------------------------------------------------

# The heartbeat runs every HEARTBEAT_SECONDS (30 s); four missed beats is a worker or beat that is down.
HEARTBEAT_STALE_AFTER = dt.timedelta(minutes=2)


def heartbeat_is_stale(*, seen_at: dt.datetime | None, now: dt.datetime) -> bool:
    """No heartbeat yet, or the last one more than HEARTBEAT_STALE_AFTER ago (exactly two minutes is still fresh)."""
    return seen_at is None or now - seen_at > HEARTBEAT_STALE_AFTER


def worker_status(*, now: dt.datetime) -> dict:
    """The last heartbeat of any worker, each worker's own, and the outbox by state (three queries)."""
    beats = list(WorkerHeartbeat.objects.order_by("-seen_at")[:20])
    last = beats[0].seen_at if beats else None
    counts = dict(Notification.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    oldest_due = (
        Notification.objects.filter(status=Notification.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    return {
        "last_heartbeat": last,
        "heartbeat_stale": heartbeat_is_stale(seen_at=last, now=now),
        "workers": [
            {"worker": b.worker, "seen_at": b.seen_at, "stale": heartbeat_is_stale(seen_at=b.seen_at, now=now)}
            for b in beats
        ],
        "outbox": [(status, label, counts.get(status, 0)) for status, label in Notification.Status.choices],
        "oldest_due": oldest_due,
    }
