"""Drafts, review, publication and withdrawal, through the pages: who may take each step, what
bad input says, and that a refused or repeated step changes nothing."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from bulletin.models import Notification
from org.models import Post, StaffRole
from study.models import StudyItem, StudyMedia
from tests.conftest import client_for
from tests.factories import StudyItemFactory, member_with_login, staff_user, study_column

from .library_helpers import evidence_dir, pdf_upload  # noqa: F401

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 10, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def writer(branch):
    """The 宣传委员 of ``branch``."""
    return member_with_login(branch=branch, username="xuanchuan", role=Post.Role.PROPAGANDA, name="周宣传")


@pytest.fixture
def jijian(db):
    return staff_user(username="jijian", role=StaffRole.Role.DISCIPLINE_DEPT)


def _form(client, url="study:item_create", *args):
    response = client.get(reverse(url, args=args))
    token = re.search(r'name="form_token" value="([0-9a-f]+)"', response.content.decode())
    return response, token.group(1) if token else ""


def _fields(branch, **overrides):
    data = {
        "organization": branch.pk,
        "kind": "article",
        "column": study_column("安全生产").pk,
        "title": "综采工作面安全确认法",
        "summary": "",
        "body": "第一段。\n\n第二段。",
        "lecturer": "",
        "lecturer_name": "",
        "audience": "mine",
        "credit_hours": "1",
    }
    data.update(overrides)
    return data


def _messages(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- Create ----------------------------------------------------------------------------------


def test_a_propaganda_member_writes_a_draft_for_the_branch(client, branch, writer):
    client = client_for(client, writer)
    _, token = _form(client)
    with time_machine.travel(NOW, tick=False):
        response = client.post(reverse("study:item_create"), {**_fields(branch), "form_token": token})
    item = StudyItem.objects.get()
    assert response.status_code == 302 and response.url == reverse("study:item_detail", args=[item.pk])
    assert (item.state, item.organization, item.created_by, item.created_at) == ("draft", branch, writer, NOW)
    assert item.history.get().history_change_reason == "创建草稿"


def test_a_second_submit_of_the_create_form_makes_no_second_draft(client, branch, writer):
    client = client_for(client, writer)
    _, token = _form(client)
    data = {**_fields(branch), "form_token": token}
    first = client.post(reverse("study:item_create"), data)
    second = client.post(reverse("study:item_create"), data, follow=True)
    assert StudyItem.objects.count() == 1
    assert second.redirect_chain[-1][0] == first.url
    assert "该资料已经创建过，没有重复创建。" in _messages(second)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"kind": "document", "credit_hours": ""}, "credit_hours", "文档、图文资料须由发布人设定学时。"),
        ({"credit_hours": ""}, "credit_hours", "文档、图文资料须由发布人设定学时。"),
        ({"credit_hours": "0"}, "credit_hours", "学时须大于 0。"),
        ({"audience": "branches"}, "branches", "学习对象为“指定支部”时，请至少选择一个支部。"),
        ({"audience": "roles"}, "roles", "学习对象为“指定对象”时，请至少选择书记或支委。"),
        ({"body": "  "}, "body", "图文资料须填写正文。"),
        ({"title": ""}, "title", "这个字段是必填项。"),
    ],
)
def test_bad_input_gets_a_chinese_message_and_saves_nothing(client, branch, writer, overrides, field, message):
    client = client_for(client, writer)
    _, token = _form(client)
    response = client.post(reverse("study:item_create"), {**_fields(branch, **overrides), "form_token": token})
    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    assert message in response.content.decode()
    assert not StudyItem.objects.exists()


def test_a_lecturer_from_the_roster_and_a_name_at_once_is_refused(client, branch, writer, member):
    client = client_for(client, writer)
    _, token = _form(client)
    data = {**_fields(branch, lecturer=member.member.pk, lecturer_name="外请老师"), "form_token": token}
    response = client.post(reverse("study:item_create"), data)
    assert "主讲人请在名单中选择，或填写名单外的姓名，不要两项都填。" in response.content.decode()
    assert not StudyItem.objects.exists()


def test_a_branch_writer_cannot_write_for_another_branch_or_the_committee(client, branch, other_branch, writer):
    client = client_for(client, writer)
    _, token = _form(client)
    response = client.post(
        reverse("study:item_create"), {**_fields(branch, organization=other_branch.pk), "form_token": token}
    )
    assert "organization" in response.context["form"].errors
    assert not StudyItem.objects.exists()


def test_a_document_is_stored_with_its_file(client, branch, writer, evidence_dir):  # noqa: F811
    client = client_for(client, writer)
    _, token = _form(client)
    data = {**_fields(branch, kind="document", body=""), "form_token": token, "file": pdf_upload()}
    client.post(reverse("study:item_create"), data)
    media = StudyMedia.objects.get()
    assert media.item.kind == "document" and media.content_type == "application/pdf"
    assert media.status == StudyMedia.Status.READY


def test_a_document_whose_file_is_not_a_document_saves_nothing(client, branch, writer, evidence_dir):  # noqa: F811
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(client, writer)
    _, token = _form(client)
    fake = SimpleUploadedFile("通知.pdf", b"just some text, not a pdf at all", content_type="application/pdf")
    data = {**_fields(branch, kind="document", body=""), "form_token": token, "file": fake}
    response = client.post(reverse("study:item_create"), data)
    assert response.status_code == 200
    assert "文件内容不是可接受的格式" in response.content.decode()
    assert not StudyItem.objects.exists() and not StudyMedia.objects.exists()


@pytest.mark.parametrize("who", ["member", "other_secretary", "jijian", "anonymous"])
def test_the_create_page_refuses_who_writes_for_no_organisation(client, people, jijian, who):
    user = {**people, "jijian": jijian}[who]
    client = client_for(client, user)
    response = client.get(reverse("study:item_create"))
    if user is None:
        assert response.status_code == 302
    else:
        # other_secretary is a 书记 and may write for their own branch.
        assert response.status_code == (200 if who == "other_secretary" else 403)


# --- Edit ------------------------------------------------------------------------------------


def test_a_draft_is_edited_by_its_branch_and_refused_elsewhere(client, branch, writer, people, jijian):
    item = StudyItemFactory(organization=branch, state="draft", title="旧标题")
    url = reverse("study:item_edit", args=[item.pk])
    for who, status in [("member", 404), ("other_secretary", 404), ("supervisor", 404), ("anonymous", 302)]:
        client.logout()
        assert client_for(client, people[who]).post(url, _fields(branch, title="新")).status_code == status, who
    item.refresh_from_db()
    assert item.title == "旧标题"
    client.logout()
    client = client_for(client, writer)
    client.post(url, _fields(branch, title="新标题"))
    item.refresh_from_db()
    assert item.title == "新标题"


def test_an_item_in_review_cannot_be_edited(client, branch, writer):
    item = StudyItemFactory(organization=branch, state="in_review", title="待审")
    response = client_for(client, writer).post(
        reverse("study:item_edit", args=[item.pk]), _fields(branch, title="改"), follow=True
    )
    assert "只有草稿可以修改；已提交审核或已发布的资料请先退回或撤回。" in _messages(response)
    item.refresh_from_db()
    assert item.title == "待审"


# --- Submit ----------------------------------------------------------------------------------


def test_a_video_without_its_file_is_not_sent_for_review(client, branch, writer):
    item = StudyItemFactory(organization=branch, state="draft", kind="video", credit_hours=None)
    response = client_for(client, writer).post(reverse("study:item_submit", args=[item.pk]), follow=True)
    assert "视频资料还没有上传文件，请先上传。" in _messages(response)
    item.refresh_from_db()
    assert item.state == "draft" and item.submitted_at is None


def test_a_draft_goes_to_review_once(client, branch, writer):
    item = StudyItemFactory(organization=branch, state="draft")
    client = client_for(client, writer)
    with time_machine.travel(NOW, tick=False):
        client.post(reverse("study:item_submit", args=[item.pk]))
        item.refresh_from_db()
        assert (item.state, item.submitted_at) == ("in_review", NOW)
        again = client.post(reverse("study:item_submit", args=[item.pk]), follow=True)
    assert any("此操作已无效" in m for m in _messages(again)), _messages(again)
    assert item.history.filter(history_change_reason="提交审核").count() == 1


@pytest.mark.parametrize("who", ["member", "other_secretary", "supervisor"])
def test_only_the_branch_s_writers_send_its_draft_for_review(client, branch, people, who):
    item = StudyItemFactory(organization=branch, state="draft")
    response = client_for(client, people[who]).post(reverse("study:item_submit", args=[item.pk]))
    assert response.status_code == 404
    item.refresh_from_db()
    assert item.state == "draft"


# --- Review ----------------------------------------------------------------------------------


def test_the_work_department_publishes_and_the_reviewer_and_time_are_kept(client, branch, writer, supervisor):
    item = StudyItemFactory(organization=branch, state="in_review", created_by=writer)
    with time_machine.travel(NOW, tick=False):
        client_for(client, supervisor).post(
            reverse("study:item_review", args=[item.pk]), {"decision": "publish", "note": "内容准确"}
        )
    item.refresh_from_db()
    assert (item.state, item.reviewed_by, item.reviewed_at, item.published_at) == (
        "published",
        supervisor,
        NOW,
        NOW,
    )
    assert item.review_note == "内容准确"
    step = item.history.get(history_change_reason="审核通过并发布：内容准确")
    assert (step.history_user, step.history_date, step.state) == (supervisor, NOW, "published")
    assert Notification.objects.filter(recipient=writer, subject__contains="已审核发布").exists()
    # Now in the library of a plain member.
    assert item in client_for(client, writer).get(reverse("study:library")).context["page_obj"]


def test_a_return_needs_a_note_and_brings_the_draft_back_with_it(client, branch, writer, supervisor):
    item = StudyItemFactory(organization=branch, state="in_review", created_by=writer)
    client = client_for(client, supervisor)
    url = reverse("study:item_review", args=[item.pk])
    refused = client.post(url, {"decision": "return", "note": " "}, follow=True)
    assert "退回修改须填写审核意见，说明需要修改什么。" in _messages(refused)
    item.refresh_from_db()
    assert item.state == "in_review"
    client.post(url, {"decision": "return", "note": "请补充案例出处"})
    item.refresh_from_db()
    assert (item.state, item.review_note, item.reviewed_by) == ("draft", "请补充案例出处", supervisor)
    page = client_for(client, writer).get(reverse("study:item_edit", args=[item.pk])).content.decode()
    assert "请补充案例出处" in page


def test_a_second_review_of_the_same_item_changes_nothing(client, branch, supervisor):
    item = StudyItemFactory(organization=branch, state="in_review")
    client = client_for(client, supervisor)
    url = reverse("study:item_review", args=[item.pk])
    client.post(url, {"decision": "publish"})
    item.refresh_from_db()
    published_at = item.published_at
    again = client.post(url, {"decision": "return", "note": "晚了"}, follow=True)
    assert any("此操作已无效" in m for m in _messages(again))
    item.refresh_from_db()
    assert (item.state, item.published_at, item.review_note) == ("published", published_at, "")


@pytest.mark.parametrize("who", ["secretary", "writer", "jijian", "member"])
def test_nobody_but_the_work_department_reviews(client, branch, people, writer, jijian, who):
    user = {**people, "writer": writer, "jijian": jijian}[who]
    item = StudyItemFactory(organization=branch, state="in_review")
    response = client_for(client, user).post(reverse("study:item_review", args=[item.pk]), {"decision": "publish"})
    # The branch's writers see it (403); a plain member and the 纪检部 do not (404: only the
    # 党委工作部 reads items in review besides their writers).
    assert response.status_code == (404 if who in ("member", "jijian") else 403)
    item.refresh_from_db()
    assert item.state == "in_review" and item.reviewed_by is None


# --- Withdraw --------------------------------------------------------------------------------


def test_a_published_item_is_withdrawn_with_a_reason_and_leaves_the_library(client, branch, writer, member):
    item = StudyItemFactory(organization=branch)
    client = client_for(client, writer)
    url = reverse("study:item_withdraw", args=[item.pk])
    refused = client.post(url, {"reason": ""}, follow=True)
    assert "撤回须填写原因。" in _messages(refused)
    item.refresh_from_db()
    assert item.state == "published"
    with time_machine.travel(NOW, tick=False):
        client.post(url, {"reason": "规程已修订"})
    item.refresh_from_db()
    assert (item.state, item.withdrawn_at, item.withdrawn_reason) == ("withdrawn", NOW, "规程已修订")
    client.logout()
    client = client_for(client, member)
    assert client.get(reverse("study:item_detail", args=[item.pk])).status_code == 404
    assert item not in client.get(reverse("study:library")).context["page_obj"]


@pytest.mark.parametrize("who", ["member", "other_secretary", "jijian"])
def test_who_only_reads_an_item_cannot_withdraw_it(client, branch, people, jijian, who):
    user = {**people, "jijian": jijian}[who]
    item = StudyItemFactory(organization=branch)  # mine-wide: everyone reads it
    response = client_for(client, user).post(reverse("study:item_withdraw", args=[item.pk]), {"reason": "不想看"})
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.state == "published"


def test_a_withdrawn_item_becomes_a_draft_again_for_its_writers(client, branch, writer):
    item = StudyItemFactory(organization=branch, state="withdrawn")
    client_for(client, writer).post(reverse("study:item_reopen", args=[item.pk]))
    item.refresh_from_db()
    assert item.state == "draft"


def test_the_item_page_shows_each_role_its_own_buttons(client, branch, writer, supervisor, member):
    draft = StudyItemFactory(organization=branch, state="draft")
    review = StudyItemFactory(organization=branch, state="in_review")
    html = client_for(client, writer).get(reverse("study:item_detail", args=[draft.pk])).content.decode()
    assert 'id="submit-item"' in html and 'id="edit-item"' in html and 'id="item-history"' in html
    client.logout()
    html = client_for(client, supervisor).get(reverse("study:item_detail", args=[review.pk])).content.decode()
    assert 'id="review-form"' in html and 'id="edit-item"' not in html
    client.logout()
    published = StudyItemFactory()
    html = client_for(client, member).get(reverse("study:item_detail", args=[published.pk])).content.decode()
    for marker in ('id="review-form"', 'id="withdraw"', 'id="edit-item"', 'id="item-history"'):
        assert marker not in html
