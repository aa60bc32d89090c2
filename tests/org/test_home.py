import pytest
from django.urls import reverse

from tests.conftest import client_for


@pytest.mark.django_db
def test_anonymous_is_sent_to_the_sign_in_page(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_secretary_home_shows_my_branch_and_not_all_branches(client, secretary, branch, other_branch):
    html = client_for(client, secretary).get(reverse("home")).content.decode()
    assert 'id="my-branch"' in html
    assert branch.name in html
    assert 'id="all-branches"' not in html
    assert other_branch.name not in html


@pytest.mark.django_db
def test_supervisor_home_lists_every_branch(client, supervisor, branch, other_branch):
    html = client_for(client, supervisor).get(reverse("home")).content.decode()
    assert 'id="all-branches"' in html
    assert branch.name in html and other_branch.name in html


@pytest.mark.django_db
def test_login_page_is_in_chinese(client):
    html = client.get(reverse("login")).content.decode()
    assert "登录三会一课管理系统" in html
    assert 'lang="zh-hans"' in html
