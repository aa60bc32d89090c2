"""The player's progress report: credited only as really played, refused otherwise, no session write."""

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from org.sessions import TOUCHED_KEY
from study.models import LearningRecord, StudyItem, StudyMedia, StudyPolicy
from study.progress import Report
from study.records import _apply_report, record_heartbeat, record_open
from study.signals import learning_completed
from tests.conftest import client_for
from tests.factories import StudyItemFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 6, 1, 15, 0, tzinfo=dt.UTC)
DURATION = 600.0  # 10 minutes: 600 / (45 × 60) = 0.2 学时


def video_item(*, duration=DURATION, **kwargs) -> StudyItem:
    item = StudyItemFactory(kind="video", credit_hours=None, **kwargs)
    StudyMedia.objects.create(
        item=item,
        original="study/lesson.mp4",
        status=StudyMedia.Status.READY,
        duration_seconds=duration,
        uploaded_at=T0 - dt.timedelta(days=1),
    )
    return item


def _post(client, item, start, end, *, at, sent_at=None, **extra):
    body = {"from": start, "to": end, "sent_at": (sent_at or at).timestamp() * 1000}
    with time_machine.travel(at, tick=False):
        return client.post(
            reverse("study:heartbeat", args=[item.pk]), json.dumps(body), content_type="application/json", **extra
        )


def _record(item, user):
    return LearningRecord.objects.get(item=item, member=user.member)


@pytest.fixture
def opened(member):
    """A 10-minute video the member opened at T0."""
    item = video_item()
    record_open(item=item, member=member.member, now=T0)
    return item


def test_a_report_at_real_speed_is_credited_and_the_position_kept(client, member, opened):
    response = _post(client_for(client, member), opened, 0, 15, at=T0 + dt.timedelta(seconds=15))
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "reason": "",
        "position": 15.0,
        "played_seconds": 15.0,
        "percent": 2,
        "completed": False,
    }
    record = _record(opened, member)
    assert record.intervals == [[0.0, 15.0]]
    assert record.last_position == 15
    assert record.last_report_at == T0 + dt.timedelta(seconds=15)


def test_dragging_the_bar_to_the_end_is_refused_and_nothing_is_credited(client, member, opened):
    response = _post(client_for(client, member), opened, 0, 600, at=T0 + dt.timedelta(seconds=15))
    assert response.status_code == 409
    assert "倍速" in response.json()["reason"]
    record = _record(opened, member)
    assert record.intervals == [] and record.played_seconds == 0 and record.completed_at is None


def test_a_seek_forward_is_a_gap_and_the_item_is_not_complete_until_ninety_percent_is_played(client, member, opened):
    c = client_for(client, member)
    at = T0
    # 0-270 played at 2x in 135 s, then a seek to 300 and 300-569.4 at real speed: 539.4 s, 89.9 %
    at += dt.timedelta(seconds=135)
    assert _post(c, opened, 0, 270, at=at).status_code == 200
    at += dt.timedelta(seconds=270)
    assert _post(c, opened, 300, 569.4, at=at).json()["completed"] is False
    assert _record(opened, member).played_seconds == pytest.approx(539.4)
    at += dt.timedelta(seconds=1)
    # the skipped 270-300: watching 0.6 s more of it reaches exactly 540 s, 90 %
    response = _post(c, opened, 270, 270.6, at=at)
    assert response.json()["completed"] is True
    record = _record(opened, member)
    assert record.intervals == [[0.0, 270.6], [300.0, 569.4]]
    assert record.completed_at == at
    assert record.credit_hours == Decimal("0.2")


def test_completion_fires_the_signal_once(client, member, opened):
    seen = []

    def receiver(sender, record, now, **kwargs):
        seen.append((record.pk, now))

    learning_completed.connect(receiver)
    try:
        c = client_for(client, member)
        _post(c, opened, 0, 560, at=T0 + dt.timedelta(seconds=300))
        _post(c, opened, 560, 600, at=T0 + dt.timedelta(seconds=340))
    finally:
        learning_completed.disconnect(receiver)
    assert seen == [(_record(opened, member).pk, T0 + dt.timedelta(seconds=300))]


def test_an_out_of_order_report_is_refused(client, member, opened):
    c = client_for(client, member)
    _post(c, opened, 0, 15, at=T0 + dt.timedelta(seconds=15))
    late = _post(c, opened, 15, 30, at=T0 + dt.timedelta(seconds=30), sent_at=T0 + dt.timedelta(seconds=10))
    assert late.status_code == 409
    assert "过期" in late.json()["reason"]
    assert _record(opened, member).intervals == [[0.0, 15.0]]


def test_a_report_from_the_future_is_refused(client, member, opened):
    at = T0 + dt.timedelta(seconds=15)
    response = _post(client_for(client, member), opened, 0, 15, at=at, sent_at=at + dt.timedelta(minutes=5))
    assert response.status_code == 409
    assert "晚于服务器时间" in response.json()["reason"]
    assert _record(opened, member).last_report_at is None


def test_an_end_beyond_the_duration_is_refused(client, member, opened):
    response = _post(client_for(client, member), opened, 595, 700, at=T0 + dt.timedelta(seconds=400))
    assert response.status_code == 409
    assert "时长" in response.json()["reason"]


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not json",
        "[1, 2]",
        '{"from": 0}',
        '{"from": "a", "to": 1, "sent_at": 1}',
        '{"from": 0, "to": 1e400, "sent_at": 1}',
    ],
)
def test_a_malformed_report_is_refused_with_a_message(client, member, opened, body):
    c = client_for(client, member)
    with time_machine.travel(T0 + dt.timedelta(seconds=15), tick=False):
        response = c.post(reverse("study:heartbeat", args=[opened.pk]), body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["reason"] == "进度上报的格式不正确，未计入。"
    assert _record(opened, member).last_report_at is None


def test_two_tabs_cannot_both_be_credited_for_the_same_real_time(client, member, opened):
    c = client_for(client, member)
    at = T0 + dt.timedelta(seconds=15)
    assert _post(c, opened, 0, 15, at=at).status_code == 200
    # the second tab plays another part in the same 15 s: no real time is left for it
    other = _post(c, opened, 100, 115, at=at + dt.timedelta(seconds=0.5))
    assert other.status_code == 409
    assert _record(opened, member).intervals == [[0.0, 15.0]]


def test_a_report_judged_against_a_record_another_tab_has_moved_is_not_written(member, opened):
    policy = StudyPolicy.current()
    stale = _record(opened, member)
    at = T0 + dt.timedelta(seconds=15)
    first = record_heartbeat(
        item=opened, member=member.member, duration=DURATION, report=Report(0, 15, at), policy=policy, now=at
    )
    assert first.accepted
    second = _apply_report(stale, item=opened, duration=DURATION, report=Report(100, 115, at), policy=policy, now=at)
    assert not second.accepted
    assert "另一个页面" in second.reason
    assert _record(opened, member).intervals == [[0.0, 15.0]]


@pytest.mark.parametrize("role", ["other_secretary", "anonymous"])
def test_others_cannot_report_for_an_item_they_may_not_see(client, people, role, branch):
    item = video_item(audience="branches", branches=[branch])
    response = _post(client_for(client, people[role]), item, 0, 10, at=T0 + dt.timedelta(seconds=15))
    assert response.status_code in (403, 404)
    assert not LearningRecord.objects.filter(item=item).exists()


def test_a_supervisor_without_a_member_record_is_not_recorded(client, supervisor):
    item = video_item()
    response = _post(client_for(client, supervisor), item, 0, 10, at=T0 + dt.timedelta(seconds=15))
    assert response.status_code == 403
    assert not LearningRecord.objects.exists()


def test_a_draft_is_not_studied_even_by_its_author(client, member, branch):
    item = video_item(state="draft", organization=branch, created_by=member)
    response = _post(client_for(client, member), item, 0, 10, at=T0 + dt.timedelta(seconds=15))
    assert response.status_code == 404
    assert not LearningRecord.objects.exists()


def test_the_report_needs_the_csrf_token(member, opened):
    c = client_for(Client(enforce_csrf_checks=True), member)
    assert _post(c, opened, 0, 15, at=T0 + dt.timedelta(seconds=15)).status_code == 403
    assert _record(opened, member).last_report_at is None
    c.get(reverse("study:my_study"))  # sets the CSRF cookie
    token = c.cookies["csrftoken"].value
    assert _post(c, opened, 0, 15, at=T0 + dt.timedelta(seconds=15), HTTP_X_CSRFTOKEN=token).status_code == 200


def test_the_closing_page_reports_through_a_beacon_form_with_the_token(member, opened):
    c = client_for(Client(enforce_csrf_checks=True), member)
    c.get(reverse("study:my_study"))
    token = c.cookies["csrftoken"].value
    at = T0 + dt.timedelta(seconds=15)
    payload = json.dumps({"from": 0, "to": 12, "sent_at": at.timestamp() * 1000})
    with time_machine.travel(at, tick=False):
        response = c.post(
            reverse("study:heartbeat", args=[opened.pk]), {"payload": payload, "csrfmiddlewaretoken": token}
        )
    assert response.status_code == 200
    assert _record(opened, member).last_position == 12


def test_the_report_never_writes_the_session(client, member, opened):
    c = client_for(client, member)
    session = c.session
    session[TOUCHED_KEY] = 0  # touched long ago: any other request would re-save it now
    session.save()
    before = Session.objects.get(session_key=session.session_key)
    with CaptureQueriesContext(connection) as queries:
        assert _post(c, opened, 0, 15, at=T0 + dt.timedelta(seconds=15)).status_code == 200
    writes = [q["sql"] for q in queries if "django_session" in q["sql"] and not q["sql"].startswith("SELECT")]
    assert writes == []
    after = Session.objects.get(session_key=session.session_key)
    assert (after.session_data, after.expire_date) == (before.session_data, before.expire_date)


def _long_record(item, user, intervals: int):
    LearningRecord.objects.filter(item=item, member=user.member).update(
        intervals=[[i * 2.0, i * 2.0 + 1] for i in range(intervals)], played_seconds=float(intervals)
    )


@pytest.mark.parametrize("intervals", [1, 200])
def test_a_report_costs_a_fixed_number_of_queries(client, member, opened, django_assert_num_queries, intervals):
    c = client_for(client, member)
    _long_record(opened, member, intervals)
    # session, user, member; the scope (staff roles, member, memberships, posts); the item with
    # its media; the policy; the record and its conditional update, in the service's savepoint
    with django_assert_num_queries(13):
        response = _post(c, opened, 500, 515, at=T0 + dt.timedelta(seconds=15))
    assert response.status_code == 200
