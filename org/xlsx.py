"""What every streamed ``.xlsx`` export of the project shares: the sheet with its styled header,
safe text cells, date cells in the mine's time, and the response that streams a temporary file.

The ledger (meetings), the findings ledger (supervision) and the HR sheet (assessment) write
their own rows; this is the lowest app, so all of them can import it.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO

from django.http import FileResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
EXCEL_CELL_LIMIT = 32767
_SHEET_TITLE_LIMIT = 31


@dataclass(frozen=True)
class Column:
    header: str
    width: float


def clean_text(value: str | None) -> str:
    """User text made safe for a cell: no control characters openpyxl refuses, within Excel's limit."""
    if not value:
        return ""
    return ILLEGAL_CHARACTERS_RE.sub("", value)[:EXCEL_CELL_LIMIT]


# Text a spreadsheet may take for a formula (CSV/formula injection): a leading = + - @, tab or
# carriage return, or a DDE call such as ``cmd|' /C calc'!A0`` anywhere in the text.
_FORMULA_LIKE_RE = re.compile(r"^[=+\-@\t\r]|\|.*!")


def looks_like_formula(value: str) -> bool:
    return bool(_FORMULA_LIKE_RE.search(value))


def text_cell(
    ws: WriteOnlyWorksheet, value: str | None, *, number_format: str | None = None
) -> str | WriteOnlyCell | None:
    """User text as a text cell: None when empty (openpyxl then writes no cell at all).

    openpyxl stores a string starting with "=" as a formula; text that looks like one is
    written as a string cell with Excel's quote prefix, so that it stays text even when
    someone edits the cell in Excel. The value itself is unchanged (an exported roster
    imports as "no change").
    """
    value = clean_text(value)
    if not value:
        return None
    risky = looks_like_formula(value)
    if not risky and number_format is None:
        return value
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"
    if risky:
        cell.quotePrefix = True
    if number_format is not None:
        cell.number_format = number_format
    return cell


def naive_local(value: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    # Excel has no time zones: write the wall-clock time of the mine.
    return value.astimezone(tz).replace(tzinfo=None)


def datetime_cell(ws: WriteOnlyWorksheet, value: dt.datetime | None, tz: dt.tzinfo) -> WriteOnlyCell | None:
    """A date and time in the mine's wall-clock time, shown as 2026-05-12 09:30."""
    if value is None:
        return None
    cell = WriteOnlyCell(ws, value=naive_local(value, tz))
    cell.number_format = DATETIME_FORMAT
    return cell


def sheet_with_header(
    columns: Sequence[Column], *, title: str, fallback_title: str
) -> tuple[Workbook, WriteOnlyWorksheet]:
    """A write-only workbook (rows go straight to disk) and its sheet: sized columns, a frozen,
    styled header row that repeats on every printed page."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=clean_text(title)[:_SHEET_TITLE_LIMIT] or fallback_title)
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    font, fill = Font(bold=True), PatternFill("solid", fgColor="F2DCDB")
    align = Alignment(horizontal="center", vertical="center", wrap_text=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(ws, value=column.header)
        cell.font, cell.fill, cell.alignment = font, fill, align
        header.append(cell)
    ws.append(header)
    return wb, ws


def xlsx_response(write: Callable[[IO[bytes]], object], *, filename: str) -> FileResponse:
    """Stream what ``write`` puts into a workbook file, as a download.

    Written to a temporary file, not to memory: a year of the mine is tens of thousands of
    rows. FileResponse streams it and closes (so deletes) the file when done.
    """
    tmp = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
    try:
        write(tmp)
    except BaseException:
        tmp.close()
        raise
    tmp.seek(0)
    return FileResponse(tmp, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)
