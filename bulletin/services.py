"""Writes of the bulletin: announcements, read receipts and the notification outbox."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import Organization
from org.texts import prefixed

from .models import Announcement, Notification, ReadReceipt, WebhookEndpoint, WorkerHeartbeat
from .selectors import announcement_audience

logger = logging.getLogger(__name__)

DEFAULT_CHANNELS = (Notification.Channel.INBOX, Notification.Channel.EMAIL)

# A claimed row is "sending" until this lease runs out; a worker that dies mid-delivery
# leaves the row to the sweep after it. Far longer than any send can take (the webhook
# and SMTP timeouts are seconds), so a live worker never has its claim taken over.
CLAIM_LEASE = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 8
MAX_BACKOFF = dt.timedelta(minutes=60)
# What a notification quotes of an announcement; the link leads to the rest.
EXCERPT_CHARS = 300


# --- The outbox -----------------------------------------------------------------------


def notify(
    *,
    recipients: Iterable,
    subject: str,
    body: str = "",
    url: str = "",
    dedupe_key: str = "",
    channels: Iterable[str] = DEFAULT_CHANNELS,
    webhook_organizations: Iterable[Organization] = (),
    now: dt.datetime,
    not_before: dt.datetime | None = None,
) -> int:
    """Write one outbox row per recipient and channel (and per group-robot webhook).

    Call it inside the transaction of the change that causes it: the rows commit
    or roll back with that change. Delivery is queued after commit and never
    blocks or fails the caller. With a ``dedupe_key`` a row that already exists
    is not written again, so a reminder computed twice is sent once.
    ``not_before`` holds delivery back (a scheduled announcement): the rows wait
    for the sweep. Returns the number of rows written.
    """
    channels = tuple(channels)
    due_at = max(now, not_before) if not_before else now
    rows = []
    for user in {u.pk: u for u in recipients}.values():
        for channel in channels:
            if channel == Notification.Channel.EMAIL and not user.email:
                continue
            if channel == Notification.Channel.WEBHOOK:
                continue
            rows.append(
                Notification(
                    channel=channel,
                    recipient=user,
                    subject=subject[:200],
                    body=body,
                    url=url,
                    dedupe_key=dedupe_key,
                    next_attempt_at=due_at,
                    created_at=now,
                )
            )
    org_ids = [o.pk for o in webhook_organizations]
    if org_ids:
        for endpoint in WebhookEndpoint.objects.filter(organization_id__in=org_ids, is_active=True):
            rows.append(
                Notification(
                    channel=Notification.Channel.WEBHOOK,
                    webhook=endpoint,
                    subject=subject[:200],
                    body=body,
                    url=url,
                    dedupe_key=dedupe_key,
                    next_attempt_at=due_at,
                    created_at=now,
                )
            )
    if not rows:
        return 0
    with transaction.atomic():
        if dedupe_key:
            # ignore_conflicts drops rows the unique constraints already hold; the
            # ids are then not returned, so delivery is queued by key instead.
            Notification.objects.bulk_create(rows, ignore_conflicts=True)
            ids = list(
                Notification.objects.filter(
                    dedupe_key=dedupe_key, status=Notification.Status.PENDING, created_at=now
                ).values_list("pk", flat=True)
            )
        else:
            ids = [n.pk for n in Notification.objects.bulk_create(rows)]
        if due_at <= now:
            transaction.on_commit(lambda: enqueue_delivery(ids))
    return len(ids)


def enqueue_delivery(ids: list[int]) -> None:
    """Ask the worker to deliver now, without the caller ever waiting on the broker.

    Measured on this stack (Celery/kombu 5.7, redis-py 8.1, see settings.py): with
    publish retries off and 1 s socket timeouts, ``delay()`` against a Redis paused
    by ``CLIENT PAUSE … WRITE`` or ``ALL`` raises after 1.0 s (it raised after exactly
    the socket timeout: 2 s, 1 s and 0.5 s, each time), against a stopped Redis at
    once; a healthy publish takes 0.5 ms (60 ms for the first connection). One second
    per request is still a request slowed by the broker: publishing in the request, the
    announcement form's POST took 1.2-1.5 s with Redis paused (test_worker.py). So the
    publish runs in a thread of its own, and the same POST took 0.15 s. The thread is not a daemon:
    a management command's publish is finished (at most one socket timeout) before
    the interpreter exits. When the publish fails or the process dies first, the rows
    stay pending and ``sweep_outbox`` (every OUTBOX_SWEEP_SECONDS) delivers them.
    """
    if not ids:
        return
    threading.Thread(target=_publish_delivery, args=(list(ids),), name="bulletin-enqueue").start()


def _publish_delivery(ids: list[int]) -> None:
    from .tasks import deliver_notifications

    try:
        deliver_notifications.apply_async((ids,), retry=False)
    except Exception:
        logger.warning("broker unavailable; %d notification(s) left for the outbox sweep", len(ids), exc_info=True)


# --- Delivery -------------------------------------------------------------------------


class DeliveryError(Exception):
    """A send that failed and may succeed later (the row is retried with back-off)."""


class PermanentDeliveryError(DeliveryError):
    """A send that cannot succeed by retrying (no address, channel switched off)."""


def deliver_notification(*, notification_id: int, now: dt.datetime) -> bool:
    """Deliver one outbox row if it is due and nobody else holds it; True when this call sent it.

    Not atomic on purpose: the claim must be committed before the external send, so
    that a second worker (a task run twice, an overlapping sweep) finds the row taken
    and does nothing. A worker that crashes after claiming leaves the row "sending"
    with an expired lease, which the sweep claims again. Each claim counts as an
    attempt, so a row that kills its worker every time still ends as failed.
    """
    claimed = Notification.objects.filter(
        pk=notification_id,
        status__in=[Notification.Status.PENDING, Notification.Status.SENDING],
        next_attempt_at__lte=now,
    ).update(status=Notification.Status.SENDING, next_attempt_at=now + CLAIM_LEASE, attempts=F("attempts") + 1)
    if claimed != 1:
        return False
    notification = Notification.objects.select_related("recipient", "webhook").filter(pk=notification_id).first()
    if notification is None:  # withdrawn (an edited announcement) between the claim and now
        return False
    try:
        _send(notification)
    except DeliveryError as exc:
        _record_failure(notification, error=str(exc), permanent=isinstance(exc, PermanentDeliveryError), now=now)
        return False
    except Exception as exc:
        logger.exception("notification %s: unexpected delivery error", notification_id)
        _record_failure(notification, error=f"{type(exc).__name__}: {exc}", permanent=False, now=now)
        return False
    Notification.objects.filter(pk=notification_id, status=Notification.Status.SENDING).update(
        status=Notification.Status.SENT, sent_at=now, last_error=""
    )
    return True


def deliver_inbox_rows(*, ids: Iterable[int], now: dt.datetime) -> list[int]:
    """Deliver the due inbox rows among ``ids`` with one conditional update; the ids it sent.

    An inbox row's delivery is only the flip to sent (nothing leaves the database), so the
    claim, the send and the mark of ``deliver_notification`` collapse into one statement
    with the same end state; on SQLite that is one write instead of three per row, and the
    sweep keeps up with far more rows (bench/bench_outbox.py).
    """
    due = Notification.objects.filter(
        pk__in=list(ids),
        channel=Notification.Channel.INBOX,
        status__in=[Notification.Status.PENDING, Notification.Status.SENDING],
        next_attempt_at__lte=now,
    )
    with transaction.atomic():
        sent = list(due.select_for_update().values_list("pk", flat=True))
        Notification.objects.filter(pk__in=sent).update(
            status=Notification.Status.SENT, sent_at=now, last_error="", attempts=F("attempts") + 1
        )
    return sent


PRUNE_BATCH = 5000


def outbox_prune(*, now: dt.datetime, keep_days: int, batch: int = PRUNE_BATCH) -> int:
    """Delete e-mail and webhook rows delivered more than ``keep_days`` ago, in batches; return how many.

    The outbox is the notification table, and the inbox is its ``inbox`` rows: those are what
    users read under 消息, so they are never pruned here. Pending and failed rows stay too
    (the status page counts them). A deleted row's dedupe key is forgotten, so a cause that
    notifies again after ``keep_days`` would send again; every reminder is due within days.
    """
    cutoff = now - dt.timedelta(days=keep_days)
    delivered = Notification.objects.filter(status=Notification.Status.SENT, sent_at__lt=cutoff).exclude(
        channel=Notification.Channel.INBOX
    )
    deleted = 0
    while True:
        ids = list(delivered.order_by().values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += Notification.objects.filter(pk__in=ids).delete()[0]


def backoff_for(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8 … minutes after the ``attempts``-th failure, capped at an hour."""
    return min(dt.timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _record_failure(notification: Notification, *, error: str, permanent: bool, now: dt.datetime) -> None:
    attempts = notification.attempts  # already counts this attempt (incremented by the claim)
    give_up = permanent or attempts >= MAX_ATTEMPTS
    logger.warning("notification %s attempt %s failed: %s", notification.pk, attempts, error)
    Notification.objects.filter(pk=notification.pk, status=Notification.Status.SENDING).update(
        status=Notification.Status.FAILED if give_up else Notification.Status.PENDING,
        next_attempt_at=now if give_up else now + backoff_for(attempts),
        last_error=error[:2000],
    )


def absolute_url(url: str) -> str:
    if url.startswith("/"):
        return settings.SITE_URL.rstrip("/") + url
    return url


def _send(notification: Notification) -> None:
    channel = notification.channel
    if channel == Notification.Channel.INBOX:
        return  # the row itself is the message: marking it sent makes it visible
    if channel == Notification.Channel.EMAIL:
        _send_email(notification)
    elif channel == Notification.Channel.WEBHOOK:
        _send_webhook(notification)
    else:
        raise PermanentDeliveryError(f"unknown channel {channel!r}")


def idempotency_key(notification: Notification) -> str:
    """The same for every attempt at one outbox row, so a receiver can drop a repeat.

    Delivery is at least once: a worker killed between the send and marking the row sent
    (or a send that timed out after the receiver got it) leaves the row to be sent again.
    """
    return f"sanhui-notification-{notification.pk}"


def email_message_id(notification: Notification) -> str:
    host = urllib.parse.urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<{idempotency_key(notification)}@{host}>"


def _send_email(notification: Notification) -> None:
    address = notification.recipient.email if notification.recipient else ""
    if not address:
        raise PermanentDeliveryError(_("接收人没有电子邮件地址"))
    lines = [notification.body] if notification.body else []
    if notification.url:
        lines.append(_("详情：{absolute_url}").format(absolute_url=absolute_url(notification.url)))
    message = EmailMessage(
        subject=_("[三会一课] {subject}").format(subject=notification.subject),
        body="\n\n".join(lines),
        to=[address],
        # A repeat of the same row has the same Message-ID: mail clients and most servers show it once.
        headers={"Message-ID": email_message_id(notification), "X-Idempotency-Key": idempotency_key(notification)},
    )
    try:
        message.send(fail_silently=False)
    except OSError as exc:  # smtplib's errors are OSErrors, as are timeouts and refused connections
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc


def webhook_payload(notification: Notification) -> dict:
    """The group robot's message: WeCom and DingTalk both accept this ``text`` message."""
    parts = [f"【{notification.subject}】"]
    if notification.body:
        body = notification.body
        parts.append(body if len(body) <= EXCERPT_CHARS else body[:EXCERPT_CHARS] + "…")
    if notification.url:
        parts.append(_("详情：{absolute_url}").format(absolute_url=absolute_url(notification.url)))
    # The robots ignore fields they do not know; a relay of our own can drop a repeat by it.
    return {"msgtype": "text", "text": {"content": "\n".join(parts)}, "idempotency_key": idempotency_key(notification)}


def _send_webhook(notification: Notification) -> None:
    endpoint = notification.webhook
    if endpoint is None or not endpoint.is_active:
        raise PermanentDeliveryError(_("群机器人已停用"))
    if urllib.parse.urlsplit(endpoint.url).scheme not in ("http", "https"):
        raise PermanentDeliveryError(_("群机器人地址须以 http:// 或 https:// 开头"))
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        endpoint.url,
        data=json.dumps(webhook_payload(notification), ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": idempotency_key(notification)},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
            raw = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}") from exc
    except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections, bad URLs
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
    if not 200 <= status < 300:
        raise DeliveryError(f"HTTP {status}")
    # Both robots answer 200 with {"errcode": 0, "errmsg": "ok"}; anything else in
    # errcode (bad key, rate limit, keyword check) is a failure despite the 200.
    try:
        answer = json.loads(raw) if raw.strip() else {}
    except ValueError:
        answer = {}
    if isinstance(answer, dict) and answer.get("errcode", 0) != 0:
        raise DeliveryError(f"errcode {answer.get('errcode')}: {answer.get('errmsg', '')}"[:500])


@transaction.atomic
def notifications_retry(*, ids: Iterable[int], now: dt.datetime) -> int:
    """Give failed rows a fresh start (the admin's "重新发送"); rows in any other state are left alone."""
    ids = list(
        Notification.objects.filter(pk__in=list(ids), status=Notification.Status.FAILED).values_list("pk", flat=True)
    )
    changed = Notification.objects.filter(pk__in=ids, status=Notification.Status.FAILED).update(
        status=Notification.Status.PENDING, attempts=0, next_attempt_at=now, last_error=""
    )
    transaction.on_commit(lambda: enqueue_delivery(ids))
    return changed


# --- Worker heartbeat -----------------------------------------------------------------


def worker_heartbeat_record(*, worker: str, now: dt.datetime) -> None:
    """Record that ``worker`` ran the heartbeat task at ``now`` (one row per worker, written over)."""
    WorkerHeartbeat.objects.update_or_create(worker=worker[:200], defaults={"seen_at": now})


# --- Inbox ----------------------------------------------------------------------------


def notification_mark_read(*, notification: Notification, user, now: dt.datetime) -> bool:
    """Mark one of the user's inbox messages read; True only for the call that changed it."""
    return (
        Notification.objects.filter(
            pk=notification.pk, recipient=user, channel=Notification.Channel.INBOX, read_at__isnull=True
        ).update(read_at=now)
        == 1
    )


def inbox_mark_all_read(*, user, now: dt.datetime) -> int:
    return Notification.objects.filter(
        recipient=user,
        channel=Notification.Channel.INBOX,
        status=Notification.Status.SENT,
        read_at__isnull=True,
    ).update(read_at=now)


# --- Announcements --------------------------------------------------------------------


def _validate_audience(organization: Organization | None) -> None:
    if organization is not None and organization.kind != Organization.Kind.BRANCH:
        raise ValidationError({"organization": _("公告只能发给全矿或一个党支部。")})


def _announcement_dedupe_key(announcement: Announcement) -> str:
    return f"announcement:{announcement.pk}"


def _notify_audience(announcement: Announcement, *, now: dt.datetime) -> int:
    """The announcement's outbox rows, held back until it is published; a second call adds only newcomers."""
    recipients = announcement_audience(organization=announcement.organization, on=timezone.localdate(now))
    if announcement.organization_id is None:
        robots = Organization.objects.filter(kind=Organization.Kind.COMMITTEE, is_active=True)
    else:
        robots = [announcement.organization]
    body = announcement.body
    return notify(
        recipients=recipients,
        subject=prefixed(announcement.get_kind_display(), announcement.title),
        body=body if len(body) <= EXCERPT_CHARS else body[:EXCERPT_CHARS] + "…",
        url=reverse("bulletin:announcement_detail", args=[announcement.pk]),
        dedupe_key=_announcement_dedupe_key(announcement),
        channels=(Notification.Channel.INBOX, Notification.Channel.EMAIL),
        webhook_organizations=robots,
        now=now,
        not_before=announcement.published_at,
    )


@transaction.atomic
def announcement_publish(
    *,
    author,
    title: str,
    body: str,
    kind: str,
    organization: Organization | None,
    published_at: dt.datetime | None,
    pinned: bool,
    now: dt.datetime,
) -> Announcement:
    """Create an announcement and its notifications in one transaction.

    A ``published_at`` in the future schedules it: hidden until then, and its
    notifications wait in the outbox until then. The permission check is the caller's.
    """
    _validate_audience(organization)
    announcement = Announcement(
        title=title.strip(),
        body=body,
        kind=kind,
        organization=organization,
        published_at=published_at or now,
        pinned=pinned,
        author=author,
    )
    announcement.full_clean()
    announcement.save()
    _notify_audience(announcement, now=now)
    return announcement


@transaction.atomic
def announcement_update(
    *,
    announcement: Announcement,
    title: str,
    body: str,
    kind: str,
    organization: Organization | None,
    published_at: dt.datetime,
    pinned: bool,
    now: dt.datetime,
) -> Announcement:
    """Edit an announcement; its undelivered notifications follow the new text, time and audience.

    Delivered notifications stay as they were; people new to the audience get one.
    """
    _validate_audience(organization)
    announcement = Announcement.objects.select_for_update().get(pk=announcement.pk)
    announcement.title = title.strip()
    announcement.body = body
    announcement.kind = kind
    announcement.organization = organization
    announcement.published_at = published_at
    announcement.pinned = pinned
    announcement.full_clean()
    announcement.save(update_fields=["title", "body", "kind", "organization", "published_at", "pinned", "updated_at"])

    key = _announcement_dedupe_key(announcement)
    pending = Notification.objects.filter(dedupe_key=key, status=Notification.Status.PENDING)
    audience = announcement_audience(organization=organization, on=timezone.localdate(now))
    # Undelivered rows for people or robots no longer addressed are withdrawn.
    pending.filter(recipient__isnull=False).exclude(recipient__in=audience).delete()
    if organization is None:
        pending.filter(webhook__isnull=False).exclude(webhook__organization__kind=Organization.Kind.COMMITTEE).delete()
    else:
        pending.filter(webhook__isnull=False).exclude(webhook__organization=organization).delete()
    body_excerpt = body if len(body) <= EXCERPT_CHARS else body[:EXCERPT_CHARS] + "…"
    pending.update(subject=prefixed(announcement.get_kind_display(), announcement.title)[:200], body=body_excerpt)
    # Rows never tried follow the publish time; rows in back-off keep their schedule.
    due_at = max(now, published_at)
    untried = pending.filter(attempts=0)
    untried.update(next_attempt_at=due_at)
    if due_at <= now:
        ids = list(untried.values_list("pk", flat=True))
        transaction.on_commit(lambda: enqueue_delivery(ids))
    _notify_audience(announcement, now=now)
    return announcement


def announcement_mark_read(*, announcement: Announcement, user, now: dt.datetime) -> bool:
    """Record that ``user`` opened the announcement; False when it was already recorded.

    Idempotent under concurrency: the insert ignores the unique constraint's conflict,
    and only a new receipt marks the matching inbox message read.
    """
    if ReadReceipt.objects.filter(announcement=announcement, user=user).exists():
        return False
    ReadReceipt.objects.bulk_create(
        [ReadReceipt(announcement=announcement, user=user, read_at=now)], ignore_conflicts=True
    )
    Notification.objects.filter(
        recipient=user,
        channel=Notification.Channel.INBOX,
        dedupe_key=_announcement_dedupe_key(announcement),
        read_at__isnull=True,
    ).update(read_at=now)
    return True
