"""Raising a finding opens a rectification; the branch answers; the supervisor verifies or rejects."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from bulletin.models import Notification
from org.models import Post, StaffRole
from supervision.models import Finding, Rectification, RectificationEvent, SupervisionPolicy
from supervision.services import findings as services
from tests.factories import MeetingFactory, PostFactory, member_with_login, staff_user

from .conftest import local

NOW = local(2026, 5, 10, 9, 30)
Status = Rectification.Status
Action = RectificationEvent.Action


def raise_finding(branch, supervisor, **kwargs):
    return services.finding_raise(
        branch=branch,
        category=kwargs.pop("category", Finding.Category.RECORDS),
        severity=kwargs.pop("severity", Finding.Severity.MODERATE),
        description=kwargs.pop("description", "会议记录缺少发言摘要。"),
        user=supervisor,
        now=kwargs.pop("now", NOW),
        **kwargs,
    )


def actions(rect):
    return list(rect.events.order_by("at", "id").values_list("action", flat=True))


def notices(key_part: str):
    return Notification.objects.filter(dedupe_key__contains=key_part, channel=Notification.Channel.INBOX)


@pytest.fixture
def committee_member(branch):
    """A 组织委员 of the branch: part of the branch committee, not its owner."""
    return member_with_login(branch=branch, username="org_member", role=Post.Role.ORGANIZATION, name="孙委员")


# --- Raise -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_finding_opens_a_rectification_owned_by_the_secretary_due_in_one_month(
    branch, secretary, member, supervisor, committee_member
):
    finding = raise_finding(branch, supervisor)

    rect = finding.rectification
    assert rect.owner == secretary
    assert rect.status == Status.OPEN
    assert rect.branch == branch
    # One calendar month: raised 10 May, due at the end of 10 June (11 June 00:00 at the mine).
    assert rect.due_at == local(2026, 6, 11, 0, 0)
    assert finding.raised_by == supervisor and finding.raised_at == NOW
    assert actions(rect) == [Action.OPENED]
    assert rect.events.get().by == supervisor
    # The owner and the branch committee are told once; an ordinary member is not.
    told = set(notices(f"rectification:{rect.pk}:opened").values_list("recipient__username", flat=True))
    assert told == {"secretary", "org_member"}


@pytest.mark.django_db
def test_the_default_deadline_follows_the_policy(branch, secretary, supervisor):
    policy = SupervisionPolicy.current()
    policy.rectification_months = 2
    policy.save()

    rect = raise_finding(branch, supervisor).rectification

    assert rect.due_at == local(2026, 7, 11, 0, 0)


@pytest.mark.django_db
def test_a_custom_deadline_and_owner_are_kept(branch, secretary, supervisor, committee_member):
    due = local(2026, 5, 20, 23, 59)

    rect = raise_finding(branch, supervisor, due_at=due, owner=committee_member).rectification

    assert rect.due_at == due
    assert rect.owner == committee_member


@pytest.mark.django_db
def test_a_deadline_in_the_past_is_refused(branch, secretary, supervisor):
    with pytest.raises(ValidationError) as error:
        raise_finding(branch, supervisor, due_at=NOW - dt.timedelta(minutes=1))

    assert "due_at" in error.value.error_dict
    assert not Finding.objects.exists()


@pytest.mark.django_db
def test_the_secretary_is_the_one_in_post_on_the_day_the_finding_is_raised(branch, secretary, supervisor):
    Post.objects.filter(member__user=secretary).update(ended_on=dt.date(2026, 4, 1))
    successor = member_with_login(branch=branch, username="new_secretary", name="新书记")
    PostFactory(member=successor.member, organization=branch, role=Post.Role.SECRETARY, started_on=dt.date(2026, 4, 1))

    rect = raise_finding(branch, supervisor).rectification

    assert rect.owner == successor


@pytest.mark.django_db
def test_a_branch_without_a_secretary_gets_a_rectification_without_owner_and_its_committee_is_told(
    branch, supervisor, committee_member
):
    rect = raise_finding(branch, supervisor).rectification

    assert rect.owner is None
    assert list(notices(f"rectification:{rect.pk}:opened").values_list("recipient__username", flat=True)) == [
        "org_member"
    ]


@pytest.mark.django_db
def test_a_meeting_of_another_branch_is_refused(branch, other_branch, secretary, supervisor):
    meeting = MeetingFactory(branch=other_branch)

    with pytest.raises(ValidationError) as error:
        raise_finding(branch, supervisor, meeting=meeting)

    assert error.value.message_dict["meeting"] == ["所选会议不属于该支部。"]
    assert not Finding.objects.exists() and not Rectification.objects.exists()


@pytest.mark.django_db
def test_a_finding_may_name_a_meeting_of_its_branch(branch, secretary, supervisor):
    meeting = MeetingFactory(branch=branch)

    assert raise_finding(branch, supervisor, meeting=meeting).meeting == meeting


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("description", "   ", "请填写问题描述。"),
        ("category", "nonsense", None),
        ("severity", "nonsense", None),
    ],
)
def test_bad_input_is_refused_and_nothing_is_created(branch, secretary, supervisor, field, value, message):
    with pytest.raises(ValidationError) as error:
        raise_finding(branch, supervisor, **{field: value})

    assert field in error.value.message_dict
    if message:
        assert error.value.message_dict[field] == [message]
    assert not Finding.objects.exists() and not Notification.objects.exists()


@pytest.mark.django_db
def test_a_group_is_not_a_branch(group, secretary, supervisor):
    with pytest.raises(ValidationError):
        raise_finding(group, supervisor)


@pytest.mark.django_db
def test_the_same_source_key_raises_one_finding_and_opens_one_rectification(branch, secretary, supervisor):
    first = raise_finding(branch, supervisor, source_key="assessment:2026-Q1:branch-1")
    sent = Notification.objects.count()

    again = raise_finding(branch, supervisor, source_key="assessment:2026-Q1:branch-1", now=NOW + dt.timedelta(days=1))

    assert again.pk == first.pk
    assert Finding.objects.count() == 1 and Rectification.objects.count() == 1
    assert RectificationEvent.objects.count() == 1
    assert Notification.objects.count() == sent > 0


@pytest.mark.django_db
def test_another_service_raises_a_finding_without_a_person_behind_it(branch, secretary):
    finding = services.finding_raise(
        branch=branch,
        category=Finding.Category.ASSESSMENT,
        severity=Finding.Severity.SERIOUS,
        description="2026 年第一季度考核不合格。",
        user=None,
        now=NOW,
        source_key="assessment:2026-Q1:1",
    )

    assert finding.raised_by is None
    assert finding.rectification.owner == secretary
    assert finding.rectification.events.get().by is None


@pytest.mark.django_db
def test_different_source_keys_and_empty_keys_raise_separate_findings(branch, secretary, supervisor):
    raise_finding(branch, supervisor, source_key="a")
    raise_finding(branch, supervisor, source_key="b")
    raise_finding(branch, supervisor)
    raise_finding(branch, supervisor)

    assert Finding.objects.count() == Rectification.objects.count() == 4


# --- Answer, verify, reject -----------------------------------------------------------------------


@pytest.fixture
def rect(branch, secretary, supervisor):
    return raise_finding(branch, supervisor).rectification


@pytest.mark.django_db
def test_submit_then_verify_keeps_the_history(rect, secretary, supervisor):
    submitted_at = NOW + dt.timedelta(days=3)
    verified_at = NOW + dt.timedelta(days=5)

    services.rectification_submit(
        rectification=rect, measures="  补齐发言摘要，支委会专题学习。 ", user=secretary, now=submitted_at
    )
    rect.refresh_from_db()
    assert (rect.status, rect.measures, rect.submitted_at) == (
        Status.SUBMITTED,
        "补齐发言摘要，支委会专题学习。",
        submitted_at,
    )
    # The supervisors are told there is something to verify.
    assert set(notices(f"rectification:{rect.pk}:submitted").values_list("recipient__username", flat=True)) == {
        "supervisor"
    }

    services.rectification_verify(rectification=rect, user=supervisor, now=verified_at)
    rect.refresh_from_db()
    assert (rect.status, rect.verified_by, rect.verified_at) == (Status.VERIFIED, supervisor, verified_at)
    assert actions(rect) == [Action.OPENED, Action.SUBMITTED, Action.VERIFIED]
    events = list(rect.events.order_by("at", "id"))
    assert [(e.by, e.at) for e in events[1:]] == [(secretary, submitted_at), (supervisor, verified_at)]
    assert notices(f"rectification:{rect.pk}:verified").get().recipient == secretary


@pytest.mark.django_db
def test_measures_are_required(rect, secretary):
    with pytest.raises(ValidationError) as error:
        services.rectification_submit(rectification=rect, measures=" ", user=secretary, now=NOW)

    assert error.value.message_dict["measures"] == ["请填写整改措施。"]
    rect.refresh_from_db()
    assert rect.status == Status.OPEN and actions(rect) == [Action.OPENED]


@pytest.mark.django_db
def test_a_double_submit_acts_once_with_a_message(rect, secretary):
    services.rectification_submit(rectification=rect, measures="已整改。", user=secretary, now=NOW)

    with pytest.raises(ValidationError) as error:
        services.rectification_submit(rectification=rect, measures="再次提交。", user=secretary, now=NOW)

    assert error.value.messages == [services.ALREADY_SUBMITTED]
    rect.refresh_from_db()
    assert rect.measures == "已整改。"
    assert actions(rect) == [Action.OPENED, Action.SUBMITTED]


@pytest.mark.django_db
def test_reject_needs_a_reason(rect, secretary, supervisor):
    services.rectification_submit(rectification=rect, measures="已整改。", user=secretary, now=NOW)

    with pytest.raises(ValidationError) as error:
        services.rectification_reject(rectification=rect, reason="  ", user=supervisor, now=NOW)

    assert error.value.message_dict["reason"] == ["驳回须填写理由。"]
    rect.refresh_from_db()
    assert rect.status == Status.SUBMITTED


@pytest.mark.django_db
def test_rejected_then_resubmitted_then_verified_keeps_every_round(rect, secretary, supervisor):
    day = dt.timedelta(days=1)
    services.rectification_submit(rectification=rect, measures="第一次。", user=secretary, now=NOW + day)
    services.rectification_reject(rectification=rect, reason="缺少佐证材料。", user=supervisor, now=NOW + 2 * day)
    rect.refresh_from_db()
    assert rect.status == Status.OPEN
    assert notices(f"rectification:{rect.pk}:rejected").get().recipient == secretary

    services.rectification_submit(rectification=rect, measures="第二次，附照片。", user=secretary, now=NOW + 3 * day)
    services.rectification_verify(rectification=rect, user=supervisor, now=NOW + 4 * day)

    rect.refresh_from_db()
    assert rect.status == Status.VERIFIED and rect.measures == "第二次，附照片。"
    assert list(rect.events.order_by("at", "id").values_list("action", "text")) == [
        (Action.OPENED, "整改期限：2026年6月10日 24:00"),
        (Action.SUBMITTED, "第一次。"),
        (Action.REJECTED, "缺少佐证材料。"),
        (Action.SUBMITTED, "第二次，附照片。"),
        (Action.VERIFIED, ""),
    ]
    # Each submission told the supervisors, each its own notice.
    assert notices(f"rectification:{rect.pk}:submitted").count() == 2


@pytest.mark.django_db
def test_only_a_submitted_answer_can_be_verified_or_rejected(rect, secretary, supervisor):
    with pytest.raises(ValidationError) as error:
        services.rectification_verify(rectification=rect, user=supervisor, now=NOW)
    assert error.value.messages == [services.NOT_SUBMITTED]
    with pytest.raises(ValidationError):
        services.rectification_reject(rectification=rect, reason="不行。", user=supervisor, now=NOW)

    services.rectification_submit(rectification=rect, measures="已整改。", user=secretary, now=NOW)
    services.rectification_verify(rectification=rect, user=supervisor, now=NOW)

    for call in (
        lambda: services.rectification_verify(rectification=rect, user=supervisor, now=NOW),
        lambda: services.rectification_reject(rectification=rect, reason="不行。", user=supervisor, now=NOW),
        lambda: services.rectification_submit(rectification=rect, measures="又改了。", user=secretary, now=NOW),
    ):
        with pytest.raises(ValidationError) as error:
            call()
        assert error.value.messages == [services.ALREADY_VERIFIED]
    rect.refresh_from_db()
    assert rect.status == Status.VERIFIED
    assert actions(rect) == [Action.OPENED, Action.SUBMITTED, Action.VERIFIED]


@pytest.mark.django_db
def test_a_rejection_after_the_deadline_puts_the_rectification_straight_back_to_overdue(rect, secretary, supervisor):
    services.rectification_submit(rectification=rect, measures="已整改。", user=secretary, now=NOW)
    late = rect.due_at + dt.timedelta(days=2)

    services.rectification_reject(rectification=rect, reason="措施不具体。", user=supervisor, now=late)

    rect.refresh_from_db()
    assert (rect.status, rect.overdue_at) == (Status.OVERDUE, late)
    # Never told it was late before, so the overdue notice goes out now, once.
    assert set(notices(f"rectification:{rect.pk}:overdue").values_list("recipient__username", flat=True)) == {
        "secretary",
        "supervisor",
    }


@pytest.mark.django_db
def test_the_supervisors_told_are_those_of_both_departments(branch, secretary, supervisor, rect):
    staff_user(username="discipline", role=StaffRole.Role.DISCIPLINE_DEPT)
    staff_user(username="committee", role=StaffRole.Role.COMMITTEE)

    services.rectification_submit(rectification=rect, measures="已整改。", user=secretary, now=NOW)

    told = set(notices(f"rectification:{rect.pk}:submitted").values_list("recipient__username", flat=True))
    assert told == {"supervisor", "discipline"}
