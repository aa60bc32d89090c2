"""Crafted roster files are refused at once with a Chinese message: zip bombs, huge declared sheets,
a million empty rows, too many rows. "At once" is measured by what was read, never by a clock."""

import datetime as dt
import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from org import roster
from org.models import Member
from tests.conftest import client_for
from tests.factories import make_id_number

TODAY = dt.date(2024, 5, 20)
HEADERS = list(roster.HEADERS)
SHEET = "xl/worksheets/sheet1.xml"


def good_row(n: int) -> list:
    born = dt.date(1970, 1, 1) + dt.timedelta(days=n)
    return ["张三", "男", make_id_number(born), "", "正式党员", None, None, "综采一队党支部", "", "在册"]


def workbook(rows: int = 1) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = roster.SHEET_TITLE
    ws.append(HEADERS)
    for n in range(rows):
        ws.append(good_row(n))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def rewritten(content: bytes, *, sheet=None, extra: dict[str, bytes] | None = None) -> bytes:
    """``content`` with its sheet XML passed through ``sheet`` and members added."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == SHEET and sheet is not None:
                data = sheet(data)
            archive.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def with_dimension(ref: str):
    return lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="%s"/>' % ref.encode(), xml)


def empty_rows(n: int, *, dimension: str | None):
    """The sheet with ``n`` empty ``<row>`` elements after the data, declared or not."""

    def edit(xml: bytes) -> bytes:
        xml = re.sub(
            rb'<dimension ref="[^"]*"/>',
            b"" if dimension is None else b'<dimension ref="%s"/>' % dimension.encode(),
            xml,
        )
        rows = b"".join(b'<row r="%d"/>' % r for r in range(3, n + 3))
        return xml.replace(b"</sheetData>", rows + b"</sheetData>")

    return edit


def refusal(content: bytes) -> roster.RosterFileError:
    with pytest.raises(roster.RosterFileError) as caught:
        roster.read_roster(io.BytesIO(content), today=TODAY)
    return caught.value


@pytest.fixture
def never_opened(monkeypatch):
    """Fails the test if openpyxl is asked to open the file at all."""

    def refuse(*args, **kwargs):
        raise AssertionError("openpyxl opened a file that the archive check should have refused")

    monkeypatch.setattr(roster, "load_workbook", refuse)


@pytest.fixture
def validated(monkeypatch):
    """Counts the rows validated (each costs the ID, date and choice checks)."""
    calls = []
    original = roster._read_row

    def counting(parsed, number, cells, *, today):
        calls.append(number)
        return original(parsed, number, cells, today=today)

    monkeypatch.setattr(roster, "_read_row", counting)
    return calls


# --- The archive, before openpyxl ------------------------------------------------------------


def test_a_zip_bomb_is_refused_from_the_archive_directory_before_openpyxl_opens_it(never_opened):
    bomb = rewritten(workbook(), extra={"xl/media/padding.bin": b"\0" * (100 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024  # 100 MB that travel as a few hundred KB

    error = refusal(bomb)

    assert "解压后内容过大" in error.message


def test_a_sheet_padded_past_its_own_limit_is_refused_before_openpyxl_opens_it(never_opened):
    bomb = rewritten(
        workbook(), sheet=lambda xml: xml.replace(b"<sheetData>", b"<sheetData>" + b" " * (31 * 1024 * 1024))
    )

    assert "解压后内容过大" in refusal(bomb).message


def test_oversized_shared_strings_are_refused_before_openpyxl_parses_them(never_opened):
    strings = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + b"<si><t>x</t></si>" * 400_000
    )
    bomb = rewritten(workbook(), extra={"xl/sharedStrings2.xml": strings + b"</sst>"})

    assert "解压后内容过大" in refusal(bomb).message


def test_an_archive_of_thousands_of_members_is_refused(never_opened):
    bomb = rewritten(workbook(), extra={f"xl/media/{i}.bin": b"" for i in range(roster.MAX_ARCHIVE_MEMBERS)})

    assert "解压后内容过大" in refusal(bomb).message


# --- The declared dimension, before any row ----------------------------------------------------


def test_a_sheet_declaring_the_whole_grid_is_refused_before_one_row_is_read(validated, never_opened):
    error = refusal(rewritten(workbook(), sheet=with_dimension("A1:XFD1048576")))

    assert "A1:XFD1048576" in error.message and "超出名册的上限" in error.message
    assert error.rows_read == 0
    assert validated == []


def test_a_sheet_declaring_a_million_rows_is_refused_before_one_row_is_read(validated, never_opened):
    error = refusal(rewritten(workbook(), sheet=empty_rows(1_000_000, dimension="A1:J1000002")))

    assert error.rows_read == 0
    assert validated == []


def test_a_sheet_declaring_too_many_columns_is_refused(validated, never_opened):
    error = refusal(rewritten(workbook(), sheet=with_dimension(f"A1:{'AZ'}2")))

    assert "超出名册的上限" in error.message


# --- Reading with a row budget -----------------------------------------------------------------


# The sheet's XML is counted as it inflates, in 64 KB pieces: a refusal comes within one piece
# (a few hundred rows) of the budget, never after the whole sheet.
WITHIN_ONE_PIECE = roster.SCAN_CHUNK_BYTES // len(b'<row r="1"/>') + 1


@pytest.mark.parametrize("dimension", [None, "A1:J2"], ids=["no-dimension", "dimension-lying-small"])
def test_a_million_empty_rows_stop_at_the_row_budget_before_openpyxl_opens_the_file(validated, never_opened, dimension):
    error = refusal(rewritten(workbook(), sheet=empty_rows(1_000_000, dimension=dimension)))

    assert "名册超过 5000 行" in error.message
    assert roster.row_budget() < error.rows_read < roster.row_budget() + WITHIN_ONE_PIECE
    assert validated == []


def test_a_sheet_of_very_wide_rows_stops_at_the_cell_budget(never_opened):
    wide = b"".join(
        b'<c r="%s3"/>' % f"A{n}".encode() for n in range(roster.row_budget() * roster.MAX_CELLS_PER_ROW + 1)
    )

    error = refusal(
        rewritten(
            workbook(), sheet=lambda xml: xml.replace(b"</sheetData>", b'<row r="3">' + wide + b"</row></sheetData>")
        )
    )

    assert "名册超过 5000 行" in error.message


def test_blank_rows_within_the_allowance_are_skipped(validated):
    parsed = roster.read_roster(
        io.BytesIO(rewritten(workbook(), sheet=empty_rows(roster.BLANK_ROW_ALLOWANCE - 10, dimension=None))),
        today=TODAY,
    )

    assert len(parsed.rows) == 1
    assert validated == [2]


def test_one_row_over_the_budget_is_refused_from_the_declared_dimension(validated, never_opened, monkeypatch):
    monkeypatch.setattr(roster, "MAX_ROWS", 50)
    monkeypatch.setattr(roster, "BLANK_ROW_ALLOWANCE", 0)

    error = refusal(workbook(rows=51))

    assert "A1:J52" in error.message and "超出名册的上限（50 行" in error.message
    assert error.rows_read == 0
    assert validated == []


def test_exactly_the_budget_passes_the_declared_dimension(monkeypatch):
    monkeypatch.setattr(roster, "MAX_ROWS", 50)
    monkeypatch.setattr(roster, "BLANK_ROW_ALLOWANCE", 0)

    assert len(roster.read_roster(io.BytesIO(workbook(rows=50)), today=TODAY).rows) == 50


def test_one_row_over_the_limit_among_blank_rows_is_refused_while_reading(validated, monkeypatch):
    # Within the blank-row allowance the XML scan lets it through; the reader counts data rows.
    monkeypatch.setattr(roster, "MAX_ROWS", 50)

    error = refusal(workbook(rows=51))

    assert "名册超过 50 行" in error.message
    assert error.rows_read == 52
    assert validated == []


def test_exactly_the_limit_is_read_and_validated(validated, monkeypatch):
    monkeypatch.setattr(roster, "MAX_ROWS", 50)

    parsed = roster.read_roster(io.BytesIO(workbook(rows=50)), today=TODAY)

    assert len(parsed.rows) == 50
    assert len(validated) == 50


def test_six_thousand_rows_are_refused_from_their_declared_dimension_before_openpyxl_opens_the_file(
    validated, never_opened
):
    error = refusal(workbook(rows=6000))

    assert "A1:J6001" in error.message
    assert error.rows_read == 0
    assert validated == []


def test_six_thousand_rows_without_a_dimension_are_counted_in_the_xml_and_refused_before_openpyxl(
    validated, never_opened
):
    error = refusal(rewritten(workbook(rows=6000), sheet=lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', b"", xml)))

    assert "名册超过 5000 行" in error.message
    assert roster.row_budget() < error.rows_read < roster.row_budget() + WITHIN_ONE_PIECE
    assert validated == []


# --- Through the page ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_import_page_answers_a_whole_grid_dimension_with_a_message_not_an_error(client, supervisor, branch):
    content = rewritten(workbook(), sheet=with_dimension("A1:XFD1048576"))

    response = client_for(client, supervisor).post(
        reverse("org:roster_import"), {"file": SimpleUploadedFile("名册.xlsx", content)}
    )

    assert response.status_code == 200
    assert "超出名册的上限" in response.content.decode()
    assert not Member.objects.exists()


@pytest.mark.django_db
def test_a_roster_upload_announcing_more_than_the_limit_is_refused_before_it_is_read(
    client, supervisor, settings, tmp_path
):
    settings.VAR_DIR = tmp_path

    response = client_for(client, supervisor).generic(
        "POST",
        reverse("org:roster_import"),
        data=b"-",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(5 * 1024**3),
        **{"wsgi.input": io.BytesIO(b"")},
    )

    assert response.status_code == 413
    assert "本次上传共 5120 MB，超过单次上传上限 6 MB" in response.content.decode()
    assert not (tmp_path / "imports").exists()
    assert not Member.objects.exists()
