"""The compliance rollup equals the live computation: on the demo data, and after every kind of change."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessment.participation import monthly_rates
from meetings import rollups
from meetings.compliance import Outcome, compliance, compute_live
from meetings.models import Attendance, AttendanceRollup, CadenceRule, ComplianceRollup, Exemption, Meeting
from meetings.tasks import refresh_branch_rollups
from org.models import Organization, User

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
YEARS = ((dt.date(2025, 1, 1), dt.date(2025, 12, 31)), (dt.date(2026, 1, 1), dt.date(2026, 12, 31)))


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence"), "base_url": None},
        },
    }
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", stdout=StringIO())
        call_command("seed_demo_activity", stdout=StringIO())
        out = StringIO()
        call_command("rebuild_rollups", stdout=out)
    assert "rollup:" in out.getvalue()
    return Organization.objects.branches().order_by("sort_order", "id")


def _flat(result):
    return [
        (
            c.rule.pk,
            c.branch_id,
            c.group_id,
            c.start,
            c.end,
            c.outcome,
            c.count,
            c.on_time_count,
            c.meeting_ids,
            c.exemption,
        )
        for c in result.cells
    ]


def assert_attendance_rollup_equals_live(branches, *, now=NOW):
    """The trend's months read from the attendance rollup equal the months counted live."""
    today = now.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    start, end = dt.date(2025, 1, 1), dt.date(2027, 1, 1)
    assert monthly_rates(start=start, end=end, today=today) == monthly_rates(start=start, end=end)
    for branch in list(branches)[:3]:
        assert monthly_rates(start=start, end=end, branch_id=branch.pk, today=today) == monthly_rates(
            start=start, end=end, branch_id=branch.pk
        )


def assert_rollup_equals_live(branches, *, now=NOW):
    branches = list(branches)
    assert_attendance_rollup_equals_live(branches, now=now)
    for start, end in YEARS:
        live = compute_live(branches=branches, start=start, end=end, now=now)
        read = compliance(branches=branches, start=start, end=end, now=now)
        assert _flat(read) == _flat(live)
        # and branch by branch, as the branch page asks
        for branch in branches[:3]:
            assert _flat(compliance(branches=[branch], start=start, end=end, now=now)) == _flat(
                compute_live(branches=[branch], start=start, end=end, now=now)
            )


@pytest.fixture
def worker(monkeypatch, django_capture_on_commit_callbacks):
    """After commit, the queued task runs here at once (the thread and the broker replaced by a direct call)."""

    class Now:
        def __init__(self, target, args, name):
            self.target, self.args = target, args

        def start(self):
            self.target(*self.args)

    monkeypatch.setattr(rollups.threading, "Thread", Now)
    # The seeding's own callback waits on the test's transaction, which never commits: drop it.
    connection.__dict__.pop("rollup_pending", None)
    connection.run_on_commit = [e for e in connection.run_on_commit if e[1] is not rollups._flush]
    sent = []

    def apply_async(args, retry=False):
        sent.append(args[0])
        return refresh_branch_rollups.apply(args)

    monkeypatch.setattr(refresh_branch_rollups, "apply_async", apply_async)
    return sent


def test_the_rollup_of_the_demo_equals_the_live_computation_for_every_branch_and_month(demo):
    assert ComplianceRollup.objects.exists()
    # only closed periods are stored: nothing ending on or after the day of NOW (2026-11-24)
    assert not ComplianceRollup.objects.filter(period_end__gte=dt.date(2026, 11, 24)).exists()
    assert ComplianceRollup.objects.filter(period_start=dt.date(2026, 10, 1)).exists()
    assert_rollup_equals_live(demo)


def test_a_closed_year_is_read_from_the_rollup_with_no_meeting_query(demo, django_assert_max_num_queries):
    branches = list(demo)
    with django_assert_max_num_queries(4) as ctx:
        compliance(branches=branches, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31), now=NOW)
    assert not any("meetings_meeting" in q["sql"] for q in ctx.captured_queries)


def test_a_missing_row_falls_back_to_live_and_a_stale_row_is_what_the_worker_repairs(demo):
    branch = demo.first()
    ComplianceRollup.objects.filter(branch=branch, period_start=dt.date(2026, 3, 1)).delete()
    assert_rollup_equals_live([branch])


def _refreshed(worker, branch):
    assert branch.pk in {i for ids in worker for i in (ids or [branch.pk])}
    worker.clear()
    assert_rollup_equals_live(Organization.objects.branches().order_by("sort_order", "id"))


def _held_meeting(branch, month):
    return (
        Meeting.objects.filter(branch=branch, status=Meeting.Status.APPROVED, counts_for__gte=month)
        .order_by("counts_for")
        .first()
    )


def test_a_meeting_cancelled_returned_or_held_again_is_rolled_up_after_commit(
    demo, worker, django_capture_on_commit_callbacks
):
    branch = demo.first()
    meeting = _held_meeting(branch, dt.date(2026, 3, 1))
    assert meeting is not None
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            meeting.status = Meeting.Status.CANCELLED
            meeting.cancel_reason = "井下抢险"
            meeting.save()
        _refreshed(worker, branch)
        with django_capture_on_commit_callbacks(execute=True):
            meeting.status = Meeting.Status.RETURNED
            meeting.cancel_reason = ""
            meeting.save()
        _refreshed(worker, branch)
        with django_capture_on_commit_callbacks(execute=True):
            # made up later: counts for an earlier month, now late
            meeting.counts_for = dt.date(2026, 2, 1)
            meeting.save()
        _refreshed(worker, branch)
        with django_capture_on_commit_callbacks(execute=True):
            meeting.delete()
        _refreshed(worker, branch)


def test_an_exemption_added_is_rolled_up(demo, worker, django_capture_on_commit_callbacks):
    branch = demo.get(name="运输队党支部")
    rule = CadenceRule.objects.filter(
        is_active=True, period=CadenceRule.Period.MONTH, scope=CadenceRule.Scope.BRANCH
    ).first()
    live = compute_live(branches=[branch], start=dt.date(2025, 1, 1), end=dt.date(2026, 10, 31), now=NOW)
    unmet = [c for c in live.cells if c.rule.pk == rule.pk and c.outcome in (Outcome.MISSING, Outcome.LATE)]
    assert unmet, "the demo's weak branch has a missing or late month"
    period_start = unmet[0].start
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            Exemption.objects.create(
                branch=branch,
                rule=rule,
                period_start=period_start,
                reason="测试",
                approved_by=User.objects.filter(is_superuser=True).first() or User.objects.first(),
                approved_at=NOW,
            )
        _refreshed(worker, branch)
    cell = compliance(branches=[branch], start=period_start, end=period_start, now=NOW, rules=[rule]).cells[0]
    assert cell.outcome == Outcome.EXEMPT
    assert ComplianceRollup.objects.get(branch=branch, rule=rule, period_start=period_start).outcome == Outcome.EXEMPT


def test_a_branch_dissolved_and_a_group_moved_are_rolled_up(demo, worker, django_capture_on_commit_callbacks):
    branch = demo.first()
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            branch.dissolved_on = dt.date(2026, 5, 15)
            branch.is_active = False
            branch.save()
        _refreshed(worker, branch)


def test_many_changes_in_one_transaction_send_one_task(demo, worker, django_capture_on_commit_callbacks):
    branch = demo.first()
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        for m in Meeting.objects.filter(branch=branch, status=Meeting.Status.APPROVED)[:5]:
            m.status = Meeting.Status.CANCELLED
            m.cancel_reason = "井下抢险"
            m.save()
    assert worker == [[branch.pk]]
    assert_rollup_equals_live([branch])


def test_the_rebuild_is_idempotent(demo):
    before = ComplianceRollup.objects.count()
    with time_machine.travel(NOW, tick=False):
        call_command("rebuild_rollups", stdout=StringIO())
    assert ComplianceRollup.objects.count() == before


def test_the_running_year_reads_the_rollup_and_costs_the_same_at_one_and_every_branch(demo):
    """The rollup read, the groups, then per running period (month, quarter, half, year) exemptions + meetings."""
    branches = list(demo)
    counts = []
    for chosen in (branches[:1], branches):
        with CaptureQueriesContext(connection) as ctx:
            result = compliance(branches=chosen, start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31), now=NOW)
        counts.append(len(ctx.captured_queries))
        assert result.cells
    assert counts[0] == counts[1]
    live_starts = {c.start for c in result.cells if c.end >= dt.date(2026, 11, 24)}
    assert counts == [9, 9]
    assert len(live_starts) <= 4  # the running month, quarter, half year, year


def test_the_attendance_rollup_has_every_branch_and_closed_month_and_the_trend_reads_it(
    demo, django_assert_max_num_queries
):
    branches = demo.count()
    # Jan 2025 .. Oct 2026 are over on 2026-11-24; November is still running
    assert AttendanceRollup.objects.count() == branches * 22
    assert not AttendanceRollup.objects.filter(month__gte=dt.date(2026, 11, 1)).exists()
    assert AttendanceRollup.objects.filter(expected__gt=0).exists()
    with django_assert_max_num_queries(3) as ctx:
        monthly_rates(start=dt.date(2025, 1, 1), end=dt.date(2026, 11, 1), today=dt.date(2026, 11, 24))
    assert len(ctx.captured_queries) == 2  # the branch count and the rollup's sums
    assert not any('"meetings_attendance"' in q["sql"] for q in ctx.captured_queries)


def test_a_missing_attendance_row_falls_back_to_live(demo):
    branch = demo.first()
    AttendanceRollup.objects.filter(branch=branch, month=dt.date(2026, 3, 1)).delete()
    assert_attendance_rollup_equals_live(demo)


def test_an_attendance_changed_in_a_closed_month_is_rolled_up_after_commit(
    demo, worker, django_capture_on_commit_callbacks
):
    branch = demo.first()
    meeting = _held_meeting(branch, dt.date(2026, 3, 1))
    row = meeting.attendances.filter(status=Attendance.Status.PRESENT).first()
    assert row is not None
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            row.status = Attendance.Status.ABSENT
            row.save()
        _refreshed(worker, branch)
        with django_capture_on_commit_callbacks(execute=True):
            row.delete()
        _refreshed(worker, branch)
