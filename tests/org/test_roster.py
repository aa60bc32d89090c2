"""The roster import and export, driven through the views with real .xlsx files."""

import datetime as dt
import io
import zipfile
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook
from playwright.sync_api import expect

from org import roster
from org.models import Member, Membership, Organization, StaffRole
from org.selectors import branch_members_on
from org.xlsx import XLSX_CONTENT_TYPE
from tests.conftest import client_for
from tests.factories import (
    BranchFactory,
    GroupFactory,
    MemberFactory,
    MembershipFactory,
    make_id_number,
    staff_user,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2024, 5, 20)
HEADERS = [
    "姓名",
    "性别",
    "身份证号",
    "手机号",
    "党员类别",
    "入党日期",
    "转正日期",
    "所在支部",
    "所在党小组",
    "党籍状态",
]

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today_and_a_private_var_dir(request, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    if request.node.get_closest_marker("browser") is None:
        # A stopped clock would stall the live server and the browser driver.
        request.getfixturevalue("time_machine").move_to(dt.datetime(2024, 5, 20, 10, 0, tzinfo=SHANGHAI), tick=False)


@pytest.fixture
def importer(client, supervisor):
    return client_for(client, supervisor)


def pending_files(settings) -> list[str]:
    folder = settings.VAR_DIR / "imports"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def row(**values) -> dict:
    base = {
        "姓名": "张三",
        "性别": "男",
        "身份证号": make_id_number(),
        "手机号": "13800138000",
        "党员类别": "正式党员",
        "入党日期": dt.datetime(2010, 7, 1),
        "转正日期": dt.datetime(2011, 7, 1),
        "所在支部": "综采一队党支部",
        "所在党小组": "综采一队第一党小组",
        "党籍状态": "在册",
    }
    base.update(values)
    return base


def xlsx(rows: list[dict], *, headers: list[str] = HEADERS, title: str = "党员名册") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(headers)
    for values in rows:
        ws.append([values.get(header) for header in headers])
    notes = wb.create_sheet("填写说明")
    notes.append(["姓名", "示例：不应被导入"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(client, content: bytes, name: str = "名册.xlsx", *, follow: bool = True):
    return client.post(
        reverse("org:roster_import"),
        {"file": SimpleUploadedFile(name, content, content_type="application/octet-stream")},
        follow=follow,
    )


def confirm_url(response) -> str:
    """The preview's URL, which is also where its confirm button posts."""
    assert response.redirect_chain, "a clean upload redirects to its preview"
    return response.redirect_chain[-1][0]


def errors_of(response) -> list[tuple[int | None, str, str]]:
    return [(e.row, e.column, e.message) for e in response.context["plan"].errors]


def history_counts() -> tuple[int, int]:
    return Member.history.count(), Membership.history.count()


def current_orgs(member: Member) -> set[str]:
    return {m.organization.name for m in member.memberships.all() if m.is_current_on(TODAY)}


# --- The template -----------------------------------------------------------------


def test_the_template_downloads_with_the_chinese_headers_an_instructions_sheet_and_choice_lists(importer, branch):
    response = importer.get(reverse("org:roster_template"))

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames[:2] == ["党员名册", "填写说明"]
    ws = wb["党员名册"]
    assert [c.value for c in ws[1]] == HEADERS
    assert ws.max_row == 1, "the template has no data row to be imported by mistake"
    lists = {str(v.sqref): v.formula1 for v in ws.data_validations.dataValidation}
    assert lists["B2:B5001"] == '"男,女"'
    assert lists["E2:E5001"] == '"正式党员,预备党员"'
    assert "'选项'!$A$2:$A$2" in lists.values()
    assert wb["选项"]["A2"].value == branch.name
    assert "身份证号" in [c.value for c in wb["填写说明"]["A"]]


def test_the_template_imports_as_an_empty_roster_with_a_clear_message(importer, branch):
    template = importer.get(reverse("org:roster_template")).content

    response = upload(importer, template)

    assert "名册中没有党员数据" in response.content.decode()
    assert Member.objects.count() == 0


# --- A good file --------------------------------------------------------------------


def test_a_good_file_previews_its_counts_and_confirming_imports_every_member_and_membership(
    importer, branch, group, settings
):
    rows = [
        row(姓名="张三"),
        row(姓名="李四", 性别="女", 所在党小组=None, 手机号=None),
        row(姓名="王五", 党员类别="预备党员", 转正日期=None, 入党日期="2023/7/1"),
    ]

    preview = upload(importer, xlsx(rows))

    html = preview.content.decode()
    plan = preview.context["plan"]
    assert (plan.created, plan.updated, plan.unchanged, plan.transfers) == (3, 0, 0, 0)
    assert '<div class="display-6" id="count-created">3</div>' in html
    assert "确认导入" in html
    assert Member.objects.count() == 0, "the preview writes nothing"
    assert len(pending_files(settings)) == 2

    done = importer.post(confirm_url(preview), follow=True)

    assert "导入完成：新增 3 人" in done.content.decode()
    assert pending_files(settings) == []
    zhang, li, wang = (Member.objects.get(name=name) for name in ("张三", "李四", "王五"))
    assert zhang.id_number == rows[0]["身份证号"]
    assert (zhang.gender, zhang.phone, zhang.category) == ("M", "13800138000", "full")
    assert (zhang.joined_on, zhang.full_member_on) == (dt.date(2010, 7, 1), dt.date(2011, 7, 1))
    assert current_orgs(zhang) == {branch.name, group.name}
    assert (li.gender, li.phone) == ("F", "")
    assert current_orgs(li) == {branch.name}
    assert (wang.category, wang.joined_on, wang.full_member_on) == ("probationary", dt.date(2023, 7, 1), None)
    assert {m.started_on for m in Membership.objects.all()} == {TODAY}
    assert Member.history.filter(history_change_reason="党员名册导入").count() == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-07-01", dt.date(2020, 7, 1)),
        ("2020/7/1", dt.date(2020, 7, 1)),
        ("2020.07.01", dt.date(2020, 7, 1)),
        ("2020年7月1日", dt.date(2020, 7, 1)),
        ("20200701", dt.date(2020, 7, 1)),
        (dt.datetime(2020, 7, 1, 0, 0), dt.date(2020, 7, 1)),
        (dt.date(2020, 7, 1), dt.date(2020, 7, 1)),
        (None, None),
        ("  ", None),
    ],
)
def test_dates_are_read_from_excel_dates_and_common_text_forms(text, expected):
    assert roster.parse_date(text) == expected


@pytest.mark.parametrize("text", ["2020-02-30", "7/1/2020", "去年", "2020-13-01", 43000])
def test_a_text_that_is_not_a_date_is_refused(text):
    with pytest.raises(ValueError):
        roster.parse_date(text)


# --- Bad input ----------------------------------------------------------------------


def assert_refused(response, expected: list[tuple[int | None, str, str]]) -> None:
    """The preview lists exactly these problems (row, column, part of the message), offers no confirm
    button, and nothing was written."""
    html = response.content.decode()
    found = errors_of(response)
    assert len(found) == len(expected), found
    for (row_number, column, message), (exp_row, exp_column, exp_fragment) in zip(found, expected, strict=True):
        assert (row_number, column) == (exp_row, exp_column)
        assert exp_fragment in message
        assert message in html
    assert "确认导入" not in html
    assert "未导入任何数据" in html
    assert Member.objects.count() == 0


@pytest.mark.parametrize(
    ("values", "column", "message"),
    [
        ({"姓名": None}, "姓名", "姓名不能为空"),
        ({"姓名": "   "}, "姓名", "姓名不能为空"),
        ({"性别": "男性"}, "性别", "性别“男性”无效"),
        ({"身份证号": None}, "身份证号", "身份证号不能为空"),
        ({"身份证号": "37088319850615001"}, "身份证号", "应为18位"),
        ({"身份证号": "370883198502300011"}, "身份证号", "出生日期无效"),
        ({"身份证号": "370883198506150010"}, "身份证号", "校验位不正确"),
        ({"身份证号": 3.70883198506150e17}, "身份证号", "存成了数字"),
        ({"手机号": "12345"}, "手机号", "手机号“12345”格式不正确"),
        ({"党员类别": "党员"}, "党员类别", "党员类别“党员”无效"),
        ({"入党日期": "2020-02-30"}, "入党日期", "不是有效日期"),
        ({"入党日期": "去年七月"}, "入党日期", "入党日期“去年七月”不是有效日期"),
        ({"入党日期": "2025-01-01"}, "入党日期", "超出合理范围"),
        ({"转正日期": dt.datetime(2009, 7, 1)}, "转正日期", "转正日期不能早于入党日期"),
        ({"党员类别": "预备党员"}, "转正日期", "预备党员不能填写转正日期"),
        ({"所在支部": None, "所在党小组": None}, "所在支部", "所在支部不能为空"),
        ({"所在支部": "不存在的支部", "所在党小组": None}, "所在支部", "党支部“不存在的支部”不存在"),
        ({"所在党小组": "不存在的小组"}, "所在党小组", "党小组“不存在的小组”不存在"),
        ({"党籍状态": "正常"}, "党籍状态", "党籍状态“正常”无效"),
    ],
)
def test_a_bad_cell_is_reported_in_chinese_at_its_row_and_column_and_nothing_is_imported(
    importer, branch, group, values, column, message
):
    rows = [row(), row(**values)]

    response = upload(importer, xlsx(rows))

    assert_refused(response, [(3, column, message)])


def test_a_group_of_another_branch_is_refused(importer, branch, group, other_branch):
    GroupFactory(name="掘进二队党小组", parent=other_branch)

    response = upload(importer, xlsx([row(所在党小组="掘进二队党小组")]))

    assert_refused(response, [(2, "所在党小组", "党小组“掘进二队党小组”不属于“综采一队党支部”")])


def test_an_inactive_branch_is_refused(importer, branch, group):
    Organization.objects.filter(pk=branch.pk).update(is_active=False)

    response = upload(importer, xlsx([row(所在党小组=None)]))

    assert_refused(response, [(2, "所在支部", "不存在或已撤销")])


def test_an_id_number_twice_in_the_file_is_reported_on_the_second_row(importer, branch, group):
    id_number = make_id_number()
    rows = [row(身份证号=id_number), row(), row(身份证号=id_number.lower() + " ")]

    response = upload(importer, xlsx(rows))

    assert_refused(response, [(4, "身份证号", "身份证号与第 2 行重复")])


def test_every_problem_of_a_file_is_listed_in_row_and_column_order(importer, branch, group):
    rows = [
        row(),
        row(姓名=None, 入党日期="昨天"),
        row(),
        row(身份证号="123", 所在支部="没有这个支部", 所在党小组=None),
    ]

    response = upload(importer, xlsx(rows))

    assert_refused(
        response,
        [
            (3, "姓名", "姓名不能为空"),
            (3, "入党日期", "不是有效日期"),
            (5, "身份证号", "应为18位"),
            (5, "所在支部", "不存在"),
        ],
    )
    assert "发现 4 个问题" in response.content.decode()


def test_blank_rows_are_skipped_and_rows_keep_their_excel_numbers(importer, branch, group):
    rows = [row(), {}, {}, row(姓名=None)]

    response = upload(importer, xlsx(rows))

    assert_refused(response, [(5, "姓名", "姓名不能为空")])


def test_a_missing_or_renamed_column_is_reported_on_the_header_row(importer, branch, group):
    headers = [h for h in HEADERS if h != "手机号"]
    headers[0] = "名字"

    response = upload(importer, xlsx([row()], headers=headers))

    assert_refused(
        response,
        [
            (1, "名字", "表头“名字”不是模板中的列"),
            (1, "姓名", "缺少“姓名”列"),
            (1, "手机号", "缺少“手机号”列"),
        ],
    )


def test_columns_in_another_order_are_read_by_their_headers(importer, branch, group):
    headers = list(reversed(HEADERS))
    values = row(姓名="倒序")

    preview = upload(importer, xlsx([values], headers=headers))
    importer.post(confirm_url(preview))

    assert Member.objects.get(id_number=values["身份证号"]).name == "倒序"


def a_real_xlsx() -> bytes:
    return xlsx([row()])


def zip_of_text() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "不是工作簿")
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "文件不是 Excel（.xlsx）格式"),
        ("姓名,性别\n张三,男\n".encode(), "文件不是 Excel（.xlsx）格式"),
        (b"", "所提交的是空文件"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "旧版 Excel（.xls）"),
        (a_real_xlsx()[:2000], "文件已损坏或不完整"),
        (zip_of_text(), "文件已损坏或不是有效的 Excel（.xlsx）文件"),
    ],
    ids=["png", "csv-renamed", "empty", "old-xls", "truncated-zip", "zip-not-a-workbook"],
)
def test_a_file_that_is_not_an_xlsx_is_refused_with_a_message_not_an_error_page(importer, branch, content, message):
    response = upload(importer, content)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.templates[0].name == "org/roster_import.html"
    assert Member.objects.count() == 0


def test_a_file_with_a_corrupt_sheet_inside_a_valid_zip_is_refused_with_a_message(importer, branch):
    source = zipfile.ZipFile(io.BytesIO(a_real_xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            archive.writestr(info, data)

    response = upload(importer, out.getvalue())

    assert "文件已损坏或不是有效的 Excel（.xlsx）文件" in response.content.decode()
    assert Member.objects.count() == 0


def test_a_file_over_five_megabytes_is_refused(importer, branch, settings):
    content = b"PK\x03\x04" + b"\x00" * (5 * 1024 * 1024)

    response = upload(importer, content)

    assert "文件超过 5 MB" in response.content.decode()
    assert pending_files(settings) == []


def test_more_rows_than_the_limit_are_refused(importer, branch, group, monkeypatch):
    monkeypatch.setattr(roster, "MAX_ROWS", 3)

    response = upload(importer, xlsx([row() for _ in range(4)]))

    assert "名册超过 3 行" in response.content.decode()
    assert Member.objects.count() == 0


def test_the_first_sheet_is_read_when_the_roster_sheet_was_renamed(importer, branch, group):
    values = row()

    preview = upload(importer, xlsx([values], title="Sheet1"))

    assert preview.context["plan"].created == 1


# --- Re-imports, updates and transfers ----------------------------------------------


def import_file(client, content: bytes):
    preview = upload(client, content)
    assert preview.context["plan"].is_valid, errors_of(preview)
    return preview, client.post(confirm_url(preview), follow=True)


def test_reimporting_the_same_file_changes_nothing(importer, branch, group):
    content = xlsx([row(), row(所在党小组=None), row(党员类别="预备党员", 转正日期=None)])
    import_file(importer, content)
    before = (Member.objects.count(), Membership.objects.count(), history_counts())
    updated_at = sorted(Member.objects.values_list("updated_at", flat=True))

    preview, done = import_file(importer, content)

    plan = preview.context["plan"]
    assert (plan.created, plan.updated, plan.unchanged, plan.transfers) == (0, 0, 3, 0)
    assert "导入不会产生任何变化" in preview.content.decode()
    assert "未变化 3 人" in done.content.decode()
    assert (Member.objects.count(), Membership.objects.count(), history_counts()) == before
    assert sorted(Member.objects.values_list("updated_at", flat=True)) == updated_at


def test_an_existing_member_has_only_the_changed_fields_updated_and_recorded(importer, branch, group):
    member = MemberFactory(name="旧名", phone="13800138000", joined_on=dt.date(2010, 7, 1), full_member_on=None)
    MembershipFactory(member=member, organization=branch)
    MembershipFactory(member=member, organization=group)
    history_before = member.history.count()
    values = row(姓名="新名", 身份证号=member.id_number, 手机号="13900139000", 入党日期="2010-07-01", 转正日期=None)

    preview, _ = import_file(importer, xlsx([values]))

    plan = preview.context["plan"]
    assert (plan.created, plan.updated, plan.unchanged, plan.transfers) == (0, 1, 0, 0)
    assert "修改姓名、手机号" in preview.content.decode()
    member.refresh_from_db()
    assert (member.name, member.phone) == ("新名", "13900139000")
    assert member.history.count() == history_before + 1
    assert member.history.first().history_change_reason == "党员名册导入"
    assert Membership.objects.filter(member=member).count() == 2, "already a member of both: nothing to add"


def test_a_member_of_another_branch_is_transferred_on_the_import_date(importer, branch, group, other_branch):
    old_group = GroupFactory(name="掘进二队党小组", parent=other_branch)
    member = MemberFactory(full_member_on=dt.date(2011, 7, 1), phone="13800138000")
    old_branch_membership = MembershipFactory(member=member, organization=other_branch)
    old_group_membership = MembershipFactory(member=member, organization=old_group)
    values = row(身份证号=member.id_number, 姓名=member.name)

    preview, done = import_file(importer, xlsx([values]))

    plan = preview.context["plan"]
    assert (plan.created, plan.updated, plan.transfers) == (0, 1, 1)
    assert "退出掘进二队党支部" in preview.content.decode()
    assert "转接 1 人" in done.content.decode()
    old_branch_membership.refresh_from_db()
    old_group_membership.refresh_from_db()
    assert old_branch_membership.ended_on == TODAY
    assert old_group_membership.ended_on == TODAY
    assert current_orgs(member) == {branch.name, group.name}
    assert list(branch_members_on(other_branch, on=TODAY)) == []
    assert list(branch_members_on(other_branch, on=TODAY - dt.timedelta(days=1))) == [member]
    assert list(branch_members_on(branch, on=TODAY)) == [member]


def test_moving_to_another_group_of_the_same_branch_is_not_a_branch_transfer(importer, branch, group):
    second = GroupFactory(name="综采一队第二党小组", parent=branch)
    member = MemberFactory(full_member_on=dt.date(2011, 7, 1), phone="13800138000")
    branch_membership = MembershipFactory(member=member, organization=branch)
    MembershipFactory(member=member, organization=group)

    preview, _ = import_file(importer, xlsx([row(身份证号=member.id_number, 姓名=member.name, 所在党小组=second.name)]))

    assert (preview.context["plan"].updated, preview.context["plan"].transfers) == (1, 0)
    assert current_orgs(member) == {branch.name, second.name}
    branch_membership.refresh_from_db()
    assert branch_membership.ended_on is None


def test_a_second_transfer_on_the_same_day_replaces_the_membership_that_began_that_day(
    importer, branch, group, other_branch
):
    values = row()
    import_file(importer, xlsx([values]))

    import_file(importer, xlsx([{**values, "所在支部": other_branch.name, "所在党小组": None}]))

    member = Member.objects.get()
    assert current_orgs(member) == {other_branch.name}
    assert not member.memberships.filter(organization=branch).exists()


# --- Confirming -----------------------------------------------------------------------


def test_a_second_confirm_imports_nothing_and_says_the_import_is_done(importer, branch, group, settings):
    preview = upload(importer, xlsx([row(), row()]))
    url = confirm_url(preview)
    importer.post(url)
    counts = (Member.objects.count(), Membership.objects.count(), history_counts())

    again = importer.post(url, follow=True)

    assert again.status_code == 200
    assert "该导入已完成或已过期" in again.content.decode()
    assert (Member.objects.count(), Membership.objects.count(), history_counts()) == counts
    assert counts[0] == 2
    assert "该导入已完成或已过期" in importer.get(url, follow=True).content.decode()
    assert pending_files(settings) == []


def test_a_token_of_another_user_is_not_found_and_stays_pending(client, supervisor, branch, group, settings):
    preview = upload(client_for(client, supervisor), xlsx([row()]))
    url = confirm_url(preview)
    client.logout()
    client_for(client, staff_user(username="admin", role=StaffRole.Role.ADMIN))

    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404

    assert Member.objects.count() == 0
    assert len(pending_files(settings)) == 2


@pytest.mark.parametrize("token", ["short", "a" * 30 + ".xlsx", "..%2F..%2Fsanhui"])
def test_a_malformed_token_is_not_found(importer, token):
    assert importer.post(reverse("org:roster_import_confirm", args=[token])).status_code == 404


def test_an_upload_left_for_more_than_a_day_has_expired(importer, supervisor, branch, group, time_machine, settings):
    url = confirm_url(upload(importer, xlsx([row()])))
    time_machine.shift(dt.timedelta(hours=25))
    importer.force_login(supervisor)  # the session itself expired long ago

    response = importer.post(url, follow=True)

    assert "该导入已完成或已过期" in response.content.decode()
    assert Member.objects.count() == 0
    assert pending_files(settings) == []


def test_a_file_that_became_invalid_before_confirm_is_shown_again_and_not_imported(importer, branch, group, settings):
    preview = upload(importer, xlsx([row(), row()]))
    Organization.objects.filter(pk=group.pk).update(name="改名后的党小组")

    response = importer.post(confirm_url(preview))

    assert response.status_code == 200
    html = response.content.decode()
    assert "名册数据与系统中的数据已不一致，未导入任何数据" in html
    assert [(r, c) for r, c, _ in errors_of(response)] == [(2, "所在党小组"), (3, "所在党小组")]
    assert "确认导入" not in html
    assert Member.objects.count() == 0
    assert pending_files(settings) == []


def test_an_import_that_fails_half_way_writes_nothing(importer, branch, group, monkeypatch):
    preview = upload(importer, xlsx([row(), row(), row()]))
    saved = []
    original = roster._apply

    def fail_on_the_third(change, *, today):
        if len(saved) == 2:
            raise RuntimeError("disk full")
        original(change, today=today)
        saved.append(change)

    monkeypatch.setattr(roster, "_apply", fail_on_the_third)
    importer.raise_request_exception = True

    with pytest.raises(RuntimeError):
        importer.post(confirm_url(preview))

    assert len(saved) == 2
    assert Member.objects.count() == 0
    assert Membership.objects.count() == 0
    monkeypatch.setattr(roster, "_apply", original)
    importer.post(confirm_url(preview))
    assert Member.objects.count() == 3, "the upload is kept for a retry after a failure"


# --- Export ----------------------------------------------------------------------------


def export(client) -> Workbook:
    response = client.get(reverse("org:roster_export"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_the_export_has_the_template_columns_with_real_dates_and_full_id_numbers_as_text(
    importer, branch, group, other_branch
):
    zhang = MemberFactory(
        name="张三",
        phone="13800138000",
        joined_on=dt.date(2010, 7, 1),
        full_member_on=dt.date(2011, 7, 1),
    )
    MembershipFactory(member=zhang, organization=branch)
    MembershipFactory(member=zhang, organization=group)
    li = MemberFactory(name="李四", gender="F", category="probationary", joined_on=None, phone="")
    MembershipFactory(member=li, organization=other_branch)
    gone = MemberFactory(name="已转出", status=Member.Status.TRANSFERRED_OUT)
    MembershipFactory(member=gone, organization=branch)
    left = MemberFactory(name="已调走")
    MembershipFactory(member=left, organization=branch, ended_on=dt.date(2024, 1, 1))

    ws = export(importer)["党员名册"]

    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    by_name = {r[0]: r for r in rows[1:]}
    assert set(by_name) == {"张三", "李四"}
    assert by_name["张三"] == (
        "张三",
        "男",
        zhang.id_number,
        "13800138000",
        "正式党员",
        dt.datetime(2010, 7, 1),
        dt.datetime(2011, 7, 1),
        branch.name,
        group.name,
        "在册",
    )
    assert by_name["李四"][1:] == ("女", li.id_number, None, "预备党员", None, None, other_branch.name, None, "在册")
    id_cell = next(c for c in ws["C"] if c.value == zhang.id_number)
    assert id_cell.data_type == "s" and id_cell.number_format == "@"
    date_cell = next(c for c in ws["F"] if c.value == dt.datetime(2010, 7, 1))
    assert date_cell.is_date
    assert ws.column_dimensions["C"].width >= 20


def test_reimporting_an_export_changes_nothing(importer, branch, group, other_branch):
    for index in range(3):
        member = MemberFactory(phone="13800138000", full_member_on=dt.date(2011, 7, 1) if index else None)
        MembershipFactory(member=member, organization=branch if index < 2 else other_branch)
        if index == 0:
            MembershipFactory(member=member, organization=group)
    before = (Member.objects.count(), Membership.objects.count(), history_counts())
    out = io.BytesIO()
    export(importer).save(out)

    preview, _ = import_file(importer, out.getvalue())

    assert preview.context["plan"].unchanged == 3
    assert (Member.objects.count(), Membership.objects.count(), history_counts()) == before


@pytest.mark.parametrize("members", [1, 20])
def test_the_export_query_count_does_not_grow_with_the_members(
    importer, branch, group, members, django_assert_num_queries
):
    for _ in range(members):
        member = MemberFactory()
        MembershipFactory(member=member, organization=branch)
        MembershipFactory(member=member, organization=group)

    # Session, user, the user's staff roles and member row (the permission check), the audit
    # log's INSERT, the roster itself, and the session's sliding expiry (an UPDATE inside a savepoint).
    with django_assert_num_queries(6):
        response = importer.get(reverse("org:roster_export"))
        content = b"".join(response.streaming_content)

    assert len(list(load_workbook(io.BytesIO(content))["党员名册"].iter_rows())) == members + 1


# --- Permissions -------------------------------------------------------------------------


def all_roster_requests(client, token_url: str):
    return [
        ("template", client.get(reverse("org:roster_template"))),
        ("import page", client.get(reverse("org:roster_import"))),
        ("upload", upload(client, xlsx([row()]), follow=False)),
        ("preview", client.get(token_url)),
        ("confirm", client.post(token_url)),
        ("export", client.get(reverse("org:roster_export"))),
    ]


@pytest.fixture
def pending_url(client, supervisor, group):
    url = confirm_url(upload(client_for(client, supervisor), xlsx([row()])))
    client.logout()
    return url


@pytest.mark.parametrize("role", ["secretary", "member", "other_secretary"])
def test_branch_people_are_refused_every_roster_page(client, people, role, pending_url):
    client_for(client, people[role])

    responses = all_roster_requests(client, pending_url)

    assert [(name, r.status_code) for name, r in responses] == [(name, 403) for name, _ in responses]
    assert not Member.objects.filter(name="张三").exists()


def test_anonymous_is_sent_to_sign_in_from_every_roster_page(client, people, pending_url):
    responses = all_roster_requests(client, pending_url)

    for name, response in responses:
        assert response.status_code == 302, name
        assert response.url.startswith(reverse("login")), name
    assert not Member.objects.filter(name="张三").exists()


def test_a_supervisor_reaches_every_roster_page(client, people):
    client_for(client, people["supervisor"])

    import_page = client.get(reverse("org:roster_import")).content.decode()
    assert "导入党员名册" in import_page
    assert reverse("org:roster_template") in import_page
    assert reverse("org:roster_export") in import_page
    assert client.get(reverse("org:roster_template")).status_code == 200
    assert client.get(reverse("org:roster_export")).status_code == 200


def test_a_committee_member_may_neither_export_the_full_id_roster_nor_import(client, branch):
    # Was "may export": the export carries full ID numbers, now for the 党委工作部 and the admin only.
    client_for(client, staff_user(username="committee", role=StaffRole.Role.COMMITTEE))

    assert client.get(reverse("org:roster_export")).status_code == 403
    assert client.get(reverse("org:roster_import")).status_code == 403


def test_two_branches_with_the_same_name_are_reported_as_ambiguous(importer, branch, group):
    BranchFactory(name=branch.name, parent=Organization.objects.create(name="另一党委", kind="committee"))

    response = upload(importer, xlsx([row(所在党小组=None)]))

    assert_refused(response, [(2, "所在支部", "有多个名为“综采一队党支部”的党支部")])


# --- In the browser --------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_supervisor_downloads_the_template_then_uploads_previews_and_confirms_in_the_browser(
    page, live_server, supervisor, group, tmp_path
):
    path = tmp_path / "名册.xlsx"
    path.write_bytes(xlsx([row(姓名="浏览器甲"), row(姓名="浏览器乙", 所在党小组=None)]))
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("supervisor")
    page.get_by_label("密码").fill("pw-for-tests-123")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")

    page.get_by_role("link", name="党员名册").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="下载导入模板").click()
    assert download.value.suggested_filename == "党员名册导入模板.xlsx"
    template = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert [c.value for c in template["党员名册"][1]] == HEADERS
    page.get_by_label("党员名册文件").set_input_files(str(path))
    page.get_by_role("button", name="上传并预览").click()

    expect(page.locator("#count-created")).to_have_text("2")
    expect(page.locator("#roster-changes")).to_contain_text("浏览器乙")
    page.get_by_role("button", name="确认导入").click()

    expect(page.get_by_text("导入完成：新增 2 人")).to_be_visible()
    assert sorted(Member.objects.values_list("name", flat=True)) == ["浏览器乙", "浏览器甲"]
