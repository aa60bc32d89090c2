"""The in-app inbox: one's own delivered messages, unread highlighted, marked read once."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from bulletin.models import Notification
from tests.conftest import client_for

from .test_pages import LAYOUT_QUERIES


def message(user, *, status=Notification.Status.SENT, read_at=None, subject="会议通知：支部党员大会", url="/bulletin/"):
    now = timezone.now()
    return Notification.objects.create(
        channel=Notification.Channel.INBOX,
        recipient=user,
        subject=subject,
        body="请准时参加。",
        url=url,
        status=status,
        next_attempt_at=now,
        created_at=now,
        read_at=read_at,
    )


@pytest.mark.django_db
def test_the_inbox_lists_ones_own_delivered_messages_with_unread_highlighted(client, member, secretary):
    unread = message(member, subject="未读的消息")
    message(member, subject="已读的消息", read_at=timezone.now())
    message(member, subject="还在发件箱的消息", status=Notification.Status.PENDING)
    message(secretary, subject="别人的消息")

    response = client_for(client, member).get(reverse("bulletin:inbox"))

    html = response.content.decode()
    assert "未读的消息" in html and "已读的消息" in html
    assert "还在发件箱的消息" not in html and "别人的消息" not in html
    assert [n.pk for n in response.context["page_obj"] if n.read_at is None] == [unread.pk]
    assert html.count("list-group-item-warning unread") == 1
    assert response.context["inbox_unread"] == 1


@pytest.mark.django_db
def test_opening_a_message_marks_it_read_once_and_leads_to_its_page(client, member):
    m = message(member, url="/bulletin/")
    c = client_for(client, member)

    response = c.get(reverse("bulletin:inbox_open", args=[m.pk]))
    assert response.status_code == 302 and response.url == "/bulletin/"
    m.refresh_from_db()
    first = m.read_at
    assert first is not None

    c.get(reverse("bulletin:inbox_open", args=[m.pk]))
    m.refresh_from_db()
    assert m.read_at == first


@pytest.mark.django_db
def test_a_message_with_no_page_or_a_foreign_link_is_shown_in_place(client, member):
    m = message(member, url="https://evil.example/phish")
    response = client_for(client, member).get(reverse("bulletin:inbox_open", args=[m.pk]))
    assert response.status_code == 200
    assert "会议通知：支部党员大会" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["secretary", "other_secretary", "supervisor"])
def test_nobody_else_can_open_or_mark_a_message(client, people, member, role):
    m = message(member)
    c = client_for(client, people[role])

    assert c.get(reverse("bulletin:inbox_open", args=[m.pk])).status_code == 404
    c.post(reverse("bulletin:inbox_read_all"))

    m.refresh_from_db()
    assert m.read_at is None


@pytest.mark.django_db
def test_mark_all_read_is_a_post_and_touches_only_ones_own_unread(client, member, secretary):
    earlier = timezone.now() - dt.timedelta(days=3)
    mine = [message(member), message(member)]
    already = message(member, read_at=earlier)
    theirs = message(secretary)
    c = client_for(client, member)

    assert c.get(reverse("bulletin:inbox_read_all")).status_code == 405
    response = c.post(reverse("bulletin:inbox_read_all"))

    assert response.status_code == 302
    assert all(Notification.objects.get(pk=m.pk).read_at for m in mine)
    assert Notification.objects.get(pk=already.pk).read_at == earlier
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert client.get(reverse("bulletin:inbox")).context["inbox_unread"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 35])
def test_the_inbox_costs_the_same_queries_for_one_message_or_many(client, member, rows, django_assert_num_queries):
    for i in range(rows):
        message(member, subject=f"消息{i}", read_at=timezone.now() if i % 2 else None)
    c = client_for(client, member)
    with django_assert_num_queries(LAYOUT_QUERIES + 2):  # paginator count, page
        c.get(reverse("bulletin:inbox"))
