"""The findings list and a finding's page name who answers for the rectification, also when the 书记 has no login."""

import datetime as dt

import pytest
from django.urls import reverse

from org.models import Post
from supervision.services import findings as services
from tests.conftest import client_for
from tests.factories import BranchFactory, MemberFactory, PostFactory, member_with_login

from .conftest import local

NOW = local(2026, 5, 10, 9, 30)


def raise_one(branch, supervisor):
    return services.finding_raise(
        branch=branch,
        category="records",
        severity="minor",
        description="记录不全",
        user=supervisor,
        now=NOW,
        due_at=NOW + dt.timedelta(days=10),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["supervisor", "secretary"])
def test_the_list_names_the_secretary_as_the_person_responsible(client, people, branch, supervisor, role):
    raise_one(branch, supervisor)
    html = client_for(client, people[role]).get(reverse("supervision:finding_list")).content.decode()
    assert '<span class="text-nowrap">王书记</span>' in html
    assert "fallback-owner" not in html


@pytest.mark.django_db
def test_a_branch_whose_secretary_has_no_login_shows_who_the_rectification_goes_to(client, supervisor):
    branch = BranchFactory(name="机电队党支部")
    secretary = MemberFactory(name="孙书记")
    PostFactory(member=secretary, organization=branch, role=Post.Role.SECRETARY)
    member_with_login(branch=branch, username="zuzhi", role=Post.Role.ORGANIZATION, name="周委员")
    finding = raise_one(branch, supervisor)
    assert finding.rectification.owner is None

    c = client_for(client, supervisor)
    listing = c.get(reverse("supervision:finding_list")).content.decode()
    detail = c.get(reverse("supervision:finding_detail", args=[finding.pk])).content.decode()

    assert "书记未开通账号，整改通知发送给：周委员" in listing
    assert "书记未开通账号，整改通知发送给：周委员" in detail


@pytest.mark.django_db
def test_a_branch_without_any_committee_login_says_nobody_is_told(client, supervisor):
    finding = raise_one(BranchFactory(name="运输队党支部"), supervisor)

    c = client_for(client, supervisor)

    assert "书记和支委均未开通账号，整改通知无人接收" in c.get(reverse("supervision:finding_list")).content.decode()
    detail = c.get(reverse("supervision:finding_detail", args=[finding.pk])).content.decode()
    assert "书记和支委均未开通账号，整改通知无人接收" in detail
