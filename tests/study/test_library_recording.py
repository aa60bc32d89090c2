"""A recorded 党课 published as a 微党课 in one step, from the meeting page."""

import datetime as dt
import hashlib
import io

import pytest
from django.urls import reverse

from org.models import Post, StaffRole
from study.models import StudyItem, StudyMedia
from supervision.models import Evidence, evidence_storage
from tests.conftest import client_for
from tests.factories import MeetingFactory, MemberFactory, member_with_login, staff_user
from tests.supervision.conftest import local

from .library_helpers import evidence_dir, mp4_bytes  # noqa: F401

pytestmark = pytest.mark.django_db


def _lesson(branch, *, types=("party_lesson",), status="submitted", **fields):
    start = local(2026, 11, 5, 14)
    return MeetingFactory(
        branch=branch,
        planned_start=start,
        planned_end=start + dt.timedelta(hours=1),
        actual_start=start,
        actual_end=start + dt.timedelta(hours=1),
        status=status,
        types=list(types),
        lesson_title="做新时代合格煤矿党员",
        lecturer=MemberFactory(name="孙先进"),
        **fields,
    )


def _video_evidence(meeting, data: bytes) -> Evidence:
    storage = evidence_storage()
    name = storage.save("evidence/lesson.mp4", io.BytesIO(data))
    return Evidence.objects.create(
        meeting=meeting,
        category=Evidence.Category.VIDEO,
        kind=Evidence.Kind.VIDEO,
        content_type="video/mp4",
        original_name="党课录像.mp4",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        original=name,
        file=name,
        status=Evidence.Status.READY,
        uploaded_at=meeting.actual_end,
    )


def _publish(client, meeting, **kw):
    return client.post(reverse("study:publish_recording", args=[meeting.pk]), follow=True, **kw)


def test_a_lesson_with_its_video_becomes_a_微党课_waiting_for_review(client, branch, secretary, evidence_dir, tmp_path):  # noqa: F811
    meeting = _lesson(branch)
    evidence = _video_evidence(meeting, mp4_bytes(tmp_path))
    response = _publish(client_for(client, secretary), meeting)
    item = StudyItem.objects.get()
    assert response.redirect_chain[-1][0] == reverse("study:item_detail", args=[item.pk])
    assert (item.kind, item.column.name, item.state) == ("video", "微党课", "in_review")
    assert (item.title, item.lecturer, item.source_meeting, item.organization) == (
        "做新时代合格煤矿党员",
        meeting.lecturer,
        meeting,
        branch,
    )
    media = StudyMedia.objects.get(item=item)
    # A copy: the item's file is its own, the meeting's evidence is untouched.
    assert media.sha256 == evidence.sha256 and media.original.name != evidence.original.name
    assert media.original_name == "党课录像.mp4"
    assert evidence_storage().exists(evidence.original.name)


def test_a_lesson_without_a_video_becomes_a_draft_to_upload_it_into(client, branch, secretary):
    meeting = _lesson(branch)
    response = _publish(client_for(client, secretary), meeting)
    item = StudyItem.objects.get()
    assert item.state == "draft" and not StudyMedia.objects.exists()
    assert any("没有可用的视频" in str(m) for m in response.context["messages"])


def test_publishing_the_same_lesson_twice_makes_one_微党课(client, branch, secretary):
    meeting = _lesson(branch)
    client = client_for(client, secretary)
    _publish(client, meeting)
    again = _publish(client, meeting)
    assert StudyItem.objects.count() == 1
    assert "这次党课已经发布为微党课，没有重复发布。" in [str(m) for m in again.context["messages"]]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"types": ("general_meeting",)}, "只有党课可以发布为微党课。"),
        ({"status": "notified"}, "党课召开后才能发布为微党课。"),
    ],
)
def test_only_a_held_党课_is_published(client, branch, secretary, fields, message):
    meeting = _lesson(branch, **fields)
    response = _publish(client_for(client, secretary), meeting)
    assert message in [str(m) for m in response.context["messages"]]
    assert not StudyItem.objects.exists()


@pytest.mark.parametrize(("who", "status"), [("member", 403), ("other_secretary", 404), ("jijian", 403)])
def test_who_may_not_publish_a_lesson_is_refused(client, branch, member, other_secretary, who, status):
    users = {
        "member": member,
        "other_secretary": other_secretary,
        "jijian": staff_user(username="jijian", role=StaffRole.Role.DISCIPLINE_DEPT),
    }
    meeting = _lesson(branch)
    response = client_for(client, users[who]).post(reverse("study:publish_recording", args=[meeting.pk]))
    assert response.status_code == status
    assert not StudyItem.objects.exists()


def test_the_work_department_publishes_a_branch_s_lesson(client, branch, supervisor):
    meeting = _lesson(branch)
    _publish(client_for(client, supervisor), meeting)
    assert StudyItem.objects.get().organization == branch


def test_the_meeting_page_offers_the_button_to_the_branch_s_writers_only(client, branch, member):
    meeting = _lesson(branch)
    writer = member_with_login(branch=branch, username="xuanchuan", role=Post.Role.PROPAGANDA)
    url = reverse("meetings:meeting_detail", args=[meeting.pk])
    html = client_for(client, writer).get(url).content.decode()
    assert reverse("study:publish_recording", args=[meeting.pk]) in html
    client.logout()
    html = client_for(client, member).get(url).content.decode()
    assert reverse("study:publish_recording", args=[meeting.pk]) not in html


def test_the_meeting_page_links_the_微党课_once_made(client, branch, secretary):
    meeting = _lesson(branch)
    client = client_for(client, secretary)
    _publish(client, meeting)
    item = StudyItem.objects.get()
    html = client.get(reverse("meetings:meeting_detail", args=[meeting.pk])).content.decode()
    assert reverse("study:item_detail", args=[item.pk]) in html
    assert reverse("study:publish_recording", args=[meeting.pk]) not in html


def test_a_meeting_that_is_no_党课_costs_the_meeting_page_no_query(branch, django_assert_num_queries):
    from meetings import panels
    from study.panels import meeting_page

    meeting = _lesson(branch, types=("general_meeting",))
    assert meeting_page in panels._providers
    types = list(meeting.types.all())
    with django_assert_num_queries(0):
        assert meeting_page(meeting=meeting, ctx={"types": types}) == {}
