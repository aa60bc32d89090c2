"""The 党建+业务 dashboard is set-based: a 党总支 of 1,000 branches costs the same queries as one of 100.

The 党总支, its branches, a 技术攻关 project per branch and a 主题党日 in every tenth branch are made
for the measure inside a transaction that is rolled back, so the data set is left as it was. The
measure is the queries of the whole page (``sanhui.views_dashboard.dashboard``, as a superuser,
scoped to that 党总支) at 1,000 branches minus at 100.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bench.run import Measure, setup_django

if __name__ == "__main__":
    setup_django()

from django.conf import settings
from django.db import connection, transaction
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from meetings.models import Meeting, MeetingType
from org.models import Member, Organization, User
from practice.models import Project
from sanhui.views_dashboard import dashboard

SIZES = (100, 1000)


class _Rollback(Exception):
    pass


def _general_branch(n: int, now: dt.datetime) -> Organization:
    general = Organization.objects.create(name=f"测试党总支{n}", kind=Organization.Kind.GENERAL_BRANCH)
    orgs = Organization.objects.bulk_create(
        Organization(name=f"看板{n}支部{i}", kind=Organization.Kind.BRANCH, parent=general, sort_order=200000 + i)
        for i in range(n)
    )
    leader = Member.objects.create(name="攻关负责人", gender="M", id_number=f"D{n:017d}"[-18:])
    Project.objects.bulk_create(
        Project(
            branch=o,
            title=f"攻关{i}",
            problem="电耗高",
            source=Project.Source.COST,
            leader=leader,
            started_on=now.date(),
            metric="吨煤电耗",
            baseline_value=Decimal("20"),
            target_value=Decimal("17"),
            money_estimate=Decimal("1000"),
            state=Project.State.VERIFIED if i % 2 else Project.State.IN_PROGRESS,
            created_at=now - dt.timedelta(days=30),
            verified_at=now - dt.timedelta(days=1) if i % 2 else None,
        )
        for i, o in enumerate(orgs)
    )
    meetings = Meeting.objects.bulk_create(
        Meeting(
            branch=o,
            topic="安全我先行",
            planned_start=now - dt.timedelta(days=3),
            planned_end=now - dt.timedelta(days=3, hours=-2),
            actual_start=now - dt.timedelta(days=3),
            place="活动室",
            status=Meeting.Status.SUBMITTED,
        )
        for o in orgs[::10]
    )
    theme_day = MeetingType.objects.get(code=MeetingType.Code.THEME_DAY)
    Meeting.types.through.objects.bulk_create(
        Meeting.types.through(meeting_id=m.pk, meetingtype_id=theme_day.pk) for m in meetings
    )
    return general


def queries_of_dashboard(n: int) -> int:
    now = timezone.now()
    count = 0
    try:
        with transaction.atomic():
            user = User.objects.create(username=f"bench-dashboard-{n}", is_superuser=True, is_staff=True)
            general = _general_branch(n, now)
            request = RequestFactory().get("/dashboard/", {"scope": general.pk})
            request.user = user
            dashboard(request)  # the scope and the session-free context processors warm up
            with CaptureQueriesContext(connection) as captured:
                response = dashboard(request)
            assert response.status_code == 200, response.status_code
            count = len(captured)
            raise _Rollback
    except _Rollback:
        pass
    return count


def measure() -> list[Measure]:
    # The page is rendered in-process: static URLs without the collected manifest (no query either way).
    plain = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(STORAGES=plain):
        small, large = (queries_of_dashboard(n) for n in SIZES)
    return [Measure("dashboard_query_growth", large - small, "queries", "=", 0)]


if __name__ == "__main__":
    # Alone: BENCH_SCALE=S .venv/bin/python -m bench.bench_dashboard (needs only the migrated bench database).
    for m in measure():
        print(m.line())
