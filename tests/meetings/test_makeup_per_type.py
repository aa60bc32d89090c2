"""A make-up in a combined meeting counts for one type's period without moving the others (issue 9, rule 13)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import services
from meetings.compliance import Outcome, compliance
from meetings.models import CadenceRule, Meeting, MeetingType, MeetingTypePeriod, type_counts_for
from tests.conftest import client_for
from tests.factories import BranchFactory, GroupFactory, MeetingFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 7, 15, 10, 0, tzinfo=SHANGHAI)
Q1, Q2 = dt.date(2026, 1, 1), dt.date(2026, 4, 1)
GENERAL = "支部党员大会每季度至少1次"
LESSON = "党课每季度至少1次"


def rules():
    return [CadenceRule.objects.get(name=GENERAL), CadenceRule.objects.get(name=LESSON)]


def combined(branch, held_on, *, counts_for=None, lesson_for=None, hour=15):
    """A 党员大会 + 党课 held on ``held_on``; ``lesson_for``: the 党课's own period (a make-up of it only)."""
    start = dt.datetime.combine(held_on, dt.time(hour), tzinfo=SHANGHAI)
    m = MeetingFactory(
        branch=branch,
        types=["general_meeting", "party_lesson"],
        status=Meeting.Status.APPROVED,
        planned_start=start,
        actual_start=start,
        counts_for=counts_for or held_on,
    )
    if lesson_for:
        MeetingTypePeriod.objects.create(
            meeting=m, type=MeetingType.objects.get(code="party_lesson"), counts_for=lesson_for
        )
    return m


def outcomes(branch, *, start=Q1, end=dt.date(2026, 6, 30)):
    result = compliance(branches=[branch], start=start, end=end, now=NOW, rules=rules())
    general, lesson = rules()

    def at(r, day):
        c = result.cell(rule_id=r.pk, branch_id=branch.pk, group_id=None, start=day)
        return c.outcome, c.meeting_ids

    return {
        ("党员大会", "Q1"): at(general, Q1),
        ("党员大会", "Q2"): at(general, Q2),
        ("党课", "Q1"): at(lesson, Q1),
        ("党课", "Q2"): at(lesson, Q2),
    }


# --- The engine ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_3_april_make_up_of_the_first_quarters_lesson_counts_q1_late_for_the_lesson_and_q2_for_the_general_meeting():
    branch = BranchFactory()
    q1_general = MeetingFactory(  # Q1's 党员大会, held on its own
        branch=branch,
        types=["general_meeting"],
        status=Meeting.Status.APPROVED,
        planned_start=dt.datetime(2026, 2, 10, 15, tzinfo=SHANGHAI),
        actual_start=dt.datetime(2026, 2, 10, 15, tzinfo=SHANGHAI),
        counts_for=dt.date(2026, 2, 10),
    )
    make_up = combined(branch, dt.date(2026, 4, 3), lesson_for=dt.date(2026, 3, 31))

    got = outcomes(branch)

    assert got[("党课", "Q1")] == (Outcome.LATE, (make_up.pk,))
    assert got[("党员大会", "Q2")] == (Outcome.ON_TIME, (make_up.pk,))
    assert got[("党员大会", "Q1")] == (Outcome.ON_TIME, (q1_general.pk,))  # unaffected
    assert got[("党课", "Q2")][0] == Outcome.MISSING  # the lesson went to Q1, not to Q2 as well


@pytest.mark.django_db
def test_the_make_up_held_at_2359_on_31_march_is_on_time_and_at_0000_on_1_april_late():
    on_time_branch, late_branch = BranchFactory(), BranchFactory()
    start = dt.datetime(2026, 3, 31, 23, 59, tzinfo=SHANGHAI)
    for branch, held_at in ((on_time_branch, start), (late_branch, start + dt.timedelta(minutes=1))):
        m = MeetingFactory(
            branch=branch,
            types=["general_meeting", "party_lesson"],
            status=Meeting.Status.APPROVED,
            planned_start=held_at,
            actual_start=held_at,
            counts_for=timezone.localdate(held_at),
        )
        if held_at.date() == dt.date(2026, 4, 1):
            MeetingTypePeriod.objects.create(
                meeting=m, type=MeetingType.objects.get(code="party_lesson"), counts_for=dt.date(2026, 3, 1)
            )

    assert outcomes(on_time_branch)[("党课", "Q1")][0] == Outcome.ON_TIME
    assert outcomes(late_branch)[("党课", "Q1")][0] == Outcome.LATE
    assert outcomes(late_branch)[("党员大会", "Q2")][0] == Outcome.ON_TIME


@pytest.mark.django_db
def test_a_combined_meeting_without_per_type_rows_counts_every_type_for_the_meetings_own_period():
    branch = BranchFactory()
    make_up = combined(branch, dt.date(2026, 4, 3), counts_for=dt.date(2026, 3, 31))

    got = outcomes(branch)

    assert got[("党员大会", "Q1")] == (Outcome.LATE, (make_up.pk,))
    assert got[("党课", "Q1")] == (Outcome.LATE, (make_up.pk,))
    assert got[("党员大会", "Q2")][0] == Outcome.MISSING
    assert got[("党课", "Q2")][0] == Outcome.MISSING


@pytest.mark.django_db
def test_a_type_counting_inside_the_range_is_found_when_the_meeting_counts_outside_it():
    branch = BranchFactory()
    make_up = combined(branch, dt.date(2026, 4, 3), lesson_for=dt.date(2026, 3, 31))

    result = compliance(branches=[branch], start=Q1, end=dt.date(2026, 3, 31), now=NOW, rules=rules())
    general, lesson = rules()

    q1_lesson = result.cell(rule_id=lesson.pk, branch_id=branch.pk, group_id=None, start=Q1)
    q1_general = result.cell(rule_id=general.pk, branch_id=branch.pk, group_id=None, start=Q1)
    assert (q1_lesson.outcome, q1_lesson.meeting_ids) == (Outcome.LATE, (make_up.pk,))
    assert q1_general.outcome == Outcome.MISSING


@pytest.mark.django_db
def test_the_one_expression_gives_each_type_its_own_period_else_the_meetings():
    branch = BranchFactory()
    make_up = combined(branch, dt.date(2026, 4, 3), lesson_for=dt.date(2026, 3, 31))
    lesson = MeetingType.objects.get(code="party_lesson")
    general = MeetingType.objects.get(code="general_meeting")

    rows = dict(
        Meeting.objects.filter(pk=make_up.pk).annotate(period=type_counts_for()).values_list("types__code", "period")
    )

    assert rows == {"party_lesson": dt.date(2026, 3, 31), "general_meeting": dt.date(2026, 4, 3)}
    make_up = Meeting.objects.prefetch_related("type_periods").get(pk=make_up.pk)
    assert (make_up.counts_for_type(lesson), make_up.counts_for_type(general)) == (
        dt.date(2026, 3, 31),
        dt.date(2026, 4, 3),
    )


# --- The minutes form --------------------------------------------------------------------------


def local(value):
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def combined_notified(branch, secretary, member):
    m = MeetingFactory(
        branch=branch,
        types=["general_meeting", "party_lesson"],
        lecturer=secretary.member,
        lesson_title="新时代煤矿安全生产责任",
    )
    return services.meeting_publish_notice(meeting=m, user=secretary, now=timezone.now())


def minutes_data(secretary, member, **overrides):
    start = timezone.now() - dt.timedelta(hours=3)
    data = {
        "actual_start": local(start),
        "actual_end": local(start + dt.timedelta(hours=1, minutes=30)),
        "place": "三楼党员活动室",
        "chair": secretary.member.pk,
        "recorder": member.member.pk,
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_the_minutes_form_of_a_combined_meeting_offers_a_period_per_type(client, secretary, combined_notified):
    c = client_for(client, secretary)
    lesson = MeetingType.objects.get(code="party_lesson")

    response = c.get(reverse("meetings:meeting_minutes", args=[combined_notified.pk]))

    content = response.content.decode()
    assert f'name="type_period_{lesson.pk}"' in content
    assert "本类型归属期间：党课" in content


@pytest.mark.django_db
def test_a_single_type_meeting_has_no_per_type_period(client, secretary, branch):
    m = MeetingFactory(branch=branch, types=["general_meeting"])
    c = client_for(client, secretary)

    response = c.get(reverse("meetings:meeting_minutes", args=[m.pk]))

    assert "本类型归属期间" not in response.content.decode()


@pytest.mark.django_db
def test_a_per_type_period_is_saved_and_one_equal_to_the_meetings_is_not_stored(
    client, secretary, member, combined_notified
):
    c = client_for(client, secretary)
    lesson = MeetingType.objects.get(code="party_lesson")
    general = MeetingType.objects.get(code="general_meeting")
    held_on = timezone.localdate(timezone.now() - dt.timedelta(hours=3))
    earlier = held_on - dt.timedelta(days=95)

    c.post(
        reverse("meetings:meeting_minutes", args=[combined_notified.pk]),
        minutes_data(
            secretary,
            member,
            **{f"type_period_{lesson.pk}": earlier.isoformat(), f"type_period_{general.pk}": held_on.isoformat()},
        ),
    )

    combined_notified.refresh_from_db()
    assert combined_notified.status == Meeting.Status.HELD
    assert dict(combined_notified.type_periods.values_list("type__code", "counts_for")) == {"party_lesson": earlier}
    assert combined_notified.type_periods.get().history.count() == 1

    # cleared again: back to the meeting's own period, and the removal is in the history
    c.post(reverse("meetings:meeting_minutes", args=[combined_notified.pk]), minutes_data(secretary, member))
    assert combined_notified.type_periods.count() == 0
    assert MeetingTypePeriod.history.filter(history_type="-").count() == 1


@pytest.mark.django_db
def test_a_per_type_period_later_than_the_held_day_is_refused_in_chinese_and_nothing_is_saved(
    client, secretary, member, combined_notified
):
    c = client_for(client, secretary)
    lesson = MeetingType.objects.get(code="party_lesson")
    held_on = timezone.localdate(timezone.now() - dt.timedelta(hours=3))
    tomorrow = held_on + dt.timedelta(days=1)

    refused = c.post(
        reverse("meetings:meeting_minutes", args=[combined_notified.pk]),
        minutes_data(secretary, member, **{f"type_period_{lesson.pk}": tomorrow.isoformat()}),
    )

    assert refused.status_code == 200
    assert refused.context["form"].errors[f"type_period_{lesson.pk}"] == ["本类型归属期间不能晚于会议召开日期。"]
    assert refused.context["form"]["place"].value() == "三楼党员活动室"  # the input is kept
    combined_notified.refresh_from_db()
    assert combined_notified.status == Meeting.Status.NOTIFIED
    assert not MeetingTypePeriod.objects.exists()


@pytest.mark.django_db
def test_the_held_day_itself_is_accepted_as_a_per_type_period(client, secretary, member, combined_notified):
    c = client_for(client, secretary)
    lesson = MeetingType.objects.get(code="party_lesson")
    held_on = timezone.localdate(timezone.now() - dt.timedelta(hours=3))
    earlier = held_on - dt.timedelta(days=40)

    c.post(
        reverse("meetings:meeting_minutes", args=[combined_notified.pk]),
        minutes_data(secretary, member, counts_for=earlier.isoformat(), **{f"type_period_{lesson.pk}": held_on}),
    )

    combined_notified.refresh_from_db()
    assert combined_notified.counts_for == earlier
    assert dict(combined_notified.type_periods.values_list("type__code", "counts_for")) == {"party_lesson": held_on}


# --- Query counts ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("n_branches", [2, 6])
def test_the_matrix_costs_the_same_queries_with_per_type_periods(
    client, supervisor, time_machine, n_branches, django_assert_num_queries
):
    time_machine.move_to(NOW, tick=False)
    for _ in range(n_branches):
        b = BranchFactory()
        GroupFactory(parent=b)
        combined(b, dt.date(2026, 4, 3), lesson_for=dt.date(2026, 3, 31))
        combined(b, dt.date(2026, 5, 6))
    c = client_for(client, supervisor)
    c.get(reverse("meetings:compliance_matrix"))

    # as pinned in test_compliance_pages: the per-type period is a subquery of the engine's one query
    with django_assert_num_queries(14):
        c.get(reverse("meetings:compliance_matrix"))


@pytest.mark.django_db
def test_the_admin_shows_the_per_type_periods_inline(admin_client):
    branch = BranchFactory()
    make_up = combined(branch, dt.date(2026, 4, 3), lesson_for=dt.date(2026, 3, 31))

    response = admin_client.get(reverse("admin:meetings_meeting_change", args=[make_up.pk]))

    assert response.status_code == 200
    assert "分类型归属期间" in response.content.decode()


# --- Reminders -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("lesson_for", "reminders_sent"), [(dt.date(2026, 3, 31), 1), (None, 0)])
def test_the_quarters_end_reminder_still_asks_for_the_lesson_a_make_up_gave_to_the_previous_quarter(
    branch, secretary, lesson_for, reminders_sent
):
    from meetings import reminders

    CadenceRule.objects.update(is_active=False)
    CadenceRule.objects.filter(name__in=(GENERAL, LESSON)).update(is_active=True)
    combined(branch, dt.date(2026, 4, 3), lesson_for=lesson_for)

    # 24 June, 7 days before Q2 ends: the 党员大会 counts for Q2; the 党课 for Q1 if made up, else Q2
    sent = reminders.send_period_end_reminders(now=dt.datetime(2026, 6, 24, 9, tzinfo=SHANGHAI))

    assert sent == reminders_sent


# --- On a phone ----------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_per_type_periods_fit_a_phone_and_a_later_one_is_refused_there(
    transactional_db, live_server, browser, browser_context_args
):
    from django.conf import settings as django_settings
    from django.test import Client

    from org.models import Post
    from tests.factories import member_with_login

    branch = BranchFactory(name="综采一队党支部")
    group = GroupFactory(name="综采一队第一党小组", parent=branch)
    secretary = member_with_login(branch=branch, group=group, username="shuji", role=Post.Role.SECRETARY, name="王书记")
    member = member_with_login(branch=branch, group=group, username="dangyuan", name="李党员")

    m = MeetingFactory(
        branch=branch,
        types=["general_meeting", "party_lesson"],
        lecturer=secretary.member,
        lesson_title="新时代煤矿安全生产责任",
        planned_start=timezone.now() - dt.timedelta(hours=3),
    )
    services.meeting_publish_notice(meeting=m, user=secretary, now=timezone.now())
    lesson = MeetingType.objects.get(code="party_lesson")
    session = Client()
    session.force_login(secretary)
    name = django_settings.SESSION_COOKIE_NAME
    context = browser.new_context(**{**browser_context_args, "viewport": {"width": 390, "height": 844}})
    context.add_cookies([{"name": name, "value": session.cookies[name].value, "url": live_server.url}])
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}{reverse('meetings:meeting_minutes', args=[m.pk])}")
        field = page.locator(f"[name=type_period_{lesson.pk}]")
        assert field.is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        box = field.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390

        tomorrow = timezone.localdate(timezone.now() - dt.timedelta(hours=3)) + dt.timedelta(days=1)
        field.fill(tomorrow.isoformat())
        page.locator("[name=chair]").select_option(str(secretary.member.pk))
        page.locator("[name=recorder]").select_option(str(member.member.pk))
        page.locator("#minutes-form [type=submit]").first.click()
        page.wait_for_load_state("load")

        assert "本类型归属期间不能晚于会议召开日期。" in page.content()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
