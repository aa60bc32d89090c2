"""Delivering the outbox: claimed once, sent once, retried with back-off, swept when due."""

import datetime as dt

import pytest
import time_machine
from django.core import mail

from bulletin import services, tasks
from bulletin.models import Notification, WebhookEndpoint
from bulletin.services import CLAIM_LEASE, MAX_ATTEMPTS, backoff_for

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def outbox_row(*, channel=Notification.Channel.EMAIL, recipient=None, webhook=None, due=NOW, **kwargs):
    return Notification.objects.create(
        channel=channel,
        recipient=recipient,
        webhook=webhook,
        subject="公告：学习通知",
        body="请按时参加学习。",
        url="/bulletin/7/",
        next_attempt_at=due,
        created_at=NOW,
        **kwargs,
    )


@pytest.mark.django_db
def test_an_email_delivered_twice_is_sent_once(member, settings):
    settings.SITE_URL = "https://sanhui.example"
    row = outbox_row(recipient=member)

    assert services.deliver_notification(notification_id=row.pk, now=NOW) is True
    assert services.deliver_notification(notification_id=row.pk, now=NOW) is False

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [member.email]
    assert message.subject == "[三会一课] 公告：学习通知"
    assert "https://sanhui.example/bulletin/7/" in message.body
    row.refresh_from_db()
    assert (row.status, row.sent_at, row.attempts) == (Notification.Status.SENT, NOW, 1)


@pytest.mark.django_db
def test_an_inbox_row_becomes_visible_once_when_delivered(member):
    row = outbox_row(channel=Notification.Channel.INBOX, recipient=member)

    tasks.deliver_notifications([row.pk, row.pk])
    tasks.deliver_notifications([row.pk])

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Notification.Status.SENT, 1)
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_row_claimed_by_a_live_worker_is_left_alone(member):
    row = outbox_row(recipient=member)
    Notification.objects.filter(pk=row.pk).update(status=Notification.Status.SENDING, next_attempt_at=NOW + CLAIM_LEASE)

    assert services.deliver_notification(notification_id=row.pk, now=NOW + dt.timedelta(minutes=1)) is False
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_claim_whose_worker_died_is_taken_over_after_the_lease(member):
    row = outbox_row(recipient=member)
    Notification.objects.filter(pk=row.pk).update(
        status=Notification.Status.SENDING, next_attempt_at=NOW + CLAIM_LEASE, attempts=1
    )

    with time_machine.travel(NOW + CLAIM_LEASE + dt.timedelta(seconds=1), tick=False):
        tasks.sweep_outbox()

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Notification.Status.SENT, 2)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_row_not_yet_due_is_not_delivered_even_when_asked(member):
    row = outbox_row(recipient=member, due=NOW + dt.timedelta(hours=1))

    assert services.deliver_notification(notification_id=row.pk, now=NOW) is False
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Notification.Status.PENDING, 0)


@pytest.mark.django_db
def test_the_sweep_delivers_due_rows_and_leaves_future_and_finished_ones(member, secretary):
    due = outbox_row(recipient=member, due=NOW - dt.timedelta(minutes=1))
    due_inbox = outbox_row(channel=Notification.Channel.INBOX, recipient=secretary, due=NOW)
    future = outbox_row(recipient=secretary, due=NOW + dt.timedelta(minutes=1))
    failed = outbox_row(recipient=secretary, due=NOW - dt.timedelta(hours=1), status=Notification.Status.FAILED)

    with time_machine.travel(NOW, tick=False):
        tasks.sweep_outbox()
        tasks.sweep_outbox()  # a beat that overlaps or repeats sends nothing twice

    statuses = dict(Notification.objects.values_list("pk", "status"))
    assert statuses == {
        due.pk: Notification.Status.SENT,
        due_inbox.pk: Notification.Status.SENT,
        future.pk: Notification.Status.PENDING,
        failed.pk: Notification.Status.FAILED,
    }
    assert [m.to for m in mail.outbox] == [[member.email]]


@pytest.mark.django_db
def test_the_sweep_works_through_more_rows_than_one_batch(member, monkeypatch):
    monkeypatch.setattr(tasks, "SWEEP_BATCH", 3)
    rows = [outbox_row(channel=Notification.Channel.INBOX, recipient=member, dedupe_key=f"k{i}") for i in range(7)]

    with time_machine.travel(NOW, tick=False):
        tasks.sweep_outbox()

    assert set(Notification.objects.filter(pk__in=[r.pk for r in rows]).values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_a_failing_robot_is_retried_with_back_off_and_gets_the_message_once_it_answers(
    branch, webhook_server, settings
):
    settings.SITE_URL = "http://sanhui.test"
    webhook_server.answer_next((500, {"errcode": -1}), (200, {"errcode": 45009, "errmsg": "api freq out of limit"}))
    robot = WebhookEndpoint.objects.create(organization=branch, url=webhook_server.url)
    row = outbox_row(channel=Notification.Channel.WEBHOOK, webhook=robot)

    assert services.deliver_notification(notification_id=row.pk, now=NOW) is False
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Notification.Status.PENDING, 1, "HTTP 500")
    assert row.next_attempt_at == NOW + dt.timedelta(minutes=1)

    # Not due yet: the sweep a few seconds later leaves it.
    with time_machine.travel(NOW + dt.timedelta(seconds=30), tick=False):
        tasks.sweep_outbox()
    assert len(webhook_server.received) == 1

    # HTTP 200 with a non-zero errcode is a failure too.
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        tasks.sweep_outbox()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Notification.Status.PENDING, 2)
    assert "45009" in row.last_error
    assert row.next_attempt_at == NOW + dt.timedelta(minutes=3)

    with time_machine.travel(NOW + dt.timedelta(minutes=3), tick=False):
        tasks.sweep_outbox()
        tasks.sweep_outbox()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Notification.Status.SENT, 3, "")
    assert len(webhook_server.received) == 3

    request = webhook_server.received[-1]
    assert request["path"] == "/cgi-bin/webhook/send?key=test"
    assert request["content_type"] == "application/json; charset=utf-8"
    assert request["json"] == {
        "msgtype": "text",
        "text": {"content": "【公告：学习通知】\n请按时参加学习。\n详情：http://sanhui.test/bulletin/7/"},
        "idempotency_key": f"sanhui-notification-{row.pk}",
    }


@pytest.mark.django_db
def test_a_robot_that_never_answers_well_ends_as_failed(branch, webhook_server):
    webhook_server.answer_next(*[(502, {})] * MAX_ATTEMPTS)
    robot = WebhookEndpoint.objects.create(organization=branch, url=webhook_server.url)
    row = outbox_row(channel=Notification.Channel.WEBHOOK, webhook=robot)

    now = NOW
    for _ in range(MAX_ATTEMPTS):
        services.deliver_notification(notification_id=row.pk, now=now)
        row.refresh_from_db()
        now = row.next_attempt_at

    assert (row.status, row.attempts) == (Notification.Status.FAILED, MAX_ATTEMPTS)
    assert services.deliver_notification(notification_id=row.pk, now=now + dt.timedelta(days=1)) is False
    assert len(webhook_server.received) == MAX_ATTEMPTS


@pytest.mark.django_db
def test_an_unreachable_robot_is_a_failure_not_a_crash(branch):
    robot = WebhookEndpoint.objects.create(organization=branch, url="http://127.0.0.1:9/closed")
    row = outbox_row(channel=Notification.Channel.WEBHOOK, webhook=robot)

    assert services.deliver_notification(notification_id=row.pk, now=NOW) is False
    row.refresh_from_db()
    assert row.status == Notification.Status.PENDING
    assert "Connection refused" in row.last_error or "URLError" in row.last_error


@pytest.mark.django_db
def test_a_switched_off_robot_fails_at_once_without_a_request(branch, webhook_server):
    robot = WebhookEndpoint.objects.create(organization=branch, url=webhook_server.url, is_active=False)
    row = outbox_row(channel=Notification.Channel.WEBHOOK, webhook=robot)

    services.deliver_notification(notification_id=row.pk, now=NOW)

    row.refresh_from_db()
    assert (row.status, row.last_error) == (Notification.Status.FAILED, "群机器人已停用")
    assert webhook_server.received == []


def test_back_off_doubles_from_one_minute_up_to_an_hour():
    assert [backoff_for(n).total_seconds() / 60 for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


@pytest.mark.django_db
def test_resending_resets_failed_rows_only(member, django_capture_on_commit_callbacks):
    failed = outbox_row(recipient=member, status=Notification.Status.FAILED, attempts=8, last_error="x")
    sent = outbox_row(channel=Notification.Channel.INBOX, recipient=member, status=Notification.Status.SENT)

    with django_capture_on_commit_callbacks(execute=False):
        count = services.notifications_retry(ids=[failed.pk, sent.pk], now=NOW + dt.timedelta(days=1))

    assert count == 1
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.status, failed.attempts, failed.next_attempt_at) == ("pending", 0, NOW + dt.timedelta(days=1))
    assert sent.status == Notification.Status.SENT


@pytest.mark.django_db
def test_a_batch_of_inbox_rows_is_delivered_in_the_same_few_queries_whatever_its_size(
    member, django_assert_num_queries
):
    few = [outbox_row(channel=Notification.Channel.INBOX, recipient=member, dedupe_key=f"a{i}") for i in range(2)]
    many = [outbox_row(channel=Notification.Channel.INBOX, recipient=member, dedupe_key=f"b{i}") for i in range(20)]
    later = outbox_row(channel=Notification.Channel.INBOX, recipient=member, due=NOW + dt.timedelta(seconds=1))

    with django_assert_num_queries(4):  # savepoint, locked select, update, release
        assert len(services.deliver_inbox_rows(ids=[r.pk for r in few], now=NOW)) == 2
    with django_assert_num_queries(4):
        sent = services.deliver_inbox_rows(ids=[r.pk for r in [*many, later]], now=NOW)

    assert sorted(sent) == sorted(r.pk for r in many)  # the row due a second later is left
    assert services.deliver_inbox_rows(ids=[r.pk for r in many], now=NOW) == []  # once only
    row = Notification.objects.get(pk=many[0].pk)
    assert (row.status, row.sent_at, row.attempts) == (Notification.Status.SENT, NOW, 1)
    assert Notification.objects.get(pk=later.pk).status == Notification.Status.PENDING


@pytest.mark.django_db
def test_a_sweep_whose_time_budget_is_spent_starts_no_more_batches(member, monkeypatch):
    monkeypatch.setattr(tasks, "SWEEP_BUDGET_SECONDS", 0)
    row = outbox_row(recipient=member)

    with time_machine.travel(NOW, tick=False):
        assert tasks.sweep_outbox() == 0

    assert Notification.objects.get(pk=row.pk).status == Notification.Status.PENDING  # the next run's
