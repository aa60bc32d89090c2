"""Fixtures of the supervision tests: a private evidence folder per test, the sample photos, meetings."""

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from tests.factories import MeetingFactory

SAMPLES = Path(settings.BASE_DIR).parent / "shared" / "samples" / "photos"
SHANGHAI = ZoneInfo("Asia/Shanghai")
GPS_PHOTOS = sorted(SAMPLES.glob("gps_DSCN*.jpg"))


@pytest.fixture(autouse=True)
def _evidence_storage(settings, tmp_path):
    """Every test writes its evidence under its own temporary folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence"), "base_url": None},
        },
    }
    return tmp_path / "evidence"


def local(year, month, day, hour=0, minute=0):
    """An aware datetime in the mine's time zone."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def meeting_held(branch, *, start, end=None, status="submitted", types=("general_meeting",), **fields):
    """A meeting whose record has been entered (and by default submitted) for ``start``–``end``."""
    end = end or start + dt.timedelta(hours=1, minutes=30)
    return MeetingFactory(
        branch=branch,
        planned_start=start,
        planned_end=end,
        actual_start=start,
        actual_end=end,
        status=status,
        counts_for=start.date(),
        minutes_entered_at=end,
        submitted_at=end if status in ("submitted", "approved", "returned") else None,
        types=list(types),
        **fields,
    )
