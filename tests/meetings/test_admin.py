import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from meetings.models import Attendance, CadenceRule, Exemption, LeaveRequest, Meeting, MeetingPolicy, Vote
from tests.factories import MeetingFactory, UserFactory


@pytest.fixture
def admin_client_(client, db):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def records(branch, secretary, member, supervisor):
    """One row of each model the admin lists."""
    now = timezone.now()
    meeting = MeetingFactory(branch=branch, topic="学习安全生产责任制", types=["general_meeting", "theme_day"])
    Attendance.objects.create(meeting=meeting, member=secretary.member, status=Attendance.Status.PRESENT)
    Attendance.objects.create(meeting=meeting, member=member.member, status="leave", leave_reason="井下值班")
    Vote.objects.create(
        meeting=meeting,
        motion="年度发展党员计划",
        yes=1,
        no=0,
        abstain=0,
        voting_expected=2,
        voting_present=1,
        passed=False,
    )
    LeaveRequest.objects.create(meeting=meeting, member=member.member, reason="井下值班", created_at=now)
    Exemption.objects.create(
        branch=branch,
        rule=CadenceRule.objects.get(name="党课每季度至少1次"),
        period_start=dt.date(2026, 4, 1),
        reason="支部新组建",
        approved_by=supervisor,
        approved_at=now,
    )
    MeetingPolicy.current()
    return {"meeting": meeting}


CHANGELISTS = {
    "meetingtype": "支部委员会",
    "themetag": "安全我先行",
    "cadencerule": "党小组会每月至少1次",
    "exemption": "综采一队党支部",
    "meetingpolicy": "会议规则参数",
    "meeting": "学习安全生产责任制",
    "leaverequest": "李党员",
    "vote": "年度发展党员计划",
}


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "expected"), CHANGELISTS.items())
def test_each_changelist_loads_for_a_superuser_and_lists_its_rows(admin_client_, records, model, expected):
    response = admin_client_.get(reverse(f"admin:meetings_{model}_changelist"))

    assert response.status_code == 200
    assert expected in response.content.decode()


@pytest.mark.django_db
def test_an_open_meeting_change_page_shows_its_attendance_votes_and_history(admin_client_, records):
    meeting = records["meeting"]

    response = admin_client_.get(reverse("admin:meetings_meeting_change", args=[meeting.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="_save"' in page
    assert 'name="topic"' in page
    assert 'name="status"' not in page  # state changes go through the services
    assert "王书记" in page and "井下值班" in page and "年度发展党员计划" in page
    history = admin_client_.get(reverse("admin:meetings_meeting_history", args=[meeting.pk]))
    assert history.status_code == 200


@pytest.mark.django_db
def test_an_approved_meeting_is_read_only_in_the_admin(admin_client_, records):
    meeting = records["meeting"]
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.APPROVED)
    url = reverse("admin:meetings_meeting_change", args=[meeting.pk])

    page = admin_client_.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert 'name="topic"' not in page.content.decode()
    assert "学习安全生产责任制" in page.content.decode()

    response = admin_client_.post(url, {"topic": "改过的主题", "place": "别处"})
    assert response.status_code == 403
    meeting.refresh_from_db()
    assert meeting.topic == "学习安全生产责任制"
    assert admin_client_.get(reverse("admin:meetings_meeting_history", args=[meeting.pk])).status_code == 200


@pytest.mark.django_db
def test_meetings_cannot_be_added_or_deleted_in_the_admin(admin_client_, records):
    meeting = records["meeting"]

    assert admin_client_.get(reverse("admin:meetings_meeting_add")).status_code == 403
    assert (
        admin_client_.post(reverse("admin:meetings_meeting_delete", args=[meeting.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert Meeting.objects.filter(pk=meeting.pk).exists()


@pytest.mark.django_db
def test_the_meeting_policy_is_a_single_row_that_cannot_be_added_twice_or_deleted(admin_client_, records):
    policy = MeetingPolicy.current()

    assert admin_client_.get(reverse("admin:meetings_meetingpolicy_add")).status_code == 403
    assert (
        admin_client_.post(
            reverse("admin:meetings_meetingpolicy_delete", args=[policy.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert admin_client_.get(reverse("admin:meetings_meetingpolicy_change", args=[policy.pk])).status_code == 200
    assert MeetingPolicy.objects.count() == 1


@pytest.mark.django_db
def test_leave_requests_and_votes_are_read_only(admin_client_, records):
    vote = Vote.objects.get()
    leave = LeaveRequest.objects.get()

    vote_page = admin_client_.get(reverse("admin:meetings_vote_change", args=[vote.pk]))
    assert vote_page.status_code == 200
    assert 'name="_save"' not in vote_page.content.decode()
    assert admin_client_.post(reverse("admin:meetings_vote_change", args=[vote.pk]), {"yes": 2}).status_code == 403
    assert admin_client_.get(reverse("admin:meetings_leaverequest_add")).status_code == 403
    leave_url = reverse("admin:meetings_leaverequest_change", args=[leave.pk])
    assert admin_client_.post(leave_url, {"status": "approved"}).status_code == 403
    leave.refresh_from_db()
    vote.refresh_from_db()
    assert (leave.status, vote.yes) == (LeaveRequest.Status.PENDING, 1)


@pytest.mark.django_db
def test_a_new_exemption_is_approved_by_the_signed_in_user_and_must_start_a_period(admin_client_, branch):
    rule = CadenceRule.objects.get(name="党课每季度至少1次")
    add_url = reverse("admin:meetings_exemption_add")

    page = admin_client_.get(add_url)
    assert page.status_code == 200
    assert page.context["adminform"].form.initial["approved_by"] == admin_client_.user.pk

    now = timezone.localtime()
    form = {
        "branch": branch.pk,
        "rule": rule.pk,
        "reason": "支部新组建",
        "approved_by": admin_client_.user.pk,
        "approved_at_0": f"{now:%Y-%m-%d}",
        "approved_at_1": f"{now:%H:%M:%S}",
    }
    refused = admin_client_.post(add_url, {**form, "period_start": "2026-05-01"})
    assert refused.status_code == 200
    assert "2026-04-01" in refused.content.decode()
    assert not Exemption.objects.exists()

    accepted = admin_client_.post(add_url, {**form, "period_start": "2026-04-01"})
    assert accepted.status_code == 302
    exemption = Exemption.objects.get()
    assert (exemption.approved_by, exemption.period_start) == (admin_client_.user, dt.date(2026, 4, 1))


@pytest.mark.django_db
def test_the_meeting_changelist_query_count_does_not_grow_with_the_meetings(admin_client_, branch):
    url = reverse("admin:meetings_meeting_changelist")
    MeetingFactory.create_batch(2, branch=branch, types=["committee_meeting"])
    with CaptureQueriesContext(connection) as two:
        assert admin_client_.get(url).status_code == 200

    MeetingFactory.create_batch(8, branch=branch, types=["general_meeting", "party_lesson"])
    with CaptureQueriesContext(connection) as ten:
        assert admin_client_.get(url).status_code == 200

    assert len(two.captured_queries) == len(ten.captured_queries)


@pytest.mark.django_db
def test_history_shows_old_versions_but_cannot_revert_a_record_to_one(admin_client_, records):
    meeting = records["meeting"]
    meeting.topic = "改过一次的主题"
    meeting.save()
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.APPROVED)
    first = meeting.history.earliest()
    url = reverse("admin:meetings_meeting_simple_history", args=[meeting.pk, first.history_id])

    page = admin_client_.get(url)
    assert page.status_code == 200
    assert "学习安全生产责任制" in page.content.decode()

    response = admin_client_.post(url, {"topic": "学习安全生产责任制", "place": "三楼党员活动室"})
    assert response.status_code == 403
    meeting.refresh_from_db()
    assert (meeting.status, meeting.topic) == (Meeting.Status.APPROVED, "改过一次的主题")


@pytest.mark.django_db
def test_a_staff_user_who_may_only_view_exemptions_cannot_change_one_through_its_history(client, records):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_exemption"))
    client.force_login(viewer)
    exemption = Exemption.objects.get()
    version = exemption.history.earliest()
    url = reverse("admin:meetings_exemption_simple_history", args=[exemption.pk, version.history_id])

    assert client.get(url).status_code == 200
    form = {
        "branch": exemption.branch_id,
        "rule": exemption.rule_id,
        "period_start": "2026-04-01",
        "reason": "改写的理由",
        "approved_by": viewer.pk,
        "approved_at_0": "2026-04-02",
        "approved_at_1": "09:00:00",
    }
    assert client.post(url, form).status_code == 403
    exemption.refresh_from_db()
    assert exemption.reason == "支部新组建"
