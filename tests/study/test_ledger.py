"""The 学时 ledger: credits by year at the mine, the requirement by post, the pages and the exports."""

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from bulletin import exports
from org.models import Post
from study import ledger
from study.exports import MINE_STUDY_LEDGER
from study.models import LearningRecord, StudyRequirement
from study.quiz import attempt_start, attempt_submit
from tests.conftest import client_for
from tests.factories import MemberFactory, MembershipFactory, PostFactory, StudyItemFactory

from .study_helpers import two_question_quiz

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = dt.datetime(2027, 3, 1, 10, 0, tzinfo=SHANGHAI)


def complete(user_or_member, *, at, hours="1.0", item=None):
    member = getattr(user_or_member, "member", user_or_member)
    return LearningRecord.objects.create(
        item=item or StudyItemFactory(),
        member=member,
        opened_at=at - dt.timedelta(hours=1),
        completed_at=at,
        credit_hours=Decimal(hours),
    )


def test_the_last_minute_of_the_year_counts_in_it_and_the_first_of_the_next_does_not(member):
    complete(member, at=dt.datetime(2026, 12, 31, 23, 59, tzinfo=SHANGHAI), hours="2.0")
    complete(member, at=dt.datetime(2027, 1, 1, 0, 0, tzinfo=SHANGHAI), hours="3.0")
    assert [r.credit_hours for r in ledger.member_year(member.member.pk, 2026)] == [Decimal("2.0")]
    assert [r.credit_hours for r in ledger.member_year(member.member.pk, 2027)] == [Decimal("3.0")]


def hours_of(branch, name):
    [row] = [r for r in ledger.branch_rows(branch, 2027, today=TODAY.date()) if r.name == name]
    return row.hours, row.completed


def test_a_complete_record_whose_required_quiz_is_not_passed_earns_no_hours_until_it_is(member, branch):
    item = StudyItemFactory(requires_quiz_pass=True)
    quiz, right = two_question_quiz(item, pass_percent=100)
    complete(member, at=TODAY, hours="2.0", item=item)
    assert hours_of(branch, "李党员") == (Decimal("0.0"), 0)
    assert list(ledger.member_year(member.member.pk, 2027)) == []

    single, multiple = list(right)
    failed = attempt_start(quiz=quiz, member=member.member, now=TODAY)
    attempt_submit(attempt=failed, answers={single: right[single], multiple: right[multiple][:1]}, now=TODAY)
    assert hours_of(branch, "李党员") == (Decimal("0.0"), 0)

    attempt_submit(attempt=attempt_start(quiz=quiz, member=member.member, now=TODAY), answers=right, now=TODAY)
    assert hours_of(branch, "李党员") == (Decimal("2.0"), 1)
    assert [r.credit_hours for r in ledger.member_year(member.member.pk, 2027)] == [Decimal("2.0")]


def test_a_quiz_that_is_not_required_does_not_hold_back_the_hours(member, branch):
    item = StudyItemFactory(requires_quiz_pass=False)
    two_question_quiz(item)
    complete(member, at=TODAY, hours="2.0", item=item)
    assert hours_of(branch, "李党员") == (Decimal("2.0"), 1)


def test_a_record_not_yet_complete_adds_nothing(member, branch):
    LearningRecord.objects.create(item=StudyItemFactory(), member=member.member, opened_at=TODAY, played_seconds=500)
    [row] = [r for r in ledger.branch_rows(branch, 2027, today=TODAY.date()) if r.name == "李党员"]
    assert (row.hours, row.completed) == (Decimal("0.0"), 0)


def test_the_requirement_is_the_committee_figure_for_anyone_who_held_a_post_during_the_year(branch, member):
    # a 组织委员 until 2 January 2026: on the committee on two days of 2026, not at all in 2027
    other = MemberFactory(name="孙委员")
    MembershipFactory(member=other, organization=branch)
    PostFactory(
        member=other,
        organization=branch,
        role=Post.Role.ORGANIZATION,
        started_on=dt.date(2020, 1, 1),
        ended_on=dt.date(2026, 1, 2),
    )
    rows = {r.name: r for r in ledger.branch_rows(branch, 2026, today=TODAY.date())}
    assert (rows["孙委员"].is_committee, rows["孙委员"].required) == (True, Decimal("56"))
    assert (rows["李党员"].is_committee, rows["李党员"].required) == (False, Decimal("32"))
    rows = {r.name: r for r in ledger.branch_rows(branch, 2027, today=TODAY.date())}
    assert (rows["孙委员"].is_committee, rows["孙委员"].required) == (False, Decimal("32"))


def test_a_post_that_ended_on_new_years_day_was_not_held_in_the_new_year(branch):
    other = MemberFactory(name="钱委员")
    MembershipFactory(member=other, organization=branch)
    PostFactory(
        member=other,
        organization=branch,
        role=Post.Role.PROPAGANDA,
        started_on=dt.date(2020, 1, 1),
        ended_on=dt.date(2027, 1, 1),
    )
    rows = {r.name: r for r in ledger.branch_rows(branch, 2027, today=TODAY.date())}
    assert rows["钱委员"].is_committee is False


def test_a_group_leader_is_not_on_the_committee(branch, group):
    other = MemberFactory(name="周组长")
    MembershipFactory(member=other, organization=branch)
    PostFactory(member=other, organization=group, role=Post.Role.GROUP_LEADER, started_on=dt.date(2020, 1, 1))
    rows = {r.name: r for r in ledger.branch_rows(branch, 2026, today=TODAY.date())}
    assert rows["周组长"].required == Decimal("32")


def test_a_row_for_the_year_overrides_the_default(branch, member):
    StudyRequirement.objects.create(audience="member", year=2026, hours=Decimal("40"))
    assert ledger.requirement_of(2026).member == Decimal("40")
    assert ledger.requirement_of(2027).member == Decimal("32")
    assert ledger.requirement_of(2026).committee == Decimal("56")


def test_met_is_reached_at_exactly_the_requirement(branch, member):
    for _ in range(2):
        complete(member, at=dt.datetime(2026, 5, 1, tzinfo=SHANGHAI), hours="15.9")
    row = next(r for r in ledger.branch_rows(branch, 2026, today=TODAY.date()) if r.name == "李党员")
    assert (row.hours, row.met) == (Decimal("31.8"), False)
    complete(member, at=dt.datetime(2026, 5, 2, tzinfo=SHANGHAI), hours="0.2")
    row = next(r for r in ledger.branch_rows(branch, 2026, today=TODAY.date()) if r.name == "李党员")
    assert (row.hours, row.completed, row.met) == (Decimal("32.0"), 3, True)


# --- Pages ----------------------------------------------------------------------------


def _get(client, user, url):
    with time_machine.travel(TODAY, tick=False):
        return client_for(client, user).get(url)


def test_the_secretary_sees_each_member_against_the_requirement_by_name(client, branch, secretary, member):
    complete(member, at=dt.datetime(2027, 2, 1, tzinfo=SHANGHAI), hours="1.5")
    response = _get(client, secretary, reverse("study:branch_ledger", args=[branch.pk, 2027]))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(r.name, r.hours, r.required) for r in rows] == [
        ("李党员", Decimal("1.5"), Decimal("32")),
        ("王书记", Decimal("0.0"), Decimal("56")),
    ]
    assert "1.5 / 32.0 学时" in response.content.decode()
    assert "不按在线时长排名" in response.content.decode()


@pytest.mark.parametrize("role", ["member", "other_secretary"])
def test_the_branch_ledger_and_its_export_refuse_others(client, people, role, branch):
    for name in ("study:branch_ledger", "study:branch_ledger_xlsx"):
        assert _get(client, people[role], reverse(name, args=[branch.pk, 2027])).status_code == 403


def test_the_branch_ledger_sends_anonymous_to_sign_in(client, branch):
    response = _get(client, None, reverse("study:branch_ledger", args=[branch.pk, 2027]))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_the_branch_ledger_refuses_a_year_out_of_range(client, secretary, branch):
    assert _get(client, secretary, reverse("study:branch_ledger", args=[branch.pk, 1999])).status_code == 404


@pytest.mark.parametrize("extra", [0, 25])
def test_the_branch_ledger_costs_the_same_queries_at_one_and_many_members(
    client, branch, secretary, member, extra, django_assert_num_queries
):
    for n in range(extra):
        other = MemberFactory(name=f"党员{n:02d}")
        MembershipFactory(member=other, organization=branch)
        complete(other, at=dt.datetime(2027, 2, 1, tzinfo=SHANGHAI))
    with time_machine.travel(TODAY, tick=False):
        c = client_for(client, secretary)
        url = reverse("study:branch_ledger", args=[branch.pk, 2027])
        c.get(url)
        with django_assert_num_queries(13):
            response = c.get(url)
    assert len(response.context["rows"]) == 2 + extra


def test_the_branch_export_is_a_real_workbook_with_every_member(client, branch, secretary, member):
    complete(member, at=dt.datetime(2027, 2, 1, tzinfo=SHANGHAI), hours="2.5")
    response = _get(client, secretary, reverse("study:branch_ledger_xlsx", args=[branch.pk, 2027]))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("序号", "支部", "姓名")
    by_name = {r[2]: r for r in rows[1:]}
    assert by_name["李党员"][3:] == ("党员", 1, 2.5, 32, "未达标")
    assert by_name["王书记"][3:] == ("书记、支委", 0, 0, 56, "未达标")


def test_the_mine_page_counts_members_who_met_the_requirement_per_branch(
    client, supervisor, branch, other_branch, secretary, member, other_secretary
):
    for _ in range(32):
        complete(member, at=dt.datetime(2027, 2, 1, tzinfo=SHANGHAI))
    response = _get(client, supervisor, reverse("study:mine_ledger", args=[2027]))
    assert response.status_code == 200
    summary = {s.name: (s.met, s.members) for s in response.context["summary"]}
    assert summary == {branch.name: (1, 2), other_branch.name: (0, 1)}


@pytest.mark.parametrize("role", ["secretary", "member"])
def test_the_mine_page_and_export_refuse_the_branches(client, people, role):
    for name in ("study:mine_ledger", "study:mine_ledger_xlsx"):
        assert _get(client, people[role], reverse(name, args=[2027])).status_code == 403


@pytest.mark.parametrize("branches", [1, 12])
def test_the_mine_page_costs_the_same_queries_at_one_and_many_branches(
    client, supervisor, branches, django_assert_num_queries
):
    from tests.factories import BranchFactory

    for n in range(branches):
        b = BranchFactory(name=f"第{n}党支部")
        m = MemberFactory()
        MembershipFactory(member=m, organization=b)
        complete(m, at=dt.datetime(2027, 2, 1, tzinfo=SHANGHAI))
    with time_machine.travel(TODAY, tick=False):
        c = client_for(client, supervisor)
        url = reverse("study:mine_ledger", args=[2027])
        c.get(url)
        with django_assert_num_queries(8):
            response = c.get(url)
    assert len(response.context["summary"]) == branches


def test_the_mine_export_is_a_registered_job_that_writes_every_member(branch, secretary, member):
    kind = exports.get(MINE_STUDY_LEDGER)
    assert kind is not None
    complete(member, at=dt.datetime(2027, 2, 1, tzinfo=SHANGHAI), hours="4.0")
    buffer = io.BytesIO()
    with time_machine.travel(TODAY, tick=False):
        written = kind.write(buffer, {"year": 2027}, lambda done, total: None)
    assert written == 2
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active
    assert {r[2]: r[5] for r in sheet.iter_rows(min_row=2, values_only=True)} == {"李党员": 4.0, "王书记": 0}
    assert kind.allowed(secretary, {"year": 2027}) is False


def test_the_mine_export_request_queues_a_job_for_a_supervisor(client, supervisor):
    response = _get(client, supervisor, reverse("study:mine_ledger_xlsx", args=[2027]))
    assert response.status_code == 302 and "/exports/" in response.url


# --- 我的学习 --------------------------------------------------------------------------


def test_my_study_shows_the_years_items_and_hours_against_the_requirement(client, member):
    item = StudyItemFactory(title="学习《煤矿安全规程》")
    complete(member, at=dt.datetime(2027, 1, 1, 0, 0, tzinfo=SHANGHAI), hours="2.0", item=item)
    complete(member, at=dt.datetime(2026, 12, 31, 23, 59, tzinfo=SHANGHAI), hours="5.0")
    response = _get(client, member, reverse("study:my_study"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "学习《煤矿安全规程》" in body
    assert response.context["hours"] == Decimal("2.0")
    assert response.context["required"] == Decimal("32")
    assert "2.0</span> / 32.0 学时" in body
    last_year = _get(client, member, reverse("study:my_study") + "?year=2026")
    assert last_year.context["hours"] == Decimal("5.0")


def test_my_study_refuses_a_login_without_a_member_and_a_bad_year(client, supervisor, member):
    assert _get(client, supervisor, reverse("study:my_study")).status_code == 403
    assert _get(client, member, reverse("study:my_study") + "?year=abc").status_code == 404


@pytest.mark.parametrize("records", [1, 20])
def test_my_study_costs_the_same_queries_at_one_and_many_records(client, member, records, django_assert_num_queries):
    for n in range(records):
        complete(member, at=dt.datetime(2027, 2, 1, tzinfo=SHANGHAI) + dt.timedelta(minutes=n))
        LearningRecord.objects.create(item=StudyItemFactory(kind="video"), member=member.member, opened_at=TODAY)
    with time_machine.travel(TODAY, tick=False):
        c = client_for(client, member)
        c.get(reverse("study:my_study"))
        with django_assert_num_queries(14):
            response = c.get(reverse("study:my_study"))
    assert len(response.context["done"]) == records


def test_the_ledger_link_leads_each_role_to_its_page(client, people, branch):
    url = reverse("study:ledger_home")
    assert _get(client, people["supervisor"], url).url == reverse("study:mine_ledger", args=[2027])
    assert _get(client, people["secretary"], url).url == reverse("study:branch_ledger", args=[branch.pk, 2027])
    assert _get(client, people["member"], url).status_code == 403


def test_the_library_links_to_my_study_and_the_ledger_for_those_who_may(client, secretary, member):
    assert 'id="open-ledger"' in _get(client, secretary, reverse("study:library")).content.decode()
    page = _get(client, member, reverse("study:library")).content.decode()
    assert 'id="open-my-study"' in page and 'id="open-ledger"' not in page
