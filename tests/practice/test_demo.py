"""The demo's practice: a year of themed 主题党日 with activities, hazards in every state, a visit to a
red-education base, a few 先锋岗 — seeded by ``seed_demo_activity``."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from meetings.models import Meeting, Place
from practice.models import Activity, Hazard, PioneerPost
from practice.selectors import hazard_counts
from tasks.models import Task

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def seeded(db, settings, tmp_path):
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


@pytest.mark.django_db
def test_the_demo_has_a_year_of_themed_theme_days_with_activities_hazards_a_base_visit_and_pioneers(seeded):
    theme_days = Meeting.objects.filter(types__code="theme_day", actual_start__gte=NOW - dt.timedelta(days=365))
    assert theme_days.count() >= 12 * 8 - 8
    themes = set(theme_days.values_list("theme_tags__name", flat=True))
    assert {"安全我先行", "节能减排", "红色教育"} <= themes
    assert not theme_days.filter(activities__isnull=True).exists()
    assert Activity.objects.filter(kind__name="观看警示片/学习").exists()

    base = Place.objects.get(kind=Place.Kind.EDUCATION_BASE)
    visit = Meeting.objects.get(venue=base)
    assert (visit.latitude, visit.longitude) == (base.latitude, base.longitude)
    assert visit.type_codes() >= {"theme_day"}

    hazards = Hazard.objects.select_related("task")
    assert hazards.count() == 10 and all(h.task.source == Task.Source.HAZARD for h in hazards)
    assert {h.task.status for h in hazards} >= {"todo", "submitted", "done", "returned"}
    counts = hazard_counts(now=NOW)
    assert len(counts) == 2
    for c in counts.values():
        assert (c.found, c.closed, c.overdue) == (5, 2, 1)
    assert PioneerPost.objects.count() == 3
