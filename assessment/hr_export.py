"""The participation sheet for HR (绩效): one row per member of a run, written straight to a file.

Rows are read with one ``values_list`` query iterated in chunks and written by openpyxl's
write-only workbook (lxml underneath), so memory holds one chunk whatever the mine's size.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from org.models import Member

from .models import MemberScore, Run

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK_SIZE = 2000


@dataclass(frozen=True)
class Column:
    header: str
    width: int


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


def _text(ws, value: str):
    """Text safe for a cell: no control characters, and "=…" kept as text rather than a formula."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value or "")
    if not value:
        return None
    if value[0] != "=":
        return value
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"
    return cell


def write_hr_xlsx(rows: Iterable[HrRow], fileobj: IO[bytes], *, sheet_title: str) -> int:
    """Write the sheet; returns the number of member rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=ILLEGAL_CHARACTERS_RE.sub("", sheet_title)[:31] or "党员参与")
    for index, column in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = "A2"
    font, fill = Font(bold=True), PatternFill("solid", fgColor="F2DCDB")
    align = Alignment(horizontal="center", vertical="center")
    header = []
    for column in COLUMNS:
        cell = WriteOnlyCell(ws, value=column.header)
        cell.font, cell.fill, cell.alignment = font, fill, align
        header.append(cell)
    ws.append(header)

    count = 0
    for row in rows:
        count += 1
        rate = None
        if row.attendance_rate is not None:
            rate = WriteOnlyCell(ws, value=row.attendance_rate)
            rate.number_format = "0.0%"
        ws.append(
            [
                _text(ws, row.branch),
                _text(ws, row.name),
                row.category,
                row.expected,
                row.attended,
                row.late,
                row.on_leave,
                row.absent,
                row.lessons_given,
                row.points,
                rate,
                "是" if row.eligible else "否",
                _text(ws, row.reason),
            ]
        )
    wb.save(fileobj)
    return count
