"""Publishing an announcement: the row, its audience and its outbox rows, in one transaction."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from bulletin import services
from bulletin.models import Announcement, Notification, WebhookEndpoint
from bulletin.selectors import announcement_audience
from org.models import Member, Membership
from tests.factories import MemberFactory, MembershipFactory, UserFactory, member_with_login

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def publish(author, organization, **kwargs):
    fields = {
        "title": "关于开展主题党日活动的通知",
        "body": "请各位党员准时参加。",
        "kind": Announcement.Kind.NOTICE,
        "published_at": None,
        "pinned": False,
        "now": NOW,
    }
    fields.update(kwargs)
    return services.announcement_publish(author=author, organization=organization, **fields)


@pytest.mark.django_db
def test_a_branch_audience_is_the_logins_of_its_current_members_on_the_roll(
    branch, secretary, member, other_secretary, django_assert_num_queries
):
    left = member_with_login(branch=branch, username="left")
    Membership.objects.filter(member__user=left).update(ended_on=dt.date(2025, 1, 1))
    expelled = member_with_login(branch=branch, username="expelled")
    Member.objects.filter(user=expelled).update(status=Member.Status.EXPELLED)
    MembershipFactory(member=MemberFactory(), organization=branch)  # no login
    future = member_with_login(branch=branch, username="future")
    Membership.objects.filter(member__user=future).update(started_on=dt.date(2027, 1, 1))

    with django_assert_num_queries(1):
        audience = set(announcement_audience(organization=branch, on=dt.date(2026, 3, 2)))

    assert audience == {secretary, member}


@pytest.mark.django_db
def test_the_mine_wide_audience_is_every_login_of_a_member_on_the_roll(secretary, member, other_secretary, supervisor):
    UserFactory(username="no_member")
    probation = member_with_login(branch=other_secretary.member.memberships.first().organization, username="p")
    Member.objects.filter(user=probation).update(status=Member.Status.DISCIPLINARY_PROBATION)

    audience = set(announcement_audience(organization=None, on=dt.date(2026, 3, 2)))

    assert audience == {secretary, member, other_secretary, probation}


@pytest.mark.django_db
def test_publishing_writes_inbox_email_and_robot_rows_for_the_branch(
    branch, other_branch, secretary, member, other_secretary
):
    WebhookEndpoint.objects.create(organization=branch, url="http://127.0.0.1:9/robot")
    WebhookEndpoint.objects.create(organization=other_branch, url="http://127.0.0.1:9/other")
    member.email = ""
    member.save()

    announcement = publish(secretary, branch)

    rows = Notification.objects.filter(dedupe_key=f"announcement:{announcement.pk}")
    assert sorted((n.channel, n.recipient_id, n.webhook_id is not None) for n in rows) == sorted(
        [
            ("inbox", secretary.pk, False),
            ("email", secretary.pk, False),
            ("inbox", member.pk, False),
            ("webhook", None, True),
        ]
    )
    assert {n.status for n in rows} == {Notification.Status.PENDING}
    assert {n.next_attempt_at for n in rows} == {NOW}
    assert rows.get(channel="webhook").webhook.organization == branch
    first = rows.first()
    assert first.subject == "公告：关于开展主题党日活动的通知"
    assert first.url == f"/bulletin/{announcement.pk}/"


@pytest.mark.django_db(transaction=True)
def test_a_failing_transaction_takes_the_announcement_and_its_notifications_with_it(branch, secretary, member):
    with pytest.raises(RuntimeError), transaction.atomic():
        publish(secretary, branch)
        assert Notification.objects.count() == 4
        raise RuntimeError("the caller fails after publishing")

    assert Announcement.objects.count() == 0
    assert Notification.objects.count() == 0


@pytest.mark.django_db
def test_delivery_is_queued_only_after_commit(branch, secretary, member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        publish(secretary, branch)
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_a_scheduled_announcement_holds_its_notifications_until_its_publish_time(
    branch, secretary, member, django_capture_on_commit_callbacks
):
    later = NOW + dt.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        announcement = publish(secretary, branch, published_at=later)

    assert callbacks == []  # nothing to deliver now: the sweep takes them when due
    assert set(Notification.objects.values_list("next_attempt_at", flat=True)) == {later}
    assert announcement.published_at == later


@pytest.mark.django_db
def test_notifying_the_same_audience_again_writes_no_new_rows(branch, secretary, member):
    announcement = publish(secretary, branch)
    services._notify_audience(announcement, now=NOW + dt.timedelta(minutes=1))

    assert Notification.objects.filter(dedupe_key=f"announcement:{announcement.pk}").count() == 4


@pytest.mark.django_db
def test_a_mine_wide_announcement_goes_to_the_committee_robot(branch, secretary, member, supervisor):
    committee = supervisor.staff_roles.get().organization
    WebhookEndpoint.objects.create(organization=committee, url="http://127.0.0.1:9/committee")
    WebhookEndpoint.objects.create(organization=branch, url="http://127.0.0.1:9/branch")

    publish(supervisor, None)

    robots = Notification.objects.filter(channel="webhook")
    assert [n.webhook.organization for n in robots] == [committee]


@pytest.mark.django_db
def test_only_a_branch_or_the_mine_can_be_addressed(group, secretary):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        publish(secretary, group)
    assert Announcement.objects.count() == 0


@pytest.mark.django_db
def test_editing_moves_waiting_notifications_and_withdraws_those_no_longer_addressed(
    branch, other_branch, secretary, member, supervisor, other_secretary
):
    later = NOW + dt.timedelta(days=1)
    announcement = publish(supervisor, branch, published_at=later)
    even_later = later + dt.timedelta(hours=2)

    services.announcement_update(
        announcement=announcement,
        title="改期",
        body="新的正文",
        kind=Announcement.Kind.MEETING,
        organization=other_branch,
        published_at=even_later,
        pinned=True,
        now=NOW,
    )

    rows = Notification.objects.filter(dedupe_key=f"announcement:{announcement.pk}")
    assert {n.recipient for n in rows} == {other_secretary}
    assert {n.next_attempt_at for n in rows} == {even_later}
    assert {n.subject for n in rows} == {"会议通知：改期"}


def test_now_is_aware():
    assert timezone.is_aware(NOW)
