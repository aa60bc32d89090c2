"""Signing in through the real form: messages, lockout per username and address, password change, idle expiry.

Axes needs the request when authenticating, so these tests POST to the login URL
rather than calling ``client.login()``.
"""

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory

PASSWORD = "pw-for-tests-123"  # the factories' password
IP_1, IP_2 = "10.20.0.1", "10.20.0.2"

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return UserFactory(username="alice")


@pytest.fixture
def bob():
    return UserFactory(username="bob")


def sign_in(client, username, password, ip=IP_1):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def is_signed_in(client, ip=IP_1) -> bool:
    response = client.get(reverse("home"), REMOTE_ADDR=ip)
    return response.status_code == 200


def lock_out(username, ip):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = sign_in(Client(), username, "wrong-password", ip)
    return response


def test_the_sign_in_page_is_in_chinese_and_states_the_lockout_rule(client):
    html = client.get(reverse("login")).content.decode()

    assert "登录三会一课管理系统" in html
    assert "用户名" in html and "密码" in html
    expected_rule = (
        f"连续输错密码 {settings.AXES_FAILURE_LIMIT} 次后，"
        f"该账号在本设备上将被锁定 {int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)} 分钟"
    )
    assert expected_rule in html


def test_the_right_password_signs_in_and_lands_on_the_home_page(client, alice):
    response = sign_in(client, "alice", PASSWORD)

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert is_signed_in(client)


def test_a_wrong_password_is_refused_with_a_chinese_message(client, alice):
    response = sign_in(client, "alice", "not-the-password")

    assert response.status_code == 200
    assert "用户名或密码不正确。" in response.content.decode()
    assert not is_signed_in(client)


def test_an_unknown_username_gets_the_same_message_as_a_wrong_password(client):
    response = sign_in(client, "nobody", "whatever-123")

    assert "用户名或密码不正确。" in response.content.decode()


def test_failures_below_the_limit_do_not_lock_out(client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(Client(), "alice", "wrong-password")

    sign_in(client, "alice", PASSWORD)

    assert is_signed_in(client)


def test_the_last_allowed_failure_shows_the_chinese_locked_out_page(alice):
    response = lock_out("alice", IP_1)

    assert response.status_code == 429
    html = response.content.decode()
    assert "登录失败次数过多，账号已暂时锁定" in html
    assert 'lang="zh-hans"' in html


def test_a_locked_out_username_cannot_sign_in_from_that_address_even_with_the_right_password(client, alice):
    lock_out("alice", IP_1)

    response = sign_in(client, "alice", PASSWORD, IP_1)

    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert not is_signed_in(client)


def test_a_locked_out_username_can_still_sign_in_from_another_address(client, alice):
    lock_out("alice", IP_1)

    response = sign_in(client, "alice", PASSWORD, IP_2)

    assert response.status_code == 302
    assert is_signed_in(client, IP_2)


def test_another_username_from_the_locked_address_is_not_locked(client, alice, bob):
    lock_out("alice", IP_1)

    response = sign_in(client, "bob", PASSWORD, IP_1)

    assert response.status_code == 302
    assert is_signed_in(client)


def test_the_lockout_lifts_after_the_cool_off_time(client, alice):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        lock_out("alice", IP_1)
        traveller.shift(settings.AXES_COOLOFF_TIME + dt.timedelta(seconds=1))

        response = sign_in(client, "alice", PASSWORD, IP_1)

    assert response.status_code == 302


def test_a_successful_sign_in_resets_the_failure_count(client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(Client(), "alice", "wrong-password")
    sign_in(Client(), "alice", PASSWORD)

    sign_in(Client(), "alice", "wrong-password")

    assert AccessAttempt.objects.get(username="alice").failures_since_start == 1
    sign_in(client, "alice", PASSWORD)
    assert is_signed_in(client)


def test_a_signed_in_user_can_change_their_password(client, alice):
    sign_in(client, "alice", PASSWORD)
    page = client.get(reverse("password_change")).content.decode()
    assert "修改密码" in page

    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "Kuangshan-2026!", "new_password2": "Kuangshan-2026!"},
        REMOTE_ADDR=IP_1,
    )

    assert response.status_code == 302 and response.url == reverse("password_change_done")
    assert "密码已修改" in client.get(reverse("password_change_done")).content.decode()
    assert is_signed_in(client)  # the session survives its own password change
    assert sign_in(Client(), "alice", PASSWORD).status_code == 200  # refused: the form again
    assert sign_in(Client(), "alice", "Kuangshan-2026!").status_code == 302


def test_a_password_change_with_a_wrong_old_password_is_refused_in_chinese(client, alice):
    sign_in(client, "alice", PASSWORD)

    response = client.post(
        reverse("password_change"),
        {"old_password": "not-it", "new_password1": "Kuangshan-2026!", "new_password2": "Kuangshan-2026!"},
    )

    assert response.status_code == 200
    assert "你的旧密码不正确" in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_sessions_expire_when_idle_and_with_the_browser():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is False  # org.sessions slides the expiry instead
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True


def session_expiry(client):
    from django.contrib.sessions.models import Session

    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value).expire_date


def test_a_session_is_not_written_on_every_request_only_once_a_minute(client, alice):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sign_in(client, "alice", PASSWORD)
        signed_in_expiry = session_expiry(client)
        traveller.shift(dt.timedelta(seconds=settings.SESSION_TOUCH_SECONDS - 5))
        with CaptureQueriesContext(connection) as queries:
            assert is_signed_in(client)
        assert not [q for q in queries.captured_queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]]
        assert session_expiry(client) == signed_in_expiry

        traveller.shift(dt.timedelta(seconds=10))
        assert is_signed_in(client)
        assert session_expiry(client) == signed_in_expiry + dt.timedelta(seconds=settings.SESSION_TOUCH_SECONDS + 5)


def test_a_session_kept_busy_slides_past_the_idle_limit(client, alice):
    idle_limit = dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sign_in(client, "alice", PASSWORD)
        for _ in range(3):
            traveller.shift(idle_limit - dt.timedelta(minutes=1))
            assert is_signed_in(client)


def test_a_session_idle_longer_than_the_limit_is_sent_back_to_sign_in(client, alice):
    idle_limit = dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sign_in(client, "alice", PASSWORD)
        assert is_signed_in(client)

        traveller.shift(idle_limit + dt.timedelta(seconds=1))
        response = client.get(reverse("home"), REMOTE_ADDR=IP_1)

    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={reverse('home')}"
