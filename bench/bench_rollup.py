"""The compliance rollup: rebuilding it, and reading a closed year from it instead of computing it.

- ``rollup_rebuild_vs_engine``: ``rebuild_rollups`` for the bench year (delete, the engine over
  every branch, bulk insert) against the engine alone: the cost of storing what was computed.
- ``rollup_read_vs_engine``: ``compliance()`` of the closed year read from the rollup against
  the engine computing it (what the matrix and scoring of a past year no longer pay).
Both must give the same cells.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from bench.dataset import YEAR
from bench.run import Measure, best_of
from meetings.compliance import compliance, compute_live
from meetings.rollups import refresh_rollups
from org.models import Organization


def measure() -> list[Measure]:
    start, end = dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31)
    now = timezone.now()
    branches = list(Organization.objects.branches().active().order_by("sort_order", "id"))

    def engine():
        return compute_live(branches=branches, start=start, end=end, now=now)

    def rebuild():
        return refresh_rollups(branch_ids=None, years=[YEAR], now=now)

    def read():
        return compliance(branches=branches, start=start, end=end, now=now)

    rebuild()
    live, stored = engine(), read()
    flat = lambda r: [(c.rule.pk, c.branch_id, c.group_id, c.start, c.outcome, c.count) for c in r.cells]  # noqa: E731
    assert flat(live) == flat(stored), "the rollup and the engine disagree"
    engine_time = rebuild_time = read_time = float("inf")
    for _ in range(3):
        engine_time = min(engine_time, best_of(1, engine))
        rebuild_time = min(rebuild_time, best_of(1, rebuild))
        read_time = min(read_time, best_of(1, read))
    return [
        Measure("rollup_rebuild_vs_engine", rebuild_time / engine_time, "x", "<=", 10),
        Measure("rollup_read_vs_engine", read_time / engine_time, "x", "<=", 0.5),
    ]
