"""The announcement pages, for every role: what each may see and do, and what each is refused."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from bulletin.models import Announcement, Notification, ReadReceipt
from tests.conftest import client_for
from tests.factories import AnnouncementFactory, member_with_login

# What every signed-in page costs, whatever it shows: session and user, the scope (4),
# the unread badge, the navbar's model permissions (2) and display name. The session is no
# longer saved on every request (org.sessions: at most once a minute), which cost three more.
LAYOUT_QUERIES = 10


@pytest.fixture
def branch_notice(branch, secretary):
    return AnnouncementFactory(
        title="综采一队支部党员大会通知", organization=branch, author=secretary, published_at=timezone.now()
    )


def login_redirect(response):
    return response.status_code == 302 and response.url.startswith(reverse("login"))


# --- List ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "sees_branch_notice"),
    [("secretary", True), ("member", True), ("other_secretary", False), ("supervisor", True)],
)
def test_the_list_shows_mine_wide_announcements_and_those_of_ones_own_branch(
    client, people, branch_notice, role, sees_branch_notice
):
    AnnouncementFactory(title="全矿安全生产学习", organization=None)
    AnnouncementFactory(title="尚未发布的通知", organization=None, published_at=timezone.now() + dt.timedelta(days=1))

    html = client_for(client, people[role]).get(reverse("bulletin:announcement_list")).content.decode()

    assert "全矿安全生产学习" in html
    assert ("综采一队支部党员大会通知" in html) is sees_branch_notice
    list_html = html[html.index('id="announcement-list"') :]
    assert "尚未发布的通知" not in list_html


@pytest.mark.django_db
def test_anonymous_is_sent_to_sign_in_from_every_page(client, branch_notice):
    notification = Notification.objects.create(
        channel="inbox",
        recipient=branch_notice.author,
        subject="x",
        status="sent",
        next_attempt_at=timezone.now(),
        created_at=timezone.now(),
    )
    for url in [
        reverse("bulletin:announcement_list"),
        reverse("bulletin:announcement_create"),
        reverse("bulletin:announcement_detail", args=[branch_notice.pk]),
        reverse("bulletin:announcement_edit", args=[branch_notice.pk]),
        reverse("bulletin:announcement_receipts", args=[branch_notice.pk]),
        reverse("bulletin:inbox"),
        reverse("bulletin:inbox_open", args=[notification.pk]),
    ]:
        assert login_redirect(client.get(url)), url
    assert login_redirect(client.post(reverse("bulletin:inbox_read_all")))
    assert ReadReceipt.objects.count() == 0
    notification.refresh_from_db()
    assert notification.read_at is None


@pytest.mark.django_db
def test_pinned_come_first_then_the_newest_and_the_kind_filter_applies(client, member):
    now = timezone.now()
    AnnouncementFactory(title="旧的置顶", pinned=True, published_at=now - dt.timedelta(days=9))
    AnnouncementFactory(title="最新公告", published_at=now - dt.timedelta(days=1))
    AnnouncementFactory(title="较早学习", kind=Announcement.Kind.STUDY, published_at=now - dt.timedelta(days=5))

    html = client_for(client, member).get(reverse("bulletin:announcement_list")).content.decode()
    assert html.index("旧的置顶") < html.index("最新公告") < html.index("较早学习")

    html = client.get(reverse("bulletin:announcement_list"), {"kind": "study"}).content.decode()
    assert "较早学习" in html and "最新公告" not in html


@pytest.mark.django_db
def test_unread_announcements_are_marked_until_opened(client, member, branch_notice):
    c = client_for(client, member)
    assert "未读" in c.get(reverse("bulletin:announcement_list")).content.decode()
    c.get(reverse("bulletin:announcement_detail", args=[branch_notice.pk]))
    html = c.get(reverse("bulletin:announcement_list")).content.decode()
    assert 'badge bg-warning text-dark">未读' not in html


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 45])
def test_the_list_costs_the_same_queries_for_one_row_or_many(
    client, secretary, branch, rows, django_assert_num_queries
):
    for i in range(rows):
        AnnouncementFactory(title=f"公告{i}", organization=branch if i % 2 else None, pinned=i == 3)
    AnnouncementFactory(title="待发布", organization=branch, published_at=timezone.now() + dt.timedelta(days=1))
    c = client_for(client, secretary)

    # paginator count, page, scheduled
    with django_assert_num_queries(LAYOUT_QUERIES + 3):
        response = c.get(reverse("bulletin:announcement_list"))
    assert response.context["page_obj"].paginator.count == rows
    assert "待发布" in response.content.decode()


# --- Detail and read receipts --------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"), [("secretary", 200), ("member", 200), ("other_secretary", 404), ("supervisor", 200)]
)
def test_a_branch_announcement_opens_for_its_branch_and_the_supervisor_only(
    client, people, branch_notice, role, status
):
    response = client_for(client, people[role]).get(reverse("bulletin:announcement_detail", args=[branch_notice.pk]))

    assert response.status_code == status
    receipts = ReadReceipt.objects.filter(announcement=branch_notice, user=people[role])
    assert receipts.count() == (1 if status == 200 else 0)
    if status == 200:
        assert "综采一队支部党员大会通知" in response.content.decode()


@pytest.mark.django_db
def test_opening_twice_records_one_receipt_and_marks_the_inbox_message_read(client, member, branch_notice):
    message = Notification.objects.create(
        channel="inbox",
        recipient=member,
        subject="公告",
        dedupe_key=f"announcement:{branch_notice.pk}",
        status="sent",
        next_attempt_at=timezone.now(),
        created_at=timezone.now(),
    )
    c = client_for(client, member)
    c.get(reverse("bulletin:announcement_detail", args=[branch_notice.pk]))
    first = ReadReceipt.objects.get(announcement=branch_notice, user=member).read_at
    c.get(reverse("bulletin:announcement_detail", args=[branch_notice.pk]))

    assert ReadReceipt.objects.filter(announcement=branch_notice, user=member).count() == 1
    assert ReadReceipt.objects.get(announcement=branch_notice, user=member).read_at == first
    message.refresh_from_db()
    assert message.read_at is not None


@pytest.mark.django_db
def test_the_body_is_plain_text_with_paragraphs_and_no_html(client, member):
    a = AnnouncementFactory(title="t", body="第一段<script>alert(1)</script>\n\n第二段\n第三行")
    html = client_for(client, member).get(reverse("bulletin:announcement_detail", args=[a.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<p>第二段<br>第三行</p>" in html


@pytest.mark.django_db
def test_a_scheduled_announcement_is_hidden_from_members_and_previewed_by_its_managers(
    client, member, secretary, branch
):
    a = AnnouncementFactory(organization=branch, published_at=timezone.now() + dt.timedelta(hours=3))
    url = reverse("bulletin:announcement_detail", args=[a.pk])

    assert client_for(client, member).get(url).status_code == 404
    response = client_for(client, secretary).get(url)
    assert response.status_code == 200
    assert "尚未发布" in response.content.decode()
    assert ReadReceipt.objects.count() == 0  # a preview is not a reading


@pytest.mark.django_db
def test_the_detail_page_of_an_announcement_already_read_costs_a_fixed_number_of_queries(
    client, member, branch_notice, django_assert_num_queries
):
    c = client_for(client, member)
    c.get(reverse("bulletin:announcement_detail", args=[branch_notice.pk]))
    # announcement, receipt exists
    with django_assert_num_queries(LAYOUT_QUERIES + 2):
        c.get(reverse("bulletin:announcement_detail", args=[branch_notice.pk]))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"), [("secretary", 200), ("member", 403), ("other_secretary", 404), ("supervisor", 200)]
)
def test_who_has_not_read_is_for_the_branch_managers_and_supervisors(client, people, branch_notice, role, status):
    response = client_for(client, people[role]).get(reverse("bulletin:announcement_receipts", args=[branch_notice.pk]))
    assert response.status_code == status


@pytest.mark.django_db
def test_the_receipts_page_lists_exactly_who_has_not_read(
    client, secretary, member, other_secretary, branch, branch_notice
):
    reader = member_with_login(branch=branch, username="reader", name="张已读")
    ReadReceipt.objects.create(announcement=branch_notice, user=reader, read_at=timezone.now())
    ReadReceipt.objects.create(announcement=branch_notice, user=other_secretary, read_at=timezone.now())  # not audience

    response = client_for(client, secretary).get(reverse("bulletin:announcement_receipts", args=[branch_notice.pk]))

    assert (response.context["read"], response.context["total"]) == (1, 3)
    assert [u["username"] for u in response.context["unread"]] == ["member", "secretary"]  # 李党员, 王书记
    html = response.content.decode()
    unread_html = html[html.index('id="unread-list"') :]
    assert "李党员" in unread_html and "王书记" in unread_html and "张已读" not in unread_html


@pytest.mark.django_db
@pytest.mark.parametrize("audience", [2, 40])
def test_the_receipts_page_costs_the_same_queries_for_any_audience(
    client, secretary, branch, branch_notice, audience, django_assert_num_queries
):
    for i in range(audience - 1):
        user = member_with_login(branch=branch, username=f"m{i}")
        if i % 3 == 0:
            ReadReceipt.objects.create(announcement=branch_notice, user=user, read_at=timezone.now())
    c = client_for(client, secretary)
    # announcement, counts, unread list
    with django_assert_num_queries(LAYOUT_QUERIES + 3):
        response = c.get(reverse("bulletin:announcement_receipts", args=[branch_notice.pk]))
    assert response.context["total"] == audience


# --- Create and edit -----------------------------------------------------------------


def form_data(**overrides):
    data = {"title": "关于学习的通知", "body": "内容", "kind": "study", "organization": "", "published_at": ""}
    data.update(overrides)
    return data


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"), [("secretary", 200), ("member", 403), ("other_secretary", 200), ("supervisor", 200)]
)
def test_the_new_announcement_form_is_for_those_who_may_publish(client, people, role, status):
    response = client_for(client, people[role]).get(reverse("bulletin:announcement_create"))
    assert response.status_code == status


@pytest.mark.django_db
def test_a_secretary_publishes_to_the_branch_and_its_people_are_notified(
    client, secretary, member, branch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = client_for(client, secretary).post(
            reverse("bulletin:announcement_create"), form_data(organization=branch.pk, pinned="on")
        )

    a = Announcement.objects.get()
    assert response.status_code == 302 and response.url == reverse("bulletin:announcement_detail", args=[a.pk])
    assert (a.organization, a.author, a.pinned, a.kind) == (branch, secretary, True, "study")
    assert set(Notification.objects.filter(channel="inbox").values_list("recipient__username", flat=True)) == {
        "secretary",
        "member",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["mine", "other_branch"])
def test_a_secretary_cannot_publish_to_the_mine_or_another_branch(client, secretary, other_branch, target):
    organization = "" if target == "mine" else other_branch.pk
    response = client_for(client, secretary).post(
        reverse("bulletin:announcement_create"), form_data(organization=organization)
    )

    assert response.status_code == 200
    assert response.context["form"].errors["organization"]
    assert Announcement.objects.count() == 0 and Notification.objects.count() == 0


@pytest.mark.django_db
def test_a_member_cannot_publish(client, member, branch):
    response = client_for(client, member).post(
        reverse("bulletin:announcement_create"), form_data(organization=branch.pk)
    )
    assert response.status_code == 403
    assert Announcement.objects.count() == 0


@pytest.mark.django_db
def test_a_supervisor_publishes_to_the_whole_mine_or_any_branch(
    client, supervisor, other_branch, member, other_secretary
):
    c = client_for(client, supervisor)
    c.post(reverse("bulletin:announcement_create"), form_data(title="全矿"))
    c.post(reverse("bulletin:announcement_create"), form_data(title="二队", organization=other_branch.pk))

    assert dict(Announcement.objects.values_list("title", "organization")) == {"全矿": None, "二队": other_branch.pk}
    mine_wide = Announcement.objects.get(title="全矿")
    notified = Notification.objects.filter(dedupe_key=f"announcement:{mine_wide.pk}", channel="inbox")
    assert set(notified.values_list("recipient__username", flat=True)) == {"member", "other_secretary"}


@pytest.mark.django_db
def test_a_future_publish_time_schedules_the_announcement(client, secretary, branch):
    later = timezone.localtime() + dt.timedelta(days=2)
    client_for(client, secretary).post(
        reverse("bulletin:announcement_create"),
        form_data(organization=branch.pk, published_at=later.strftime("%Y-%m-%dT%H:%M")),
    )
    a = Announcement.objects.get()
    assert a.published_at == later.replace(second=0, microsecond=0)
    assert set(Notification.objects.values_list("next_attempt_at", flat=True)) == {a.published_at}


@pytest.mark.django_db
def test_bad_input_is_refused_at_the_form(client, secretary, branch):
    response = client_for(client, secretary).post(
        reverse("bulletin:announcement_create"),
        form_data(title="", kind="gossip", organization=branch.pk, published_at="明天"),
    )
    assert set(response.context["form"].errors) == {"title", "kind", "published_at"}
    assert Announcement.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"), [("secretary", 302), ("member", 403), ("other_secretary", 404), ("supervisor", 302)]
)
def test_editing_is_for_the_branch_managers_and_supervisors(client, people, branch, branch_notice, role, status):
    c = client_for(client, people[role])
    url = reverse("bulletin:announcement_edit", args=[branch_notice.pk])
    if status == 302:
        assert c.get(url).status_code == 200

    response = c.post(url, form_data(title="已修改", organization=branch.pk, kind="notice"))

    assert response.status_code == status
    branch_notice.refresh_from_db()
    assert (branch_notice.title == "已修改") is (status == 302)


@pytest.mark.django_db
def test_a_secretary_cannot_turn_a_branch_announcement_into_a_mine_wide_one(client, secretary, branch_notice):
    response = client_for(client, secretary).post(
        reverse("bulletin:announcement_edit", args=[branch_notice.pk]), form_data(organization="")
    )
    assert response.status_code == 200
    branch_notice.refresh_from_db()
    assert branch_notice.organization_id is not None
