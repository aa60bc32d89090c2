"""The outbox at scale: notify()'s dedupe look-up is served by an index, and delivered rows are pruned."""

import datetime as dt

import pytest
from django.db import connection

from bulletin import services, tasks
from bulletin.models import Notification, WebhookEndpoint
from tests.factories import BranchFactory

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=5)


def row(*, channel, recipient=None, webhook=None, status=Notification.Status.SENT, sent_at=None, key=""):
    return Notification.objects.create(
        channel=channel,
        recipient=recipient,
        webhook=webhook,
        subject="公告：学习通知",
        dedupe_key=key,
        status=status,
        next_attempt_at=NOW,
        created_at=sent_at or NOW,
        sent_at=sent_at,
    )


@pytest.mark.django_db
def test_notifys_dedupe_look_up_uses_the_dedupe_index():
    if connection.vendor != "sqlite":
        pytest.skip("the plan is read with SQLite's EXPLAIN QUERY PLAN")
    query = Notification.objects.filter(
        dedupe_key="meeting:12:notice", status=Notification.Status.PENDING, created_at=NOW
    ).values_list("pk", flat=True)
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(step[-1]) for step in cursor.fetchall())

    assert "USING INDEX bulletin_notif_dedupe" in plan, plan
    assert "SCAN" not in plan, plan


@pytest.mark.django_db
def test_notify_with_a_dedupe_key_still_writes_once(member):
    inbox = [Notification.Channel.INBOX]
    first = services.notify(recipients=[member], subject="会议通知", dedupe_key="m:1", channels=inbox, now=NOW)
    again = services.notify(recipients=[member], subject="会议通知", dedupe_key="m:1", channels=inbox, now=LATER)

    assert (first, again) == (1, 0)
    assert Notification.objects.filter(dedupe_key="m:1").count() == 1


@pytest.mark.django_db
def test_the_prune_deletes_old_delivered_mail_and_webhook_rows_and_keeps_the_inbox(member, settings):
    settings.OUTBOX_KEEP_DAYS = 30
    hook = WebhookEndpoint.objects.create(organization=BranchFactory(), url="http://127.0.0.1:9/")
    old = NOW - dt.timedelta(days=31)
    recent = NOW - dt.timedelta(days=29)
    old_mail = row(channel=Notification.Channel.EMAIL, recipient=member, sent_at=old)
    old_hook = row(channel=Notification.Channel.WEBHOOK, webhook=hook, sent_at=old)
    old_inbox = row(channel=Notification.Channel.INBOX, recipient=member, sent_at=old)
    recent_mail = row(channel=Notification.Channel.EMAIL, recipient=member, sent_at=recent)
    failed_mail = row(channel=Notification.Channel.EMAIL, recipient=member, status=Notification.Status.FAILED)
    pending_mail = row(channel=Notification.Channel.EMAIL, recipient=member, status=Notification.Status.PENDING)

    deleted = services.outbox_prune(now=NOW, keep_days=settings.OUTBOX_KEEP_DAYS, batch=1)

    assert deleted == 2
    left = set(Notification.objects.values_list("pk", flat=True))
    assert old_mail.pk not in left and old_hook.pk not in left
    assert {old_inbox.pk, recent_mail.pk, failed_mail.pk, pending_mail.pk} <= left
    assert services.outbox_prune(now=NOW, keep_days=30) == 0


@pytest.mark.django_db
def test_the_prune_runs_from_the_beat(member, settings):
    assert settings.CELERY_BEAT_SCHEDULE["bulletin-prune-outbox"]["task"] == "bulletin.tasks.prune_outbox"
    row(channel=Notification.Channel.EMAIL, recipient=member, sent_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))

    assert tasks.prune_outbox() == 1
    assert not Notification.objects.exists()
