"""党员先锋岗 and 党员责任区: named by the branch's 书记, shown on the branch page and the member's page."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from practice.models import PioneerPost
from practice.services import pioneer_post_add, pioneer_post_end
from tests.conftest import client_for


def add(branch, secretary, member, **overrides):
    values = {
        "kind": PioneerPost.Kind.POST,
        "name": "综采工作面安全先锋岗",
        "statement": "不安全不生产，隐患不过夜",
        "started_on": timezone.localdate() - dt.timedelta(days=10),
    }
    values.update(overrides)
    return pioneer_post_add(branch=branch, member=member.member, user=secretary, now=timezone.now(), **values)


@pytest.mark.django_db
def test_a_pioneer_post_shows_on_the_branch_page_and_on_the_members_page(client, branch, secretary, member):
    add(branch, secretary, member)
    add(branch, secretary, member, kind=PioneerPost.Kind.AREA, name="3101 回风巷责任区")
    c = client_for(client, secretary)

    branch_page = c.get(reverse("org:branch_detail", args=[branch.pk])).content.decode()
    member_page = c.get(reverse("org:member_detail", args=[member.member.pk])).content.decode()

    for page in (branch_page, member_page):
        assert "综采工作面安全先锋岗" in page and "3101 回风巷责任区" in page and "不安全不生产" in page
        assert "党员先锋岗" in page and "党员责任区" in page
    assert 'id="edit-pioneers"' in branch_page


@pytest.mark.django_db
def test_an_ended_post_and_one_not_started_yet_are_not_shown(client, branch, secretary, member):
    today = timezone.localdate()
    ended = add(branch, secretary, member, name="已结束岗")
    pioneer_post_end(post=ended, ended_on=today, user=secretary, now=timezone.now())
    add(branch, secretary, member, name="明天开始岗", started_on=today + dt.timedelta(days=1))
    add(branch, secretary, member, name="今天开始岗", started_on=today)

    page = client_for(client, secretary).get(reverse("org:branch_detail", args=[branch.pk])).content.decode()

    assert "今天开始岗" in page
    assert "已结束岗" not in page and "明天开始岗" not in page


@pytest.mark.django_db
def test_a_secretary_names_a_member_from_the_page_once_however_often_the_form_is_sent(
    client, branch, secretary, member
):
    c = client_for(client, secretary)
    url = reverse("practice:pioneer_posts", args=[branch.pk])
    token = c.get(url).context["form"].initial["token"]
    data = {
        "token": token,
        "member": member.member.pk,
        "kind": "area",
        "name": "井底车场责任区",
        "statement": "管好车场文明生产",
        "started_on": timezone.localdate().isoformat(),
    }

    c.post(url, data)
    c.post(url, data)

    post = PioneerPost.objects.get()
    assert (post.member, post.kind, post.name, post.branch) == (member.member, "area", "井底车场责任区", branch)


@pytest.mark.django_db
def test_a_member_of_another_branch_or_an_end_before_the_start_is_refused(branch, secretary, other_secretary, member):
    with pytest.raises(ValidationError) as caught:
        add(branch, secretary, other_secretary)
    assert caught.value.message_dict["member"] == ["赵书记不是本支部的党员。"]

    start = timezone.localdate()
    with pytest.raises(ValidationError) as caught:
        add(branch, secretary, member, started_on=start, ended_on=start)
    assert caught.value.message_dict["ended_on"] == ["结束日期须晚于开始日期。"]
    assert not PioneerPost.objects.exists()


@pytest.mark.django_db
def test_ending_a_post_twice_changes_nothing_the_second_time(branch, secretary, member):
    post = add(branch, secretary, member)
    today = timezone.localdate()
    pioneer_post_end(post=post, ended_on=today, user=secretary, now=timezone.now())

    with pytest.raises(ValidationError, match="该岗位已经结束。"):
        pioneer_post_end(post=post, ended_on=today + dt.timedelta(days=3), user=secretary, now=timezone.now())
    post.refresh_from_db()
    assert post.ended_on == today


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"), [("member", 403), ("other_secretary", 404), ("supervisor", 403), ("anonymous", 302)]
)
def test_the_pioneer_pages_refuse_all_but_the_branchs_secretary(
    client, people, branch, secretary, member, role, status
):
    post = add(branch, secretary, member)
    c = client_for(client, people[role])
    url = reverse("practice:pioneer_posts", args=[branch.pk])

    assert c.get(url).status_code == status
    data = {"member": member.member.pk, "kind": "post", "name": "新岗", "statement": "承诺", "started_on": "2026-01-01"}
    assert c.post(url, data).status_code == status
    assert c.post(reverse("practice:pioneer_post_end", args=[post.pk])).status_code == status

    assert PioneerPost.objects.count() == 1
    post.refresh_from_db()
    assert post.ended_on is None


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 8])
def test_the_pioneer_page_and_the_member_page_cost_the_same_for_few_or_many(
    client, branch, secretary, member, rows, django_assert_num_queries
):
    for i in range(rows):
        add(branch, secretary, member, name=f"先锋岗{i}")
    c = client_for(client, secretary)
    url = reverse("practice:pioneer_posts", args=[branch.pk])
    c.get(url)

    with django_assert_num_queries(13):
        response = c.get(url)
    assert len(response.context["posts"]) == rows

    member_url = reverse("org:member_detail", args=[member.member.pk])
    c.get(member_url)
    with django_assert_num_queries(15):
        page = c.get(member_url).content.decode()
    assert page.count("pioneer-row") == rows
