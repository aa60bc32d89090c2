"""The item page keeps the member's record: opened time, resume position; 已学 completes a document once."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from study.models import LearningRecord, StudyMedia
from study.signals import learning_completed
from tests.conftest import client_for
from tests.factories import StudyItemFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 6, 1, 15, 0, tzinfo=dt.UTC)


def _open(client, user, item, at=T0):
    with time_machine.travel(at, tick=False):
        return client_for(client, user).get(reverse("study:item_detail", args=[item.pk]))


def _confirm(client, user, item, at):
    with time_machine.travel(at, tick=False):
        return client_for(client, user).post(
            reverse("study:confirm_done", args=[item.pk]), {"next": reverse("study:item_detail", args=[item.pk])}
        )


def test_opening_an_item_records_the_first_opening_only(client, member):
    item = StudyItemFactory(credit_hours=Decimal("1.5"))
    assert _open(client, member, item).status_code == 200
    _open(client, member, item, at=T0 + dt.timedelta(days=1))
    record = LearningRecord.objects.get(item=item, member=member.member)
    assert record.opened_at == T0
    assert record.completed_at is None


def test_confirming_a_document_completes_it_once_with_its_credit(client, member):
    item = StudyItemFactory(credit_hours=Decimal("1.5"))
    seen = []
    learning_completed.connect(receiver := lambda sender, record, now, **kw: seen.append(now))
    try:
        page = _open(client, member, item).content.decode()
        assert 'id="confirm-done"' in page
        response = _confirm(client, member, item, T0 + dt.timedelta(minutes=10))
        assert response.status_code == 302 and response.url == reverse("study:item_detail", args=[item.pk])
        # the second submit (a double tap, a resent form) changes nothing
        _confirm(client, member, item, T0 + dt.timedelta(minutes=11))
    finally:
        learning_completed.disconnect(receiver)
    record = LearningRecord.objects.get(item=item, member=member.member)
    assert (record.completed_at, record.credit_hours) == (T0 + dt.timedelta(minutes=10), Decimal("1.5"))
    assert seen == [T0 + dt.timedelta(minutes=10)]
    page = _open(client, member, item, at=T0 + dt.timedelta(minutes=12)).content.decode()
    assert "已学完" in page and 'id="confirm-done"' not in page


def test_confirming_without_having_opened_the_item_is_refused(client, member):
    item = StudyItemFactory()
    response = _confirm(client, member, item, T0)
    assert response.status_code == 302
    assert not LearningRecord.objects.exists()
    with time_machine.travel(T0, tick=False):
        follow = client.get(response.url)
    assert "请先打开这份资料" in follow.content.decode()
    # the page shown after it records the opening; nothing is complete
    assert LearningRecord.objects.get().completed_at is None


def test_a_video_cannot_be_confirmed_without_playing_it(client, member):
    item = StudyItemFactory(kind="video", credit_hours=None)
    StudyMedia.objects.create(item=item, original="study/x.mp4", status="ready", duration_seconds=60, uploaded_at=T0)
    _open(client, member, item)
    _confirm(client, member, item, T0 + dt.timedelta(minutes=1))
    assert LearningRecord.objects.get(item=item).completed_at is None


@pytest.mark.parametrize("role", ["other_secretary", "anonymous"])
def test_others_cannot_confirm_an_item_they_may_not_see(client, people, role, branch):
    item = StudyItemFactory(audience="branches", branches=[branch])
    response = _confirm(client, people[role], item, T0)
    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert "/accounts/login/" in response.url
    assert not LearningRecord.objects.exists()


def test_an_authors_draft_keeps_no_record(client, secretary, branch):
    item = StudyItemFactory(state="draft", organization=branch, created_by=secretary)
    assert _open(client, secretary, item).status_code == 200
    assert not LearningRecord.objects.exists()


def test_a_supervisor_opening_an_item_keeps_no_record(client, supervisor):
    item = StudyItemFactory()
    assert _open(client, supervisor, item).status_code == 200
    assert not LearningRecord.objects.exists()


def test_the_video_page_gives_the_player_the_resume_position_and_the_report_address(client, member):
    item = StudyItemFactory(kind="video", credit_hours=None)
    StudyMedia.objects.create(item=item, original="study/x.mp4", status="ready", duration_seconds=600, uploaded_at=T0)
    _open(client, member, item)
    LearningRecord.objects.filter(item=item).update(last_position=123.5, played_seconds=120, intervals=[[0, 120]])
    page = _open(client, member, item, at=T0 + dt.timedelta(hours=1)).content.decode()
    assert 'data-resume="123.500"' in page
    assert f'data-url="{reverse("study:heartbeat", args=[item.pk])}"' in page
    assert 'id="study-percent">20<' in page
    assert "上次看到 124 秒" in page or "上次看到 123 秒" in page
