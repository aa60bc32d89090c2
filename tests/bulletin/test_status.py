"""The admins' status page: the worker's last heartbeat (a warning past two minutes) and the outbox by state."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from bulletin import selectors, tasks
from bulletin.models import Notification, WorkerHeartbeat
from tests.conftest import client_for
from tests.factories import UserFactory

from .conftest import wait_until

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
URL = reverse("bulletin:system_status")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


def test_a_heartbeat_exactly_two_minutes_old_is_fresh_and_a_second_more_is_stale():
    assert selectors.heartbeat_is_stale(seen_at=NOW - dt.timedelta(minutes=2), now=NOW) is False
    assert selectors.heartbeat_is_stale(seen_at=NOW - dt.timedelta(minutes=2, seconds=1), now=NOW) is True
    assert selectors.heartbeat_is_stale(seen_at=None, now=NOW) is True


@pytest.mark.django_db
def test_the_heartbeat_task_writes_one_row_per_worker_and_moves_it_on():
    with time_machine.travel(NOW, tick=False):
        tasks.heartbeat()
    with time_machine.travel(NOW + dt.timedelta(seconds=30), tick=False):
        tasks.heartbeat()

    (row,) = WorkerHeartbeat.objects.all()
    assert row.seen_at == NOW + dt.timedelta(seconds=30)


@pytest.mark.django_db
def test_the_status_page_shows_the_last_heartbeat_and_the_outbox(client, admin_user, django_assert_num_queries):
    WorkerHeartbeat.objects.create(worker="celery@mine", seen_at=NOW - dt.timedelta(seconds=65))
    for status in ["pending", "pending", "failed"]:
        Notification.objects.create(
            channel="inbox", recipient=admin_user, subject="x", status=status, next_attempt_at=NOW, created_at=NOW
        )
    client_for(client, admin_user)

    # The page's own three reads; the rest is the layout (scope, unread count) and the session.
    with time_machine.travel(NOW, tick=False), django_assert_num_queries(9):
        response = client.get(URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert "最近心跳：1\xa0分钟前" in page  # timesince joins with a no-break space
    assert 'id="heartbeat-warning"' not in page
    assert "后台任务运行正常" in page
    assert '待发送</dt><dd class="col-6 col-sm-3">2</dd>' in page
    assert '发送失败</dt><dd class="col-6 col-sm-3">1</dd>' in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("seen", "warned"),
    [(dt.timedelta(minutes=2), False), (dt.timedelta(minutes=2, seconds=1), True), (None, True)],
)
def test_the_status_page_warns_when_the_heartbeat_is_older_than_two_minutes(client, admin_user, seen, warned):
    if seen is not None:
        WorkerHeartbeat.objects.create(worker="celery@mine", seen_at=NOW - seen)

    with time_machine.travel(NOW, tick=False):
        page = client_for(client, admin_user).get(URL).content.decode()

    assert ('id="heartbeat-warning"' in page) is warned
    assert ("超过 2 分钟没有收到后台任务心跳" in page) is warned
    if seen is None:
        assert "最近心跳：尚未收到" in page


@pytest.mark.django_db
def test_people_who_do_not_run_the_system_cannot_open_the_status_page(client, secretary, supervisor):
    assert client_for(client, secretary).get(URL).status_code == 403
    assert client_for(client, supervisor).get(URL).status_code == 403
    client.logout()
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_and_beat_keep_the_heartbeat_fresh(start_worker):
    worker = start_worker(beat=True, extra_env={"HEARTBEAT_SECONDS": "1"})

    wait_until(lambda: WorkerHeartbeat.objects.count() == 1, timeout=60, message=f"no heartbeat:\n{worker.log}")
    first = WorkerHeartbeat.objects.get().seen_at
    wait_until(lambda: WorkerHeartbeat.objects.get().seen_at > first, timeout=30, message=worker.log)
    assert WorkerHeartbeat.objects.get().worker.startswith("celery@")
