"""The annual assessment of every branch of the mine against the compliance matrix of the same year.

The assessment (``assessment.scoring.compute_scores`` with the default scheme) runs the
compliance engine for the five rules its cadence items name, then one aggregate per
automatic kind (records returned, minutes late, attendance over ~900,000 rows a year,
confirmed flags, findings, overdue rectifications) and folds everything into items,
deduction lines, totals, grades and ranks. The baseline is the compliance matrix itself
(every active rule, every branch, every period of the year), timed in the same run, in
turns, best of 3 each. The second measure is how many more queries 1,000 branches cost
than 100: a set-based engine costs the same.

The data set has no reviews, flags, findings or rectifications: those kinds still run
their one query each (and find nothing), so their cost is the query, not the fold.
"""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessment.defaults import load_default_scheme
from assessment.scoring import compute_scores
from bench.dataset import YEAR
from bench.run import Measure, best_of
from meetings.compliance import compliance
from org.models import Organization


def measure() -> list[Measure]:
    scheme = load_default_scheme(apps, YEAR)  # the bench database keeps it; a no-op once there
    start, end = dt.date(YEAR, 1, 1), dt.date(YEAR + 1, 1, 1)
    now = timezone.now()
    branches = list(Organization.objects.branches().active().order_by("sort_order", "id"))

    def assess(subset=branches):
        return compute_scores(scheme=scheme, branches=subset, start=start, end=end, now=now, kind="year")

    def matrix():
        return compliance(branches=branches, start=start, end=end - dt.timedelta(days=1), now=now)

    scores = assess()
    lines = sum(len(r.lines) for b in scores.results for r in b.items)
    assert len(scores.results) == len(branches) and lines > 0, "nothing scored: is the data set built?"
    assessment_time = matrix_time = float("inf")
    for _ in range(3):
        assessment_time = min(assessment_time, best_of(1, assess))
        matrix_time = min(matrix_time, best_of(1, matrix))

    with CaptureQueriesContext(connection) as at_all:
        assess(branches)
    with CaptureQueriesContext(connection) as at_100:
        assess(branches[:100])
    print(
        f"# assessment: {len(branches)} branches, {lines} deduction lines, {len(at_all)} queries "
        f"({len(at_100)} at 100 branches); {assessment_time:.2f} s vs compliance matrix {matrix_time:.2f} s"
    )
    return [
        Measure("assessment_vs_compliance", assessment_time / matrix_time, "x", "<=", 5),
        Measure("assessment_query_growth", len(at_all) - len(at_100), "queries", "=", 0),
    ]
