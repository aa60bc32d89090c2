"""Planning a meeting and publishing its notice through the pages: each rule with the message the user sees."""

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from bulletin.models import Announcement, Notification
from meetings.models import Meeting, ThemeTag
from tests.conftest import client_for
from tests.factories import GroupFactory, MeetingFactory, MemberFactory, meeting_type

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def create_url(branch):
    return reverse("meetings:meeting_create") + f"?branch={branch.pk}"


def fresh_token(client, branch):
    return client.get(create_url(branch)).context["form"].initial["form_token"]


def plan_data(*codes, **overrides):
    start = timezone.localtime(timezone.now() + dt.timedelta(days=3)).replace(hour=19, minute=30, second=0)
    data = {
        "types": [meeting_type(code).pk for code in codes or ["general_meeting"]],
        "topic": "学习贯彻安全生产会议精神",
        "planned_start": start.strftime("%Y-%m-%dT%H:%M"),
        "planned_end": (start + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "place": "三楼党员活动室",
        "agenda": "一、传达文件\n二、讨论",
    }
    data.update(overrides)
    return data


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def c(client, secretary):
    return client_for(client, secretary)


@pytest.mark.django_db
def test_a_secretary_plans_a_meeting_whose_times_are_read_as_shanghai_time(c, branch, secretary):
    data = plan_data(form_token=fresh_token(c, branch))

    response = c.post(create_url(branch), data, follow=True)

    meeting = Meeting.objects.get()
    assert response.redirect_chain[-1][0] == reverse("meetings:meeting_detail", args=[meeting.pk])
    assert "会议计划已保存，可以发布会议通知。" in messages_of(response)
    assert meeting.status == Meeting.Status.PLANNED
    assert meeting.branch == branch and meeting.created_by == secretary
    local = meeting.planned_start.astimezone(SHANGHAI)
    assert (local.hour, local.minute) == (19, 30)
    html = response.content.decode()
    assert "学习贯彻安全生产会议精神" in html and "发布会议通知" in html


@pytest.mark.django_db
def test_a_combined_meeting_carries_each_of_its_types(c, branch):
    tag = ThemeTag.objects.get(name="安全生产")
    c.post(
        create_url(branch),
        plan_data("general_meeting", "theme_day", theme_tags=[tag.pk], form_token=fresh_token(c, branch)),
    )

    assert Meeting.objects.get().type_codes() == {"general_meeting", "theme_day"}


@pytest.mark.django_db
def test_the_plan_form_says_what_is_missing(c, branch):
    response = c.post(create_url(branch), {"form_token": fresh_token(c, branch)})

    errors = response.context["form"].errors
    assert errors["types"] == ["请至少选择一种会议类型。"]
    assert "planned_start" in errors and "place" in errors
    assert not Meeting.objects.exists()


@pytest.mark.django_db
def test_a_plan_that_ends_before_it_starts_is_refused(c, branch):
    data = plan_data(form_token=fresh_token(c, branch))
    data["planned_end"] = data["planned_start"]

    response = c.post(create_url(branch), data)

    assert response.context["form"].errors["planned_end"] == ["计划结束时间必须晚于开始时间。"]
    assert not Meeting.objects.exists()


@pytest.mark.django_db
def test_a_group_meeting_needs_a_group(c, branch):
    response = c.post(create_url(branch), plan_data("group_meeting", form_token=fresh_token(c, branch)))

    assert response.context["form"].errors["group"] == ["党小组会须选择党小组。"]
    assert not Meeting.objects.exists()


@pytest.mark.django_db
def test_a_group_meeting_needs_a_group_of_this_branch(c, branch, other_branch):
    foreign = GroupFactory(name="掘进二队党小组", parent=other_branch)

    response = c.post(
        create_url(branch), plan_data("group_meeting", group=foreign.pk, form_token=fresh_token(c, branch))
    )

    assert "选择一个有效的选项" in response.context["form"].errors["group"][0]
    assert not Meeting.objects.exists()


@pytest.mark.django_db
def test_a_group_of_the_branch_is_kept_only_on_a_group_meeting(c, branch, group):
    c.post(create_url(branch), plan_data("group_meeting", group=group.pk, form_token=fresh_token(c, branch)))
    c.post(create_url(branch), plan_data("general_meeting", group=group.pk, form_token=fresh_token(c, branch)))

    assert sorted((m.group_id is not None, m.type_codes().pop()) for m in Meeting.objects.all()) == [
        (False, "general_meeting"),
        (True, "group_meeting"),
    ]


@pytest.mark.django_db
def test_submitting_the_same_plan_form_twice_creates_one_meeting(c, branch):
    data = plan_data(form_token=fresh_token(c, branch))

    first = c.post(create_url(branch), data)
    second = c.post(create_url(branch), data, follow=True)

    meeting = Meeting.objects.get()
    assert first.url == reverse("meetings:meeting_detail", args=[meeting.pk])
    assert second.redirect_chain[0][0] == reverse("meetings:meeting_detail", args=[meeting.pk])
    assert "该会议已经创建过，没有重复创建。" in messages_of(second)


@pytest.mark.django_db
def test_a_plan_form_without_a_valid_token_is_shown_again_and_creates_nothing(c, branch):
    response = c.post(create_url(branch), plan_data(form_token="not-issued"))

    assert response.status_code == 200
    assert "该表单已失效" in response.context["form"].non_field_errors()[0]
    assert not Meeting.objects.exists()
    # The page carries a new token; sending it again creates the meeting.
    token = response.context["form"].data["form_token"]
    c.post(create_url(branch), plan_data(form_token=token))
    assert Meeting.objects.count() == 1


# --- Publishing the notice -------------------------------------------------------------------


def publish(c, meeting):
    return c.post(reverse("meetings:meeting_publish", args=[meeting.pk]), follow=True)


@pytest.mark.django_db
def test_a_notice_needs_a_topic(c, branch):
    meeting = MeetingFactory(branch=branch, topic="")

    response = publish(c, meeting)

    assert "发布通知前须确定会议主题。" in messages_of(response)
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.PLANNED
    assert not Announcement.objects.exists()


@pytest.mark.django_db
def test_a_party_lesson_notice_needs_a_lecturer_and_a_title(c, branch):
    meeting = MeetingFactory(branch=branch, types=["party_lesson"])

    response = publish(c, meeting)

    assert {"党课须确定授课人。", "党课须确定党课题目。"} <= set(messages_of(response))
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.PLANNED


@pytest.mark.django_db
def test_a_party_lesson_with_lecturer_and_title_is_published(c, branch, secretary):
    meeting = MeetingFactory(branch=branch, types=["party_lesson"], lecturer=secretary.member, lesson_title="党章学习")

    response = publish(c, meeting)

    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.NOTIFIED
    assert any(m.startswith("会议通知已发布") for m in messages_of(response))


@pytest.mark.django_db
def test_a_theme_day_notice_needs_a_theme_tag(c, branch):
    meeting = MeetingFactory(branch=branch, types=["theme_day"])

    response = publish(c, meeting)

    assert "主题党日须选择至少一个主题标签（如“安全生产”）。" in messages_of(response)
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.PLANNED


@pytest.mark.django_db
def test_publishing_twice_posts_one_notice_and_tells_each_member_once(c, branch, secretary, member):
    meeting = MeetingFactory(branch=branch)

    first = publish(c, meeting)
    second = publish(c, meeting)

    assert "会议通知已发布，已通知应到党员 2 名。" in messages_of(first)
    assert "该会议的通知已发布。" in messages_of(second)
    assert Announcement.objects.count() == 1
    inbox = Notification.objects.filter(dedupe_key=f"meeting:{meeting.pk}:notice", channel="inbox")
    assert sorted(inbox.values_list("recipient__username", flat=True)) == ["member", "secretary"]


# --- Editing and cancelling ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_plan_is_edited_while_planned(c, branch):
    meeting = MeetingFactory(branch=branch, topic="旧主题")
    form = c.get(reverse("meetings:meeting_edit", args=[meeting.pk])).context["form"]
    assert form.initial["topic"] == "旧主题"

    response = c.post(reverse("meetings:meeting_edit", args=[meeting.pk]), plan_data(topic="新主题"))

    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.topic == "新主题"


@pytest.mark.django_db
def test_a_held_meeting_plan_cannot_be_edited(c, branch):
    meeting = MeetingFactory(branch=branch, topic="旧主题", status=Meeting.Status.HELD)

    get = c.get(reverse("meetings:meeting_edit", args=[meeting.pk]), follow=True)
    post = c.post(reverse("meetings:meeting_edit", args=[meeting.pk]), plan_data(topic="新主题"), follow=True)

    assert "会议已召开或已取消，计划不能再修改。" in messages_of(get)
    assert "会议已召开或已取消，计划不能再修改。" in messages_of(post)
    meeting.refresh_from_db()
    assert meeting.topic == "旧主题"


@pytest.mark.django_db
def test_the_lecturer_is_chosen_among_the_members_of_the_branch(c, branch, secretary, member):
    outsider = MemberFactory(name="外支部党员")
    data = plan_data("party_lesson", lecturer=outsider.pk, lesson_title="党史", form_token=fresh_token(c, branch))

    response = c.post(create_url(branch), data)

    assert "lecturer" in response.context["form"].errors
    choices = [label for _, label in response.context["form"].fields["lecturer"].choices]
    assert "王书记" in choices and "李党员" in choices and "外支部党员" not in choices


@pytest.mark.django_db
def test_a_meeting_is_cancelled_with_a_reason(c, branch):
    meeting = MeetingFactory(branch=branch)
    url = reverse("meetings:meeting_cancel", args=[meeting.pk])

    empty = c.post(url, {"reason": "  "})
    done = c.post(url, {"reason": "井下抢修，改期"}, follow=True)

    assert empty.context["form"].errors["reason"] == ["取消会议须填写原因。"]
    assert "会议已取消。" in messages_of(done)
    meeting.refresh_from_db()
    assert (meeting.status, meeting.cancel_reason) == (Meeting.Status.CANCELLED, "井下抢修，改期")
    assert "本次会议已取消：井下抢修，改期" in done.content.decode()
