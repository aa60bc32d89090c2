"""Writes of the bulletin: announcements, read receipts and the notification outbox."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import transaction

from org.models import Organization

from .models import Notification, WebhookEndpoint

logger = logging.getLogger(__name__)

DEFAULT_CHANNELS = (Notification.Channel.INBOX, Notification.Channel.EMAIL)


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
) -> int:
    """Write one outbox row per recipient and channel (and per group-robot webhook).

    Call it inside the transaction of the change that causes it: the rows commit
    or roll back with that change. Delivery is queued after commit and never
    blocks or fails the caller. With a ``dedupe_key`` a row that already exists
    is not written again, so a reminder computed twice is sent once.
    Returns the number of rows written.
    """
    channels = tuple(channels)
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
                    next_attempt_at=now,
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
                    next_attempt_at=now,
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
        transaction.on_commit(lambda: enqueue_delivery(ids))
    return len(ids)


def enqueue_delivery(ids: list[int]) -> None:
    """Ask the worker to deliver now; if the broker is unreachable the sweep will."""
    if not ids:
        return
    from .tasks import deliver_notifications

    try:
        deliver_notifications.delay(ids)
    except Exception:  # noqa: BLE001 - any broker failure only delays delivery
        logger.warning("broker unavailable; %d notification(s) left for the outbox sweep", len(ids), exc_info=True)
