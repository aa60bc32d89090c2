"""The 400, 403, 404, 500 and expired-form pages are in Chinese, with a way back, for anyone."""

import re

import pytest
from django.test import Client

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "member", "supervisor"]


@pytest.fixture(autouse=True)
def _error_urls(settings):
    settings.ROOT_URLCONF = "tests.error_urls"


def _assert_chinese_error_page(response, *, status: int, heading: str):
    assert response.status_code == status
    html = response.content.decode()
    assert 'id="error-page"' in html
    assert heading in html
    assert 'id="error-home"' in html and "返回首页" in html
    assert "data-history-back" in html and "返回上一页" in html
    # No English heading such as Django's bare "403 Forbidden" or "Not Found".
    assert not re.search(r"Forbidden|Not Found|Server Error|Bad Request|CSRF verification", html)


@pytest.mark.parametrize("role", ROLES)
def test_an_unknown_address_shows_the_chinese_not_found_page(client, people, role):
    response = client_for(client, people[role]).get("/no-such-page/")
    _assert_chinese_error_page(response, status=404, heading="页面不存在")


@pytest.mark.parametrize("role", ROLES)
def test_a_refused_request_shows_the_chinese_forbidden_page(client, people, role):
    response = client_for(client, people[role]).get("/__test__/forbidden/")
    _assert_chinese_error_page(response, status=403, heading="没有权限")
    # Only someone not signed in is offered the login.
    assert ('id="error-login"' in response.content.decode()) is (role == "anonymous")


def test_a_member_refused_the_review_queue_sees_the_chinese_forbidden_page(client, member):
    response = client_for(client, member).get("/supervision/review/")
    _assert_chinese_error_page(response, status=403, heading="没有权限")


@pytest.mark.parametrize("role", ROLES)
def test_a_bad_request_shows_the_chinese_bad_request_page(client, people, role):
    response = client_for(client, people[role]).get("/__test__/bad/")
    _assert_chinese_error_page(response, status=400, heading="请求有误")


@pytest.mark.parametrize("role", ROLES)
def test_a_crash_shows_the_chinese_server_error_page(people, role):
    client = Client(raise_request_exception=False)
    response = client_for(client, people[role]).get("/__test__/broken/")
    _assert_chinese_error_page(response, status=500, heading="系统出错了")


@pytest.mark.parametrize("role", ROLES)
def test_a_form_posted_without_its_security_token_shows_the_chinese_expired_page(people, role):
    client = client_for(Client(enforce_csrf_checks=True), people[role])
    response = client.post("/accounts/login/", {"username": "x", "password": "y"})
    _assert_chinese_error_page(response, status=403, heading="页面已过期，请重新提交")


def test_make_run_serves_the_friendly_pages_with_debug_off(settings):
    with open(settings.BASE_DIR / "Makefile", encoding="utf-8") as makefile:
        run = makefile.read().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "DJANGO_DEBUG=$${DJANGO_DEBUG:-false}" in run
    assert "WHITENOISE_USE_FINDERS=$${WHITENOISE_USE_FINDERS:-true}" in run
