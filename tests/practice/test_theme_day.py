"""A 主题党日's activities and hazards: each hazard becomes its owner's task once, closed with a photo;
bad input refused in Chinese with nothing saved; every page refuses the roles it should."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting
from org.models import Member
from practice.models import Activity, ActivityKind, Hazard
from practice.selectors import HazardCounts, hazard_counts
from practice.services import activity_add, hazard_add, hazard_ensure_task, hazard_update
from study.models import StudyItem
from tasks.models import Task
from tasks.services import task_accept, task_report, task_return
from tests.conftest import client_for
from tests.factories import MeetingFactory, MemberFactory, MembershipFactory
from tests.supervision.conftest import SAMPLES

PHOTO = SAMPLES / "Canon_40D.jpg"


def photo():
    return SimpleUploadedFile("整改后.jpg", PHOTO.read_bytes(), content_type="image/jpeg")


def owner_of(user) -> Member:
    return user.member


def add_hazard(meeting, user, *, owner, due_on=None, now=None, **fields):
    now = now or timezone.now()
    values = {"description": "皮带机尾护罩缺失", "location": "3101 运输巷", "severity": Hazard.Severity.SERIOUS}
    values.update(fields)
    return hazard_add(
        meeting=meeting,
        owner=owner,
        due_on=due_on or timezone.localdate(now) + dt.timedelta(days=7),
        user=user,
        now=now,
        **values,
    )


# --- Hazards become tasks -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_hazard_becomes_one_task_for_its_owner_due_at_the_end_of_its_deadline(theme_day, secretary, member):
    hazard = add_hazard(theme_day, secretary, owner=owner_of(member), due_on=dt.date(2099, 3, 10))

    task = hazard.task
    assert task.source == Task.Source.HAZARD
    assert (task.owner, task.organization, task.meeting) == (owner_of(member), theme_day.branch, theme_day)
    assert task.assigned_by == secretary
    assert timezone.localtime(task.due_at).isoformat() == "2099-03-11T00:00:00+08:00"
    assert "3101 运输巷" in task.title


@pytest.mark.django_db
def test_a_hazard_makes_its_task_exactly_once_however_often_it_is_saved(theme_day, secretary, member):
    hazard = add_hazard(theme_day, secretary, owner=owner_of(member))
    now = timezone.now()

    hazard_ensure_task(hazard=hazard, user=secretary, now=now)
    hazard_update(
        hazard=hazard, description="护罩缺失", location="3101 运输巷", severity="major", user=secretary, now=now
    )
    hazard_update(
        hazard=hazard, description="护罩缺失", location="3101 运输巷", severity="major", user=secretary, now=now
    )

    assert Task.objects.filter(source=Task.Source.HAZARD).count() == 1
    assert Hazard.objects.get().task_id == Task.objects.get().pk


@pytest.mark.django_db
def test_a_second_submit_of_the_same_hazard_form_saves_nothing_more(client, theme_day, secretary, member):
    c = client_for(client, secretary)
    url = reverse("practice:theme_day", args=[theme_day.pk])
    token = c.get(url).context["hazard_form"].initial["token"]
    data = hazard_post(member, token=token)

    c.post(url, data)
    c.post(url, data)

    assert Hazard.objects.count() == 1
    assert Task.objects.count() == 1


def hazard_post(owner_user, **overrides):
    data = {
        "action": "hazard",
        "hazard-description": "顶板离层",
        "hazard-location": "综采工作面 60 号支架",
        "hazard-severity": "major",
        "hazard-owner": owner_user.member.pk if owner_user else "",
        "hazard-due_on": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
        "hazard-token": "",
    }
    data.update({f"hazard-{k}" if k != "action" else k: v for k, v in overrides.items()})
    return data


@pytest.mark.django_db
def test_a_secretary_records_a_hazard_from_the_page(client, theme_day, secretary, member):
    response = client_for(client, secretary).post(
        reverse("practice:theme_day", args=[theme_day.pk]), hazard_post(member), follow=True
    )

    assert "隐患已保存，整改任务已发给李党员。" in response.content.decode()
    hazard = Hazard.objects.get()
    assert (hazard.location, hazard.severity, hazard.task.owner) == ("综采工作面 60 号支架", "major", member.member)


# --- Bad input --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_hazard_without_an_owner_is_refused_in_chinese(client, theme_day, secretary):
    response = client_for(client, secretary).post(reverse("practice:theme_day", args=[theme_day.pk]), hazard_post(None))

    assert "请指定责任人：每项任务都必须有一名责任人。" in response.content.decode()
    assert not Hazard.objects.exists() and not Task.objects.exists()


@pytest.mark.django_db
def test_an_owner_outside_the_branch_is_refused_by_the_form_and_by_the_service(
    client, theme_day, secretary, other_secretary
):
    response = client_for(client, secretary).post(
        reverse("practice:theme_day", args=[theme_day.pk]), hazard_post(other_secretary)
    )
    assert "所选责任人不是本支部有登录账号的党员。" in response.content.decode()

    with pytest.raises(ValidationError) as caught:
        add_hazard(theme_day, secretary, owner=owner_of(other_secretary))
    assert caught.value.message_dict["owner"] == ["赵书记不是综采一队党支部的党员，不能作为责任人。"]
    assert not Hazard.objects.exists() and not Task.objects.exists()


@pytest.mark.django_db
def test_an_owner_without_an_account_is_refused(theme_day, secretary, branch):
    no_login = MemberFactory(name="周工", user=None)
    MembershipFactory(member=no_login, organization=branch)

    with pytest.raises(ValidationError) as caught:
        add_hazard(theme_day, secretary, owner=no_login)

    assert caught.value.message_dict["owner"] == ["周工还没有登录账号，不能作为责任人。"]
    assert not Hazard.objects.exists()


@pytest.mark.django_db
def test_a_deadline_of_yesterday_is_refused_and_one_of_today_accepted(theme_day, secretary, member):
    # 23:59 in Shanghai: "today" is the mine's day, not UTC's.
    now = dt.datetime(2026, 6, 10, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with time_machine.travel(now, tick=False):
        with pytest.raises(ValidationError) as caught:
            add_hazard(theme_day, secretary, owner=owner_of(member), due_on=dt.date(2026, 6, 9), now=now)
        assert caught.value.message_dict["due_on"] == ["整改期限不能早于今天。"]
        assert not Hazard.objects.exists()

        hazard = add_hazard(theme_day, secretary, owner=owner_of(member), due_on=dt.date(2026, 6, 10), now=now)
    assert hazard.task.due_at == dt.datetime(2026, 6, 11, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.mark.django_db
def test_a_deadline_in_the_past_is_refused_on_the_page(client, theme_day, secretary, member):
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()

    response = client_for(client, secretary).post(
        reverse("practice:theme_day", args=[theme_day.pk]), hazard_post(member, due_on=yesterday)
    )

    assert "整改期限不能早于今天。" in response.content.decode()
    assert not Hazard.objects.exists()


@pytest.mark.django_db
def test_hazards_are_only_for_a_theme_day_and_only_while_the_record_is_open(branch, secretary, member):
    committee = MeetingFactory(branch=branch, types=["committee_meeting"], status="held")
    with pytest.raises(ValidationError, match="只有主题党日才能记录活动和隐患。"):
        add_hazard(committee, secretary, owner=owner_of(member))

    approved = MeetingFactory(branch=branch, types=["theme_day"], status="approved")
    with pytest.raises(ValidationError, match="已审核通过，已锁定"):
        add_hazard(approved, secretary, owner=owner_of(member))
    assert not Hazard.objects.exists()


# --- Closing with a photo -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_hazard_task_report_without_a_photo_is_refused(theme_day, secretary, member):
    task = add_hazard(theme_day, secretary, owner=owner_of(member)).task
    pdf = SimpleUploadedFile("说明.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")

    for files in ([], [pdf]):
        with pytest.raises(ValidationError) as caught:
            task_report(task=task, user=member, text="已整改", files=files, now=timezone.now())
        assert caught.value.message_dict["text"] == ["隐患整改须上传整改后的现场照片（JPEG、PNG 或 WebP）。"]
    task.refresh_from_db()
    assert task.status == Task.Status.TODO


@pytest.mark.django_db
def test_the_owner_closes_a_hazard_with_a_photo(client, theme_day, secretary, member):
    task = add_hazard(theme_day, secretary, owner=owner_of(member)).task

    client_for(client, member).post(reverse("tasks:report", args=[task.pk]), {"text": "已补装护罩", "files": [photo()]})

    task.refresh_from_db()
    assert task.status == Task.Status.SUBMITTED
    assert task.reports.get().files.count() == 1


# --- Counts per branch ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_hazard_counts_per_branch_found_closed_overdue(theme_day, secretary, member, other_branch):
    start = timezone.now()
    closed = add_hazard(theme_day, secretary, owner=owner_of(member), now=start).task
    accepted = add_hazard(theme_day, secretary, owner=owner_of(member), now=start).task
    returned = add_hazard(theme_day, secretary, owner=owner_of(member), now=start).task
    late = add_hazard(theme_day, secretary, owner=owner_of(member), now=start, due_on=timezone.localdate(start)).task
    task_report(task=closed, user=member, text="", files=[photo()], now=start)
    task_report(task=accepted, user=member, text="", files=[photo()], now=start)
    task_accept(task=accepted, user=secretary, now=start)
    task_report(task=returned, user=member, text="", files=[photo()], now=start)
    task_return(task=returned, user=secretary, reason="照片看不清", now=start)

    at_deadline = late.due_at
    before = hazard_counts(now=at_deadline - dt.timedelta(microseconds=1))
    after = hazard_counts(now=at_deadline + dt.timedelta(days=30))

    assert before == {theme_day.branch_id: HazardCounts(found=4, closed=2, overdue=0)}
    assert after[theme_day.branch_id] == HazardCounts(found=4, closed=2, overdue=2)
    assert after[theme_day.branch_id].open == 2
    assert hazard_counts(now=start, branch_ids=[other_branch.pk]) == {}


@pytest.mark.django_db
def test_hazard_counts_take_only_theme_days_held_in_the_period(theme_day, secretary, member):
    add_hazard(theme_day, secretary, owner=owner_of(member))
    held = theme_day.planned_start

    assert hazard_counts(now=held, start=held, end=held + dt.timedelta(seconds=1))[theme_day.branch_id].found == 1
    assert hazard_counts(now=held, start=held - dt.timedelta(days=1), end=held) == {}


@pytest.mark.django_db
@pytest.mark.parametrize("branches", [1, 8])
def test_hazard_counts_cost_one_query_for_one_branch_or_many(
    secretary, member, branch, branches, django_assert_num_queries
):
    from tests.factories import BranchFactory, member_with_login

    for i in range(branches):
        b = branch if i == 0 else BranchFactory(name=f"支部{i}")
        owner = member if i == 0 else member_with_login(branch=b, username=f"m{i}")
        add_hazard(MeetingFactory(branch=b, types=["theme_day"], status="held"), secretary, owner=owner.member)

    with django_assert_num_queries(1):
        counts = hazard_counts(now=timezone.now())

    assert len(counts) == branches


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 6])
def test_the_hazard_overview_shows_each_branch_and_costs_the_same_for_few_or_many(
    client, supervisor, theme_day, secretary, member, rows, django_assert_num_queries
):
    for _ in range(rows):
        add_hazard(theme_day, secretary, owner=owner_of(member))
    c = client_for(client, supervisor)
    c.get(reverse("practice:hazard_overview"))

    with django_assert_num_queries(8):
        response = c.get(reverse("practice:hazard_overview"))

    row = response.context["rows"][0]
    assert row[0] == theme_day.branch and row[1] == HazardCounts(found=rows, closed=0, overdue=0)


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "status"), [("secretary", 403), ("member", 403), ("other_secretary", 403)])
def test_the_hazard_overview_is_for_the_party_committee_level_only(client, people, role, status):
    assert client_for(client, people[role]).get(reverse("practice:hazard_overview")).status_code == status


@pytest.mark.django_db
def test_the_hazard_overview_sends_the_anonymous_to_sign_in(client):
    assert client.get(reverse("practice:hazard_overview")).status_code == 302


# --- Activities -----------------------------------------------------------------------------


@pytest.fixture
def film(secretary, branch):
    from study.models import Column

    column = Column.objects.first() or Column.objects.create(name="警示教育")
    return StudyItem.objects.create(
        title="安全警示片《血的教训》",
        kind=StudyItem.Kind.VIDEO,
        column=column,
        organization=branch,
        created_by=secretary,
        created_at=timezone.now(),
        state=StudyItem.State.PUBLISHED,
        published_at=timezone.now(),
    )


@pytest.mark.django_db
def test_an_activity_links_a_published_film_when_its_kind_links_study(theme_day, secretary, film):
    watch = ActivityKind.objects.filter(links_study=True).first()

    activity = activity_add(
        meeting=theme_day, kind=watch, description="观看警示片", study_item=film, user=secretary, now=timezone.now()
    )

    assert (activity.kind, activity.study_item, activity.order) == (watch, film, 1)


@pytest.mark.django_db
def test_an_activity_may_not_link_a_draft_nor_link_study_when_its_kind_does_not(theme_day, secretary, film):
    watch = ActivityKind.objects.filter(links_study=True).first()
    talk = ActivityKind.objects.filter(links_study=False).first()
    now = timezone.now()

    with pytest.raises(ValidationError) as caught:
        activity_add(meeting=theme_day, kind=talk, description="讨论", study_item=film, user=secretary, now=now)
    assert caught.value.message_dict["study_item"] == [f"“{talk.name}”不关联学习资料。"]
    StudyItem.objects.filter(pk=film.pk).update(state=StudyItem.State.DRAFT)
    film.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        activity_add(meeting=theme_day, kind=watch, description="观看", study_item=film, user=secretary, now=now)
    assert caught.value.message_dict["study_item"] == ["只能关联已发布的学习资料。"]
    assert not Activity.objects.exists()


@pytest.mark.django_db
def test_a_secretary_adds_an_activity_once_however_often_the_form_is_sent(client, theme_day, secretary):
    c = client_for(client, secretary)
    url = reverse("practice:theme_day", args=[theme_day.pk])
    token = c.get(url).context["activity_form"].initial["token"]
    kind = ActivityKind.objects.first()
    data = {
        "action": "activity",
        "activity-kind": kind.pk,
        "activity-description": "隐患大家谈",
        "activity-token": token,
    }

    c.post(url, data)
    c.post(url, data)

    assert list(Activity.objects.values_list("description", flat=True)) == ["隐患大家谈"]


@pytest.mark.django_db
def test_the_meeting_page_and_the_review_page_show_activities_hazards_and_place(
    client, theme_day, secretary, member, supervisor
):
    activity_add(
        meeting=theme_day,
        kind=ActivityKind.objects.first(),
        description="隐患大家谈",
        user=secretary,
        now=timezone.now(),
    )
    add_hazard(theme_day, secretary, owner=owner_of(member))
    Meeting.objects.filter(pk=theme_day.pk).update(status=Meeting.Status.SUBMITTED)

    page = client_for(client, secretary).get(reverse("meetings:meeting_detail", args=[theme_day.pk])).content.decode()
    assert 'id="theme-day-panel"' in page and "隐患大家谈" in page and "皮带机尾护罩缺失" in page
    assert 'id="edit-theme-day"' not in page  # submitted: locked

    review = client_for(client, supervisor).get(reverse("supervision:review_detail", args=[theme_day.pk]))
    html = review.content.decode()
    assert 'id="review-theme-day"' in html
    assert "隐患大家谈" in html and "皮带机尾护罩缺失" in html and "整改中" in html and "三楼党员活动室" in html


@pytest.mark.django_db
def test_a_meeting_that_is_no_theme_day_has_no_theme_day_panel(client, branch, secretary):
    meeting = MeetingFactory(branch=branch, types=["committee_meeting"])

    page = client_for(client, secretary).get(reverse("meetings:meeting_detail", args=[meeting.pk])).content.decode()

    assert 'id="theme-day-panel"' not in page


# --- Permissions ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"),
    [("member", 403), ("other_secretary", 404), ("supervisor", 403), ("anonymous", 302)],
)
def test_the_theme_day_pages_refuse_those_who_do_not_manage_the_meeting(
    client, people, theme_day, secretary, member, role, status
):
    activity = activity_add(
        meeting=theme_day, kind=ActivityKind.objects.first(), description="观看", user=secretary, now=timezone.now()
    )
    hazard = add_hazard(theme_day, secretary, owner=owner_of(member))
    c = client_for(client, people[role])
    page = reverse("practice:theme_day", args=[theme_day.pk])

    assert c.get(page).status_code == status
    assert c.post(page, hazard_post(member)).status_code == status
    assert c.post(reverse("practice:activity_delete", args=[activity.pk])).status_code == status
    edit = reverse("practice:hazard_edit", args=[hazard.pk])
    assert c.post(edit, {"description": "改", "location": "改", "severity": "major"}).status_code == status

    assert Hazard.objects.count() == 1 and Activity.objects.count() == 1
    hazard.refresh_from_db()
    assert hazard.description == "皮带机尾护罩缺失"


@pytest.mark.django_db
def test_the_theme_day_page_is_not_found_for_another_type_of_meeting(client, branch, secretary):
    meeting = MeetingFactory(branch=branch, types=["committee_meeting"])

    assert client_for(client, secretary).get(reverse("practice:theme_day", args=[meeting.pk])).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 6])
def test_the_theme_day_page_costs_the_same_queries_for_few_or_many_rows(
    client, theme_day, secretary, member, rows, django_assert_num_queries
):
    for i in range(rows):
        activity_add(
            meeting=theme_day,
            kind=ActivityKind.objects.first(),
            description=f"活动{i}",
            user=secretary,
            now=timezone.now(),
        )
        add_hazard(theme_day, secretary, owner=owner_of(member))
    c = client_for(client, secretary)
    url = reverse("practice:theme_day", args=[theme_day.pk])
    c.get(url)

    with django_assert_num_queries(18):
        response = c.get(url)

    assert len(response.context["hazards"]) == rows and len(response.context["activities"]) == rows


@pytest.mark.django_db
def test_the_all_branches_page_links_the_hazard_overview_for_supervisors(client, supervisor):
    page = client_for(client, supervisor).get(reverse("org:branch_list")).content.decode()

    assert reverse("practice:hazard_overview") in page


@pytest.mark.django_db
def test_a_secretary_corrects_a_hazards_wording_and_its_task_stays_the_one(client, theme_day, secretary, member):
    hazard = add_hazard(theme_day, secretary, owner=owner_of(member))
    c = client_for(client, secretary)
    url = reverse("practice:hazard_edit", args=[hazard.pk])

    assert c.get(url).status_code == 200
    response = c.post(url, {"description": "护罩缺失两处", "location": "3101 运输巷", "severity": "major"}, follow=True)

    assert "隐患已修改。" in response.content.decode()
    hazard.refresh_from_db()
    assert (hazard.description, hazard.severity) == ("护罩缺失两处", "major")
    assert Task.objects.count() == 1 and hazard.task_id == Task.objects.get().pk


@pytest.mark.django_db
def test_an_empty_hazard_correction_is_refused_and_nothing_changes(client, theme_day, secretary, member):
    hazard = add_hazard(theme_day, secretary, owner=owner_of(member))

    response = client_for(client, secretary).post(
        reverse("practice:hazard_edit", args=[hazard.pk]), {"description": "", "location": "", "severity": "major"}
    )

    assert "请填写隐患描述。" in response.content.decode()
    hazard.refresh_from_db()
    assert (hazard.description, hazard.severity) == ("皮带机尾护罩缺失", "serious")
