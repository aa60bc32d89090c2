import datetime as dt
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from meetings import ledger, services
from meetings.models import LeaveRequest, Meeting
from org.models import Member
from org.xlsx import DATETIME_FORMAT, XLSX_CONTENT_TYPE
from tests.bulletin.export_helpers import _exports_in_a_folder_of_the_test, request_job  # noqa: F401
from tests.conftest import client_for
from tests.factories import MeetingFactory, MemberFactory, MembershipFactory

TZ = ZoneInfo("Asia/Shanghai")
HELD = dt.datetime(2025, 6, 12, 15, 0, tzinfo=TZ)


@pytest.fixture
def extra_members(branch):
    """A probationary member who takes leave and a full member who stays away."""
    probationary = MemberFactory(name="钱预备", category=Member.Category.PROBATIONARY)
    absentee = MemberFactory(name="孙缺席")
    for m in (probationary, absentee):
        MembershipFactory(member=m, organization=branch)
    return probationary, absentee


def hold_meeting(branch, secretary, member, extra_members, *, start=HELD, topic="学习安全生产规程", agenda=True):
    """A 党员大会 with complete minutes: 4 expected (3 正式, 1 预备), 2 present, 1 on leave, 1 absent."""
    probationary, absentee = extra_members
    chair, recorder = secretary.member, member.member
    meeting = MeetingFactory(branch=branch, types=["general_meeting", "party_lesson"], topic=topic, planned_start=start)
    services.meeting_record_minutes(
        meeting=meeting,
        user=secretary,
        now=start + dt.timedelta(hours=3),
        actual_start=start,
        actual_end=start + dt.timedelta(hours=1),
        place="三楼党员活动室",
        chair=chair,
        recorder=recorder,
        resolutions="同意年度安全生产计划。",
    )
    # 请假 stands only on leave approved before the start.
    LeaveRequest.objects.create(
        meeting=meeting,
        member=probationary,
        reason="井下当班",
        status=LeaveRequest.Status.APPROVED,
        created_at=meeting.planned_start - dt.timedelta(days=1),
    )
    services.attendance_record(
        meeting=meeting,
        user=secretary,
        now=start,
        entries={
            chair.pk: "present",
            recorder.pk: "late",
            probationary.pk: "leave",
            absentee.pk: "absent",
        },
    )
    if agenda:
        services.meeting_save_agenda(
            meeting=meeting,
            user=secretary,
            now=start,
            items=[
                services.AgendaItemData(
                    title="学习《煤矿安全规程》",
                    speeches=[
                        services.SpeechData(speaker=chair, points="要把隐患排查落到班组。"),
                        services.SpeechData(speaker=recorder, points="建议增加夜班检查。", dissent=True),
                    ],
                )
            ],
        )
        services.vote_record(
            meeting=meeting, kind="motion", motion="年度安全生产计划", yes=2, no=0, abstain=0, user=secretary, now=start
        )
    return meeting


@pytest.fixture
def held(branch, secretary, member, extra_members):
    return hold_meeting(branch, secretary, member, extra_members)


# --- Rows ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_ledger_row_holds_every_element_of_the_minutes(held):
    (row,) = ledger.ledger_rows(ledger.meetings_of_year(2025, branch=held.branch))
    assert row.types == ["支部党员大会", "党课"]
    assert (row.topic, row.place, row.chair, row.recorder) == ("学习安全生产规程", "三楼党员活动室", "王书记", "李党员")
    assert (row.expected, row.expected_full, row.expected_probationary) == (4, 3, 1)
    assert (row.present, row.present_full, row.present_probationary, row.late) == (2, 2, 0, 1)
    assert (row.leave, row.absent) == (1, 1)
    assert row.adds_up
    assert row.leave_names == ["钱预备（井下当班）"]
    assert row.absent_names == ["孙缺席"]
    assert row.agenda_summary() == (
        "1. 学习《煤矿安全规程》（王书记：要把隐患排查落到班组。，李党员（持不同意见）：建议增加夜班检查。）"
    )
    assert row.resolutions == "同意年度安全生产计划。"
    assert row.votes_summary() == "年度安全生产计划：赞成 2，反对 0，弃权 0（应到有表决权 3 人，实到 2 人），通过"
    assert row.status_label == "已召开"


@pytest.mark.django_db
def test_the_ledger_of_a_year_leaves_out_other_years_and_other_branches(held, other_branch):
    MeetingFactory(branch=held.branch, planned_start=dt.datetime(2024, 12, 31, 20, 0, tzinfo=TZ))
    MeetingFactory(branch=other_branch, planned_start=HELD)
    assert [r.id for r in ledger.ledger_rows(ledger.meetings_of_year(2025, branch=held.branch))] == [held.pk]
    # 1 January 00:30 in Shanghai is still 2024 in UTC: the year is the mine's local year.
    new_year = MeetingFactory(branch=held.branch, planned_start=dt.datetime(2025, 1, 1, 0, 30, tzinfo=TZ))
    assert new_year.pk in {r.id for r in ledger.ledger_rows(ledger.meetings_of_year(2025, branch=held.branch))}


def _many_meetings(branch, secretary, member, extra_members, n):
    return [
        hold_meeting(branch, secretary, member, extra_members, start=HELD + dt.timedelta(days=i), topic=f"会议{i}")
        for i in range(n)
    ]


@pytest.mark.django_db
def test_ledger_rows_take_seven_queries_for_one_meeting_or_twenty(
    branch, secretary, member, extra_members, django_assert_num_queries
):
    _many_meetings(branch, secretary, member, extra_members, 1)
    with django_assert_num_queries(7):
        assert len(list(ledger.ledger_rows(ledger.meetings_of_year(2025)))) == 1
    _many_meetings(branch, secretary, member, extra_members, 19)
    with django_assert_num_queries(7):
        assert len(list(ledger.ledger_rows(ledger.meetings_of_year(2025)))) == 20


@pytest.mark.django_db
def test_ledger_rows_are_read_in_chunks_of_bounded_queries(branch, secretary, member, extra_members):
    _many_meetings(branch, secretary, member, extra_members, 5)
    with CaptureQueriesContext(connection) as queries:
        rows = list(ledger.ledger_rows(ledger.meetings_of_year(2025), chunk_size=2))
    assert [r.topic for r in rows] == [f"会议{i}" for i in range(5)]
    assert all(r.expected == 4 and len(r.votes) == 1 for r in rows)
    assert len(queries) == 1 + 3 * 6  # one main query, six per chunk of two


# --- Pages and exports ---------------------------------------------------------------------


def _xlsx(response):
    return load_workbook(BytesIO(b"".join(response.streaming_content)))


@pytest.mark.django_db
def test_the_branch_ledger_page_lists_the_meetings_with_their_elements(client, held, secretary):
    response = client_for(client, secretary).get(reverse("meetings:ledger", args=[held.branch_id, 2025]))
    assert response.status_code == 200
    for text in (
        "学习安全生产规程",
        "三楼党员活动室",
        "王书记 / 李党员",
        "钱预备（井下当班）",
        "孙缺席",
        "建议增加夜班检查",
    ):
        assert text in response.text
    assert reverse("meetings:ledger_xlsx", args=[held.branch_id, 2025]) in response.text
    assert reverse("meetings:meeting_print", args=[held.pk]) in response.text


@pytest.mark.django_db
def test_the_ledger_export_reopens_with_dates_chinese_headers_and_right_counts(client, held, secretary):
    response = client_for(client, secretary).get(reverse("meetings:ledger_xlsx", args=[held.branch_id, 2025]))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]
    ws = _xlsx(response).active
    header = [c.value for c in ws[1]]
    assert header == [c.header for c in ledger.COLUMNS]
    assert header[:4] == ["序号", "支部", "党小组", "会议时间"]
    values = dict(zip(header, [c.value for c in ws[2]], strict=True))
    assert isinstance(values["会议时间"], dt.datetime)
    assert values["会议时间"] == dt.datetime(2025, 6, 12, 15, 0)  # the mine's wall clock
    assert ws["D2"].number_format == DATETIME_FORMAT
    assert (values["应到"], values["应到正式"], values["应到预备"]) == (4, 3, 1)
    assert (values["实到"], values["实到正式"], values["实到预备"], values["迟到"]) == (2, 2, 0, 1)
    assert (values["请假"], values["缺席"]) == (1, 1)
    assert values["请假人员及事由"] == "钱预备（井下当班）"
    assert values["缺席人员"] == "孙缺席"
    assert values["会议类型"] == "支部党员大会、党课"
    assert values["状态"] == "已召开"
    assert "年度安全生产计划：赞成 2" in values["表决情况"]
    assert ws.freeze_panes == "A2"
    # XlsxWriter stores the width Excel shows as 30 characters with its padding (30.71)
    assert 30 <= ws.column_dimensions["G"].width < 31
    assert ws.max_row == 2


@pytest.mark.django_db
def test_user_text_that_looks_like_a_formula_stays_text(client, branch, secretary, member, extra_members):
    hold_meeting(branch, secretary, member, extra_members, topic='=HYPERLINK("http://x","点我")', agenda=False)
    response = client_for(client, secretary).get(reverse("meetings:ledger_xlsx", args=[branch.pk, 2025]))
    cell = _xlsx(response).active["G2"]
    assert cell.data_type == "s"
    assert cell.value == '=HYPERLINK("http://x","点我")'


@pytest.mark.django_db
def test_the_mine_export_puts_every_branch_in_one_sheet(client, held, other_branch, supervisor):
    MeetingFactory(branch=other_branch, topic="掘进二队支委会", planned_start=HELD + dt.timedelta(days=1))
    from bulletin.export_services import export_run
    from bulletin.models import ExportJob

    job = request_job(client_for(client, supervisor), reverse("meetings:mine_ledger_xlsx", args=[2025]))
    assert job == ExportJob.objects.get(requested_by=supervisor)  # made by the worker
    assert export_run(job_id=job.pk, now=timezone.now()) is True
    response = client.get(reverse("bulletin:export_download", args=[job.pk]))
    assert response.status_code == 200
    wb = _xlsx(response)
    assert len(wb.worksheets) == 1
    rows = list(wb.active.iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[6]) for r in rows] == [
        ("综采一队党支部", "学习安全生产规程"),
        ("掘进二队党支部", "掘进二队支委会"),
    ]


def _assert_constant_queries(client, url, grow, django_assert_num_queries):
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    grow()
    with django_assert_num_queries(len(few)):
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("user", "name", "args"),
    [
        ("secretary", "meetings:ledger", "branch"),
        ("secretary", "meetings:ledger_xlsx", "branch"),
    ],
)
def test_ledger_pages_and_exports_make_the_same_queries_for_one_or_twenty_meetings(
    client, people, branch, secretary, member, extra_members, user, name, args, django_assert_num_queries
):
    _many_meetings(branch, secretary, member, extra_members, 1)
    client_for(client, people[user])
    url = reverse(name, args=[branch.pk, 2025] if args == "branch" else [2025])
    _assert_constant_queries(
        client,
        url,
        lambda: _many_meetings(branch, secretary, member, extra_members, 19),
        django_assert_num_queries,
    )
    assert Meeting.objects.count() == 20


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"),
    [("secretary", 200), ("supervisor", 200), ("member", 403), ("other_secretary", 403), ("anonymous", 302)],
)
@pytest.mark.parametrize("name", ["meetings:ledger", "meetings:ledger_xlsx"])
def test_the_branch_ledger_is_for_the_branch_committee_and_the_supervisors(
    client, people, branch, name, role, expected
):
    response = client_for(client, people[role]).get(reverse(name, args=[branch.pk, 2025]))
    assert response.status_code == expected
    if role == "anonymous":
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"),
    [("supervisor", 302), ("secretary", 403), ("member", 403), ("other_secretary", 403), ("anonymous", 302)],
)
def test_the_mine_export_is_for_supervisors(client, people, role, expected):
    from bulletin.models import ExportJob

    response = client_for(client, people[role]).get(reverse("meetings:mine_ledger_xlsx", args=[2025]))
    assert response.status_code == expected
    assert not ExportJob.objects.exists()  # a GET never queues one
    start = reverse("bulletin:export_start", args=["meetings.mine_ledger"])
    posted = client.post(start, {"year": 2025})
    assert posted.status_code == (302 if role in ("supervisor", "anonymous") else 403)
    assert ExportJob.objects.count() == (1 if role == "supervisor" else 0)
    if role == "anonymous":
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_a_year_out_of_range_is_not_found(client, branch, secretary):
    response = client_for(client, secretary).get(reverse("meetings:ledger", args=[branch.pk, 1900]))
    assert response.status_code == 404


# --- Print ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_print_page_holds_every_element_of_the_minutes(client, held, member):
    response = client_for(client, member).get(reverse("meetings:meeting_print", args=[held.pk]))
    assert response.status_code == 200
    for text in (
        "综采一队党支部会议记录",
        "支部党员大会、党课",
        "学习安全生产规程",
        "2025年6月12日 15:00 至 16:00",
        "三楼党员活动室",
        "<th>主持人</th><td>王书记</td>",
        "<th>记录人</th><td>李党员</td>",
        "4 人（正式党员 3 人，预备党员 1 人）",
        "2 人（正式党员 2 人，预备党员 0 人）",
        "（迟到：李党员）",
        "1 人：钱预备（井下当班）",
        "1 人（无故缺席）：孙缺席",
        "学习《煤矿安全规程》",
        "<strong>李党员</strong>（持不同意见）：建议增加夜班检查。",
        "同意年度安全生产计划。",
        "年度安全生产计划",
        "3 / 2",
        "主持人（签字）",
        "css/print.css",
        "js/print.js",
        'id="print-button"',
    ):
        assert text in response.text, text


def test_the_print_stylesheet_sets_an_a4_page():
    from pathlib import Path

    from django.contrib.staticfiles import finders

    css = Path(finders.find("css/print.css")).read_text(encoding="utf-8")
    assert "size: A4" in css and "margin:" in css


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"),
    [("secretary", 200), ("member", 200), ("supervisor", 200), ("other_secretary", 403), ("anonymous", 302)],
)
def test_the_print_page_follows_view_meeting(client, people, branch, role, expected):
    meeting = MeetingFactory(branch=branch)
    response = client_for(client, people[role]).get(reverse("meetings:meeting_print", args=[meeting.pk]))
    assert response.status_code == expected


@pytest.mark.django_db
def test_the_print_page_query_count_does_not_grow_with_the_record(
    client, branch, secretary, member, extra_members, django_assert_num_queries
):
    meeting = hold_meeting(branch, secretary, member, extra_members, agenda=True)
    client_for(client, secretary)
    url = reverse("meetings:meeting_print", args=[meeting.pk])

    def grow():
        items = [
            services.AgendaItemData(
                title=f"议题{i}", speeches=[services.SpeechData(speaker=secretary.member, points=f"要点{i}")] * 3
            )
            for i in range(5)
        ]
        services.meeting_save_agenda(meeting=meeting, items=items, user=secretary, now=HELD)
        for i in range(3):
            services.vote_record(
                meeting=meeting, kind="motion", motion=f"事项{i}", yes=2, no=0, abstain=0, user=secretary, now=HELD
            )

    _assert_constant_queries(client, url, grow, django_assert_num_queries)
