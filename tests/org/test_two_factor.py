"""TOTP second factor: staff enrol with a QR code or the secret, verify with a real code, and the admin
requires it when DJANGO_ADMIN_2FA is on. Codes are computed in the test with django_otp.oath.totp."""

import base64
import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 10, 1, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def root():
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def code(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset_steps)
    return f"{value:0{device.digits}d}"


def code_from_secret(secret_text: str) -> str:
    """What an authenticator app typed from the secret on the page would show."""
    key = base64.b32decode(secret_text.replace(" ", "") + "=" * (-len(secret_text.replace(" ", "")) % 8))
    return f"{totp(key, step=30, t0=0, digits=6):06d}"


def enrol(client) -> TOTPDevice:
    page = client.get(reverse("two_factor_setup")).content.decode()
    secret = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', page).group(1)
    response = client.post(reverse("two_factor_setup"), {"token": code_from_secret(secret)})
    assert response.status_code == 302
    return TOTPDevice.objects.get(user__username="root")


def test_the_setup_page_shows_a_qr_code_served_by_the_app_and_the_secret_as_text(client, root):
    c = client_for(client, root)

    page = c.get(reverse("two_factor_setup")).content.decode()
    qr = c.get(reverse("two_factor_qr"))

    device = TOTPDevice.objects.get(user=root)
    assert not device.confirmed
    assert 'id="two-factor-qr"' in page and reverse("two_factor_qr") in page
    secret = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', page).group(1)
    assert base64.b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8)) == device.bin_key
    assert qr.status_code == 200
    assert qr["Content-Type"] == "image/svg+xml"
    assert "no-store" in qr["Cache-Control"]
    assert qr.content.lstrip().startswith(b"<?xml") or b"<svg" in qr.content[:200]


def test_a_real_code_confirms_the_device_and_verifies_the_session(client, root):
    c = client_for(client, root)

    device = enrol(c)

    assert device.confirmed
    assert c.session["otp_device_id"] == device.persistent_id


def test_a_wrong_code_does_not_confirm_the_device(client, root):
    c = client_for(client, root)
    c.get(reverse("two_factor_setup"))
    device = TOTPDevice.objects.get(user=root)
    wrong = f"{(int(code(device)) + 1) % 1_000_000:06d}"

    response = c.post(reverse("two_factor_setup"), {"token": wrong})

    assert response.status_code == 200
    assert "验证码不正确或已过期" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert "otp_device_id" not in c.session


def test_ordinary_members_cannot_enrol(client, member):
    c = client_for(client, member)

    assert c.get(reverse("two_factor_setup")).status_code == 403
    assert c.get(reverse("two_factor_qr")).status_code == 403
    assert not TOTPDevice.objects.exists()


def test_a_staff_user_who_is_not_superuser_may_enrol(client):
    staff = UserFactory(username="staff", is_staff=True)

    assert client_for(client, staff).get(reverse("two_factor_setup")).status_code == 200


# --- The admin with DJANGO_ADMIN_2FA --------------------------------------------------------------


def test_without_the_setting_the_admin_opens_without_a_second_factor(client, root, settings):
    settings.ADMIN_2FA = False

    assert client_for(client, root).get(reverse("admin:index")).status_code == 200


def test_with_the_setting_a_login_without_a_device_is_sent_to_enrol_first(client, root, settings):
    settings.ADMIN_2FA = True

    response = client_for(client, root).get(reverse("admin:index"))

    assert response.status_code == 302
    assert response.url == f"{reverse('two_factor_setup')}?next={reverse('admin:index')}"


def test_with_the_setting_a_new_session_must_verify_a_real_code_before_the_admin(client, root, settings):
    settings.ADMIN_2FA = True
    device = enrol(client_for(client, root))
    client.logout()
    client.force_login(root)

    first = client.get(reverse("admin:org_member_changelist"))
    assert first.status_code == 302
    assert first.url.startswith(reverse("two_factor_verify"))

    with time_machine.travel(NOW + dt.timedelta(seconds=60), tick=False):
        wrong = client.post(reverse("two_factor_verify"), {"token": "000000", "next": "/admin/"})
        assert "验证码不正确" in wrong.content.decode()
    # django-otp makes the next try wait a second after a wrong code.
    with time_machine.travel(NOW + dt.timedelta(seconds=62), tick=False):
        ok = client.post(
            reverse("two_factor_verify"), {"token": code(device), "next": reverse("admin:org_member_changelist")}
        )
        assert ok.status_code == 302 and ok.url == reverse("admin:org_member_changelist")
        assert client.get(reverse("admin:org_member_changelist")).status_code == 200


def test_a_code_cannot_be_used_twice(client, root, settings):
    settings.ADMIN_2FA = True
    device = enrol(client_for(client, root))
    used = code(device)  # the code that confirmed the device
    client.logout()
    client.force_login(root)

    response = client.post(reverse("two_factor_verify"), {"token": used})

    assert "验证码不正确" in response.content.decode()


def test_with_the_setting_a_non_staff_user_is_refused_the_admin(client, member, settings):
    settings.ADMIN_2FA = True

    assert client_for(client, member).get(reverse("admin:index")).status_code in (302, 403)
    assert not TOTPDevice.objects.exists()
