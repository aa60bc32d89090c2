"""The ledger of findings and rectifications (问题整改台账) as an .xlsx file.

Written with openpyxl's write-only workbook (rows go straight to the file, lxml does the
XML), the same way as the meetings ledger, so a mine's years of findings stay out of memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO

from django.utils import timezone
from django.utils.translation import gettext as _

from org.xlsx import Column, datetime_cell, sheet_with_header, text_cell

from .selectors.findings import ExportRow

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


def write_findings_xlsx(rows: Iterable[ExportRow], fileobj: IO[bytes], *, sheet_title: str = _("问题整改台账")) -> int:
    """Write one sheet, a header row then one row per finding. Returns the number of rows."""
    wb, ws = sheet_with_header(COLUMNS, title=sheet_title, fallback_title=_("问题整改台账"))

    tz = timezone.get_current_timezone()
    t = text_cell
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
                datetime_cell(ws, row.raised_at, tz),
                t(ws, row.owner),
                datetime_cell(ws, row.due_at, tz),
                t(ws, row.status),
                t(ws, row.deadline),
                t(ws, row.measures),
                datetime_cell(ws, row.submitted_at, tz),
                t(ws, row.verified_by),
                datetime_cell(ws, row.verified_at, tz),
                datetime_cell(ws, row.overdue_at, tz),
                datetime_cell(ws, row.escalated_at, tz),
                t(ws, row.last_rejection),
            ]
        )
    wb.save(fileobj)
    return count


# --- The mine-wide ledger as an export job (bulletin.exports), registered in ``SupervisionConfig.ready`` ---

FINDINGS = "supervision.findings"
FILTERS = ("branch_name", "category", "severity", "status", "overdue", "year")


def _filter_form(query):
    from org.models import Organization

    from .findings_forms import FindingFilterForm

    return FindingFilterForm(query, branches=Organization.objects.branches())


def parse_filters(query) -> dict:
    """The ledger page's valid filters as strings (bad values dropped, as on the page); one branch is not mine-wide."""
    values = _filter_form({k: query.get(k, "") for k in (*FILTERS, "branch")}).values()
    if "branch" in values:
        raise ValueError("one branch's ledger is a direct download")
    return {k: ("1" if v is True else str(v)) for k, v in values.items()}


def is_mine_wide(user, values: dict, *, mine: bool) -> bool:
    """The ledger export of every branch (a job), as opposed to one branch's or one's own (direct)."""
    from .selectors.findings import sees_all_findings

    return not mine and "branch" not in values and sees_all_findings(user)


def _write_job(fileobj, parameters: dict, progress) -> int:
    from .models import Finding
    from .selectors.findings import export_rows, filter_findings

    now = timezone.now()
    qs = filter_findings(Finding.objects.all(), now=now, **_filter_form(parameters).values())
    total = qs.count()
    progress(0, total)

    def counted(rows):
        for done, row in enumerate(rows, start=1):
            if done % 500 == 0:
                progress(done, total)
            yield row

    return write_findings_xlsx(counted(export_rows(qs, now=now)), fileobj)


def _back_url(parameters: dict) -> str:
    from urllib.parse import urlencode

    from django.urls import reverse

    return reverse("supervision:finding_list") + (f"?{urlencode(parameters)}" if parameters else "")


def register() -> None:
    from bulletin import exports

    from .selectors.findings import sees_all_findings

    exports.register(
        exports.ExportKind(
            kind=FINDINGS,
            label=_("全矿问题整改台账导出"),
            write=_write_job,
            allowed=lambda user, parameters: user.is_active and sees_all_findings(user),
            filename=lambda parameters: _("全矿问题整改台账.xlsx"),
            back_url=_back_url,
            parse=parse_filters,
        )
    )
