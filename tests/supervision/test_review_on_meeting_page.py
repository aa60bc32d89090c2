"""The branch's own meeting page shows the supervisor's return comments, and supervisors a link to review."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from supervision.services.review import review_return
from tests.conftest import client_for

from .conftest import meeting_held

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(branch, secretary):
    return meeting_held(branch, start=timezone.now() - dt.timedelta(days=3))


def test_the_secretary_sees_why_the_record_was_returned(client, submitted, secretary, supervisor):
    review_return(meeting=submitted, comment="缺少发言要点，请补充。", user=supervisor, now=timezone.now())

    page = client_for(client, secretary).get(reverse("meetings:meeting_detail", args=[submitted.pk]))

    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="review-comments"' in body
    assert "缺少发言要点，请补充。" in body
    assert "第 1 轮审核" in body


def test_a_record_under_review_shows_no_return_comments(client, submitted, secretary):
    body = client_for(client, secretary).get(reverse("meetings:meeting_detail", args=[submitted.pk])).content.decode()
    assert 'id="review-comments"' not in body
    assert 'id="open-review"' not in body


def test_a_supervisor_finds_the_review_page_from_the_meeting(client, submitted, supervisor):
    body = client_for(client, supervisor).get(reverse("meetings:meeting_detail", args=[submitted.pk])).content.decode()
    assert reverse("supervision:review_detail", args=[submitted.pk]) in body
