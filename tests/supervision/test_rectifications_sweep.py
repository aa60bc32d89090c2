"""The overdue sweep: rectifications past their deadline become 逾期 once, and are escalated once after N days."""

import datetime as dt

import pytest

from bulletin.models import Notification
from org.models import StaffRole
from supervision.models import Finding, Rectification, RectificationEvent, SupervisionPolicy
from supervision.services import findings as services
from tests.factories import staff_user

from .conftest import local

NOW = local(2026, 5, 10, 9, 30)
DUE = local(2026, 6, 11, 0, 0)  # one calendar month from 10 May: the end of 10 June (was 30 days)
Status = Rectification.Status
Action = RectificationEvent.Action
INBOX = Notification.Channel.INBOX


def raise_rect(branch, supervisor, **kwargs):
    finding = services.finding_raise(
        branch=branch,
        category=Finding.Category.CADENCE,
        severity=Finding.Severity.SERIOUS,
        description="第一季度未召开支委会。",
        user=supervisor,
        now=NOW,
        **kwargs,
    )
    return finding.rectification


def told(rect, what):
    return sorted(
        Notification.objects.filter(dedupe_key=f"rectification:{rect.pk}:{what}", channel=INBOX).values_list(
            "recipient__username", flat=True
        )
    )


def actions(rect):
    return list(rect.events.order_by("at", "id").values_list("action", flat=True))


@pytest.fixture
def staff(db):
    return {
        "discipline": staff_user(username="discipline", role=StaffRole.Role.DISCIPLINE_DEPT),
        "committee": staff_user(username="committee", role=StaffRole.Role.COMMITTEE),
    }


@pytest.fixture
def rect(branch, secretary, supervisor, staff):
    return raise_rect(branch, supervisor)


@pytest.mark.django_db
def test_nothing_happens_before_the_deadline(rect):
    assert services.rectifications_sweep(now=DUE) == {"overdue": 0, "escalated": 0}

    rect.refresh_from_db()
    assert rect.status == Status.OPEN and rect.overdue_at is None
    assert told(rect, "overdue") == []


@pytest.mark.django_db
def test_an_overdue_sweep_run_twice_flags_and_notifies_once(rect):
    first = DUE + dt.timedelta(minutes=1)
    second = DUE + dt.timedelta(minutes=16)

    assert services.rectifications_sweep(now=first) == {"overdue": 1, "escalated": 0}
    rows_after_first = Notification.objects.count()
    assert services.rectifications_sweep(now=second) == {"overdue": 0, "escalated": 0}

    rect.refresh_from_db()
    assert (rect.status, rect.overdue_at) == (Status.OVERDUE, first)
    assert Notification.objects.count() == rows_after_first
    # The owner and both supervision departments, each once per channel; not the 党委 yet.
    assert told(rect, "overdue") == ["discipline", "secretary", "supervisor"]
    assert Notification.objects.filter(dedupe_key=f"rectification:{rect.pk}:overdue").count() == 6  # inbox + e-mail
    assert actions(rect) == [Action.OPENED, Action.OVERDUE]


@pytest.mark.django_db
def test_a_submitted_rectification_past_its_deadline_is_not_flagged(rect, secretary):
    services.rectification_submit(rectification=rect, measures="已召开支委会。", user=secretary, now=DUE)

    result = services.rectifications_sweep(now=DUE + dt.timedelta(days=60))

    assert result == {"overdue": 0, "escalated": 0}
    rect.refresh_from_db()
    assert rect.status == Status.SUBMITTED and rect.overdue_at is None and rect.escalated_at is None
    assert told(rect, "overdue") == []


@pytest.mark.django_db
def test_an_overdue_rectification_is_escalated_once_after_the_policy_days(rect):
    policy = SupervisionPolicy.current()
    policy.escalation_days = 7
    policy.save()
    services.rectifications_sweep(now=DUE + dt.timedelta(hours=1))

    # Six days and a bit late: not yet.
    assert services.rectifications_sweep(now=DUE + dt.timedelta(days=6, hours=23)) == {"overdue": 0, "escalated": 0}
    assert told(rect, "escalated") == []

    at = DUE + dt.timedelta(days=7, minutes=1)
    assert services.rectifications_sweep(now=at) == {"overdue": 0, "escalated": 1}
    assert services.rectifications_sweep(now=at + dt.timedelta(days=1)) == {"overdue": 0, "escalated": 0}

    rect.refresh_from_db()
    assert rect.escalated_at == at
    assert told(rect, "escalated") == ["committee", "discipline", "secretary", "supervisor"]
    assert actions(rect) == [Action.OPENED, Action.OVERDUE, Action.ESCALATED]
    assert rect.events.get(action=Action.ESCALATED).text == "逾期 7 天仍未整改"


@pytest.mark.django_db
def test_a_sweep_after_a_long_pause_flags_and_escalates_in_one_run(rect):
    result = services.rectifications_sweep(now=DUE + dt.timedelta(days=40))

    assert result == {"overdue": 1, "escalated": 1}
    assert actions(rect) == [Action.OPENED, Action.OVERDUE, Action.ESCALATED]


@pytest.mark.django_db
def test_a_rejected_answer_past_the_deadline_is_overdue_again_without_a_second_overdue_notice(
    rect, secretary, supervisor
):
    services.rectifications_sweep(now=DUE + dt.timedelta(hours=1))
    first_overdue = Notification.objects.filter(dedupe_key=f"rectification:{rect.pk}:overdue").count()
    services.rectification_submit(
        rectification=rect, measures="补开支委会。", user=secretary, now=DUE + dt.timedelta(days=2)
    )
    rejected_at = DUE + dt.timedelta(days=3)

    services.rectification_reject(rectification=rect, reason="会议记录不完整。", user=supervisor, now=rejected_at)
    rect.refresh_from_db()
    # Overdue at once, still marked from the first time it was flagged.
    assert (rect.status, rect.overdue_at) == (Status.OVERDUE, DUE + dt.timedelta(hours=1))

    assert services.rectifications_sweep(now=rejected_at + dt.timedelta(minutes=15)) == {"overdue": 0, "escalated": 0}
    assert Notification.objects.filter(dedupe_key=f"rectification:{rect.pk}:overdue").count() == first_overdue
    # The rejection itself is told to the owner.
    assert told(rect, f"rejected:{rejected_at.isoformat()}") == ["secretary"]


@pytest.mark.django_db
def test_a_rejected_answer_before_the_deadline_becomes_overdue_at_the_sweep_after_it(rect, secretary, supervisor):
    services.rectification_submit(rectification=rect, measures="补开支委会。", user=secretary, now=NOW)
    services.rectification_reject(rectification=rect, reason="会议记录不完整。", user=supervisor, now=NOW)
    rect.refresh_from_db()
    assert rect.status == Status.OPEN

    assert services.rectifications_sweep(now=DUE + dt.timedelta(minutes=5))["overdue"] == 1
    rect.refresh_from_db()
    assert rect.status == Status.OVERDUE
    assert told(rect, "overdue") == ["discipline", "secretary", "supervisor"]


@pytest.mark.django_db
def test_an_escalated_rectification_answered_and_rejected_is_not_escalated_again(rect, secretary, supervisor):
    services.rectifications_sweep(now=DUE + dt.timedelta(days=30))
    services.rectification_submit(
        rectification=rect, measures="补开。", user=secretary, now=DUE + dt.timedelta(days=31)
    )
    services.rectification_reject(rectification=rect, reason="不实。", user=supervisor, now=DUE + dt.timedelta(days=32))

    assert services.rectifications_sweep(now=DUE + dt.timedelta(days=40)) == {"overdue": 0, "escalated": 0}
    assert actions(rect).count(Action.ESCALATED) == 1


@pytest.mark.django_db
def test_verified_rectifications_are_left_alone(rect, secretary, supervisor):
    services.rectification_submit(rectification=rect, measures="补开支委会。", user=secretary, now=NOW)
    services.rectification_verify(rectification=rect, user=supervisor, now=NOW)

    assert services.rectifications_sweep(now=DUE + dt.timedelta(days=60)) == {"overdue": 0, "escalated": 0}


@pytest.mark.django_db
def test_an_overdue_rectification_without_owner_is_told_to_the_branch_committee(branch, supervisor, secretary, staff):
    rect = raise_rect(branch, supervisor)
    rect.owner = None
    rect.save(update_fields=["owner"])

    services.rectifications_sweep(now=DUE + dt.timedelta(minutes=1))

    assert told(rect, "overdue") == ["discipline", "secretary", "supervisor"]


@pytest.mark.django_db
def test_each_overdue_rectification_is_handled_on_its_own(branch, other_branch, secretary, other_secretary, supervisor):
    mine = raise_rect(branch, supervisor)
    theirs = raise_rect(other_branch, supervisor, due_at=DUE + dt.timedelta(days=10))

    assert services.rectifications_sweep(now=DUE + dt.timedelta(days=1))["overdue"] == 1
    assert services.rectifications_sweep(now=DUE + dt.timedelta(days=11))["overdue"] == 1

    assert told(mine, "overdue") == ["secretary", "supervisor"]
    assert told(theirs, "overdue") == ["other_secretary", "supervisor"]


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 10])
def test_a_sweep_with_nothing_due_makes_three_queries(branch, secretary, supervisor, count, django_assert_num_queries):
    for _ in range(count):
        raise_rect(branch, supervisor)
    SupervisionPolicy.current()

    with django_assert_num_queries(3):
        services.rectifications_sweep(now=NOW + dt.timedelta(days=1))
