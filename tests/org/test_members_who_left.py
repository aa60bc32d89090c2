"""A member who leaves the roll (转出 or any off-roll status) loses their login, wherever the status changed."""

import io

import lxml.html
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from org import roster
from org.auth import OnRollModelBackend
from org.models import Member, User
from tests.conftest import client_for
from tests.factories import AnnouncementFactory, UserFactory

PASSWORD = "pw-for-tests-123"  # the factories' password

pytestmark = pytest.mark.django_db


def sign_in(client, username, password=PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR="10.9.0.1")


def active(user) -> bool:
    return User.objects.get(pk=user.pk).is_active


@pytest.mark.parametrize(
    "status", [s for s in Member.Status.values if s not in Member.ON_ROLL_STATUSES], ids=lambda s: s
)
def test_leaving_the_roll_in_any_way_deactivates_the_login(member, status):
    m = member.member
    m.status = status
    m.save()

    assert not active(member)


@pytest.mark.parametrize("status", Member.ON_ROLL_STATUSES, ids=lambda s: s)
def test_a_member_on_the_roll_keeps_their_login(member, status):
    m = member.member
    m.status = status
    m.save()

    assert active(member)


def test_a_transfer_out_by_roster_import_deactivates_the_login(client, supervisor, member, branch, group):
    m = member.member
    wb = Workbook()
    ws = wb.active
    ws.title = roster.SHEET_TITLE
    ws.append(list(roster.HEADERS))
    gender = m.get_gender_display()
    ws.append([m.name, gender, m.id_number, "", "正式党员", None, None, branch.name, group.name, "转出"])
    out = io.BytesIO()
    wb.save(out)
    c = client_for(client, supervisor)

    preview = c.post(
        reverse("org:roster_import"), {"file": SimpleUploadedFile("名册.xlsx", out.getvalue())}, follow=True
    )
    c.post(preview.redirect_chain[-1][0])

    m.refresh_from_db()
    assert m.status == Member.Status.TRANSFERRED_OUT
    assert not active(member)


def test_a_status_change_in_the_admin_deactivates_the_login(client, member):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    m = member.member
    client_for(client, admin)
    url = reverse("admin:org_member_change", args=[m.pk])
    data = form_data(client.get(url).content.decode(), "member_form")
    data["status"] = Member.Status.TRANSFERRED_OUT

    response = client.post(url, data)

    assert response.status_code == 302
    assert not active(member)


def form_data(html: str, form_id: str) -> dict:
    """What a browser would submit from the form as shown (inputs, selects, textareas; no buttons)."""
    form = lxml.html.fromstring(html).get_element_by_id(form_id)
    data = {}
    for name, value in form.form_values():
        data[name] = value
    return data


def test_an_open_session_ends_at_the_next_request_once_the_member_left(client, member):
    AnnouncementFactory(title="去年的通知")
    client_for(client, member)
    assert client.get(reverse("bulletin:announcement_list")).status_code == 200

    m = member.member
    m.status = Member.Status.TRANSFERRED_OUT
    m.save()
    response = client.get(reverse("bulletin:announcement_list"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_member_off_the_roll_cannot_sign_in_even_if_the_login_was_reactivated(client, member):
    Member.objects.filter(pk=member.member.pk).update(status=Member.Status.TRANSFERRED_OUT)  # no receiver
    assert active(member)

    response = sign_in(client, "member")

    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_backend_still_signs_in_members_on_the_roll_and_logins_without_a_member(member):
    backend = OnRollModelBackend()
    plain = UserFactory(username="plain")

    assert backend.authenticate(None, username="member", password=PASSWORD) == member
    assert backend.authenticate(None, username="plain", password=PASSWORD) == plain
