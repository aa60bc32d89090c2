"""支委分工: the 书记 writes each post's duties; the branch page shows them; nobody else may edit."""

import datetime as dt

import pytest
from django.urls import reverse

from org.models import Post, PostDuty
from org.selectors import holder_of

from ..conftest import client_for

pytestmark = pytest.mark.django_db


def test_the_secretary_writes_duties_shown_on_the_branch_page(client, branch, secretary, member):
    c = client_for(client, secretary)
    response = c.post(reverse("org:branch_duties", args=[branch.pk]), {"secretary": "主持支部全面工作"})
    assert response.status_code == 302
    assert PostDuty.objects.get(organization=branch, role=Post.Role.SECRETARY).duties == "主持支部全面工作"
    page = client_for(client, member).get(reverse("org:branch_detail", args=[branch.pk])).content.decode()
    assert "主持支部全面工作" in page
    assert "编辑分工" not in page


def test_saving_the_same_duties_again_adds_no_history(client, branch, secretary):
    c = client_for(client, secretary)
    c.post(reverse("org:branch_duties", args=[branch.pk]), {"secretary": "主持支部全面工作"})
    c.post(reverse("org:branch_duties", args=[branch.pk]), {"secretary": "主持支部全面工作"})
    assert PostDuty.history.count() == 1


@pytest.mark.parametrize(
    ("who", "expected"), [("member", 403), ("supervisor", 403), ("other_secretary", 403), ("anonymous", 302)]
)
def test_only_the_secretary_edits_duties(client, people, branch, who, expected):
    response = client_for(client, people[who]).post(
        reverse("org:branch_duties", args=[branch.pk]), {"secretary": "改写"}
    )
    assert response.status_code == expected
    assert not PostDuty.objects.exists()


def test_holder_of_a_post_on_a_day(branch, secretary):
    assert holder_of(branch, Post.Role.SECRETARY, on=dt.date(2026, 6, 1)) == secretary.member
    assert holder_of(branch, Post.Role.PROPAGANDA, on=dt.date(2026, 6, 1)) is None
    assert holder_of(branch, Post.Role.SECRETARY, on=dt.date(2019, 12, 31)) is None
