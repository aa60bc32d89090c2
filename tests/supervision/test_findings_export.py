"""The ledger's .xlsx export, re-read with openpyxl: its headers, and rows that follow the filters and the scope."""

import datetime as dt
import io

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from supervision.findings_export import HEADERS
from supervision.services import findings as services
from tests.bulletin.export_helpers import _exports_in_a_folder_of_the_test, exported  # noqa: F401
from tests.conftest import client_for

from .conftest import local

NOW = local(2026, 5, 10, 9, 30)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def read(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].startswith("attachment;")
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = [list(r) for r in wb.active.iter_rows(values_only=True)]
    return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


@pytest.fixture
def ledger(branch, other_branch, secretary, other_secretary, supervisor):
    def raise_(b, description, **kw):
        return services.finding_raise(
            branch=b,
            category=kw.pop("category", "records"),
            severity=kw.pop("severity", "moderate"),
            description=description,
            user=supervisor,
            now=kw.pop("now", NOW),
            **kw,
        )

    open_ = raise_(branch, "记录缺发言摘要", severity="serious")
    late = raise_(branch, "=SUM(A1:A2) 缺签到表", now=local(2026, 3, 1), due_at=local(2026, 4, 1, 23, 59))
    done = raise_(other_branch, "频次不足", category="cadence")
    services.rectification_submit(rectification=done.rectification, measures="补开。", user=other_secretary, now=NOW)
    services.rectification_reject(rectification=done.rectification, reason="无记录。", user=supervisor, now=NOW)
    services.rectification_submit(
        rectification=done.rectification, measures="补开并附记录。", user=other_secretary, now=NOW
    )
    services.rectification_verify(rectification=done.rectification, user=supervisor, now=NOW)
    services.rectifications_sweep(now=NOW)
    return {"open": open_, "late": late, "done": done}


@pytest.mark.django_db
def test_the_supervisor_exports_every_branch_with_every_column(client, supervisor, ledger):
    header, rows = read(exported(client_for(client, supervisor), reverse("supervision:finding_export")))

    assert tuple(header) == HEADERS
    # Newest first; the two raised at the same moment in the order they were raised, newest first.
    assert [r["问题描述"] for r in rows] == ["频次不足", "记录缺发言摘要", "=SUM(A1:A2) 缺签到表"]
    done, first, late = rows
    assert first["支部"] == "综采一队党支部" and first["严重程度"] == "严重" and first["问题类别"] == "会议记录不规范"
    assert first["整改责任人"] == "王书记" and first["提出人"] == "supervisor"
    assert first["提出时间"] == dt.datetime(2026, 5, 10, 9, 30)
    # One calendar month from 10 May: until the end of 10 June (was 30 days).
    assert first["整改期限"] == dt.datetime(2026, 6, 11, 0, 0)
    assert (first["整改状态"], first["剩余/逾期"]) == ("整改中", "剩余 31 天")
    assert (done["整改状态"], done["整改措施"], done["验收人"]) == ("已通过", "补开并附记录。", "supervisor")
    assert done["最近驳回理由"] == "无记录。"
    assert (late["整改状态"], late["剩余/逾期"]) == ("逾期", "逾期 39 天")
    assert late["逾期标记时间"] == dt.datetime(2026, 5, 10, 9, 30)
    # Escalated in the same sweep: more than seven days late.
    assert late["再次督办时间"] == dt.datetime(2026, 5, 10, 9, 30)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"overdue": "on"}, ["=SUM(A1:A2) 缺签到表"]),
        ({"status": "verified"}, ["频次不足"]),
        ({"severity": "serious"}, ["记录缺发言摘要"]),
        ({"category": "cadence"}, ["频次不足"]),
        ({"year": "2025"}, []),
    ],
)
def test_the_export_follows_the_page_filters(client, supervisor, ledger, query, expected):
    _header, rows = read(exported(client_for(client, supervisor), reverse("supervision:finding_export"), query))

    assert [r["问题描述"] for r in rows] == expected


@pytest.mark.django_db
def test_the_branch_filter_of_the_export(client, supervisor, ledger, other_branch):
    _header, rows = read(
        client_for(client, supervisor).get(reverse("supervision:finding_export"), {"branch": other_branch.pk})
    )

    assert [r["支部"] for r in rows] == ["掘进二队党支部"]


@pytest.mark.django_db
def test_a_secretary_exports_only_their_own_branch(client, secretary, ledger):
    _header, rows = read(client_for(client, secretary).get(reverse("supervision:finding_export")))

    assert {r["支部"] for r in rows} == {"综采一队党支部"}
    assert len(rows) == 2


@pytest.mark.django_db
def test_a_secretary_cannot_widen_the_export_with_another_branch_id(client, secretary, ledger, other_branch):
    _header, rows = read(
        client_for(client, secretary).get(reverse("supervision:finding_export"), {"branch": other_branch.pk})
    )

    assert {r["支部"] for r in rows} == {"综采一队党支部"}


@pytest.mark.django_db
def test_an_ordinary_member_gets_no_export(client, member, ledger):
    assert client_for(client, member).get(reverse("supervision:finding_export")).status_code == 403


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client, ledger):
    url = reverse("supervision:finding_export")

    response = client.get(url)

    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 25])
def test_the_export_makes_the_same_queries_for_1_or_25_findings(
    client, supervisor, branch, secretary, count, django_assert_num_queries
):
    for i in range(count):
        services.finding_raise(
            branch=branch, category="other", severity="minor", description=f"问题{i}", user=supervisor, now=NOW
        )
    c = client_for(client, supervisor)

    # One branch's ledger stays direct. Session read, user, scope (2 for a login without member),
    # the branch filter's branch, the rows in one query, and the session saved (3 with its savepoint).
    with django_assert_num_queries(6):
        response = c.get(reverse("supervision:finding_export"), {"branch": branch.pk})
        _header, rows = read(response)

    assert len(rows) == count
