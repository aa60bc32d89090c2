"""Record checks (late entry, missing photo), the sweep of submitted records, flag decisions and the flag reads."""

import datetime as dt
import random

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from meetings.models import AgendaItem, Meeting, MeetingType, Speech
from supervision.models import Evidence, Flag, MeetingCheck
from supervision.selectors.integrity import (
    flags_for_meeting,
    flags_for_meetings,
    open_flag_counts,
    with_open_flag_count,
)
from supervision.services.integrity import flag_decide, meeting_checks, meetings_check_due
from tests.factories import BranchFactory, MemberFactory
from tests.supervision.conftest import local, meeting_held
from tests.supervision.test_integrity_photos import make_evidence, set_policy

NOW = local(2026, 6, 1, 9)


def kinds(meeting):
    return sorted(Flag.objects.filter(meeting=meeting).values_list("kind", flat=True))


# --- Late entry ---------------------------------------------------------------------------


def entered(meeting, at):
    Meeting.objects.filter(pk=meeting.pk).update(minutes_entered_at=at)
    meeting.refresh_from_db()
    return meeting


@pytest.mark.django_db
def test_minutes_entered_long_after_the_meeting_are_flagged_with_the_delay(branch):
    start = local(2026, 5, 1, 9)
    meeting = entered(meeting_held(branch, start=start), local(2026, 5, 11, 15, 45))
    make_evidence(meeting, name="p.jpg")
    (flag,) = meeting_checks(meeting=meeting, now=NOW)
    assert flag.kind == Flag.Kind.LATE_ENTRY
    assert flag.message == (
        "会议记录在会后第 10 天才录入（会议召开于 2026年5月1日 09:00，记录录入于 2026年5月11日 15:45，"
        "应于 2026年5月4日 24:00 前录入）"
    )


@pytest.mark.django_db
def test_minutes_entered_by_the_filing_deadline_are_not_late_and_at_it_are(branch):
    # The late-entry warning follows the filing rule: held 1 May, due by the end of 4 May.
    meeting = entered(meeting_held(branch, start=local(2026, 5, 1, 20)), local(2026, 5, 4, 23, 59))
    make_evidence(meeting, name="p.jpg")
    assert meeting.minutes_due_at == local(2026, 5, 5, 0, 0)
    assert meeting_checks(meeting=meeting, now=NOW) == []
    entered(meeting, local(2026, 5, 5, 0, 0))
    assert [f.kind for f in meeting_checks(meeting=meeting, now=NOW)] == [Flag.Kind.LATE_ENTRY]
    set_policy(late_entry_grace_days=1)
    assert meeting_checks(meeting=meeting, now=NOW) == []


# --- Missing photo ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_meeting_type_that_requires_a_photo_is_flagged_when_none_was_uploaded(branch):
    meeting = meeting_held(branch, start=local(2026, 5, 1, 9), types=("general_meeting", "party_lesson"))
    make_evidence(meeting, name="sheet.jpg", category=Evidence.Category.SIGNIN)
    make_evidence(meeting, name="broken.jpg", status=Evidence.Status.FAILED)
    (flag,) = meeting_checks(meeting=meeting, now=NOW)
    assert flag.kind == Flag.Kind.MISSING_PHOTO
    assert flag.message == "会议类型（支部党员大会、党课）要求上传会议照片，但未上传"


@pytest.mark.django_db
def test_the_missing_photo_flag_goes_once_a_photo_is_there_and_never_comes_for_types_without_the_rule(branch):
    meeting = meeting_held(branch, start=local(2026, 5, 1, 9))
    meeting_checks(meeting=meeting, now=NOW)
    assert kinds(meeting) == [Flag.Kind.MISSING_PHOTO]
    make_evidence(meeting, name="p.jpg", status=Evidence.Status.PROCESSING)
    meeting_checks(meeting=meeting, now=NOW)
    assert kinds(meeting) == []

    MeetingType.objects.filter(code="committee_meeting").update(requires_photo=False)
    committee = meeting_held(branch, start=local(2026, 5, 2, 9), types=("committee_meeting",))
    assert meeting_checks(meeting=committee, now=NOW) == []


# --- The sweep of submitted records ------------------------------------------------------


def chinese_minutes(meeting, rnd):
    """Minutes of 200 random common characters: unlike any other meeting's."""
    text = "".join(chr(rnd.randrange(0x4E00, 0x9FA5)) for _ in range(200))
    item = AgendaItem.objects.create(meeting=meeting, order=1, title="学习讨论")
    Speech.objects.create(agenda_item=item, speaker=MemberFactory(), points=text, order=1)


@pytest.mark.django_db
def test_the_sweep_checks_only_submitted_records_not_checked_since_their_submission(branch):
    day = local(2026, 5, 1, 9)
    new = meeting_held(branch, start=day)
    resubmitted = meeting_held(branch, start=day + dt.timedelta(days=1))
    MeetingCheck.objects.create(meeting=resubmitted, checked_at=resubmitted.submitted_at - dt.timedelta(days=1))
    checked = meeting_held(branch, start=day + dt.timedelta(days=2))
    MeetingCheck.objects.create(meeting=checked, checked_at=checked.submitted_at + dt.timedelta(hours=1))
    untouched = [
        meeting_held(branch, start=day + dt.timedelta(days=3 + i), status=status)
        for i, status in enumerate(["held", "approved", "returned"])
    ]

    assert meetings_check_due(now=NOW) == 2
    assert kinds(new) == kinds(resubmitted) == [Flag.Kind.MISSING_PHOTO]
    assert MeetingCheck.objects.get(meeting=resubmitted).checked_at == NOW
    assert not Flag.objects.filter(meeting__in=[checked, *untouched]).exists()
    assert MeetingCheck.objects.get(meeting=checked).checked_at < NOW
    assert not MeetingCheck.objects.filter(meeting__in=untouched).exists()

    # Run again (a second beat): nothing is due, nothing doubles.
    assert meetings_check_due(now=NOW + dt.timedelta(minutes=5)) == 0
    assert Flag.objects.count() == 2

    # Returned, corrected and submitted again: due once more.
    Meeting.objects.filter(pk=new.pk).update(submitted_at=NOW + dt.timedelta(days=1))
    assert meetings_check_due(now=NOW + dt.timedelta(days=1, minutes=1)) == 1
    assert Flag.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("n", [1, 2, 4])
def test_the_sweeps_queries_are_a_fixed_number_per_record(branch, n):
    rnd = random.Random(n)
    for i in range(n):
        meeting = meeting_held(branch, start=local(2026, 5, 1 + i, 9))
        chinese_minutes(meeting, rnd)
    meetings_check_due(now=NOW)  # the policy row, made once, is not the sweep's to count
    Meeting.objects.update(submitted_at=NOW + dt.timedelta(hours=1))
    with CaptureQueriesContext(connection) as ctx:
        assert meetings_check_due(now=NOW + dt.timedelta(hours=2)) == n
    # Alone, a record has no other to compare its minutes with (the meetings share a topic, so
    # with two or more each finds the others as candidates): fixed either way, whatever their number.
    per_record = QUERIES_PER_RECORD if n > 1 else QUERIES_PER_RECORD - QUERIES_COMPARING
    assert len(ctx.captured_queries) == FIXED_QUERIES + per_record * n, [q["sql"][:90] for q in ctx.captured_queries]


# Reading the policy and the due ids. Per record: a savepoint and its release; lock and load the
# meeting, its agenda items, speeches, types and photos; look up bands; store the check, replace
# the bands (delete, insert); read the flags wanted (the missing-photo flag, there since the
# first run) and the flags gone; the devices that checked in several members. The minutes copy
# check adds: the speakers, the names (organisations, members), passage frequencies and candidates,
# replacing the passages (delete, insert); and with candidates: load them (meeting, items,
# speeches, speakers), their names, the frequencies of all passages, the open flags among them.
FIXED_QUERIES = 2
QUERIES_PER_RECORD = 29
QUERIES_COMPARING = 8


@pytest.mark.django_db
def test_a_failing_record_does_not_stop_the_sweep_and_stays_due(branch, monkeypatch):
    first = meeting_held(branch, start=local(2026, 5, 1, 9))
    second = meeting_held(branch, start=local(2026, 5, 2, 9))
    from supervision.services import integrity

    real = integrity._late_entry_flag

    def broken_for_first(meeting, policy):
        if meeting.pk == first.pk:
            raise RuntimeError("bad record")
        return real(meeting, policy)

    monkeypatch.setattr(integrity, "_late_entry_flag", broken_for_first)
    assert meetings_check_due(now=NOW) == 1
    assert MeetingCheck.objects.filter(meeting=second).exists()
    assert not MeetingCheck.objects.filter(meeting=first).exists()


# --- Decisions ----------------------------------------------------------------------------


@pytest.fixture
def open_flag(branch):
    meeting = meeting_held(branch, start=local(2026, 5, 1, 9))
    (flag,) = meeting_checks(meeting=meeting, now=NOW)
    return flag


@pytest.mark.django_db
def test_dismissing_a_flag_needs_a_reason_and_keeps_who_when_and_why(open_flag, supervisor):
    with pytest.raises(ValidationError) as excinfo:
        flag_decide(flag=open_flag, confirm=False, reason="  ", user=supervisor, now=NOW)
    assert excinfo.value.message_dict == {"reason": ["排除提示须填写理由。"]}
    open_flag.refresh_from_db()
    assert open_flag.status == Flag.Status.OPEN

    later = NOW + dt.timedelta(hours=3)
    flag = flag_decide(flag=open_flag, confirm=False, reason="照片已线下提交纸质版", user=supervisor, now=later)
    assert (flag.status, flag.decision_reason, flag.decided_by, flag.decided_at) == (
        Flag.Status.DISMISSED,
        "照片已线下提交纸质版",
        supervisor,
        later,
    )
    last = flag.history.latest()
    assert (last.history_type, last.history_user, last.status) == ("~", supervisor, Flag.Status.DISMISSED)


@pytest.mark.django_db
def test_a_double_submitted_decision_acts_once(open_flag, supervisor):
    first = flag_decide(flag=open_flag, confirm=True, reason="", user=supervisor, now=NOW)
    again = flag_decide(flag=open_flag, confirm=True, reason="", user=supervisor, now=NOW + dt.timedelta(seconds=2))
    assert first.status == again.status == Flag.Status.CONFIRMED
    assert again.decided_at == NOW
    assert open_flag.history.filter(history_type="~").count() == 1


@pytest.mark.django_db
def test_a_decided_flag_cannot_be_decided_otherwise(open_flag, supervisor):
    flag_decide(flag=open_flag, confirm=True, reason="", user=supervisor, now=NOW)
    with pytest.raises(ValidationError, match="已确认"):
        flag_decide(flag=open_flag, confirm=False, reason="误报", user=supervisor, now=NOW)
    open_flag.refresh_from_db()
    assert open_flag.status == Flag.Status.CONFIRMED and open_flag.decision_reason == ""


# --- Reads for the review pages ------------------------------------------------------------


def flags_with_related(meeting, n):
    """``n`` open flags on ``meeting``, each naming a meeting of another branch."""
    for i in range(n):
        other = meeting_held(BranchFactory(), start=local(2026, 4, 1 + i, 9))
        Flag.objects.create(
            meeting=meeting,
            kind=Flag.Kind.SIMILAR_MINUTES,
            key=f"similar_minutes:{other.pk}",
            message="会议记录高度相似",
            related_meeting=other,
            created_at=NOW,
        )


@pytest.mark.django_db
@pytest.mark.parametrize("n", [1, 5])
def test_a_meetings_flags_are_read_in_one_query_with_the_related_branches(branch, django_assert_num_queries, n):
    meeting = meeting_held(branch, start=local(2026, 5, 1, 9))
    flags_with_related(meeting, n)
    with django_assert_num_queries(1):
        rows = [(f.related_meeting.branch.name, f.evidence, f.decided_by) for f in flags_for_meeting(meeting)]
    assert len(rows) == n


@pytest.mark.django_db
def test_open_flags_come_first_and_counts_leave_out_decided_ones(branch, supervisor, django_assert_num_queries):
    meeting = meeting_held(branch, start=local(2026, 5, 1, 9))
    quiet = meeting_held(branch, start=local(2026, 5, 2, 9))
    flags_with_related(meeting, 3)
    first = Flag.objects.filter(meeting=meeting).order_by("pk").first()
    flag_decide(flag=first, confirm=False, reason="同一主题的不同会议", user=supervisor, now=NOW)

    assert [f.status for f in flags_for_meeting(meeting)] == ["open", "open", "dismissed"]
    with django_assert_num_queries(1):
        assert open_flag_counts([meeting.pk, quiet.pk]) == {meeting.pk: 2}
    with django_assert_num_queries(1):
        assert len(list(flags_for_meetings([meeting.pk, quiet.pk]))) == 3
    queue = with_open_flag_count(Meeting.objects.filter(pk__in=[meeting.pk, quiet.pk])).order_by("pk")
    assert [(m.pk, m.open_flag_count) for m in queue] == [(meeting.pk, 2), (quiet.pk, 0)]
    assert list(with_open_flag_count(Meeting.objects.all()).filter(open_flag_count__gt=0)) == [meeting]
