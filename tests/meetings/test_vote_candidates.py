"""Candidates are members (issue 9 rule 6): a 预备党员 or a member under 留党察看 is never elected;
a 转正 is of a 预备党员 of the branch; an admission names an applicant who is not a member yet."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from meetings import services
from meetings.models import Vote
from org.models import Member, MemberStatusPeriod
from tests.conftest import client_for
from tests.factories import BranchFactory, MeetingFactory, MemberFactory, MembershipFactory

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)  # 20:00 on 1 March in Shanghai


@pytest.fixture
def election(branch, secretary, member):
    """A general meeting on 1 March with six full members and one 预备党员, everyone present."""
    people = [secretary.member, member.member]
    for i in range(4):
        m = MemberFactory(name=f"正式{i}", full_member_on=dt.date(2015, 1, 1))
        MembershipFactory(member=m, organization=branch)
        people.append(m)
    probationary = MemberFactory(name="预备甲", category=Member.Category.PROBATIONARY)
    MembershipFactory(member=probationary, organization=branch)
    people.append(probationary)
    meeting = MeetingFactory(branch=branch, types=["general_meeting"], planned_start=NOW - dt.timedelta(hours=3))
    start = NOW - dt.timedelta(hours=2)
    services.meeting_record_minutes(
        meeting=meeting,
        user=secretary,
        now=NOW,
        actual_start=start,
        actual_end=start + dt.timedelta(hours=1),
        place="活动室",
        chair=secretary.member,
        recorder=member.member,
    )
    services.attendance_record(meeting=meeting, user=secretary, now=NOW, entries={m.pk: "present" for m in people})
    meeting.probationary = probationary
    return meeting


def record(meeting, kind, *, candidate=None, candidate_name="", yes=6):
    return services.vote_record(
        meeting=meeting,
        kind=kind,
        motion="选举支部委员",
        yes=yes,
        no=0,
        abstain=0,
        candidate=candidate,
        candidate_name=candidate_name,
        user=None,
        now=NOW,
    )


def refused(meeting, kind, **kwargs) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        record(meeting, kind, **kwargs)
    assert not Vote.objects.filter(meeting=meeting).exists()
    return caught.value.message_dict["candidate"]


@pytest.mark.django_db
def test_a_probationary_member_is_refused_as_an_election_candidate(election):
    assert refused(election, Vote.Kind.ELECTION, candidate=election.probationary) == [
        "预备甲在2026-03-01是预备党员，没有被选举权，不能作为选举候选人。"
    ]


@pytest.mark.django_db
def test_a_full_member_of_the_branch_is_elected_and_named_on_the_record(election, member):
    vote = record(election, Vote.Kind.ELECTION, candidate=member.member)

    assert (vote.candidate, vote.candidate_name, vote.passed) == (member.member, "李党员", True)


@pytest.mark.django_db
def test_a_member_under_disciplinary_probation_on_the_meeting_date_is_refused_as_a_candidate(election, member):
    MemberStatusPeriod.objects.create(
        member=member.member, status=Member.Status.DISCIPLINARY_PROBATION, started_on=dt.date(2026, 3, 1)
    )

    assert refused(election, Vote.Kind.ELECTION, candidate=member.member) == [
        "李党员在2026-03-01的党籍状态为留党察看，没有被选举权，不能作为选举候选人。"
    ]


@pytest.mark.django_db
def test_a_member_of_another_branch_is_refused_as_a_candidate(election):
    outsider = MemberFactory(name="外支部")
    MembershipFactory(member=outsider, organization=BranchFactory())

    assert refused(election, Vote.Kind.ELECTION, candidate=outsider) == ["外支部在会议当天不是本支部党员。"]


@pytest.mark.django_db
def test_full_membership_is_voted_for_a_probationary_member_only(election, member):
    assert refused(election, Vote.Kind.FULL_MEMBERSHIP, candidate=member.member) == [
        "李党员在会议当天已是正式党员，不需要转正表决。"
    ]
    vote = record(election, Vote.Kind.FULL_MEMBERSHIP, candidate=election.probationary)
    assert vote.candidate == election.probationary


@pytest.mark.django_db
def test_an_admission_names_an_applicant_in_free_text(election):
    vote = record(election, Vote.Kind.ADMISSION, candidate_name=" 发展对象丙 ")

    assert (vote.candidate, vote.candidate_name) == (None, "发展对象丙")


@pytest.mark.django_db
def test_an_admission_without_a_name_is_refused(election):
    with pytest.raises(ValidationError) as caught:
        record(election, Vote.Kind.ADMISSION)

    assert caught.value.message_dict["candidate_name"] == ["接收预备党员须逐个填写发展对象的姓名，一人一表决。"]


@pytest.mark.django_db
def test_the_vote_page_offers_branch_members_as_candidates_and_refuses_a_probationary_one(client, election, secretary):
    c = client_for(client, secretary)
    page = c.get(reverse("meetings:meeting_votes", args=[election.pk]))
    assert "预备甲（预备党员）" in page.content.decode()

    response = c.post(
        reverse("meetings:meeting_votes", args=[election.pk]),
        {
            "kind": "election",
            "motion": "选举支部委员",
            "candidate": election.probationary.pk,
            "yes": 6,
            "no": 0,
            "abstain": 0,
            "form_token": page.context["form"].initial["form_token"],
        },
    )

    assert response.context["form"].errors["candidate"] == [
        "预备甲在2026-03-01是预备党员，没有被选举权，不能作为选举候选人。"
    ]
    assert not Vote.objects.exists()


# --- Vote rights at a meeting follow the status on its date ---------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("day", "can_vote"), [(dt.date(2026, 3, 1), False), (dt.date(2026, 9, 1), True)])
def test_a_member_under_disciplinary_probation_from_1_march_to_1_september_votes_at_a_meeting_by_its_date(
    branch, day, can_vote
):
    member = MemberFactory(name="察看党员", full_member_on=dt.date(2010, 7, 1))
    MembershipFactory(member=member, organization=branch)
    MemberStatusPeriod.objects.create(
        member=member,
        status=Member.Status.DISCIPLINARY_PROBATION,
        started_on=dt.date(2026, 3, 1),
        ended_on=dt.date(2026, 9, 1),
    )
    start = dt.datetime.combine(day, dt.time(9), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    meeting = MeetingFactory(branch=branch, planned_start=start, planned_end=start + dt.timedelta(hours=1))

    services.meeting_sync_expected(meeting=meeting)

    assert meeting.attendances.get(member=member).can_vote is can_vote
