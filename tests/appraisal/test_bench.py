"""The bench's own data set and measure, on a small scale."""

import pytest

from bench import bench_appraisal

pytestmark = pytest.mark.django_db


def test_the_tally_costs_the_same_queries_for_a_larger_branch():
    assert bench_appraisal.growth(small=3, large=12) == 0


def test_the_bench_reports_its_measure_by_name():
    (m,) = bench_appraisal.measure()
    assert m.name == "pingyi_tally_query_growth" and m.met
