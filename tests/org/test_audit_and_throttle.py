"""Full-ID roster exports and evidence downloads: who may, the audit log of each, and per-user throttles."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from org.models import AuditEvent, Post, StaffRole
from tests.conftest import client_for
from tests.factories import UserFactory, member_with_login, staff_user
from tests.supervision.conftest import local, meeting_held
from tests.supervision.test_evidence_upload import png_bytes, upload_and_process

pytestmark = pytest.mark.django_db

NOW = local(2026, 5, 10, 9, 30)
Role = StaffRole.Role


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def logins(people, branch, group):
    """Every role the full-ID export must tell apart."""
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    return {
        "work_dept": people["supervisor"],
        "discipline_dept": staff_user(username="jijian", role=Role.DISCIPLINE_DEPT),
        "committee": staff_user(username="committee", role=Role.COMMITTEE),
        "admin_role": staff_user(username="sysadmin", role=Role.ADMIN),
        "superuser": root,
        "secretary": people["secretary"],
        "group_leader": member_with_login(branch=branch, group=group, username="leader", role=Post.Role.GROUP_LEADER),
        "member": people["member"],
    }


EXPORT_ALLOWED = {"work_dept", "admin_role", "superuser"}


def download(client, url):
    response = client.get(url, REMOTE_ADDR="10.3.0.7", HTTP_USER_AGENT="Mozilla/5.0 测试")
    if response.status_code == 200 and response.streaming:
        b"".join(response.streaming_content)
    return response


# --- The full-ID roster export -------------------------------------------------------------------


@pytest.mark.parametrize(
    "role",
    ["work_dept", "discipline_dept", "committee", "admin_role", "superuser", "secretary", "group_leader", "member"],
)
def test_only_the_work_department_and_the_admin_download_the_full_id_roster_and_each_download_is_audited(
    client, logins, role
):
    user = logins[role]

    response = download(client_for(client, user), reverse("org:roster_export"))

    if role in EXPORT_ALLOWED:
        assert response.status_code == 200
        event = AuditEvent.objects.get()
        assert (event.user, event.username, event.action) == (user, user.username, AuditEvent.Action.ROSTER_EXPORT)
        assert event.at == NOW
        assert event.ip_address == "10.3.0.7"
        assert event.user_agent == "Mozilla/5.0 测试"
        assert event.object_repr == "党员名册-20260510.xlsx"
    else:
        assert response.status_code == 403
        assert not AuditEvent.objects.exists()


def test_the_export_button_is_shown_only_to_those_who_may_export(client, logins):
    page = client_for(client, logins["discipline_dept"]).get(reverse("org:branch_list")).content.decode()
    assert reverse("org:roster_export") not in page
    assert reverse("org:audit_log") in page

    page = client_for(client, logins["work_dept"]).get(reverse("org:branch_list")).content.decode()
    assert reverse("org:roster_export") in page


def test_the_audit_records_the_forwarded_client_behind_a_trusted_proxy(client, logins, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    client_for(client, logins["work_dept"]).get(
        reverse("org:roster_export"), REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.23"
    )

    assert AuditEvent.objects.get().ip_address == "198.51.100.23"


# --- Evidence downloads ----------------------------------------------------------------------------


@pytest.fixture
def photo(branch, secretary):
    meeting = meeting_held(branch, start=local(2026, 5, 10, 9), status="held")
    return upload_and_process(meeting, secretary, "会场.png", png_bytes())


@pytest.mark.parametrize("role", ["secretary", "member", "supervisor"])
def test_every_evidence_file_download_is_audited_with_who_what_when_and_where(client, people, photo, role):
    response = download(client_for(client, people[role]), reverse("supervision:evidence_file", args=[photo.pk]))

    assert response.status_code == 200
    event = AuditEvent.objects.get()
    assert (event.user, event.action, event.object_id) == (
        people[role],
        AuditEvent.Action.EVIDENCE_DOWNLOAD,
        str(photo.pk),
    )
    assert "会场.png" in event.object_repr
    assert (event.at, event.ip_address) == (NOW, "10.3.0.7")


def test_a_refused_evidence_download_is_not_audited(client, people, photo):
    response = download(
        client_for(client, people["other_secretary"]), reverse("supervision:evidence_file", args=[photo.pk])
    )

    assert response.status_code == 404
    assert not AuditEvent.objects.exists()


def test_thumbnails_in_the_gallery_are_not_audited(client, people, photo):
    download(client_for(client, people["member"]), reverse("supervision:evidence_thumbnail", args=[photo.pk]))

    assert not AuditEvent.objects.exists()


# --- The audit log page ---------------------------------------------------------------------------


def add_events(user, n):
    for i in range(n):
        AuditEvent.objects.create(
            at=NOW - dt.timedelta(minutes=i),
            user=user,
            username=user.username,
            action=AuditEvent.Action.EVIDENCE_DOWNLOAD,
            object_repr=f"会议{i}：照片{i}.jpg",
            ip_address="10.3.0.8",
        )


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("work_dept", 200),
        ("discipline_dept", 200),
        ("admin_role", 200),
        ("superuser", 200),
        ("committee", 403),
        ("secretary", 403),
        ("group_leader", 403),
        ("member", 403),
    ],
)
def test_the_audit_log_is_read_by_the_supervisors_only(client, logins, role, status):
    add_events(logins["secretary"], 1)

    response = client_for(client, logins[role]).get(reverse("org:audit_log"))

    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert "secretary" in html and "会议0：照片0.jpg" in html and "10.3.0.8" in html


def test_the_audit_log_filters_by_action(client, logins):
    add_events(logins["secretary"], 2)
    AuditEvent.objects.create(
        at=NOW,
        user=logins["work_dept"],
        username="supervisor",
        action=AuditEvent.Action.ROSTER_EXPORT,
        object_repr="名册",
    )

    response = client_for(client, logins["discipline_dept"]).get(reverse("org:audit_log"), {"action": "roster_export"})

    assert [e.object_repr for e in response.context["page"].object_list] == ["名册"]


@pytest.mark.parametrize("n", [1, 25])
def test_the_audit_log_page_makes_the_same_queries_for_1_or_25_events(client, logins, n, django_assert_num_queries):
    add_events(logins["secretary"], n)
    client_for(client, logins["discipline_dept"]).get(reverse("org:audit_log"))  # warm the session

    # The request's fixed costs (session, user, scope, inbox badge, the session's sliding save),
    # then the count and the page of events: the same for 1 or 25 rows.
    with django_assert_num_queries(8):
        response = client.get(reverse("org:audit_log"))

    assert len(response.context["page"].object_list) == n


def test_nobody_can_add_change_or_delete_an_audit_event_in_the_admin(client, logins):
    add_events(logins["secretary"], 1)
    event = AuditEvent.objects.get()
    client_for(client, logins["superuser"])

    assert client.get(reverse("admin:org_auditevent_changelist")).status_code == 200
    assert client.get(reverse("admin:org_auditevent_add")).status_code == 403
    assert client.post(reverse("admin:org_auditevent_change", args=[event.pk]), {"username": "x"}).status_code == 403
    assert client.post(reverse("admin:org_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.username == "secretary"


def test_an_audit_event_cannot_be_changed_or_deleted_in_code(logins):
    add_events(logins["secretary"], 1)
    event = AuditEvent.objects.get()

    event.username = "someone else"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        AuditEvent.objects.update(username="x")
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()
    with pytest.raises(TypeError):
        event.delete()
    assert AuditEvent.objects.get().username == "secretary"


# --- Throttles --------------------------------------------------------------------------------------


def test_exports_are_throttled_per_user_with_a_chinese_429_until_the_next_minute(client, logins, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "export": (3, 60)}
    c = client_for(client, logins["work_dept"])
    url = reverse("org:roster_export")

    statuses = [download(c, url).status_code for _ in range(4)]
    refused = download(c, url)

    assert statuses == [200, 200, 200, 429]
    assert "操作过于频繁：每 60 秒最多导出 3 次" in refused.content.decode()
    assert int(refused["Retry-After"]) <= 60
    assert AuditEvent.objects.count() == 3  # a refused export is not a download
    with time_machine.travel(NOW + dt.timedelta(seconds=60), tick=False):
        assert download(c, url).status_code == 200


def test_one_users_throttle_does_not_hold_back_another(client, logins, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "export": (1, 60)}
    download(client_for(client, logins["work_dept"]), reverse("org:roster_export"))

    assert download(client_for(client, logins["superuser"]), reverse("org:roster_export")).status_code == 200


def test_uploads_are_throttled_per_user(client, secretary, branch, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "upload": (2, 60)}
    meeting = meeting_held(branch, start=local(2026, 5, 10, 9), status="held")
    c = client_for(client, secretary)
    url = reverse("supervision:evidence_upload", args=[meeting.pk])

    statuses = [c.post(url, {"category": "photo"}).status_code for _ in range(3)]

    assert statuses == [400, 400, 429]  # the form's own refusal twice, then the throttle


@pytest.mark.parametrize("url_name", ["meetings:ledger_xlsx", "supervision:finding_export"], ids=["ledger", "findings"])
def test_the_other_exports_are_throttled_too(client, secretary, branch, settings, url_name):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "export": (1, 60)}
    args = [branch.pk, 2026] if url_name == "meetings:ledger_xlsx" else []
    c = client_for(client, secretary)

    first = download(c, reverse(url_name, args=args))
    second = download(c, reverse(url_name, args=args))

    assert first.status_code == 200
    assert second.status_code == 429
