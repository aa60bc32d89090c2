"""Quorum, vote and 应到 rules at their boundaries, through the services the pages call."""

import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from meetings import services
from meetings.models import Vote
from org.models import Member, Post
from tests.factories import BranchFactory, MeetingFactory, MemberFactory, MembershipFactory, PostFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def held(branch, *, full: int, probationary: int = 0, present_full: int, present_probationary: int = 0, types=None):
    """A held meeting of ``branch`` with fresh members, and who of them came."""
    fulls = [MemberFactory(name=f"正式{i:02d}") for i in range(full)]
    probs = [MemberFactory(name=f"预备{i:02d}", category=Member.Category.PROBATIONARY) for i in range(probationary)]
    for m in fulls + probs:
        MembershipFactory(member=m, organization=branch)
    meeting = MeetingFactory(branch=branch, types=types or ["general_meeting"])
    now = timezone.now()
    start = now - dt.timedelta(hours=2)
    services.meeting_record_minutes(
        meeting=meeting,
        user=None,
        now=now,
        actual_start=start,
        actual_end=start + dt.timedelta(hours=1),
        place="活动室",
        chair=(fulls or probs)[0],
        recorder=(fulls or probs)[0],
    )
    came = set(fulls[:present_full] + probs[:present_probationary])
    services.attendance_record(
        meeting=meeting,
        user=None,
        now=now,
        entries={m.pk: "present" if m in came else "absent" for m in fulls + probs},
    )
    return meeting


FIRST_VOTER = object()


def vote(meeting, *, yes, no=0, abstain=0, kind=Vote.Kind.MOTION, written=0, candidate=FIRST_VOTER):
    """Record a vote; an election's candidate defaults to the first voting member, an admission's to 张三."""
    if candidate is FIRST_VOTER:
        first = meeting.attendances.filter(can_vote=True).order_by("member__name").first()
        candidate = first.member if first and kind == Vote.Kind.ELECTION else None
    return services.vote_record(
        meeting=meeting,
        kind=kind,
        motion="表决事项",
        candidate=candidate,
        candidate_name="张三" if kind == Vote.Kind.ADMISSION else "",
        yes=yes,
        no=no,
        abstain=abstain,
        written_opinions=written,
        user=None,
        now=timezone.now(),
    )


def refusal(meeting, **kwargs) -> list[str]:
    with pytest.raises(ValidationError) as excinfo:
        vote(meeting, **kwargs)
    assert not Vote.objects.filter(meeting=meeting).exists()
    return excinfo.value.messages


@pytest.fixture
def branch(db):
    return BranchFactory(name="规则支部")


# --- 支委会 quorum -------------------------------------------------------------------------------


def committee_meeting(branch, *, members: int, present: int):
    committee = [MemberFactory(name=f"支委{i}") for i in range(members)]
    for i, m in enumerate(committee):
        MembershipFactory(member=m, organization=branch)
        PostFactory(member=m, organization=branch, role=Post.Role.SECRETARY if i == 0 else Post.Role.ORGANIZATION)
    meeting = MeetingFactory(branch=branch, types=["committee_meeting"])
    now = timezone.now()
    start = now - dt.timedelta(hours=2)
    services.meeting_record_minutes(
        meeting=meeting,
        user=None,
        now=now,
        actual_start=start,
        actual_end=start + dt.timedelta(hours=1),
        place="活动室",
        chair=committee[0],
        recorder=committee[0],
    )
    services.attendance_record(
        meeting=meeting,
        user=None,
        now=now,
        entries={m.pk: "present" if i < present else "absent" for i, m in enumerate(committee)},
    )
    return meeting


@pytest.mark.django_db
def test_a_committee_meeting_with_exactly_half_of_the_committee_lacks_quorum(branch):
    meeting = committee_meeting(branch, members=4, present=2)

    assert "支委会到会委员 2 人，未超过支部委员 4 人的半数。" in services.submission_problems(meeting)


@pytest.mark.django_db
def test_a_committee_meeting_with_more_than_half_of_the_committee_has_quorum(branch):
    meeting = committee_meeting(branch, members=4, present=3)

    assert not any("支委会到会委员" in p for p in services.submission_problems(meeting))


# --- Vote quorum and tally -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_vote_with_exactly_half_of_the_voting_members_present_is_refused(branch):
    meeting = held(branch, full=4, present_full=2)

    assert "到会有表决权的党员 2 人，未超过应到 4 人的半数，不能进行表决。" in refusal(meeting, yes=2)


@pytest.mark.django_db
def test_a_vote_with_more_than_half_of_the_voting_members_present_is_taken(branch):
    meeting = held(branch, full=4, present_full=3)

    v = vote(meeting, yes=3)

    assert (v.voting_expected, v.voting_present, v.passed) == (4, 3, True)


@pytest.mark.django_db
def test_more_ballots_than_voting_members_present_are_refused(branch):
    meeting = held(branch, full=4, present_full=3)

    assert "赞成、反对、弃权合计 4 票，超过了到会有表决权的正式党员 3 人（预备党员没有表决权）。" in refusal(
        meeting, yes=2, no=1, abstain=1
    )


@pytest.mark.django_db
def test_probationary_members_are_neither_expected_nor_present_voters(branch):
    meeting = held(branch, full=2, probationary=2, present_full=2, present_probationary=2)

    summary = services.attendance_summary(meeting)
    assert (summary.expected, summary.expected_full, summary.expected_probationary) == (4, 2, 2)
    assert (summary.voting_expected, summary.voting_present) == (2, 2)
    assert "赞成、反对、弃权合计 3 票，超过了到会有表决权的正式党员 2 人（预备党员没有表决权）。" in refusal(
        meeting, yes=3
    )


@pytest.mark.django_db
def test_a_motion_with_yes_votes_of_exactly_half_the_expected_fails(branch):
    meeting = held(branch, full=4, present_full=4)

    assert vote(meeting, yes=2, no=2).passed is False


@pytest.mark.django_db
def test_a_motion_passes_on_more_than_half_of_the_expected_not_of_the_present(branch):
    meeting = held(branch, full=5, present_full=3)

    # 2 of 3 present is a majority of those present, but not more than half of the 5 expected.
    assert vote(meeting, yes=2, no=1).passed is False
    assert vote(meeting, yes=3).passed is True


# --- Written opinions --------------------------------------------------------------------------


@pytest.mark.django_db
def test_written_opinions_count_only_when_admitting_a_probationary_member(branch):
    meeting = held(branch, full=5, present_full=3)

    assert "只有接收预备党员的表决可以计入书面意见。" in refusal(meeting, yes=3, written=1)


@pytest.mark.django_db
def test_written_opinions_cannot_exceed_the_absent_voters(branch):
    meeting = held(branch, full=5, present_full=3)

    messages = refusal(meeting, kind=Vote.Kind.ADMISSION, yes=5, written=3)

    assert "书面意见 3 份，超过了因故缺席的有表决权党员人数 2 人。" in messages


@pytest.mark.django_db
def test_written_opinions_of_the_absent_voters_join_the_tally_of_an_admission(branch):
    meeting = held(branch, full=5, present_full=3)

    v = vote(meeting, kind=Vote.Kind.ADMISSION, yes=5, written=2)

    assert (v.yes, v.written_opinions, v.passed) == (5, 2, True)


# --- Elections ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_election_with_exactly_four_fifths_present_is_refused(branch):
    meeting = held(branch, full=5, present_full=4)

    messages = refusal(meeting, kind=Vote.Kind.ELECTION, yes=4)

    assert "到会有选举权的党员 4 人，未超过应到 5 人的五分之四，不能进行选举。" in messages


@pytest.mark.django_db
def test_an_election_with_more_than_four_fifths_present_is_held(branch):
    meeting = held(branch, full=6, present_full=5)

    assert vote(meeting, kind=Vote.Kind.ELECTION, yes=3, no=2).passed is True


@pytest.mark.django_db
def test_an_election_needs_a_candidate(branch):
    meeting = held(branch, full=5, present_full=5)

    assert "选举须从本支部党员中逐个选择候选人，一人一表决。" in refusal(
        meeting, kind=Vote.Kind.ELECTION, yes=5, candidate=None
    )


# --- 应到: membership on the meeting date ---------------------------------------------------------

D = dt.date(2025, 3, 16)


def member_of(branch, name, *, started_on=dt.date(2020, 1, 1), ended_on=None):
    m = MemberFactory(name=name)
    MembershipFactory(member=m, organization=branch, started_on=started_on, ended_on=ended_on)
    return m


def expected_names(branch) -> list[str]:
    start = dt.datetime.combine(D, dt.time(10), tzinfo=SHANGHAI)
    meeting = MeetingFactory(branch=branch, planned_start=start, planned_end=start + dt.timedelta(hours=1))
    services.meeting_sync_expected(meeting=meeting)
    return sorted(meeting.attendances.values_list("member__name", flat=True))


@pytest.mark.django_db
def test_the_expected_list_is_the_membership_on_the_meeting_date(branch):
    other = BranchFactory(name="新支部")
    member_of(branch, "全月在册")
    member_of(branch, "月初离开", ended_on=D - dt.timedelta(days=10))
    member_of(branch, "月末加入", started_on=D + dt.timedelta(days=5))
    member_of(branch, "当天加入", started_on=D)
    moved = member_of(branch, "当天转出", ended_on=D)
    MembershipFactory(member=moved, organization=other, started_on=D)

    assert expected_names(branch) == sorted(["全月在册", "当天加入"])
    assert expected_names(other) == ["当天转出"]


@pytest.mark.django_db
def test_a_member_who_left_the_party_roll_is_not_expected(branch):
    member_of(branch, "在册")
    gone = member_of(branch, "转出党籍")
    Member.objects.filter(pk=gone.pk).update(status=Member.Status.TRANSFERRED_OUT)

    assert expected_names(branch) == ["在册"]
