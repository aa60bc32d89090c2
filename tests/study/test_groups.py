"""学习交流群: one stream per branch (materials, meeting notices, 学习心得), posts with private photos,
the 书记 hiding a post, the group robot hearing of new posts and materials, other branches refused."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import ExifTags, Image

from bulletin.models import Notification, WebhookEndpoint
from study import tasks as worker
from study.groups import item_published_to_groups, post_create, post_hide, stream
from study.models import GroupPost, GroupPostPhoto, StudyItem
from study.post_photos import post_photo_process, post_photos_process_stale

from ..conftest import client_for
from ..factories import BranchFactory, MeetingFactory, StudyItemFactory
from ..supervision.conftest import GPS_PHOTOS, SAMPLES
from .study_helpers import NOW

pytestmark = pytest.mark.django_db

PHOTO = SAMPLES / "Canon_40D.jpg"


@pytest.fixture(autouse=True)
def _evidence_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence"), "base_url": None},
        },
    }
    return tmp_path / "evidence"


def photo(name="心得.jpg"):
    return SimpleUploadedFile(name, PHOTO.read_bytes(), content_type="image/jpeg")


def at(hours):
    return NOW + dt.timedelta(hours=hours)


def post(branch, user, text="学习了《安全生产法》，要把安全放在第一位。", *, now=NOW, **kwargs):
    return post_create(branch=branch, author=user.member, text=text, now=now, **kwargs)


def test_the_stream_holds_materials_notices_and_posts_of_the_branch_newest_first(
    branch, other_branch, member, other_secretary
):
    mine_wide = StudyItemFactory(title="全矿资料", published_at=at(1))
    ours = StudyItemFactory(
        title="本支部资料", audience=StudyItem.Audience.BRANCHES, branches=[branch], published_at=at(2)
    )
    StudyItemFactory(
        title="别的支部资料", audience=StudyItem.Audience.BRANCHES, branches=[other_branch], published_at=at(3)
    )
    StudyItemFactory(title="书记资料", audience=StudyItem.Audience.ROLES, roles="secretary", published_at=at(3))
    StudyItemFactory(title="草稿", state=StudyItem.State.DRAFT)
    notice = MeetingFactory(branch=branch, topic="三月党员大会", notice_published_at=at(4))
    MeetingFactory(branch=branch, topic="未发通知")
    MeetingFactory(branch=other_branch, topic="别的支部会议", notice_published_at=at(4))
    ours_post = post(branch, member, now=at(5))
    post(other_branch, other_secretary, now=at(6))

    page = stream(branch)

    assert [(e.kind, e.obj) for e in page] == [
        ("post", ours_post),
        ("notice", notice),
        ("item", ours),
        ("item", mine_wide),
    ]


def test_the_stream_pages_without_a_total(branch, member):
    for n in range(5):
        post(branch, member, text=f"心得{n}", now=at(n))

    first = stream(branch, page_size=2)
    last = stream(branch, raw_page="3", page_size=2)

    assert [e.obj.text for e in first] == ["心得4", "心得3"] and first.has_next
    assert [e.obj.text for e in last] == ["心得0"] and not last.has_next


@pytest.mark.parametrize("n", [1, 12])
def test_the_group_page_has_a_fixed_number_of_queries(client, branch, member, n, django_assert_num_queries):
    for i in range(n):
        StudyItemFactory(published_at=at(i))
        MeetingFactory(branch=branch, notice_published_at=at(i))
        post(branch, member, now=at(i), photos=[photo()])
    c = client_for(client, member)
    url = reverse("study:group", args=[branch.pk])
    c.get(url)

    with django_assert_num_queries(17):
        response = c.get(url)

    assert len(response.context["page"]) == min(3 * n, 20)


def test_a_member_posts_a_reflection_with_a_photo_on_an_item(client, branch, member):
    item = StudyItemFactory(title="煤矿安全规程")

    with time_machine.travel(NOW, tick=False):
        response = client_for(client, member).post(
            reverse("study:group", args=[branch.pk]),
            {"text": "学了规程第三章。", "item": item.pk, "form_token": "p-1", "photos": [photo()]},
        )

    made = GroupPost.objects.get()
    assert response.status_code == 302
    assert (made.author, made.item, made.text, made.created_at) == (member.member, item, "学了规程第三章。", NOW)
    stored = made.photos.get()
    assert stored.content_type == "image/jpeg" and stored.size == PHOTO.stat().st_size


def test_a_file_that_is_not_a_photo_is_refused_and_nothing_is_saved(client, branch, member, _evidence_storage):
    fake = SimpleUploadedFile("心得.jpg", b"%PDF-1.4 not a photo at all", content_type="image/jpeg")

    response = client_for(client, member).post(
        reverse("study:group", args=[branch.pk]), {"text": "心得", "form_token": "p-2", "photos": [fake]}
    )

    assert response.status_code == 400
    assert "心得.jpg" in response.content.decode()
    assert not GroupPost.objects.exists()
    assert not [p for p in _evidence_storage.rglob("*") if p.is_file()]


def test_an_empty_reflection_is_refused(branch, member):
    with pytest.raises(ValidationError, match="请填写学习心得"):
        post(branch, member, text="   ")
    assert not GroupPost.objects.exists()


def test_a_second_submit_of_the_post_form_changes_nothing(client, branch, member):
    c = client_for(client, member)
    data = {"text": "心得一则", "form_token": "same"}
    c.post(reverse("study:group", args=[branch.pk]), data)

    again = c.post(reverse("study:group", args=[branch.pk]), data)

    assert again.status_code == 400 and "请勿重复提交" in again.content.decode()
    assert GroupPost.objects.count() == 1


def test_an_item_the_branch_cannot_study_cannot_be_linked(branch, other_branch, member):
    theirs = StudyItemFactory(audience=StudyItem.Audience.BRANCHES, branches=[other_branch])

    with pytest.raises(ValidationError, match="只能关联本支部可以学习的已发布资料"):
        post(branch, member, item=theirs)


# --- Hiding ------------------------------------------------------------------------------------


def test_the_secretary_hides_a_post_with_a_reason_and_it_is_kept(client, branch, secretary, member):
    made = post(branch, member)

    with time_machine.travel(at(1), tick=False):
        client_for(client, secretary).post(reverse("study:post_hide", args=[made.pk]), {"reason": "与学习无关"})

    made.refresh_from_db()
    assert (made.hidden_at, made.hidden_by, made.hidden_reason) == (at(1), secretary, "与学习无关")
    assert made.history.first().history_change_reason == "隐藏：与学习无关"
    assert made.history.first().history_user == secretary
    client.logout()
    body = client_for(client, member).get(reverse("study:group", args=[branch.pk])).content.decode()
    assert "此心得已被书记隐藏：与学习无关" in body and "要把安全放在第一位" not in body


def test_hiding_needs_a_reason_and_happens_once(branch, secretary, member):
    made = post(branch, member)
    with pytest.raises(ValidationError, match="请填写隐藏原因"):
        post_hide(post=made, user=secretary, reason=" ", now=at(1))
    post_hide(post=made, user=secretary, reason="重复", now=at(1))

    with pytest.raises(ValidationError, match="已经隐藏"):
        post_hide(post=made, user=secretary, reason="再次", now=at(2))
    made.refresh_from_db()
    assert made.hidden_reason == "重复"


@pytest.mark.parametrize(
    ("who", "status"), [("member", 403), ("other_secretary", 404), ("supervisor", 403), ("anonymous", 302)]
)
def test_only_the_branch_secretary_may_hide(client, people, branch, member, who, status):
    made = post(branch, member)

    response = client_for(client, people[who]).post(reverse("study:post_hide", args=[made.pk]), {"reason": "不合适"})

    assert response.status_code == status
    made.refresh_from_db()
    assert made.hidden_at is None


# --- Who may read and post -----------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("other_secretary", 404), ("anonymous", 302)])
def test_other_branches_cannot_read_the_group(client, people, branch, who, status):
    assert client_for(client, people[who]).get(reverse("study:group", args=[branch.pk])).status_code == status


@pytest.mark.parametrize(("who", "status"), [("other_secretary", 404), ("supervisor", 403), ("anonymous", 302)])
def test_only_members_of_the_branch_may_post(client, people, branch, who, status):
    response = client_for(client, people[who]).post(
        reverse("study:group", args=[branch.pk]), {"text": "心得", "form_token": "x"}
    )

    assert response.status_code == status
    assert not GroupPost.objects.exists()


def test_the_supervisor_reads_any_group_without_a_post_form(client, branch, supervisor):
    response = client_for(client, supervisor).get(reverse("study:group", args=[branch.pk]))

    assert response.status_code == 200 and response.context["form"] is None


def test_my_group_opens_my_branch(client, branch, member):
    response = client_for(client, member).get(reverse("study:group_home"))

    assert response.url == reverse("study:group", args=[branch.pk])


def processed(made):
    for row in made.photos.all():
        assert post_photo_process(photo_id=row.pk, now=NOW)
    return made


def gps_of(data: bytes):
    return Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)


def test_the_gps_sample_carries_a_position_before_processing():
    # Otherwise the test below could not fail.
    assert gps_of(GPS_PHOTOS[0].read_bytes())


def test_a_post_photo_is_served_without_exif_or_gps_only_once_the_worker_processed_it(
    client, branch, member, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(worker.process_post_photo, "delay", sent.append)
    original = GPS_PHOTOS[0].read_bytes()
    c = client_for(client, member)
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(
            reverse("study:group", args=[branch.pk]),
            {"text": "现场学习。", "form_token": "gps-1", "photos": [SimpleUploadedFile("现场.jpg", original)]},
        )
    assert response.status_code == 302
    row = GroupPostPhoto.objects.get()
    assert sent == [row.pk]  # handed to the worker once the post committed
    assert row.status == GroupPostPhoto.Status.PROCESSING
    url = reverse("study:post_photo", args=[row.pk])
    # Before processing nothing is served: the stored original keeps the camera's position.
    assert c.get(url).status_code == 404
    page = c.get(reverse("study:group", args=[branch.pk])).content.decode()
    assert "照片处理中" in page and url not in page

    worker.process_post_photo(row.pk)

    row.refresh_from_db()
    assert row.status == GroupPostPhoto.Status.READY
    served = c.get(url)
    body = b"".join(served.streaming_content)
    assert served["Content-Type"] == "image/jpeg"
    assert body != original and not Image.open(io.BytesIO(body)).getexif() and not gps_of(body)
    assert gps_of(row.stored.read())  # the original is kept as uploaded, never served
    assert url in c.get(reverse("study:group", args=[branch.pk])).content.decode()


def test_a_post_photo_the_worker_cannot_read_fails_in_chinese_and_is_never_served(client, branch, member):
    made = post(branch, member, photos=[photo()])
    row = made.photos.get()
    with row.stored.storage.open(row.stored.name, "wb") as damaged:
        damaged.write(PHOTO.read_bytes()[:200])

    assert post_photo_process(photo_id=row.pk, now=NOW)
    assert not post_photo_process(photo_id=row.pk, now=NOW)  # a second run does nothing

    row.refresh_from_db()
    assert row.status == GroupPostPhoto.Status.FAILED and "已损坏" in row.error
    assert client_for(client, member).get(reverse("study:post_photo", args=[row.pk])).status_code == 404


def test_the_sweep_processes_a_photo_whose_task_was_lost(branch, member):
    made = post(branch, member, photos=[photo()], now=NOW)
    row = made.photos.get()

    assert post_photos_process_stale(now=NOW + dt.timedelta(minutes=4)) == 0
    assert post_photos_process_stale(now=NOW + dt.timedelta(minutes=6)) == 1

    row.refresh_from_db()
    assert row.status == GroupPostPhoto.Status.READY


@pytest.mark.parametrize(("who", "status"), [("member", 200), ("other_secretary", 404), ("anonymous", 302)])
def test_a_post_photo_is_served_only_to_those_who_read_the_group(client, people, branch, member, who, status):
    made = processed(post(branch, member, photos=[photo()]))
    photo_row = GroupPostPhoto.objects.get(post=made)

    response = client_for(client, people[who]).get(reverse("study:post_photo", args=[photo_row.pk]))

    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
        assert response["Content-Type"] == "image/jpeg"


def test_a_hidden_posts_photo_is_no_longer_served_to_members(client, branch, secretary, member):
    made = processed(post(branch, member, photos=[photo()]))
    post_hide(post=made, user=secretary, reason="不合适", now=at(1))
    url = reverse("study:post_photo", args=[made.photos.get().pk])

    assert client_for(client, member).get(url).status_code == 404
    client.logout()
    assert client_for(client, secretary).get(url).status_code == 200


# --- The group robot ---------------------------------------------------------------------------


def test_a_new_post_reaches_the_branchs_robot_only(branch, other_branch, member):
    ours = WebhookEndpoint.objects.create(organization=branch, url="https://robot.example/ours")
    WebhookEndpoint.objects.create(organization=other_branch, url="https://robot.example/theirs")

    post(branch, member)

    rows = Notification.objects.filter(channel=Notification.Channel.WEBHOOK)
    assert [(n.webhook, n.subject) for n in rows] == [(ours, "学习交流群：李党员发表了学习心得")]


def test_a_published_item_reaches_its_branches_robots_once(branch, other_branch):
    third = BranchFactory(name="机电队党支部")
    for b in (branch, other_branch, third):
        WebhookEndpoint.objects.create(organization=b, url=f"https://robot.example/{b.pk}")
    item = StudyItemFactory(title="本队资料", audience=StudyItem.Audience.BRANCHES, branches=[branch, third])
    mine_wide = StudyItemFactory(title="全矿资料")

    item_published_to_groups(item=item, now=NOW)
    item_published_to_groups(item=item, now=NOW)  # twice: sent once
    item_published_to_groups(item=mine_wide, now=NOW)

    rows = Notification.objects.filter(channel=Notification.Channel.WEBHOOK)
    assert sorted(n.webhook.organization.name for n in rows.filter(subject="新学习资料：本队资料")) == [
        "机电队党支部",
        "综采一队党支部",
    ]
    assert rows.filter(subject="新学习资料：全矿资料").count() == 3
