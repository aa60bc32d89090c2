"""The compliance matrix's first page at group scale: its HTML stays under 300 KB.

One request as the bench supervisor (a Django test ``Client`` signed in with ``force_login``
on the bench database) to the matrix of the bench year; the body's size in KB (1,000 bytes).
The page shows 50 branches whatever the mine's size, so at 1,000 branches it must weigh what
50 weigh (the paging and the per-row HTML of ``_matrix_row_html`` keep it so).
"""

from __future__ import annotations

from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from bench import load
from bench.dataset import YEAR
from bench.run import Measure


def matrix_kb(username: str) -> float:
    from org.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    # Static links without collectstatic's manifest (as bench/load.py's server does): same length.
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        response = client.get(reverse("meetings:compliance_matrix"), {"year": YEAR})
    assert response.status_code == 200, response.status_code
    return len(response.content) / 1000


def measure() -> list[Measure]:
    users = load.bench_users()
    return [Measure("matrix_html_kb", matrix_kb(users.supervisor), "KB", "<=", 300)]
