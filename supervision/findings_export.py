"""The ledger of findings and rectifications (问题整改台账) as an .xlsx file.

Written with openpyxl's write-only workbook (rows go straight to the file, lxml does the
XML), the same way as the meetings ledger, so a mine's years of findings stay out of memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .selectors.findings import ExportRow

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
_EXCEL_CELL_LIMIT = 32767


@dataclass(frozen=True)
class Column:
    header: str
    width: float


COLUMNS = (
    Column("序号", 6),
    Column("支部", 18),
    Column("问题类别", 14),
    Column("严重程度", 8),
    Column("问题描述", 40),
    Column("相关会议", 24),
    Column("提出人", 10),
    Column("提出时间", 17),
    Column("整改责任人", 10),
    Column("整改期限", 17),
    Column("整改状态", 14),
    Column("剩余/逾期", 10),
    Column("整改措施", 40),
    Column("提交时间", 17),
    Column("验收人", 10),
    Column("验收时间", 17),
    Column("逾期标记时间", 17),
    Column("再次督办时间", 17),
    Column("最近驳回理由", 30),
)
HEADERS = tuple(c.header for c in COLUMNS)


def _text(ws, value: str):
    """A text cell without the control characters openpyxl refuses, within Excel's limit;
    text starting with "=" is forced to a string, since openpyxl would store it as a formula."""
    if not value:
        return None
    value = ILLEGAL_CHARACTERS_RE.sub("", value)[:_EXCEL_CELL_LIMIT]
    if not value.startswith("="):
        return value
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"
    return cell


def _when(ws, value: dt.datetime | None, tz):
    if value is None:
        return None
    # Excel has no time zones: the wall-clock time of the mine.
    cell = WriteOnlyCell(ws, value=value.astimezone(tz).replace(tzinfo=None))
    cell.number_format = DATETIME_FORMAT
    return cell


def write_findings_xlsx(rows: Iterable[ExportRow], fileobj: IO[bytes], *, sheet_title: str = "问题整改台账") -> int:
    """Write one sheet, a header row then one row per finding. Returns the number of rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=ILLEGAL_CHARACTERS_RE.sub("", sheet_title)[:31] or "问题整改台账")
    for index, column in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    font, fill = Font(bold=True), PatternFill("solid", fgColor="F2DCDB")
    align = Alignment(horizontal="center", vertical="center", wrap_text=True)
    header = []
    for column in COLUMNS:
        cell = WriteOnlyCell(ws, value=column.header)
        cell.font, cell.fill, cell.alignment = font, fill, align
        header.append(cell)
    ws.append(header)

    tz = timezone.get_current_timezone()
    t = _text
    count = 0
    for count, row in enumerate(rows, start=1):
        ws.append(
            [
                count,
                t(ws, row.branch),
                t(ws, row.category),
                t(ws, row.severity),
                t(ws, row.description),
                t(ws, row.meeting),
                t(ws, row.raised_by),
                _when(ws, row.raised_at, tz),
                t(ws, row.owner),
                _when(ws, row.due_at, tz),
                t(ws, row.status),
                t(ws, row.deadline),
                t(ws, row.measures),
                _when(ws, row.submitted_at, tz),
                t(ws, row.verified_by),
                _when(ws, row.verified_at, tz),
                _when(ws, row.overdue_at, tz),
                _when(ws, row.escalated_at, tz),
                t(ws, row.last_rejection),
            ]
        )
    wb.save(fileobj)
    return count
