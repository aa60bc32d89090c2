import datetime as dt

import pytest
from django.utils import timezone

from appraisal import services
from appraisal.models import AppraisalYear
from org.models import Member, Post, StaffRole
from tests.factories import MeetingFactory, MemberFactory, MembershipFactory, member_with_login, staff_user

MEETING_AT = dt.datetime(2026, 12, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def committee_user(db):
    return staff_user(username="committee", role=StaffRole.Role.COMMITTEE)


def add_members(branch, n, *, prefix="员", category=Member.Category.FULL, login=False):
    out = []
    for i in range(n):
        if login:
            user = member_with_login(branch=branch, username=f"{prefix}{i}", name=f"{prefix}{i}", category=category)
            out.append(user.member)
        else:
            m = MemberFactory(name=f"{prefix}{i}", category=category)
            MembershipFactory(member=m, organization=branch)
            out.append(m)
    return out


@pytest.fixture
def appraisal_year(db):
    return AppraisalYear.objects.create(year=2026, opened_at=MEETING_AT)


def make_round(branch, secretary_user=None, *, year=None, open_voting=True):
    meeting = MeetingFactory(
        branch=branch,
        types=["democratic_review"],
        planned_start=MEETING_AT,
        planned_end=MEETING_AT + dt.timedelta(hours=2),
    )
    round_ = services.round_start(
        meeting=meeting,
        user=secretary_user,
        window_start=MEETING_AT,
        window_end=MEETING_AT + dt.timedelta(days=2),
        now=MEETING_AT - dt.timedelta(days=1),
    )
    if open_voting:
        round_ = services.round_open(round_=round_, user=secretary_user, now=MEETING_AT)
    return round_


IN_WINDOW = MEETING_AT + dt.timedelta(hours=1)
AFTER = MEETING_AT + dt.timedelta(days=3)


def all_grades(round_, voter_member_id, grade="qualified"):
    return {a.pk: grade for a in round_.appraisees.filter(is_graded=True).exclude(member_id=voter_member_id)}


__all__ = ["Post", "timezone"]
