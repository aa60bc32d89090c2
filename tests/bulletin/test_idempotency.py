"""Delivery is at least once; every attempt at one outbox row carries the same idempotency key.

A worker killed after the send and before the row was marked sent leaves it "sending";
once its lease runs out the sweep sends it again. The receiver (a real HTTP server on
loopback, the e-mail outbox) sees the same key both times and can drop the repeat.
"""

import datetime as dt

import pytest
import time_machine
from django.core import mail

from bulletin import services, tasks
from bulletin.models import Notification, WebhookEndpoint
from bulletin.services import CLAIM_LEASE

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def outbox_row(**fields):
    return Notification.objects.create(
        subject="公告：学习通知", body="请按时参加学习。", next_attempt_at=NOW, created_at=NOW, **fields
    )


def as_if_the_worker_died_after_sending(row):
    """The state a SIGKILL between the send and the 'sent' update leaves: claimed, lease running."""
    Notification.objects.filter(pk=row.pk).update(
        status=Notification.Status.SENDING, next_attempt_at=NOW + CLAIM_LEASE, sent_at=None
    )


@pytest.mark.django_db
def test_a_webhook_sent_again_after_a_crash_carries_the_same_key_in_header_and_body(branch, webhook_server):
    robot = WebhookEndpoint.objects.create(organization=branch, url=webhook_server.url)
    row = outbox_row(channel=Notification.Channel.WEBHOOK, webhook=robot)
    other = outbox_row(channel=Notification.Channel.WEBHOOK, webhook=robot)

    assert services.deliver_notification(notification_id=row.pk, now=NOW) is True
    as_if_the_worker_died_after_sending(row)
    with time_machine.travel(NOW + CLAIM_LEASE, tick=False):
        tasks.sweep_outbox()  # takes the expired claim and sends again (and sends the other row)

    first, again, *rest = [
        r for r in webhook_server.received if r["idempotency_key"] == f"sanhui-notification-{row.pk}"
    ]
    assert rest == []
    assert first["json"] == again["json"]
    assert first["json"]["idempotency_key"] == f"sanhui-notification-{row.pk}"
    keys = {r["idempotency_key"] for r in webhook_server.received}
    assert keys == {f"sanhui-notification-{row.pk}", f"sanhui-notification-{other.pk}"}
    assert len(webhook_server.received) == 3


@pytest.mark.django_db
def test_an_email_sent_again_after_a_crash_has_the_same_message_id(member, settings):
    settings.SITE_URL = "https://sanhui.example"
    row = outbox_row(channel=Notification.Channel.EMAIL, recipient=member)
    other = outbox_row(channel=Notification.Channel.EMAIL, recipient=member)

    assert services.deliver_notification(notification_id=row.pk, now=NOW) is True
    as_if_the_worker_died_after_sending(row)
    with time_machine.travel(NOW + CLAIM_LEASE, tick=False):
        tasks.sweep_outbox()

    ids = [m.message()["Message-ID"] for m in mail.outbox]
    assert ids.count(f"<sanhui-notification-{row.pk}@sanhui.example>") == 2
    assert ids.count(f"<sanhui-notification-{other.pk}@sanhui.example>") == 1
    assert {m.message()["X-Idempotency-Key"] for m in mail.outbox} == {
        f"sanhui-notification-{row.pk}",
        f"sanhui-notification-{other.pk}",
    }
