"""Nothing in the ballot tables links a ballot to a voter; administrators have no ballot page."""

import pytest
from django.contrib import admin
from django.db import connection

from appraisal import services
from appraisal.models import Ballot, BallotGrade, VoterMark

from .conftest import IN_WINDOW, add_members, all_grades, make_round

pytestmark = pytest.mark.django_db


def _rows(model):
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - a model's own table name
        columns = [c[0] for c in cursor.description]
        return columns, cursor.fetchall()


def test_the_ballot_tables_hold_nothing_that_links_a_ballot_to_a_voter(branch, appraisal_year):
    members = add_members(branch, 6, login=True)
    round_ = make_round(branch)
    voters = members[:3]
    for voter in voters:
        services.ballot_cast(round_=round_, member_id=voter.pk, grades=all_grades(round_, voter.pk), now=IN_WINDOW)

    ballot_cols, ballots = _rows(Ballot)
    grade_cols, grades = _rows(BallotGrade)
    assert sorted(ballot_cols) == ["group", "id", "round_id"]
    assert sorted(grade_cols) == ["appraisee_id", "ballot_id", "grade", "id"]
    assert len(ballots) == 3

    # No value of any column of either table is a voter's member id, user id, username or name,
    # nor a time: the only integers are the round and the appraisees (everyone is appraised).
    voter_values = set()
    for m in voters:
        voter_values |= {str(m.pk), str(m.user_id), m.user.username, m.name}
    appraisee_ids = set(round_.appraisees.values_list("pk", flat=True))
    for row in ballots:
        values = dict(zip(ballot_cols, row, strict=True))
        assert values["round_id"] == round_.pk
        assert len(str(values["id"]).replace("-", "")) == 32  # a random UUID, not a sequence
        assert not ({str(v) for v in row} & voter_values - {str(round_.pk)})
    for row in grades:
        values = dict(zip(grade_cols, row, strict=True))
        assert values["appraisee_id"] in appraisee_ids
        assert len(str(values["id"]).replace("-", "")) == 32
    # Each ballot grades the same number of people (every graded member but the voter): the shape
    # of a ballot says nothing about whose it is.
    per_ballot = {}
    for row in grades:
        per_ballot.setdefault(dict(zip(grade_cols, row, strict=True))["ballot_id"], 0)
        per_ballot[dict(zip(grade_cols, row, strict=True))["ballot_id"]] += 1
    assert set(per_ballot.values()) == {5}

    # The voted-marker table: created for everyone at the start in roster order, flipped in place;
    # it has no column naming a ballot and no time.
    mark_cols, marks = _rows(VoterMark)
    assert sorted(mark_cols) == ["group", "has_voted", "id", "member_id", "round_id"]
    ids_in_roster_order = [m.pk for m in VoterMark.objects.order_by("id")]
    assert ids_in_roster_order == sorted(ids_in_roster_order)
    by_member = {r[mark_cols.index("member_id")]: r[mark_cols.index("has_voted")] for r in marks}
    assert {pk for pk, voted in by_member.items() if voted} == {m.pk for m in voters}


def test_the_ballot_models_keep_no_history_and_have_no_admin_page():
    assert Ballot not in admin.site._registry
    assert BallotGrade not in admin.site._registry
    assert not hasattr(Ballot, "history") and not hasattr(BallotGrade, "history")
    for model in (Ballot, BallotGrade):
        names = {f.name for f in model._meta.get_fields()}
        assert not names & {"created_at", "member", "voter", "user", "session", "ip_address"}


def test_an_administrator_cannot_open_a_ballot_in_the_admin(admin_client, branch, appraisal_year):
    members = add_members(branch, 3)
    round_ = make_round(branch)
    services.ballot_cast(
        round_=round_, member_id=members[0].pk, grades=all_grades(round_, members[0].pk), now=IN_WINDOW
    )
    ballot = Ballot.objects.get()
    assert admin_client.get("/admin/appraisal/ballot/").status_code == 404
    assert admin_client.get(f"/admin/appraisal/ballot/{ballot.pk}/change/").status_code == 404
    assert admin_client.get("/admin/appraisal/ballotgrade/").status_code == 404
    index = admin_client.get("/admin/").content.decode()
    assert "选票" not in index
