"""Every page of the 民主评议 for every role it refuses, and query counts that do not grow."""

import pytest
import time_machine
from django.urls import reverse

from appraisal import services
from appraisal.models import AppraisalYear, Appraisee, Ballot, Round, VoterMark
from tests.conftest import client_for

from .conftest import AFTER, IN_WINDOW, add_members, all_grades, make_round

pytestmark = pytest.mark.django_db


@pytest.fixture
def round_(branch, secretary, member, appraisal_year):
    return make_round(branch, secretary)


def _get(client, user, url):
    return client_for(client, user).get(url)


@pytest.mark.parametrize("who", ["member", "other_secretary", "supervisor", "anonymous"])
def test_only_the_branch_secretary_runs_the_round(client, people, round_, who):
    user = people[who]
    for name in ("round_codes", "round_opinion"):
        response = _get(client, user, reverse(f"appraisal:{name}", args=[round_.pk]))
        assert response.status_code in (302, 403, 404), name
        if user is not None:
            assert response.status_code in (403, 404)
    response = client_for(client, user).post(reverse("appraisal:round_action", args=[round_.pk, "close"]))
    assert response.status_code in ((302,) if user is None else (403, 404))
    assert Round.objects.get(pk=round_.pk).state == Round.State.VOTING


def test_the_secretary_runs_the_round(client, secretary, round_):
    with time_machine.travel(IN_WINDOW, tick=False):
        client.force_login(secretary)
        assert client.get(reverse("appraisal:round_detail", args=[round_.pk])).status_code == 200
        response = client.post(
            reverse("appraisal:round_codes", args=[round_.pk]), {"count": 3, "expires_at": "2026-12-12T09:00"}
        )
        assert response.status_code == 302
        page = client.get(reverse("appraisal:round_codes", args=[round_.pk])).content.decode()
        client.post(reverse("appraisal:round_action", args=[round_.pk, "close"]))
    assert page.count("<svg") == 3
    assert Round.objects.get(pk=round_.pk).state == Round.State.CLOSED


@pytest.mark.parametrize("who", ["member", "other_secretary", "anonymous"])
def test_tallies_are_refused_to_members_and_other_branches(client, people, round_, who):
    services.round_close(round_=round_, user=None, now=AFTER)
    response = _get(client, people[who], reverse("appraisal:round_tallies", args=[round_.pk]))
    assert response.status_code in ((302,) if people[who] is None else (403, 404))
    response = _get(client, people[who], reverse("appraisal:round_export", args=[round_.pk]))
    assert response.status_code in ((302,) if people[who] is None else (403, 404))


def test_tallies_are_hidden_before_the_window_closes(client, secretary, round_):
    client.force_login(secretary)
    response = client.get(reverse("appraisal:round_tallies", args=[round_.pk]))
    assert response.status_code == 302
    response = client.get(reverse("appraisal:round_export", args=[round_.pk]))
    assert response.status_code == 403


@pytest.mark.parametrize("who", ["secretary", "member", "supervisor", "other_secretary"])
def test_only_the_committee_confirms(client, people, round_, who):
    services.round_close(round_=round_, user=None, now=AFTER)
    rows = round_.appraisees.filter(is_graded=True)
    services.proposal_submit(
        round_=round_, user=None, proposal={a.pk: ("qualified", "") for a in rows}, scores={}, now=AFTER
    )
    response = client_for(client, people[who]).post(reverse("appraisal:round_confirm", args=[round_.pk]))
    assert response.status_code in (403, 404)
    assert Round.objects.get(pk=round_.pk).state == Round.State.CLOSED


def test_the_committee_confirms(client, committee_user, round_):
    services.round_close(round_=round_, user=None, now=AFTER)
    rows = round_.appraisees.filter(is_graded=True)
    services.proposal_submit(
        round_=round_, user=None, proposal={a.pk: ("qualified", "") for a in rows}, scores={}, now=AFTER
    )
    client.force_login(committee_user)
    response = client.post(reverse("appraisal:round_confirm", args=[round_.pk]))
    assert response.status_code == 302
    assert Round.objects.get(pk=round_.pk).state == Round.State.CONFIRMED


@pytest.mark.parametrize("who", ["secretary", "member", "supervisor", "other_secretary"])
def test_only_the_committee_opens_a_year(client, people, who, db):
    response = client_for(client, people[who]).post(reverse("appraisal:year_open"), {"year": 2030})
    assert response.status_code == 403
    assert not AppraisalYear.objects.filter(year=2030).exists()


def test_a_member_votes_once_on_the_phone_page(client, member, round_):
    grades = all_grades(round_, member.member.pk)
    data = {f"g{pk}": g for pk, g in grades.items()}
    with time_machine.travel(IN_WINDOW, tick=False):
        client.force_login(member)
        assert client.get(reverse("appraisal:vote", args=[round_.pk])).status_code == 200
        client.post(reverse("appraisal:vote", args=[round_.pk]), data)
        response = client.post(reverse("appraisal:vote", args=[round_.pk]), data, follow=True)
    assert "已经投过票" in response.content.decode()
    assert Ballot.objects.count() == 1


def test_a_member_of_another_branch_cannot_open_the_ballot(client, other_secretary, round_):
    client.force_login(other_secretary)
    assert client.get(reverse("appraisal:vote", args=[round_.pk])).status_code == 404


def test_a_member_sees_only_their_own_result(client, member, secretary, round_, committee_user):
    services.round_close(round_=round_, user=None, now=AFTER)
    rows = round_.appraisees.filter(is_graded=True)
    services.proposal_submit(
        round_=round_, user=None, proposal={a.pk: ("qualified", "") for a in rows}, scores={}, now=AFTER
    )
    services.round_confirm(round_=round_, user=committee_user, now=AFTER)
    mine = Appraisee.objects.get(round=round_, member=member.member)
    theirs = Appraisee.objects.get(round=round_, member=secretary.member)
    client.force_login(member)
    response = client.get(reverse("appraisal:my_result", args=[mine.pk]))
    assert "合格" in response.content.decode()
    assert client.get(reverse("appraisal:my_result", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("appraisal:summary_edit", args=[theirs.pk])).status_code == 404


def test_the_masses_page_needs_no_login_and_refuses_a_reused_code(client, round_):
    (code,) = services.codes_issue(round_=round_, count=1, expires_at=AFTER, now=IN_WINDOW)
    grades = all_grades(round_, None)
    data = {"code": code.code, "ballot": "1", **{f"g{pk}": g for pk, g in grades.items()}}
    with time_machine.travel(IN_WINDOW, tick=False):
        page = client.get(reverse("appraisal:masses_entry") + f"?code={code.code}").content.decode()
        assert "提交选票" in page
        assert "感谢" in client.post(reverse("appraisal:masses_entry"), data).content.decode()
        again = client.post(reverse("appraisal:masses_entry"), data, follow=True).content.decode()
    assert "已经使用过" in again
    assert Ballot.objects.count() == 1


@pytest.mark.parametrize("extra", [0, 8])
def test_the_tallies_page_costs_the_same_queries_for_more_members(
    client, secretary, branch, appraisal_year, extra, django_assert_num_queries
):
    members = add_members(branch, 3 + extra)
    round_ = make_round(branch, secretary)
    for voter in members:
        services.ballot_cast(round_=round_, member_id=voter.pk, grades=all_grades(round_, voter.pk), now=IN_WINDOW)
    services.round_close(round_=round_, user=None, now=AFTER)
    client.force_login(secretary)
    url = reverse("appraisal:round_tallies", args=[round_.pk])
    client.get(url)  # warm the session
    with django_assert_num_queries(14):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("extra", [0, 8])
def test_the_ballot_page_costs_the_same_queries_for_more_members(
    client, member, branch, appraisal_year, extra, django_assert_num_queries
):
    add_members(branch, 1 + extra)
    round_ = make_round(branch)
    url = reverse("appraisal:vote", args=[round_.pk])
    with time_machine.travel(IN_WINDOW, tick=False):
        client.force_login(member)
        client.get(url)
        with django_assert_num_queries(14):
            assert client.get(url).status_code == 200
    assert VoterMark.objects.filter(has_voted=True).count() == 0
