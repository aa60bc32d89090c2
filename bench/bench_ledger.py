"""The whole mine's ledger export for one year against plain openpyxl writing the same rows.

The baseline is the least any export must do: one ``values()`` query giving each meeting
of the year with its attendance counts (``Count`` with ``filter``), written straight into
a write-only workbook in a temporary file, no formatting. The export
(``meetings.ledger``) also reads the types, the leave and absent names, the agenda,
speeches and votes in chunks, and writes dates with a number format, a styled, frozen
header and sized columns. The measure is how many times the baseline's time that costs.

Memory is the growth of the resident set (RSS high-water mark, ``VmHWM``, minus the RSS
before the export) in a fresh child process, so that it counts lxml's C allocations
(which tracemalloc does not see) and is not hidden by heap left over from other measures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.db.models import Count, Q
from openpyxl import Workbook

from bench.dataset import YEAR
from bench.run import Measure
from meetings import ledger
from meetings.models import Attendance

ROOT = Path(__file__).resolve().parent.parent
RUNS = 3
# The memory child: the parent's environment already names the bench database.
CHILD = (
    "import json, os, sys; sys.path.insert(0, {root!r}); "
    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'sanhui.settings'); "
    "import django; django.setup(); "
    "from bench.bench_ledger import rss_growth_child; print(json.dumps(rss_growth_child()))"
)


def export() -> int:
    """The code path of ``meetings:mine_ledger_xlsx``, into a temporary file."""
    with tempfile.TemporaryFile(suffix=".xlsx") as tmp:
        return ledger.write_ledger_xlsx(
            ledger.ledger_rows(ledger.meetings_of_year(YEAR)), tmp, sheet_title=f"{YEAR}年全矿台账"
        )


def baseline() -> int:
    present = Q(attendances__status__in=Attendance.PRESENT_STATUSES)
    probationary = Q(attendances__is_probationary=True)
    rows = (
        ledger.meetings_of_year(YEAR)
        .order_by("planned_start", "id")
        .values_list("id", "branch__name", "group__name", "planned_start", "planned_end", "topic", "place", "status")
        .annotate(
            expected=Count("attendances"),
            expected_probationary=Count("attendances", filter=probationary),
            present=Count("attendances", filter=present),
            present_probationary=Count("attendances", filter=present & probationary),
            leave=Count("attendances", filter=Q(attendances__status=Attendance.Status.LEAVE)),
            absent=Count("attendances", filter=Q(attendances__status=Attendance.Status.ABSENT)),
        )
    )
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append([c.header for c in ledger.COLUMNS])
    n = 0
    for n, (_id, branch, group, start, end, *rest) in enumerate(rows.iterator(chunk_size=2000), start=1):
        ws.append([n, branch, group, start.replace(tzinfo=None), end.replace(tzinfo=None), *rest])
    with tempfile.TemporaryFile(suffix=".xlsx") as tmp:
        wb.save(tmp)
    return n


def _kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def rss_growth_child() -> dict:
    """In a fresh process: RSS high-water mark during the export minus RSS before it, in MiB."""
    with tempfile.TemporaryFile() as tmp:  # load every module the export uses first
        ledger.write_ledger_xlsx(
            ledger.ledger_rows(ledger.meetings_of_year(YEAR).filter(branch__sort_order=0)), tmp, sheet_title="warm"
        )
    before = _kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS (Linux ≥ 4.0)
    rows = export()
    return {"rows": rows, "mib": (_kib("VmHWM") - before) / 1024}


def _timed(fn) -> tuple[float, int]:
    start = time.perf_counter()
    rows = fn()
    return time.perf_counter() - start, rows


def measure() -> list[Measure]:
    # Alternate the two and keep the best of each: a machine whose load changes during
    # the run then slows both alike, and the first (cold-cache) pass is not counted.
    export(), baseline()
    ours = base = float("inf")
    for _ in range(RUNS):
        seconds, rows = _timed(export)
        ours = min(ours, seconds)
        seconds, base_rows = _timed(baseline)
        base = min(base, seconds)
        assert rows == base_rows, "the export and the baseline must write the same rows"
    child = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=str(ROOT))],
        cwd=ROOT,
        env={**os.environ},
        capture_output=True,
        text=True,
        check=True,
    )
    memory = json.loads(child.stdout.strip().splitlines()[-1])
    assert memory["rows"] == rows
    print(
        f"# ledger export {YEAR}: {rows} meetings, export {ours:.2f} s, plain openpyxl {base:.2f} s, "
        f"RSS high-water growth {memory['mib']:.1f} MiB",
        flush=True,
    )
    return [
        Measure("ledger_export_vs_openpyxl", ours / base, "x", "<=", 1.5),
        Measure("ledger_export_rss_growth", memory["mib"], "MiB", "<", 100),
    ]
