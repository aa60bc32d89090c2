"""The register of meeting places: a plan chooses a place and copies its coordinates, so the photos' GPS
check runs against it; a base without coordinates is refused; distances read in whole metres or km."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting, Place
from meetings.places import distance_text, place_problem
from meetings.services import meeting_plan
from supervision.models import Flag
from tests.conftest import client_for
from tests.factories import meeting_type
from tests.meetings.test_views_plan import create_url, fresh_token, plan_data
from tests.supervision.conftest import GPS_PHOTOS, local
from tests.supervision.test_integrity_photos import PLACE, upload


@pytest.mark.parametrize(
    ("metres", "text"),
    [
        (0, "约 0 米"),
        (998.4, "约 998 米"),
        (999, "约 999 米"),
        (999.4, "约 999 米"),
        (999.5, "约 1.0 公里"),
        (1000, "约 1.0 公里"),
        (1049, "约 1.0 公里"),
        (1050, "约 1.1 公里"),
        (12_345, "约 12.3 公里"),
    ],
)
def test_a_distance_reads_in_whole_metres_under_a_kilometre_and_in_tenths_of_a_kilometre_above(metres, text):
    assert distance_text(metres) == text


def make_place(branch=None, **fields):
    values = {"name": "三楼党员活动室", "kind": Place.Kind.MEETING_ROOM, "branch": branch}
    values.update(fields)
    return Place.objects.create(**values)


@pytest.fixture
def room(branch):
    return make_place(branch, latitude=PLACE[0], longitude=PLACE[1], is_default=True)


@pytest.fixture
def c(client, secretary):
    return client_for(client, secretary)


@pytest.mark.django_db
def test_the_plan_form_offers_the_branchs_default_place_first(c, branch, room, other_branch):
    make_place(other_branch, name="掘进二队学习室")
    base = make_place(None, name="沂蒙红色教育基地", kind=Place.Kind.EDUCATION_BASE, latitude=1, longitude=2)

    form = c.get(create_url(branch)).context["form"]

    assert form.initial["venue"] == room
    assert list(form.fields["venue"].queryset) == [room, base]


@pytest.mark.django_db
def test_a_plan_at_a_registered_place_copies_its_name_and_coordinates(c, branch, room):
    c.post(create_url(branch), plan_data(venue=room.pk, place="", form_token=fresh_token(c, branch)))

    meeting = Meeting.objects.get()
    assert (meeting.venue, meeting.place) == (room, "三楼党员活动室")
    assert (meeting.latitude, meeting.longitude) == PLACE


@pytest.mark.django_db
def test_a_place_typed_by_hand_carries_no_coordinates(c, branch, room):
    c.post(create_url(branch), plan_data(venue="", place="井口候车室", form_token=fresh_token(c, branch)))

    meeting = Meeting.objects.get()
    assert (meeting.venue, meeting.place, meeting.latitude) == (None, "井口候车室", None)


@pytest.mark.django_db
def test_a_plan_without_any_place_is_refused_in_chinese(c, branch):
    response = c.post(create_url(branch), plan_data(venue="", place="", form_token=fresh_token(c, branch)))

    assert "请选择会议地点，或手工填写地点。" in response.content.decode()
    assert not Meeting.objects.exists()


@pytest.mark.django_db
def test_another_branchs_place_cannot_be_chosen(c, branch, other_branch):
    theirs = make_place(other_branch, name="掘进二队学习室", latitude=1, longitude=1)

    response = c.post(create_url(branch), plan_data(venue=theirs.pk, form_token=fresh_token(c, branch)))

    assert "所选地点不可用，请重新选择。" in response.content.decode()
    assert not Meeting.objects.exists()
    assert place_problem(theirs, branch=branch) == "该地点属于其他支部，不能选用。"


@pytest.mark.django_db
def test_a_visit_to_a_base_without_coordinates_is_refused_and_nothing_saved(c, branch):
    base = make_place(None, name="沂蒙红色教育基地", kind=Place.Kind.EDUCATION_BASE)

    response = c.post(
        create_url(branch), plan_data("theme_day", venue=base.pk, place="", form_token=fresh_token(c, branch))
    )

    assert "教育基地“沂蒙红色教育基地”尚未登记经纬度" in response.content.decode()
    assert not Meeting.objects.exists()


@pytest.mark.django_db
def test_a_visit_to_a_base_with_coordinates_is_a_theme_day_at_the_base(branch, secretary):
    base = make_place(None, name="沂蒙红色教育基地", kind=Place.Kind.EDUCATION_BASE, latitude=PLACE[0], longitude=1)
    now = timezone.now()

    meeting = meeting_plan(
        branch=branch,
        types=[meeting_type("party_lesson")],
        planned_start=now + dt.timedelta(days=1),
        planned_end=now + dt.timedelta(days=1, hours=3),
        place="",
        venue=base,
        user=secretary,
        now=now,
    )

    assert (meeting.place, meeting.latitude, meeting.longitude) == ("沂蒙红色教育基地", PLACE[0], Decimal("1"))


@pytest.mark.django_db
def test_changing_the_plan_to_a_hand_typed_place_drops_the_coordinates(c, branch, room):
    c.post(create_url(branch), plan_data(venue=room.pk, place="", form_token=fresh_token(c, branch)))
    meeting = Meeting.objects.get()

    c.post(reverse("meetings:meeting_edit", args=[meeting.pk]), plan_data(venue="", place="井口候车室"))

    meeting.refresh_from_db()
    assert (meeting.venue, meeting.place, meeting.latitude, meeting.longitude) == (None, "井口候车室", None, None)


def held_at(branch, place, secretary):
    """A meeting planned at ``place`` through the service, then held at the time the nine photos were taken."""
    start, end = local(2008, 10, 22, 16), local(2008, 10, 22, 17, 30)
    meeting = meeting_plan(
        branch=branch,
        types=[meeting_type("theme_day")],
        planned_start=start,
        planned_end=end,
        place="",
        venue=place,
        user=secretary,
        now=start - dt.timedelta(days=1),
    )
    Meeting.objects.filter(pk=meeting.pk).update(
        actual_start=start, actual_end=end, status=Meeting.Status.SUBMITTED, counts_for=start.date(), submitted_at=end
    )
    meeting.refresh_from_db()
    return meeting


@pytest.mark.django_db
def test_the_gps_check_runs_against_the_chosen_place(branch, secretary):
    here = make_place(branch, latitude=PLACE[0], longitude=PLACE[1])
    away = make_place(branch, name="矿部会议室", latitude=PLACE[0] + Decimal("0.11"), longitude=PLACE[1])

    _e, near_flags = upload(held_at(branch, here, secretary), GPS_PHOTOS[0])
    _e, far_flags = upload(held_at(branch, away, secretary), GPS_PHOTOS[1])

    assert near_flags == []
    far_flags = [f for f in far_flags if f.kind == Flag.Kind.GPS_FAR]
    assert len(far_flags) == 1
    assert far_flags[0].message.startswith("拍摄地点距会议地点（矿部会议室）约 12.")
    assert far_flags[0].message.endswith(" 公里")


@pytest.mark.django_db
def test_the_branchs_own_coordinates_are_not_used_when_no_place_was_chosen(branch, secretary):
    branch.latitude, branch.longitude = PLACE[0] + 1, PLACE[1]
    branch.save()
    start = local(2008, 10, 22, 16)
    meeting = meeting_plan(
        branch=branch,
        types=[meeting_type("theme_day")],
        planned_start=start,
        planned_end=start + dt.timedelta(hours=1),
        place="井口候车室",
        user=secretary,
        now=start - dt.timedelta(days=1),
    )
    Meeting.objects.filter(pk=meeting.pk).update(actual_start=start, actual_end=start + dt.timedelta(hours=1))
    meeting.refresh_from_db()

    _e, flags = upload(meeting, GPS_PHOTOS[0])

    assert [f for f in flags if f.kind == Flag.Kind.GPS_FAR] == []


# --- The 书记's page of the branch's places -------------------------------------------------------


def place_data(**overrides):
    data = {"name": "综采一队学习室", "kind": Place.Kind.STUDY_ROOM, "latitude": "35.100000", "longitude": "117.2"}
    data.update({"is_active": "on"})
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_a_secretary_adds_a_place_and_makes_it_the_default(c, branch, room):
    response = c.post(reverse("meetings:place_create", args=[branch.pk]), place_data(is_default="on"), follow=True)

    assert "会议地点“综采一队学习室”已保存。" in response.content.decode()
    new = Place.objects.get(name="综采一队学习室")
    room.refresh_from_db()
    assert new.is_default and not room.is_default
    assert (new.branch, new.latitude) == (branch, Decimal("35.100000"))


@pytest.mark.django_db
def test_a_second_submit_of_the_new_place_form_saves_nothing_more(c, branch):
    c.post(reverse("meetings:place_create", args=[branch.pk]), place_data())
    response = c.post(reverse("meetings:place_create", args=[branch.pk]), place_data())

    assert "已有同名的地点。" in response.content.decode()
    assert Place.objects.filter(name="综采一队学习室").count() == 1


@pytest.mark.django_db
def test_a_place_with_half_its_coordinates_is_refused(c, branch):
    response = c.post(reverse("meetings:place_create", args=[branch.pk]), place_data(longitude=""))

    assert "纬度和经度须同时填写或同时留空。" in response.content.decode()
    assert not Place.objects.exists()


@pytest.mark.django_db
def test_a_secretary_cannot_register_an_education_base(c, branch):
    response = c.post(reverse("meetings:place_create", args=[branch.pk]), place_data(kind=Place.Kind.EDUCATION_BASE))

    assert response.status_code == 200
    assert not Place.objects.exists()


@pytest.mark.django_db
def test_a_secretary_edits_a_place_of_the_branch(c, room):
    c.post(reverse("meetings:place_edit", args=[room.pk]), place_data(name="三楼会议室", is_default="on"))

    room.refresh_from_db()
    assert (room.name, room.kind, room.is_default) == ("三楼会议室", Place.Kind.STUDY_ROOM, True)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "list_status", "edit_status"),
    [("member", 404, 404), ("other_secretary", 404, 404), ("supervisor", 200, 403), ("anonymous", 302, 302)],
)
def test_the_place_pages_refuse_those_who_may_not_edit(client, people, branch, room, role, list_status, edit_status):
    c = client_for(client, people[role])

    assert c.get(reverse("meetings:place_list", args=[branch.pk])).status_code == list_status
    assert c.get(reverse("meetings:place_create", args=[branch.pk])).status_code == edit_status
    assert c.post(reverse("meetings:place_create", args=[branch.pk]), place_data()).status_code == edit_status
    assert c.post(reverse("meetings:place_edit", args=[room.pk]), place_data(name="改名")).status_code == edit_status

    room.refresh_from_db()
    assert room.name == "三楼党员活动室"
    assert Place.objects.count() == 1


@pytest.mark.django_db
def test_a_mine_wide_base_is_not_edited_from_a_branch_page(c):
    base = make_place(None, name="沂蒙红色教育基地", kind=Place.Kind.EDUCATION_BASE)

    assert c.post(reverse("meetings:place_edit", args=[base.pk]), place_data()).status_code == 404
    base.refresh_from_db()
    assert base.name == "沂蒙红色教育基地"


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 12])
def test_the_place_list_costs_the_same_queries_for_one_place_or_many(
    c, branch, secretary, rows, django_assert_num_queries
):
    for i in range(rows):
        make_place(branch, name=f"学习室{i}")
        make_place(None, name=f"教育基地{i}", kind=Place.Kind.EDUCATION_BASE, latitude=1, longitude=1)
    c.get(reverse("meetings:place_list", args=[branch.pk]))  # warm the session and scope

    with django_assert_num_queries(13):
        response = c.get(reverse("meetings:place_list", args=[branch.pk]))

    assert len(response.context["places"]) == rows and len(response.context["shared"]) == rows


@pytest.mark.django_db
def test_a_branch_with_coordinates_gets_them_back_as_its_default_place(branch, other_branch):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("meetings.migrations.0012_places_from_branch_coordinates")
    branch.latitude, branch.longitude = PLACE
    branch.save()

    migration.branch_coordinates_to_places(apps, None)
    migration.branch_coordinates_to_places(apps, None)

    (place,) = Place.objects.all()
    assert (place.branch, place.name, place.is_default) == (branch, "综采一队党支部党员活动室", True)
    assert (place.latitude, place.longitude) == PLACE
