"""The compliance matrix as an ``.xlsx`` sheet: every branch the filters keep × every period of
the year, each cell the label the matrix page shows (read through ``meetings.matrix``, the
page's own functions), grouped by 党总支 in the first column.

One call of the engine for all the branches (closed periods come from the rollup), so the
query count does not grow with branches; rows go straight to disk (openpyxl write-only).
"""

from __future__ import annotations

import datetime as dt
from typing import IO

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import PatternFill

from org.xlsx import Column as SheetColumn
from org.xlsx import sheet_with_header, text_cell

from .compliance import Outcome
from .matrix import matrix_columns, matrix_outcomes, problem_branch_ids, shown_label, year_compliance

# The page's colours (Bootstrap's success, warning, danger, secondary), so the sheet reads the same.
_FILLS = {
    Outcome.ON_TIME: PatternFill("solid", fgColor="C6EFCE"),
    Outcome.LATE: PatternFill("solid", fgColor="FFEB9C"),
    Outcome.MISSING: PatternFill("solid", fgColor="FFC7CE"),
    Outcome.EXEMPT: PatternFill("solid", fgColor="D9D9D9"),
}


def _group_name(branch) -> str:
    parent = branch.parent
    if parent is not None and parent.kind == parent.Kind.GENERAL_BRANCH:
        return parent.name
    return _("直属党支部")


def write_matrix_xlsx(out: IO[bytes], *, branches, year: int, problems_only: bool, now: dt.datetime) -> None:
    today = timezone.localdate(now)
    result = year_compliance(branches, year=year, now=now)
    columns = matrix_columns(result.rules, year)
    keep = problem_branch_ids(result) if problems_only else None
    wb, ws = sheet_with_header(
        [
            SheetColumn(_("党总支"), 18),
            SheetColumn(_("支部"), 24),
            *(SheetColumn(col.short, 8) for col in columns),
        ],
        title=_("{year}年落实情况").format(year=year),
        fallback_title="matrix",
    )
    for branch, outcomes in matrix_outcomes(result, columns):
        if keep is not None and branch.pk not in keep:
            continue
        row = [text_cell(ws, _group_name(branch)), text_cell(ws, branch.name)]
        for col, outcome in zip(columns, outcomes, strict=True):
            label = shown_label(outcome, col, today=today)
            if not label:
                row.append(None)
                continue
            cell = WriteOnlyCell(ws, value=label)
            if outcome in _FILLS:
                cell.fill = _FILLS[outcome]
            row.append(cell)
        ws.append(row)
    wb.save(out)
