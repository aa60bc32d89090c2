"""The branch ledger page in blocks of a month: the latest open, the others collapsed, so a year
of meetings is not one 40,000 px page on a phone."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from tests.conftest import client_for
from tests.factories import MeetingFactory

TZ = ZoneInfo("Asia/Shanghai")


def _blocks(html: str) -> list[tuple[str, bool]]:
    """(month id, open?) of each month block, in page order."""
    return [
        (m[2], bool(m[1]))
        for m in re.finditer(r'<details class="ledger-month[^"]*"( open)? id="ledger-([\d-]+)"', html)
    ]


@pytest.mark.django_db
def test_the_ledger_groups_meetings_by_month_with_only_the_latest_month_open(client, branch, secretary):
    for start in (
        dt.datetime(2025, 3, 5, 9, tzinfo=TZ),
        dt.datetime(2025, 3, 28, 9, tzinfo=TZ),
        # 23:30 on the last day of April in the mine's time zone is still April (15:30 UTC).
        dt.datetime(2025, 4, 30, 23, 30, tzinfo=TZ),
        dt.datetime(2025, 5, 1, 0, 0, tzinfo=TZ),
    ):
        MeetingFactory(branch=branch, planned_start=start, planned_end=start + dt.timedelta(minutes=30))

    response = client_for(client, secretary).get(reverse("meetings:ledger", args=[branch.pk, 2025]))

    assert _blocks(response.text) == [("2025-03", False), ("2025-04", False), ("2025-05", True)]
    assert "2 次会议" in response.text  # March's block says how many it holds
    assert response.text.count("table-stack ledger-table") == 3  # each month a card list on a phone


@pytest.mark.django_db
def test_a_year_without_meetings_says_so_instead_of_an_empty_block(client, branch, secretary):
    response = client_for(client, secretary).get(reverse("meetings:ledger", args=[branch.pk, 2024]))

    assert _blocks(response.text) == []
    assert "2024年没有会议。" in response.text
