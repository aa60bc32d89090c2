"""The big pages at group scale under load, as p95 ratios against the plain page (我的请假).

gunicorn (2 sync workers, DEBUG off) on the bench database, 8 concurrent signed-in clients;
for each page BENCH_PAGE_SECONDS (default 15 s) of alternating slices: all clients on the plain
page, then all on the page (bench/load.py), so both are measured under the same load.
Seven pages x 15 s keeps the module under ~2 minutes plus the server's start.
"""

from __future__ import annotations

import datetime as dt
import os

from django.urls import reverse
from django.utils import timezone

from bench import load
from bench.dataset import YEAR
from bench.run import Measure


def _run_pk(username: str) -> int:
    """The year's assessment run of the bench data set, computed once and kept in the database."""
    from assessment.models import Run
    from assessment.services import run_compute, run_create
    from org.models import User

    run = Run.objects.filter(kind="year", period_start=dt.date(YEAR, 1, 1)).first()
    if run is None:
        from django.apps import apps

        from assessment.defaults import load_default_scheme

        load_default_scheme(apps, YEAR)
        now = timezone.now()
        user = User.objects.get(username=username)
        run = run_create(kind="year", period_start=dt.date(YEAR, 1, 1), user=user, now=now)
        run = run_compute(run=run, now=now)
    return run.pk


def pages(users: load.BenchUsers) -> dict[str, tuple[str, str | None]]:
    sup = users.supervisor
    return {
        "compliance": (reverse("meetings:compliance_matrix") + f"?year={YEAR}", sup),
        "trend": (reverse("assessment:trend"), sup),
        "supervisor_home": (reverse("home"), sup),
        "meetings": (reverse("meetings:meeting_list"), sup),
        "review": (reverse("supervision:review_queue"), sup),
        "findings": (reverse("supervision:finding_list"), sup),
        "run_detail": (reverse("assessment:run_detail", args=[_run_pk(sup)]), sup),
    }


def measure() -> list[Measure]:
    seconds = float(os.environ.get("BENCH_PAGE_SECONDS", "15"))
    users = load.bench_users()
    ratios = load.compare_pages(pages(users), clients=8, seconds=seconds)
    return [Measure(f"page_{name}_p95_vs_plain", ratio, "x", "<=", 3) for name, ratio in ratios.items()]
