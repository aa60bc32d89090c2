"""The 3-day filing rule counts calendar days in Asia/Shanghai, stored once as Meeting.minutes_due_at."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from assessment.scoring import compute_scores
from meetings import reminders
from meetings.deadlines import minutes_due_at
from meetings.models import Meeting, MeetingPolicy
from supervision.models import Flag
from supervision.services.integrity import meeting_checks
from tests.factories import BranchFactory, MeetingFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def held(branch, at, **fields):
    return MeetingFactory(
        branch=branch,
        planned_start=at,
        planned_end=at + dt.timedelta(minutes=90),
        actual_start=at,
        actual_end=at + dt.timedelta(minutes=90),
        status=fields.pop("status", Meeting.Status.HELD),
        **fields,
    )


def test_a_meeting_on_10_march_is_due_at_14_march_midnight_in_shanghai():
    assert minutes_due_at(dt.date(2026, 3, 10), days=3) == local(2026, 3, 14, 0, 0)
    meeting = held(BranchFactory(), local(2026, 3, 10, 20, 0))
    assert meeting.minutes_due_at == local(2026, 3, 14, 0, 0)


def test_a_meeting_at_23_30_on_the_last_day_of_a_month_is_due_by_the_end_of_the_third_day_after():
    # 23:30 on 31 March in Shanghai is 15:30 UTC the same day; the due day is 3 April, whole.
    meeting = held(BranchFactory(), local(2026, 3, 31, 23, 30))
    assert meeting.held_on == dt.date(2026, 3, 31)
    assert meeting.minutes_due_at == local(2026, 4, 4, 0, 0)


def test_the_deadline_moves_with_the_held_date_whenever_it_is_saved():
    meeting = MeetingFactory(planned_start=local(2026, 3, 10, 9), planned_end=local(2026, 3, 10, 10))
    assert meeting.minutes_due_at == local(2026, 3, 14)
    meeting.actual_start, meeting.actual_end = local(2026, 3, 12, 9), local(2026, 3, 12, 10)
    meeting.save(update_fields=["actual_start", "actual_end"])
    meeting.refresh_from_db()
    assert meeting.minutes_due_at == local(2026, 3, 16)
    meeting.topic = "改了主题"
    meeting.save(update_fields=["topic"])  # not a held date: the deadline is kept
    meeting.refresh_from_db()
    assert meeting.minutes_due_at == local(2026, 3, 16)


def test_a_new_filing_rule_applies_to_records_not_yet_submitted():
    branch = BranchFactory()
    open_record = held(branch, local(2026, 3, 10, 20))
    filed = held(branch, local(2026, 3, 10, 20), status=Meeting.Status.SUBMITTED, submitted_at=local(2026, 3, 11, 9))

    Meeting.objects.filter(submitted_at__isnull=True).refresh_minutes_due(days=5)

    open_record.refresh_from_db()
    filed.refresh_from_db()
    assert open_record.minutes_due_at == local(2026, 3, 16)
    assert filed.minutes_due_at == local(2026, 3, 14)


def test_the_sweep_flags_a_record_at_14_march_00_00_and_not_at_13_march_23_59(secretary, branch):
    meeting = held(branch, local(2026, 3, 10, 20, 0))

    assert reminders.flag_overdue_minutes(now=local(2026, 3, 13, 23, 59, 59)) == 0
    assert reminders.flag_overdue_minutes(now=local(2026, 3, 14, 0, 0)) == 1
    meeting.refresh_from_db()
    assert meeting.minutes_overdue_at == local(2026, 3, 14, 0, 0)


def test_the_integrity_check_counts_entry_at_13_march_23_59_on_time_and_at_14_march_00_00_late():
    branch = BranchFactory()
    meeting = held(branch, local(2026, 3, 10, 20, 0), minutes_entered_at=local(2026, 3, 13, 23, 59))
    kinds = [f.kind for f in meeting_checks(meeting=meeting, now=local(2026, 4, 1))]
    assert Flag.Kind.LATE_ENTRY not in kinds

    Meeting.objects.filter(pk=meeting.pk).update(minutes_entered_at=local(2026, 3, 14, 0, 0))
    meeting.refresh_from_db()
    kinds = [f.kind for f in meeting_checks(meeting=meeting, now=local(2026, 4, 1))]
    assert Flag.Kind.LATE_ENTRY in kinds


def test_the_score_counts_a_submission_at_14_march_00_00_late_and_at_13_march_23_59_on_time():
    from django.apps import apps

    from assessment.defaults import load_default_scheme

    scheme = load_default_scheme(apps, 2026)
    on_time, late = BranchFactory(name="按时支部"), BranchFactory(name="逾期支部")
    for branch, submitted in ((on_time, local(2026, 3, 13, 23, 59)), (late, local(2026, 3, 14, 0, 0))):
        held(branch, local(2026, 3, 10, 20), status=Meeting.Status.APPROVED, submitted_at=submitted)

    scores = compute_scores(
        scheme=scheme,
        kind="year",
        branches=[on_time, late],
        start=dt.date(2026, 1, 1),
        end=dt.date(2027, 1, 1),
        now=local(2027, 1, 10),
    )

    def late_lines(branch):
        result = next(r for r in scores.results if r.branch.pk == branch.pk)
        return [line for item in result.items if item.item.kind == "minutes_late" for line in item.lines]

    assert late_lines(on_time) == []
    assert len(late_lines(late)) == 1


def test_the_policy_days_default_to_three():
    assert MeetingPolicy.current().minutes_due_days == 3


def test_the_migration_backfills_the_deadline_from_the_held_day():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("meetings.migrations.0004_backfill_minutes_due_monthly_general_rule")
    meeting = held(BranchFactory(), local(2026, 3, 31, 23, 30))
    Meeting.objects.filter(pk=meeting.pk).update(minutes_due_at=None)

    migration.backfill_minutes_due(apps, None)

    meeting.refresh_from_db()
    assert meeting.minutes_due_at == local(2026, 4, 4, 0, 0)


def test_changing_the_days_in_the_admin_re_dates_the_records_not_yet_submitted(rf):
    from django.contrib.admin.sites import site

    branch = BranchFactory()
    open_record = held(branch, local(2026, 3, 10, 20))
    policy = MeetingPolicy.current()
    model_admin = site._registry[MeetingPolicy]
    form_class = model_admin.get_form(rf.get("/"), policy, change=True)
    data = {f: getattr(policy, f) for f in form_class.base_fields}
    form = form_class({**data, "minutes_due_days": 5}, instance=policy)
    assert form.is_valid(), form.errors

    model_admin.save_model(rf.get("/"), form.save(commit=False), form, change=True)

    open_record.refresh_from_db()
    assert open_record.minutes_due_at == local(2026, 3, 16)
