"""The project's own deploy checks: `check --deploy` fails while a demo login accepts the published password."""

from io import StringIO

import pytest
from django.core.checks import Error, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from org.checks import no_demo_login_accepts_the_published_password
from org.demo import DEMO_MEMBER_USERNAMES, DEMO_PASSWORD, STAFF_LOGINS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def errors() -> list:
    return [m for m in no_demo_login_accepts_the_published_password(None) if isinstance(m, Error)]


def test_a_demo_login_with_the_published_password_fails_the_deploy_check():
    user = UserFactory(username="admin")
    user.set_password(DEMO_PASSWORD)
    user.save()

    found = errors()

    assert [e.id for e in found] == ["sanhui.E001"]
    assert "admin" in found[0].msg
    with pytest.raises(SystemCheckError, match=r"sanhui\.E001"):
        call_command("check", "--deploy")


def test_a_demo_login_whose_password_was_changed_passes():
    user = UserFactory(username="shuji")
    user.set_password("a-new-and-private-password")
    user.save()

    assert errors() == []
    assert not [m for m in run_checks(include_deployment_checks=True) if m.id == "sanhui.E001"]


def test_a_deactivated_demo_login_passes_even_with_the_published_password():
    user = UserFactory(username="dangyuan", is_active=False)
    user.set_password(DEMO_PASSWORD)
    user.save()

    assert errors() == []


def test_any_login_with_a_demo_address_is_checked_too():
    user = UserFactory(username="renamed", email="renamed@demo.sanhui.local")
    user.set_password(DEMO_PASSWORD)
    user.save()

    assert "renamed" in errors()[0].msg


def test_after_seeding_every_demo_login_is_reported():
    call_command("seed_demo", stdout=StringIO())

    message = errors()[0].msg

    for username in [login[0] for login in STAFF_LOGINS] + list(DEMO_MEMBER_USERNAMES):
        assert username in message
