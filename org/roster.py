"""The party member roster as an Excel workbook: template, parsing, validation, import and export.

The flow is read → check → import. ``read_roster`` turns an uploaded ``.xlsx`` into rows
and the errors it can find without the database; ``check_roster`` resolves branches and
groups, matches members by ID number and works out what an import would change;
``roster_import`` does the same inside one transaction and writes only when nothing is
wrong. The export writes the same columns, so an exported file imports as "no change".
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.datavalidation import DataValidation

from .models import Member, Membership, Organization
from .selectors import active_on, roster_rows
from .validators import normalize_id_number, validate_id_number, validate_phone
from .xlsx import text_cell

SHEET_TITLE = "党员名册"
INSTRUCTIONS_TITLE = "填写说明"
CHOICES_TITLE = "选项"

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
# What is read before refusing, so that a crafted file costs well under a second:
# - the archive: a 5,000-row roster inflates to a few MB (its sheet ~4 MB, the shared strings
#   under 1 MB); more is a zip bomb. Checked from the ZIP directory, before openpyxl opens it.
#   The declared sizes cannot lie to us: zipfile never inflates a member past its declared size.
MAX_UNCOMPRESSED_BYTES = 40 * 1024 * 1024
MAX_SHEET_XML_BYTES = 30 * 1024 * 1024
MAX_OTHER_PART_BYTES = 5 * 1024 * 1024  # shared strings, styles: openpyxl parses them whole on open
MAX_ARCHIVE_MEMBERS = 500
# - the sheet: its declared dimension (A1:J5001 for a full roster), then rows read one by one
#   with a budget that counts blank rows too (a million empty rows stop here, not at the end).
MAX_COLUMNS = 50
BLANK_ROW_ALLOWANCE = 100
# Cells of the whole sheet (the template has 10 columns; room for a few notes columns).
MAX_CELLS_PER_ROW = 15
SCAN_CHUNK_BYTES = 64 * 1024
CHANGE_REASON = "党员名册导入"

# The party was founded on 1921-07-01: no one joined it earlier.
EARLIEST_PARTY_DATE = dt.date(1921, 7, 1)
DATE_FORMAT = "yyyy-mm-dd"

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the pre-2007 .xls format


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: int
    required: bool
    note: str
    example: str


COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", 12, True, "必填", "张三"),
    Column("gender", "性别", 8, True, "必填：男 / 女", "男"),
    Column("id_number", "身份证号", 22, True, "必填：18位，最后一位可为X；请按文本填写", "370883198506150012"),
    Column("phone", "手机号", 15, False, "选填：11位手机号或带区号的座机号", "13800138000"),
    Column("category", "党员类别", 12, True, "必填：正式党员 / 预备党员", "正式党员"),
    Column("joined_on", "入党日期", 13, False, "选填：日期，如 2010-07-01、2010/7/1、2010.07.01", "2010-07-01"),
    Column("full_member_on", "转正日期", 13, False, "选填：日期；预备党员不填", "2011-07-01"),
    Column("branch", "所在支部", 24, True, "必填：系统中已有的党支部名称", "综采一队党支部"),
    Column("group", "所在党小组", 24, False, "选填：须是所在支部下的党小组；留空表示不在党小组", "综采一队第一党小组"),
    Column("status", "党籍状态", 12, False, "选填：在册 / 留党察看 / 转出 / 停止党籍 / 出党 / 去世；空为在册", "在册"),
)
HEADERS = tuple(c.header for c in COLUMNS)
_COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
_LETTER_BY_KEY = {c.key: get_column_letter(i) for i, c in enumerate(COLUMNS, start=1)}


def _labels(choices) -> dict[str, str]:
    return {str(label): value for value, label in choices}


GENDERS = _labels(Member.Gender.choices)
CATEGORIES = _labels(Member.Category.choices)
STATUSES = _labels(Member.Status.choices)

# Member fields an import sets, with the label the preview shows for a change.
MEMBER_FIELDS = ("name", "gender", "phone", "category", "joined_on", "full_member_on", "status")


def row_budget() -> int:
    """Rows read (header and blank rows included) before a sheet is refused as too long."""
    return MAX_ROWS + 1 + BLANK_ROW_ALLOWANCE


class RosterFileError(Exception):
    """The upload cannot be read as a roster at all (wrong type, corrupt, too large, too long).

    ``rows_read`` says how many sheet rows were read before the refusal (the tests' measure
    of "refused at once").
    """

    def __init__(self, message: str, *, rows_read: int = 0):
        super().__init__(message)
        self.message = message
        self.rows_read = rows_read


@dataclass(frozen=True)
class RosterError:
    """One problem, placed where the user can find it in Excel: row number and column header."""

    row: int | None
    column: str
    message: str
    letter: str = ""

    @property
    def sort_key(self) -> tuple[int, int]:
        return (self.row or 0, HEADERS.index(self.column) if self.column in HEADERS else -1)


@dataclass
class RosterRow:
    """One data row of the sheet, with cells already converted to model values."""

    number: int
    name: str = ""
    gender: str = ""
    id_number: str = ""
    phone: str = ""
    category: str = ""
    joined_on: dt.date | None = None
    full_member_on: dt.date | None = None
    branch: str = ""
    group: str = ""
    status: str = Member.Status.ACTIVE


@dataclass
class ParsedRoster:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[RosterError] = field(default_factory=list)
    rows_read: int = 0

    def error(self, row: int | None, key: str | None, message: str) -> None:
        self.errors.append(_error(row, key, message))


def _error(row: int | None, key: str | None, message: str) -> RosterError:
    column = _COLUMN_BY_KEY[key].header if key else ""
    return RosterError(row, column, message, _LETTER_BY_KEY.get(key, ""))


@dataclass
class MemberChange:
    """What importing one row does to its member."""

    row: RosterRow
    member: Member | None
    branch: Organization
    group: Organization | None
    changed_fields: list[str] = field(default_factory=list)
    join: list[Organization] = field(default_factory=list)
    leave: list[Membership] = field(default_factory=list)

    @property
    def is_new(self) -> bool:
        return self.member is None

    @property
    def is_transfer(self) -> bool:
        """An existing member leaving their current branch for another one."""
        return any(m.organization.kind == Organization.Kind.BRANCH for m in self.leave) and self.branch in self.join

    @property
    def is_unchanged(self) -> bool:
        return not self.is_new and not self.changed_fields and not self.join and not self.leave

    @property
    def description(self) -> str:
        parts = [_("修改{value}").format(value="、".join(self.changed_fields))] if self.changed_fields else []
        parts += [_("退出{name}").format(name=m.organization.name) for m in self.leave]
        parts += [_("加入{name}").format(name=org.name) for org in self.join]
        return "；".join(parts)


@dataclass
class RosterPlan:
    """The outcome of checking (or importing) a roster: the errors, else every member's change."""

    row_count: int
    errors: list[RosterError]
    changes: list[MemberChange]

    @property
    def is_valid(self) -> bool:
        return not self.errors

    @property
    def created(self) -> int:
        return sum(c.is_new for c in self.changes)

    @property
    def updated(self) -> int:
        return sum(not c.is_new and not c.is_unchanged for c in self.changes)

    @property
    def unchanged(self) -> int:
        return sum(c.is_unchanged for c in self.changes)

    @property
    def transfers(self) -> int:
        return sum(c.is_transfer for c in self.changes)

    @property
    def visible_changes(self) -> list[MemberChange]:
        return [c for c in self.changes if not c.is_unchanged]


# --- Template ----------------------------------------------------------------


def _style_header(cell, column: Column):
    """Required columns in red, the others in pale red: the template's instructions refer to it."""
    cell.font = Font(bold=True, color="FFFFFF" if column.required else "000000")
    cell.fill = PatternFill("solid", fgColor="C00000" if column.required else "F2DCDB")
    cell.alignment = Alignment(horizontal="center")
    return cell


def build_template(*, branches: Iterable[Organization]) -> bytes:
    """The import template: an empty roster sheet, the instructions sheet and a sheet of choices."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_TITLE
    for index, column in enumerate(COLUMNS, start=1):
        _style_header(ws.cell(row=1, column=index, value=column.header), column)
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = "A2"
    # Typed as text so that Excel keeps all 18 characters of an ID number.
    for key in ("id_number", "phone"):
        ws.column_dimensions[_LETTER_BY_KEY[key]].number_format = "@"
    for key in ("joined_on", "full_member_on"):
        ws.column_dimensions[_LETTER_BY_KEY[key]].number_format = DATE_FORMAT

    notes = wb.create_sheet(INSTRUCTIONS_TITLE)
    notes.append([_("党员名册填写说明")])
    notes["A1"].font = Font(bold=True, size=14)
    megabytes = MAX_UPLOAD_BYTES // 1024 // 1024
    for line in (
        _("1. 在“{SHEET_TITLE}”工作表第2行起每行填写一名党员，不要修改第1行表头；本说明页不会被导入。").format(
            SHEET_TITLE=SHEET_TITLE
        ),
        _("2. 红色表头为必填列。每次最多导入 {MAX_ROWS} 行，文件不超过 {megabytes} MB。").format(
            MAX_ROWS=MAX_ROWS, megabytes=megabytes
        ),
        _("3. 按身份证号识别党员：已有的党员只更新有变化的内容，重复导入同一文件不会产生变化。"),
        _("4. 所在支部或党小组与系统中不同时，视为组织关系转接："),
        _("   原组织关系在导入当日结束，新组织关系从导入当日开始。"),
    ):
        notes.append([line])
    notes.append([])
    notes.append([_("列"), _("说明"), _("示例")])
    for cell in notes[notes.max_row]:
        cell.font = Font(bold=True)
    for column in COLUMNS:
        notes.append([column.header, column.note, column.example])
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 60
    notes.column_dimensions["C"].width = 24

    choices = wb.create_sheet(CHOICES_TITLE)
    choices.append([_("所在支部")])
    branch_names = sorted({b.name for b in branches})
    for name in branch_names:
        choices.append([name])
    choices.column_dimensions["A"].width = 30
    choices.sheet_state = "hidden"

    last = MAX_ROWS + 1

    def add_list(key: str, formula: str) -> None:
        validation = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=True)
        validation.error = _("请从下拉列表中选择。")
        validation.errorTitle = _COLUMN_BY_KEY[key].header
        letter = _LETTER_BY_KEY[key]
        validation.add(f"{letter}2:{letter}{last}")
        ws.add_data_validation(validation)

    add_list("gender", '"' + ",".join(GENDERS) + '"')
    add_list("category", '"' + ",".join(CATEGORIES) + '"')
    add_list("status", '"' + ",".join(STATUSES) + '"')
    if branch_names:
        add_list("branch", f"'{CHOICES_TITLE}'!$A$2:$A${len(branch_names) + 1}")

    out = io.BytesIO()  # a few kilobytes
    wb.save(out)
    return out.getvalue()


# --- Reading -----------------------------------------------------------------


def _sniff(upload: IO[bytes]) -> None:
    """Decide by content, not by name: an .xlsx is a ZIP archive of reasonable size."""
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(OLE_MAGIC):
        raise RosterFileError(_("这是旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 格式后再上传。"))
    if not head.startswith(ZIP_MAGIC):
        raise RosterFileError(_("文件不是 Excel（.xlsx）格式，请使用下载的模板填写后上传。"))
    try:
        with zipfile.ZipFile(upload) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise RosterFileError(_("文件已损坏或不完整，无法作为 Excel（.xlsx）文件打开。")) from None
    finally:
        upload.seek(0)
    too_big = _("文件解压后内容过大（可能是异常构造的压缩文件），无法导入。请使用下载的模板填写后上传。")
    if len(members) > MAX_ARCHIVE_MEMBERS or sum(info.file_size for info in members) > MAX_UNCOMPRESSED_BYTES:
        raise RosterFileError(too_big)
    for info in members:
        is_sheet = info.filename.startswith("xl/worksheets/")
        if info.file_size > (MAX_SHEET_XML_BYTES if is_sheet else MAX_OTHER_PART_BYTES):
            raise RosterFileError(too_big)
    try:
        with zipfile.ZipFile(upload) as archive:
            for info in members:
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    _scan_sheet_xml(archive, info)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise RosterFileError(_("文件已损坏或不完整，无法作为 Excel（.xlsx）文件打开。")) from None
    finally:
        upload.seek(0)


_DIMENSION_RE = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]{1,3}\d{1,7}(?::[A-Z]{1,3}\d{1,7})?)"')
_SHEET_DATA_RE = re.compile(rb"<(?:\w+:)?sheetData[\s>/]")
_ROW_RE = re.compile(rb"<(?:\w+:)?row[\s>/]")
_CELL_RE = re.compile(rb"<(?:\w+:)?c[\s>/]")
_MATCH_OVERLAP = 16  # longer than any tag the patterns above match


def _scan_sheet_xml(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Check a sheet's XML as it inflates, before openpyxl sees it: the declared dimension, then
    its rows and cells counted against the budget.

    openpyxl's read-only mode scans a whole sheet on open when it declares no dimension (a
    million empty rows: ~9 s here) and pads every row to the declared width. Counting tags in
    64 KB pieces stops a crafted sheet after the first few hundred kilobytes.
    """
    rows = cells = 0
    row_limit, cell_limit = row_budget(), row_budget() * MAX_CELLS_PER_ROW
    head, carry, seen_data = b"", b"", False
    with archive.open(info) as stream:
        while chunk := stream.read(SCAN_CHUNK_BYTES):
            buf = carry + chunk
            if not seen_data:
                head = (head + chunk)[: 4 * SCAN_CHUNK_BYTES]
                if _SHEET_DATA_RE.search(head) or len(head) >= 4 * SCAN_CHUNK_BYTES:
                    seen_data = True
                    match = _DIMENSION_RE.search(head)
                    if match:
                        _check_declared(match.group(1).decode())
            end = len(buf) - _MATCH_OVERLAP
            rows += sum(1 for m in _ROW_RE.finditer(buf) if m.start() < end)
            cells += sum(1 for m in _CELL_RE.finditer(buf) if m.start() < end)
            carry = buf[end:] if end > 0 else buf
            if rows > row_limit or cells > cell_limit:
                raise RosterFileError(
                    _("名册超过 {MAX_ROWS} 行，请拆分后分批导入。").format(MAX_ROWS=MAX_ROWS), rows_read=rows
                )
        rows += len(_ROW_RE.findall(carry))
        cells += len(_CELL_RE.findall(carry))
    if rows > row_limit or cells > cell_limit:
        raise RosterFileError(_("名册超过 {MAX_ROWS} 行，请拆分后分批导入。").format(MAX_ROWS=MAX_ROWS), rows_read=rows)


_DIMENSION_LIMIT_MESSAGE = (
    "工作表声明的数据范围为 {dimension}，超出名册的上限（{rows} 行、{columns} 列）。"
    "请只保留党员数据（可将数据复制到下载的模板中），或拆分后分批导入。"
)


def _check_declared(dimension: str) -> None:
    """Refuse a sheet whose declared dimension is beyond any roster, before reading one row.

    openpyxl's read-only sheet pads every row to the declared width and yields every row up
    to the declared height: a dimension of A1:XFD1048576 is 17 billion empty cells.
    """
    _min_col, _min_row, max_column, max_row = range_boundaries(dimension)
    if (max_row or 0) > row_budget() or (max_column or 0) > MAX_COLUMNS:
        raise RosterFileError(_DIMENSION_LIMIT_MESSAGE.format(dimension=dimension, rows=MAX_ROWS, columns=MAX_COLUMNS))


def _open_sheet(upload: IO[bytes]):
    _sniff(upload)
    try:
        wb = load_workbook(upload, read_only=True, data_only=True)
    except Exception:
        # openpyxl raises a wide range of errors (KeyError, ValueError, zipfile and XML
        # errors...) on archives that are ZIPs but not workbooks; all mean the same to the user.
        raise RosterFileError(_("文件已损坏或不是有效的 Excel（.xlsx）文件，无法打开。")) from None
    if SHEET_TITLE in wb.sheetnames:
        return wb, wb[SHEET_TITLE]
    # A file saved from another workbook may have renamed the sheet: use the first
    # one, unless that is the instructions page.
    sheets = [ws for ws in wb.worksheets if ws.title not in (INSTRUCTIONS_TITLE, CHOICES_TITLE)]
    if not sheets:
        wb.close()
        raise RosterFileError(_("文件中没有“{SHEET_TITLE}”工作表。").format(SHEET_TITLE=SHEET_TITLE))
    return wb, sheets[0]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def parse_date(value: Any) -> dt.date | None:
    """A date cell: a real Excel date, or text such as 2020-07-01, 2020/7/1, 2020.07.01, 20200701.

    Returns ``None`` for an empty cell and raises ``ValueError`` for anything else.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    if not text:
        return None
    match = _DATE_RE.match(text) or _COMPACT_DATE_RE.match(text)
    if match is None:
        raise ValueError(text)
    year, month, day = (int(part) for part in match.groups())
    return dt.date(year, month, day)


def _choice(parsed: ParsedRoster, number: int, key: str, value: Any, labels: dict[str, str]) -> str:
    text = _text(value)
    if text in labels:
        return labels[text]
    header = _COLUMN_BY_KEY[key].header
    if not text:
        parsed.error(number, key, f"{header}不能为空。")
    else:
        parsed.error(number, key, f"{header}“{text}”无效，应为：{'、'.join(labels)}。")
    return ""


def _date(parsed: ParsedRoster, number: int, key: str, value: Any, *, today: dt.date) -> dt.date | None:
    header = _COLUMN_BY_KEY[key].header
    try:
        day = parse_date(value)
    except ValueError:
        parsed.error(number, key, f"{header}“{_text(value)}”不是有效日期，请按 2020-07-01 的格式填写。")
        return None
    if day is not None and not EARLIEST_PARTY_DATE <= day <= today:
        parsed.error(number, key, f"{header} {day:%Y-%m-%d} 超出合理范围（不能早于1921-07-01或晚于今天）。")
        return None
    return day


def _id_number(parsed: ParsedRoster, number: int, value: Any) -> str:
    if isinstance(value, float):
        # Excel keeps 15 significant digits: an ID typed as a number has lost its tail.
        parsed.error(
            number, "id_number", "身份证号被 Excel 存成了数字，末尾数字可能已丢失，请将该列设为文本后重新填写。"
        )
        return ""
    text = normalize_id_number(_text(value))
    if not text:
        parsed.error(number, "id_number", "身份证号不能为空。")
        return ""
    try:
        validate_id_number(text)
    except ValidationError as exc:
        parsed.error(number, "id_number", f"身份证号“{text}”无效：{' '.join(exc.messages)}")
        return ""
    return text


def _read_row(parsed: ParsedRoster, number: int, cells: dict[str, Any], *, today: dt.date) -> RosterRow:
    row = RosterRow(number=number)
    row.name = _text(cells["name"])
    if not row.name:
        parsed.error(number, "name", "姓名不能为空。")
    elif len(row.name) > Member._meta.get_field("name").max_length:
        parsed.error(number, "name", "姓名过长。")
    row.gender = _choice(parsed, number, "gender", cells["gender"], GENDERS)
    row.id_number = _id_number(parsed, number, cells["id_number"])
    row.phone = _text(cells["phone"])
    if row.phone:
        try:
            validate_phone(row.phone)
        except ValidationError:
            parsed.error(number, "phone", f"手机号“{row.phone}”格式不正确。")
    row.category = _choice(parsed, number, "category", cells["category"], CATEGORIES)
    row.joined_on = _date(parsed, number, "joined_on", cells["joined_on"], today=today)
    row.full_member_on = _date(parsed, number, "full_member_on", cells["full_member_on"], today=today)
    if row.full_member_on and row.category == Member.Category.PROBATIONARY:
        parsed.error(number, "full_member_on", "预备党员不能填写转正日期。")
    if row.joined_on and row.full_member_on and row.full_member_on < row.joined_on:
        parsed.error(number, "full_member_on", "转正日期不能早于入党日期。")
    row.branch = _text(cells["branch"])
    if not row.branch:
        parsed.error(number, "branch", "所在支部不能为空。")
    row.group = _text(cells["group"])
    row.status = (
        _choice(parsed, number, "status", cells["status"], STATUSES) if _text(cells["status"]) else Member.Status.ACTIVE
    )
    return row


def _read_header(parsed: ParsedRoster, header: tuple[Any, ...]) -> dict[str, int] | None:
    """Map each column key to its index in the sheet; report missing and unknown headers on row 1."""
    found = [_text(value) for value in header]
    positions: dict[str, int] = {}
    for index, text in enumerate(found):
        column = next((c for c in COLUMNS if c.header == text), None)
        if column is None:
            if text:
                message = _("表头“{text}”不是模板中的列，请使用下载的模板。").format(text=text)
                parsed.errors.append(RosterError(1, text, message, get_column_letter(index + 1)))
        elif column.key in positions:
            parsed.errors.append(
                RosterError(1, text, _("表头“{text}”重复出现。").format(text=text), get_column_letter(index + 1))
            )
        else:
            positions[column.key] = index
    for column in COLUMNS:
        if column.key not in positions:
            parsed.errors.append(
                RosterError(1, column.header, _("缺少“{header}”列，请使用下载的模板。").format(header=column.header))
            )
    return None if parsed.errors else positions


def read_roster(upload: IO[bytes], *, today: dt.date) -> ParsedRoster:
    """Read an uploaded roster workbook without touching the database.

    Raises ``RosterFileError`` when the file is not a readable roster at all; otherwise
    returns the rows and every error found in the header and the cells.
    """
    upload.seek(0, 2)
    if upload.tell() > MAX_UPLOAD_BYTES:
        raise RosterFileError(
            _("文件超过 {value} MB，请拆分后分批导入。").format(value=MAX_UPLOAD_BYTES // 1024 // 1024)
        )
    wb, ws = _open_sheet(upload)
    parsed = ParsedRoster()
    too_long = _("名册超过 {MAX_ROWS} 行，请拆分后分批导入。").format(MAX_ROWS=MAX_ROWS)
    try:
        budget = row_budget()
        # Bounded in both directions whatever the sheet declares (a dimension can be missing).
        rows = ws.iter_rows(values_only=True, max_row=budget + 1, max_col=MAX_COLUMNS)
        header = next(rows, None)
        if header is None or not any(_text(v) for v in header):
            raise RosterFileError(_("“{title}”工作表是空的：第1行应为表头。").format(title=ws.title))
        positions = _read_header(parsed, header)
        if positions is None:
            return parsed
        # First the raw rows, under the budget, so that a file too long is refused before
        # any of its rows is validated.
        raw: list[tuple[int, tuple]] = []
        for number, values in enumerate(rows, start=2):
            if number > budget:
                raise RosterFileError(too_long, rows_read=number)
            if not any(_text(v) for v in values):
                continue
            if len(raw) >= MAX_ROWS:
                raise RosterFileError(too_long, rows_read=number)
            raw.append((number, values))
        parsed.rows_read = raw[-1][0] if raw else 1
        seen: dict[str, int] = {}
        for number, values in raw:
            cells = {key: values[index] if index < len(values) else None for key, index in positions.items()}
            row = _read_row(parsed, number, cells, today=today)
            if row.id_number:
                if row.id_number in seen:
                    parsed.error(number, "id_number", f"身份证号与第 {seen[row.id_number]} 行重复。")
                else:
                    seen[row.id_number] = number
            parsed.rows.append(row)
    except RosterFileError:
        raise
    except Exception:
        # A sheet whose XML breaks half-way through fails while iterating, not on open.
        raise RosterFileError(_("文件已损坏或不是有效的 Excel（.xlsx）文件，无法读取。")) from None
    finally:
        wb.close()
    if not parsed.rows and not parsed.errors:
        raise RosterFileError(_("名册中没有党员数据：请从第2行起填写。"))
    return parsed


# --- Checking and importing --------------------------------------------------


def _chunks(items: list, size: int = 500) -> Iterator[list]:
    # SQLite limits the number of parameters of one statement.
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _resolve_organizations(
    parsed: ParsedRoster, errors: list[RosterError]
) -> dict[int, tuple[Organization | None, Organization | None]]:
    """Each row's branch and group, by name, adding to ``errors`` names unknown, ambiguous or misplaced."""
    orgs = list(Organization.objects.active().filter(kind__in=(Organization.Kind.BRANCH, Organization.Kind.GROUP)))
    branches_by_name: dict[str, list[Organization]] = defaultdict(list)
    groups_by_name: dict[str, list[Organization]] = defaultdict(list)
    for org in orgs:
        (branches_by_name if org.is_branch else groups_by_name)[org.name].append(org)

    resolved = {}
    for row in parsed.rows:
        branch = group = None
        if row.branch:
            candidates = branches_by_name.get(row.branch, [])
            if not candidates:
                errors.append(
                    _error(row.number, "branch", _("党支部“{branch}”不存在或已撤销。").format(branch=row.branch))
                )
            elif len(candidates) > 1:
                errors.append(
                    _error(
                        row.number,
                        "branch",
                        _("有多个名为“{branch}”的党支部，无法确定是哪一个。").format(branch=row.branch),
                    )
                )
            else:
                branch = candidates[0]
        if row.group:
            candidates = groups_by_name.get(row.group, [])
            if not candidates:
                errors.append(_error(row.number, "group", _("党小组“{group}”不存在或已撤销。").format(group=row.group)))
            elif branch is not None:
                group = next((g for g in candidates if g.parent_id == branch.pk), None)
                if group is None:
                    errors.append(
                        _error(
                            row.number,
                            "group",
                            _("党小组“{group}”不属于“{name}”。").format(group=row.group, name=branch.name),
                        )
                    )
        resolved[row.number] = (branch, group)
    return resolved


def _plan_change(row: RosterRow, member: Member | None, current: list[Membership], branch, group) -> MemberChange:
    change = MemberChange(row=row, member=member, branch=branch, group=group)
    if member is not None:
        change.changed_fields = [
            str(Member._meta.get_field(name).verbose_name)
            for name in MEMBER_FIELDS
            if getattr(member, name) != getattr(row, name)
        ]
    current_branches = [m for m in current if m.organization.kind == Organization.Kind.BRANCH]
    current_groups = [m for m in current if m.organization.kind == Organization.Kind.GROUP]
    for target, memberships in ((branch, current_branches), (group, current_groups)):
        change.leave += [m for m in memberships if m.organization_id != getattr(target, "pk", None)]
        if target is not None and not any(m.organization_id == target.pk for m in memberships):
            change.join.append(target)
    return change


def check_roster(parsed: ParsedRoster, *, now: dt.datetime) -> RosterPlan:
    """Add the errors that need the database and work out each member's change. Reads only."""
    today = timezone.localdate(now)
    errors = list(parsed.errors)
    resolved = _resolve_organizations(parsed, errors)
    errors.sort(key=lambda e: e.sort_key)
    if errors:
        return RosterPlan(row_count=len(parsed.rows), errors=errors, changes=[])

    id_numbers = [row.id_number for row in parsed.rows]
    members: dict[str, Member] = {}
    for chunk in _chunks(id_numbers):
        members.update((m.id_number, m) for m in Member.objects.filter(id_number__in=chunk))
    current: dict[int, list[Membership]] = defaultdict(list)
    member_ids = [m.pk for m in members.values()]
    for chunk in _chunks(member_ids):
        for membership in (
            Membership.objects.filter(active_on(today), member_id__in=chunk)
            .filter(organization__kind__in=(Organization.Kind.BRANCH, Organization.Kind.GROUP))
            .select_related("organization")
            .order_by("pk")
        ):
            current[membership.member_id].append(membership)

    changes = []
    for row in parsed.rows:
        member = members.get(row.id_number)
        branch, group = resolved[row.number]
        changes.append(_plan_change(row, member, current[member.pk] if member else [], branch, group))
    return RosterPlan(row_count=len(parsed.rows), errors=[], changes=changes)


def _apply(change: MemberChange, *, today: dt.date) -> None:
    row = change.row
    member = change.member
    if member is None:
        member = Member(id_number=row.id_number, **{name: getattr(row, name) for name in MEMBER_FIELDS})
        # Uniqueness was settled by matching on ID number, and the check constraint by
        # read_roster; skipping them here saves two queries per row.
        member.full_clean(validate_unique=False, validate_constraints=False)
        member._change_reason = CHANGE_REASON
        member.save()
    elif change.changed_fields:
        names = [name for name in MEMBER_FIELDS if getattr(member, name) != getattr(row, name)]
        for name in names:
            setattr(member, name, getattr(row, name))
        member.full_clean(validate_unique=False, validate_constraints=False)
        member._change_reason = CHANGE_REASON
        member.save(update_fields=[*names, "updated_at"])

    for membership in change.leave:
        membership._change_reason = CHANGE_REASON
        if membership.started_on >= today:
            # It started today (an earlier import today): ending it today would leave an
            # empty interval, which the table forbids; it simply never took effect.
            membership.delete()
        else:
            membership.ended_on = today
            membership.save(update_fields=["ended_on"])
    for organization in change.join:
        membership = Membership(member=member, organization=organization, started_on=today)
        membership._change_reason = CHANGE_REASON
        membership.save()


@transaction.atomic
def roster_import(*, parsed: ParsedRoster, now: dt.datetime) -> RosterPlan:
    """Import every row or none: check again against the database, then write each change.

    Members are matched by ID number and only changed fields are saved, so importing the
    same file twice changes nothing the second time. Memberships start on the import
    date; a member moving branch or group has the old membership ended that day.
    Saves go through ``save()`` one by one so that django-simple-history records them.
    """
    plan = check_roster(parsed, now=now)
    if not plan.is_valid:
        return plan
    today = timezone.localdate(now)
    for change in plan.changes:
        _apply(change, today=today)
    return plan


# --- Export ------------------------------------------------------------------


def export_rows(*, on: dt.date):
    """``roster_rows`` with each member's group in the same branch on ``on``: still one query."""
    group_name = (
        Membership.objects.filter(
            active_on(on),
            member_id=OuterRef("member_id"),
            organization__kind=Organization.Kind.GROUP,
            organization__parent_id=OuterRef("organization_id"),
        )
        .order_by("-started_on", "-pk")
        .values("organization__name")[:1]
    )
    return roster_rows(on=on).annotate(group_name=Subquery(group_name))


def write_roster(rows: Iterable[Membership], out: IO[bytes]) -> None:
    """Write the roster to ``out`` with a write-only workbook, so memory stays flat with the rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET_TITLE)
    for index, column in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = "A2"
    ws.append([_style_header(WriteOnlyCell(ws, value=column.header), column) for column in COLUMNS])

    def text(value: str) -> WriteOnlyCell | str | None:
        # Typed as text, so that Excel keeps all 18 characters of an ID number.
        return text_cell(ws, value, number_format="@")

    def date(value: dt.date | None) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = DATE_FORMAT
        return cell

    for membership in rows:
        member = membership.member
        ws.append(
            [
                # Every string through text_cell: a name or an organisation's name typed as
                # "=HYPERLINK(...)" must reach Excel as text, never as a formula.
                text_cell(ws, member.name),
                member.get_gender_display(),
                text(member.id_number),
                text(member.phone),
                member.get_category_display(),
                date(member.joined_on),
                date(member.full_member_on),
                text_cell(ws, membership.organization.name),
                text_cell(ws, membership.group_name),
                member.get_status_display(),
            ]
        )
    wb.save(out)
