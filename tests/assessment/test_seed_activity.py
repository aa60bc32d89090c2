"""The demo history: meetings, evidence through the worker's processing, flags, reviews, findings,
two published assessments and a baseline — and the story the README tells about it."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Exists, OuterRef
from django.test import Client
from django.urls import reverse

from assessment.models import BranchScore, MemberScore, Run
from assessment.participation import current_baseline, participation_trend
from bulletin.models import Announcement
from meetings.models import Attendance, LeaveRequest, Meeting
from org.models import Post, User
from supervision.models import Evidence, Finding, Flag, Rectification, Review

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
COUNTED = (Meeting, Attendance, Evidence, Flag, Review, Finding, Rectification, Run, BranchScore, MemberScore)


@pytest.fixture
def seeded(db, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence"), "base_url": None},
        },
    }
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", stdout=StringIO())
        out = StringIO()
        call_command("seed_demo_activity", stdout=out)
    return out.getvalue()


def test_the_demo_history_has_sixteen_months_of_reviewed_meetings_and_last_months_queue(seeded):
    assert "演示业务数据已就绪" in seeded
    months = {m.replace(day=1) for m in Meeting.objects.values_list("counts_for", flat=True)}
    assert len(months) == 16
    assert Meeting.objects.filter(status=Meeting.Status.APPROVED).count() > 500
    waiting = Meeting.objects.filter(status=Meeting.Status.SUBMITTED)
    assert waiting.exists()
    assert {m.counts_for.replace(day=1) for m in waiting} == {dt.date(2026, 10, 1)}
    assert Meeting.objects.filter(status=Meeting.Status.RETURNED, reviews__action=Review.Action.RETURN).count() == 1


def test_the_demo_evidence_was_processed_and_the_checks_found_what_the_story_planted(seeded):
    assert Evidence.objects.exists()
    assert set(Evidence.objects.values_list("status", flat=True)) == {Evidence.Status.READY}
    assert not Evidence.objects.filter(gps_latitude__isnull=False).exists()
    assert Evidence.objects.filter(captured_at__isnull=False).count() == Evidence.objects.count()
    weak = Flag.objects.filter(meeting__branch__name="运输队党支部")
    assert weak.filter(kind=Flag.Kind.DUPLICATE_PHOTO, status=Flag.Status.CONFIRMED).exists()
    assert weak.filter(kind=Flag.Kind.SIMILAR_MINUTES, status=Flag.Status.CONFIRMED).exists()
    assert weak.filter(kind=Flag.Kind.CAPTURE_TIME).exists()
    assert Flag.objects.filter(meeting__branch__name="通风队党支部", kind=Flag.Kind.LATE_ENTRY).exists()


def test_the_latest_quarter_names_the_vetoed_branch_in_a_notice_and_opens_its_rectification(seeded):
    runs = list(Run.objects.order_by("period_start"))
    assert [r.status for r in runs] == [Run.Status.PUBLISHED, Run.Status.PUBLISHED]
    latest = runs[-1]
    failing = list(latest.scores.filter(is_failing=True).select_related("branch", "rectification"))
    assert [(s.branch.name, s.vetoed) for s in failing] == [("运输队党支部", True)]
    assert failing[0].rectification.status == Rectification.Status.OPEN
    notice = Announcement.objects.get(pk=latest.notice_id)
    assert notice.kind == Announcement.Kind.CIRCULAR and notice.organization_id is None
    assert "运输队党支部" in notice.body and "三、整改要求" in notice.body
    # 比学赶超: every branch of the latest run has its rank in the previous one.
    assert not latest.scores.filter(previous_rank__isnull=True).exists()
    assert Rectification.objects.filter(status=Rectification.Status.OVERDUE).count() == 1
    assert Rectification.objects.filter(status=Rectification.Status.VERIFIED).count() == 1


def test_participation_rose_about_thirty_percent_against_the_baseline(seeded):
    baseline = current_baseline()
    assert (baseline.start, baseline.end) == (dt.date(2025, 7, 1), dt.date(2026, 1, 1))
    trend = participation_trend(start=dt.date(2026, 1, 1), end=dt.date(2026, 11, 1))
    later = trend.total.attended / trend.total.expected
    base = trend.baseline_rate.attended / trend.baseline_rate.expected
    assert 0.60 < base < 0.68
    assert 1.25 < later / base < 1.36


def test_running_the_history_again_changes_nothing(seeded):
    before = {model.__name__: model.objects.count() for model in COUNTED}
    out = StringIO()
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        call_command("seed_demo_activity", stdout=out)
    assert "跳过" in out.getvalue()
    assert {model.__name__: model.objects.count() for model in COUNTED} == before


@pytest.mark.parametrize(
    ("username", "url_name"),
    [("supervisor", "supervision:review_queue"), ("committee", "assessment:run_list"), ("dangyuan", "home")],
)
def test_the_demo_logins_open_their_pages_on_the_seeded_history(seeded, username, url_name):
    client = Client()
    client.force_login(User.objects.get(username=username))
    response = client.get(reverse(url_name))
    assert response.status_code == 200


def test_the_demo_minutes_have_chairs_from_the_posts_varied_recorders_and_speakers_who_were_there(seeded):
    from meetings.models import Speech
    from org.models import Post

    group_meetings = Meeting.objects.filter(group__isnull=False).select_related("chair")
    leaders = set(Post.objects.filter(role=Post.Role.GROUP_LEADER).values_list("organization_id", "member_id"))
    led_by_leader = sum((m.group_id, m.chair_id) in leaders for m in group_meetings)
    assert led_by_leader > 0.6 * group_meetings.count()  # the others: a stand-in when the leader was on shift
    secretaries = set(Post.objects.filter(role=Post.Role.SECRETARY).values_list("member_id", flat=True))
    branch_meetings = Meeting.objects.filter(group__isnull=True)
    assert branch_meetings.filter(chair_id__in=secretaries).count() > 0.6 * branch_meetings.count()
    branch = Meeting.objects.filter(branch__name="综采一队党支部", group__isnull=True)
    assert branch.values("recorder").distinct().count() >= 3
    present = set(
        Attendance.objects.filter(status__in=Attendance.PRESENT_STATUSES).values_list("meeting_id", "member_id")
    )
    # 运输队's planted copy (补本子) keeps the speakers of the meeting it was copied from.
    speeches = Speech.objects.exclude(agenda_item__meeting__branch__name="运输队党支部").values_list(
        "agenda_item__meeting_id", "speaker_id"
    )
    assert speeches and all(pair in present for pair in speeches)
    attended = {meeting_id for meeting_id, _ in present}
    people = Meeting.objects.filter(pk__in=attended).values_list("pk", "chair_id", "recorder_id")
    assert all((pk, chair) in present and (pk, recorder) in present for pk, chair, recorder in people)


def test_every_demo_leave_comes_from_an_approved_request_made_before_the_start_and_decided_by_the_secretary(seeded):
    leave = Attendance.objects.filter(status=Attendance.Status.LEAVE)
    valid = LeaveRequest.objects.valid_for_attendance()
    assert leave.count() > 100
    assert not leave.exclude(
        Exists(valid.filter(meeting_id=OuterRef("meeting_id"), member_id=OuterRef("member_id")))
    ).exists()
    assert LeaveRequest.objects.count() == leave.count()
    requests = list(LeaveRequest.objects.select_related("meeting"))
    assert all(r.decided_at < r.meeting.planned_start for r in requests)
    secretaries = {
        (p.organization_id, p.member.user_id)
        for p in Post.objects.filter(role=Post.Role.SECRETARY).select_related("member")
    }
    leaders = {
        (p.organization_id, p.member.user_id)
        for p in Post.objects.filter(role=Post.Role.GROUP_LEADER).select_related("member")
    }
    for r in requests:
        decided = (r.meeting.branch_id, r.decided_by_id) in secretaries
        if r.meeting.group_id is not None:  # a 党小组会: its 党小组长 (the 书记 when he has no login)
            decided = decided or (r.meeting.group_id, r.decided_by_id) in leaders
        assert decided, r
    on_behalf = [r for r in requests if r.registered_by_id is not None]
    assert on_behalf and all((r.meeting.branch_id, r.registered_by_id) in secretaries for r in on_behalf)


def test_the_demo_vote_rights_are_those_on_the_meeting_date(seeded):
    rows = Attendance.objects.select_related("meeting").prefetch_related("member__status_periods")
    assert all(a.can_vote == a.member.can_vote_on(a.meeting.counts_for) for a in rows)
    assert rows.filter(can_vote=False).exists() and rows.filter(can_vote=True).exists()
