"""The library pages: the list with search and filters, one item, and who is refused where."""

import pytest
from django.urls import reverse

from org.models import Post, StaffRole
from study.models import StudyItem
from tests.conftest import client_for
from tests.factories import (
    CommitteeFactory,
    MemberFactory,
    StudyItemFactory,
    member_with_login,
    staff_user,
    study_column,
)

pytestmark = pytest.mark.django_db


def _library(client, **params):
    return client.get(reverse("study:library"), params)


def _titles(response):
    return [i.title for i in response.context["page_obj"]]


@pytest.mark.parametrize("n", [1, 30])
def test_the_library_costs_the_same_queries_for_one_item_and_for_thirty(client, member, n, django_assert_num_queries):
    committee = CommitteeFactory()
    for k in range(n):
        StudyItemFactory(organization=committee, lecturer=MemberFactory(name=f"主讲{k}"), title=f"资料{k}")
    client = client_for(client, member)
    client.get(reverse("study:library"))  # the session and the scope as a later request finds them
    # Session, user, columns, 4 of the scope, count, 2 of Django's own permissions (has_perm
    # without an object), inbox count, the navbar's member, the rows.
    with django_assert_num_queries(13):
        response = _library(client)
    assert response.status_code == 200
    assert len(_titles(response)) == min(n, 20)


@pytest.mark.parametrize("n", [1, 30])
def test_the_item_page_costs_the_same_queries_whatever_its_audience_size(
    client, member, branch, n, django_assert_num_queries
):
    from tests.factories import BranchFactory

    branches = [branch, *(BranchFactory() for _ in range(n - 1))]
    item = StudyItemFactory(audience="branches", branches=branches)
    client = client_for(client, member)
    client.get(reverse("study:library"))
    # 12 for the page, 5 for the member's learning record made on this first opening (its
    # lookup, the insert in a savepoint) and the study policy the player panel reads, 1 for the item's quiz (测验 link)
    with django_assert_num_queries(18):
        response = client.get(reverse("study:item_detail", args=[item.pk]))
    assert response.status_code == 200
    assert response.content.decode().count("党支部") >= 1


def test_the_library_searches_titles_and_lecturers_from_the_roster_and_outside_it(client, member):
    StudyItemFactory(title="学习《安全生产法》", lecturer=MemberFactory(name="张先进"))
    StudyItemFactory(title="党史故事", lecturer_name="党校 王老师")
    StudyItemFactory(title="节能降耗")
    client = client_for(client, member)
    assert _titles(_library(client, q="安全生产")) == ["学习《安全生产法》"]
    assert _titles(_library(client, q="张先进")) == ["学习《安全生产法》"]
    assert _titles(_library(client, q="王老师")) == ["党史故事"]
    assert "没有找到符合条件的资料" in _library(client, q="不存在的词").content.decode()


def test_the_library_filters_by_column_and_kind(client, member):
    safety = study_column("安全生产")
    StudyItemFactory(title="安全文章", column=safety)
    StudyItemFactory(title="安全视频", column=safety, kind="video", credit_hours=None)
    StudyItemFactory(title="理论文章")
    client = client_for(client, member)
    assert sorted(_titles(_library(client, column=safety.pk))) == ["安全文章", "安全视频"]
    assert _titles(_library(client, column=safety.pk, kind="video")) == ["安全视频"]
    # A column or kind that does not exist shows the whole library, with a note.
    response = _library(client, column=999999, kind="movie")
    assert sorted(_titles(response)) == ["安全文章", "安全视频", "理论文章"]
    assert "搜索条件无效" in response.content.decode()


def test_the_library_paginates_newest_first(client, member):
    import datetime as dt

    from django.utils import timezone

    start = timezone.now() - dt.timedelta(days=30)
    for k in range(25):
        StudyItemFactory(title=f"第{k:02d}篇", created_at=start + dt.timedelta(days=k))
    client = client_for(client, member)
    first = _titles(_library(client))
    assert first[0] == "第24篇" and len(first) == 20
    assert _titles(_library(client, page=2)) == [f"第{k:02d}篇" for k in range(4, -1, -1)]


def test_an_article_body_is_shown_as_text_never_as_markup(client, member):
    item = StudyItemFactory(body='第一段<script>alert("x")</script>\n\n第二段<b>粗</b>')
    html = client_for(client, member).get(reverse("study:item_detail", args=[item.pk])).content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "<b>粗</b>" not in html
    assert "<p>第二段" in html


def test_the_item_page_has_the_player_include_point(client, member):
    item = StudyItemFactory(kind="video", credit_hours=None)
    response = client_for(client, member).get(reverse("study:item_detail", args=[item.pk]))
    assert "study/_player.html" in [t.name for t in response.templates]


def test_a_branch_item_is_hidden_from_another_branch_and_anonymous(client, branch, member, other_secretary):
    item = StudyItemFactory(audience="branches", branches=[branch])
    url = reverse("study:item_detail", args=[item.pk])
    assert client_for(client, member).get(url).status_code == 200
    client.logout()
    assert client_for(client, other_secretary).get(url).status_code == 404
    client.logout()
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response.url
    assert item.title not in _titles(client_for(client, other_secretary).get(reverse("study:library")))


def test_a_draft_is_404_for_the_branch_s_plain_members_and_the_supervisors(client, branch, member, supervisor):
    draft = StudyItemFactory(organization=branch, state="draft")
    jijian = staff_user(username="jijian", role=StaffRole.Role.DISCIPLINE_DEPT)
    url = reverse("study:item_detail", args=[draft.pk])
    for user in (member, supervisor, jijian):
        client.logout()
        assert client_for(client, user).get(url).status_code == 404, user


def test_the_navbar_leads_to_the_library(client, member):
    html = client_for(client, member).get(reverse("home"), follow=True).content.decode()
    assert f'href="{reverse("study:library")}" id="nav-study"' in html


def test_a_member_sees_no_new_or_manage_buttons_but_a_propaganda_member_does(client, branch, member):
    html = client_for(client, member).get(reverse("study:library")).content.decode()
    assert 'id="new-item"' not in html and 'id="open-manage"' not in html
    assert client.get(reverse("study:manage")).status_code == 403
    client.logout()
    writer = member_with_login(branch=branch, username="xuanchuan", role=Post.Role.PROPAGANDA)
    html = client_for(client, writer).get(reverse("study:library")).content.decode()
    assert 'id="new-item"' in html and 'id="open-manage"' in html


@pytest.mark.parametrize("n", [1, 30])
def test_the_manage_page_costs_the_same_queries_for_one_item_and_thirty(
    client, branch, supervisor, n, django_assert_num_queries
):
    for k in range(n):
        StudyItemFactory(organization=branch, state="in_review", title=f"待审{k}")
        StudyItemFactory(state="draft", title=f"党委草稿{k}")
    client = client_for(client, supervisor)
    client.get(reverse("study:library"))
    with django_assert_num_queries(9):
        response = client.get(reverse("study:manage"))
    assert len(response.context["review"]) == n
    assert len(response.context["page_obj"]) == min(n, 20)
    assert all(i.state == StudyItem.State.DRAFT for i in response.context["page_obj"])
