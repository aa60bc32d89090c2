"""Delivery by a real Celery worker: the normal path, and a broker that stops answering.

These start ``celery worker`` as a subprocess on the test database, so they need
committed data (``transaction=True``) and poll the worker's effects with a deadline.
"""

import threading
import time

import pytest
import redis
from django.conf import settings
from django.urls import reverse

from bulletin.models import Announcement, Notification, WebhookEndpoint
from tests.conftest import client_for

from .conftest import wait_until

DEADLINE = 60  # seconds; a healthy run takes one or two


def announcement_rows(announcement):
    return Notification.objects.filter(dedupe_key=f"announcement:{announcement.pk}")


def all_sent(announcement, expected: int):
    def check():
        statuses = list(announcement_rows(announcement).values_list("status", flat=True))
        return len(statuses) == expected and set(statuses) == {Notification.Status.SENT}

    return check


def wait_for_publishers():
    """Join the threads that hand new rows to the broker (see ``services.enqueue_delivery``)."""
    for thread in threading.enumerate():
        if thread.name == "bulletin-enqueue":
            thread.join(timeout=10)


def publish_through_the_page(client, secretary, branch):
    response = client_for(client, secretary).post(
        reverse("bulletin:announcement_create"),
        {
            "title": "关于召开支部党员大会的通知",
            "body": "周五下午三点，会议室。",
            "kind": "meeting",
            "organization": branch.pk,
        },
    )
    return response, Announcement.objects.get()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_a_published_announcement_once(
    client, start_worker, secretary, member, branch, webhook_server
):
    WebhookEndpoint.objects.create(organization=branch, url=webhook_server.url)
    worker = start_worker()

    response, announcement = publish_through_the_page(client, secretary, branch)

    assert response.status_code == 302
    # inbox and e-mail for both people, one robot
    wait_until(all_sent(announcement, 5), timeout=DEADLINE, message=f"not delivered:\n{worker.log}")
    assert len(webhook_server.received) == 1
    assert "关于召开支部党员大会的通知" in webhook_server.received[0]["json"]["text"]["content"]
    assert worker.log.count(f"To: {member.email}") == 1  # the console e-mail backend prints each message
    assert set(announcement_rows(announcement).values_list("attempts", flat=True)) == {1}


@pytest.mark.worker
@pytest.mark.redis
@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (a real redis-server on loopback)")
@pytest.mark.django_db(transaction=True)
# WRITE can be lifted at once by CLIENT UNPAUSE; ALL holds every command, UNPAUSE
# included, until it expires, so it is kept short.
@pytest.mark.parametrize(("pause_mode", "pause_ms"), [("WRITE", 20000), ("ALL", 5000)])
def test_a_paused_redis_neither_slows_the_request_nor_loses_the_notification(
    client, start_worker, secretary, member, branch, webhook_server, caplog, pause_mode, pause_ms
):
    WebhookEndpoint.objects.create(organization=branch, url=webhook_server.url)
    worker = start_worker(beat=True, extra_env={"OUTBOX_SWEEP_SECONDS": "1"})
    server = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=pause_ms / 1000 + 10)

    server.execute_command("CLIENT", "PAUSE", str(pause_ms), pause_mode)
    try:
        started = time.monotonic()
        response, announcement = publish_through_the_page(client, secretary, branch)
        elapsed = time.monotonic() - started
        wait_for_publishers()  # the hand-off to the broker has given up by now
    finally:
        server.execute_command("CLIENT", "UNPAUSE")

    print(f"request with Redis paused ({pause_mode}): {elapsed:.3f} s")
    assert response.status_code == 302
    assert elapsed < 2
    assert "left for the outbox sweep" in caplog.text
    wait_until(all_sent(announcement, 5), timeout=DEADLINE, message=f"not delivered:\n{worker.log}")
    assert len(webhook_server.received) == 1
    assert worker.log.count(f"To: {member.email}") == 1
    assert set(announcement_rows(announcement).values_list("attempts", flat=True)) == {1}
