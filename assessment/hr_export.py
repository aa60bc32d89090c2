"""The participation sheet for HR (绩效): one row per member of a run, written straight to a file.

Rows are read with one ``values_list`` query iterated in chunks and written by openpyxl's
write-only workbook (lxml underneath), so memory holds one chunk whatever the mine's size.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO

from django.utils.translation import gettext as _
from openpyxl.cell import WriteOnlyCell

from org.models import Member
from org.xlsx import Column, sheet_with_header, text_cell

from .models import MemberScore, Run

CHUNK_SIZE = 2000

COLUMNS = (
    Column("支部", 24),
    Column("姓名", 10),
    Column("类别", 8),
    Column("应参加", 8),
    Column("出席", 8),
    Column("迟到", 8),
    Column("请假", 8),
    Column("无故缺席", 10),
    Column("讲党课", 8),
    Column("参与得分", 10),
    Column("出勤率", 10),
    Column("可评优", 8),
    Column("原因", 40),
)
HEADERS = tuple(c.header for c in COLUMNS)
_CATEGORY = {Member.Category.FULL: "正式", Member.Category.PROBATIONARY: "预备"}


@dataclass(frozen=True, slots=True)
class HrRow:
    branch: str
    name: str
    category: str
    expected: int
    attended: int
    late: int
    on_leave: int
    absent: int
    lessons_given: int
    points: Decimal
    eligible: bool
    reason: str

    @property
    def attendance_rate(self) -> float | None:
        """A fraction (0.955), shown by Excel as a percentage."""
        return self.attended / self.expected if self.expected else None


def hr_rows(run: Run) -> Iterator[HrRow]:
    """The run's members in the order of the branch tree, then by name: one query, chunked.

    类别 is the member's category today (HR pays the member as they are now); the
    counts are those of the run's period.
    """
    rows = (
        MemberScore.objects.filter(run=run)
        .order_by("branch__sort_order", "branch_id", "member__name", "member_id")
        .values_list(
            "branch__name",
            "member__name",
            "member__category",
            "expected",
            "attended",
            "late",
            "on_leave",
            "absent",
            "lessons_given",
            "points",
            "eligible",
            "ineligible_reason",
        )
    )
    for branch, name, category, *counts, points, eligible, reason in rows.iterator(chunk_size=CHUNK_SIZE):
        yield HrRow(branch, name, _CATEGORY.get(category, category), *counts, points, eligible, reason)


def write_hr_xlsx(rows: Iterable[HrRow], fileobj: IO[bytes], *, sheet_title: str) -> int:
    """Write the sheet; returns the number of member rows."""
    wb, ws = sheet_with_header(COLUMNS, title=sheet_title, fallback_title=_("党员参与"))

    count = 0
    for row in rows:
        count += 1
        rate = None
        if row.attendance_rate is not None:
            rate = WriteOnlyCell(ws, value=row.attendance_rate)
            rate.number_format = "0.0%"
        ws.append(
            [
                text_cell(ws, row.branch),
                text_cell(ws, row.name),
                row.category,
                row.expected,
                row.attended,
                row.late,
                row.on_leave,
                row.absent,
                row.lessons_given,
                row.points,
                rate,
                _("是") if row.eligible else _("否"),
                text_cell(ws, row.reason),
            ]
        )
    wb.save(fileobj)
    return count


# --- As an export job (bulletin.exports), registered in ``AssessmentConfig.ready`` -----------

HR_SHEET = "assessment.hr_sheet"


def _parse_run(query) -> dict:
    run_id = int(str(query["run"]))
    if not Run.objects.filter(pk=run_id).exists():
        raise ValueError(run_id)
    return {"run": run_id}


def _write_job(fileobj, parameters: dict, progress) -> int:
    run = Run.objects.get(pk=parameters["run"])
    total = MemberScore.objects.filter(run=run).count()
    progress(0, total)

    def counted(rows):
        for done, row in enumerate(rows, start=1):
            if done % 500 == 0:
                progress(done, total)
            yield row

    return write_hr_xlsx(counted(hr_rows(run)), fileobj, sheet_title=_("{label}党员参与").format(label=run.label))


def _filename(parameters: dict) -> str:
    run = Run.objects.get(pk=parameters["run"])
    draft = "" if run.is_locked else _("（未发布）")
    return _("{label}党员参与（绩效）{draft}.xlsx").format(label=run.label, draft=draft)


def register() -> None:
    from django.urls import reverse

    from bulletin import exports

    exports.register(
        exports.ExportKind(
            kind=HR_SHEET,
            label=_("党员参与（绩效）导出"),
            write=_write_job,
            allowed=lambda user, parameters: user.is_active and user.has_perm("assessment.export_hr"),
            filename=_filename,
            back_url=lambda parameters: reverse("assessment:run_detail", args=[parameters["run"]]),
            parse=_parse_run,
        )
    )
