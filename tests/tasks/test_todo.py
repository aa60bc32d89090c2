"""我的待办 (tasks/todo.py, /todo/): each provider's rows per role, the overdue boundary, the query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from meetings.models import LeaveRequest, Meeting
from org.models import Post, StaffRole
from org.rules import may_decide_leave
from org.scope import get_scope
from supervision.models import Finding, Rectification
from tasks import todo
from tasks.models import Dispatch, Task
from tests.conftest import client_for
from tests.factories import MeetingFactory, member_with_login, staff_user

SH = ZoneInfo("Asia/Shanghai")
NOW = timezone.now()


def make_task(owner_user, *, org, due=None, status=Task.Status.TODO, source=Task.Source.OTHER, **kw):
    return Task.objects.create(
        title=kw.pop("title", "学习六月组织生活指南"),
        organization=org,
        owner=owner_user.member,
        due_at=due or NOW + dt.timedelta(days=5),
        status=status,
        source=source,
        created_at=NOW - dt.timedelta(days=1),
        **kw,
    )


def kinds(user, now=None):
    for u in [user]:
        if hasattr(u, "_sanhui_scope"):
            del u._sanhui_scope
    return [(r.kind, r.title) for r in todo.rows_for(user, now=now or timezone.now())]


def titles(user, kind):
    return sorted(t for k, t in kinds(user) if k == kind)


def count(user):
    if hasattr(user, "_sanhui_scope"):
        del user._sanhui_scope
    return todo.count_for(user, now=timezone.now())


# --- Tasks, helpers, 补学, reports ---------------------------------------------------------------


@pytest.mark.django_db
def test_tasks_owned_or_helped_open_only(branch, other_branch, secretary, member, other_secretary):
    make_task(member, org=branch, title="我的任务")
    make_task(member, org=branch, title="进行中", status=Task.Status.IN_PROGRESS)
    make_task(member, org=branch, title="被退回", status=Task.Status.RETURNED)
    for status in (Task.Status.SUBMITTED, Task.Status.DONE, Task.Status.CANCELLED):
        make_task(member, org=branch, title=f"不显示{status}", status=status)
    helped = make_task(secretary, org=branch, title="书记的任务")
    helped.helpers.add(member.member)
    make_task(other_secretary, org=other_branch, title="别的支部")

    assert titles(member, "task") == sorted(["我的任务", "进行中", "被退回", "书记的任务"])
    assert titles(secretary, "task") == ["书记的任务"]
    assert titles(other_secretary, "task") == ["别的支部"]
    assert count(member) == 4


@pytest.mark.django_db
def test_makeup_is_its_own_kind_and_the_secretary_confirms_it(branch, other_branch, secretary, member, other_secretary):
    make_task(member, org=branch, title="补学：三月党员大会", source=Task.Source.MAKEUP)
    make_task(member, org=branch, title="补学已提交", source=Task.Source.MAKEUP, status=Task.Status.SUBMITTED)
    assert titles(member, "makeup") == ["补学：三月党员大会"]
    assert titles(member, "task") == []
    assert titles(member, "report") == []
    # the 书记 of the branch confirms a submitted 补学; another branch's 书记 never sees it
    assert titles(secretary, "report") == ["补学已提交"]
    assert titles(secretary, "makeup") == []
    assert kinds(other_secretary) == []


@pytest.mark.django_db
def test_reports_wait_for_the_assigner_and_dispatched_ones_for_the_work_dept(
    branch, other_branch, secretary, member, other_secretary, supervisor
):
    make_task(member, org=branch, title="书记交办已提交", status=Task.Status.SUBMITTED, assigned_by=secretary)
    make_task(member, org=branch, title="书记交办未提交", assigned_by=secretary)
    dispatch = Dispatch.objects.create(
        title="六月指南", due_at=NOW + dt.timedelta(days=9), created_by=supervisor, created_at=NOW
    )
    make_task(other_secretary, org=other_branch, title="下发已提交", status=Task.Status.SUBMITTED, dispatch=dispatch)
    discipline = staff_user(username="jijian", role=StaffRole.Role.DISCIPLINE_DEPT)

    assert titles(secretary, "report") == ["书记交办已提交"]
    assert titles(supervisor, "report") == ["下发已提交"]  # 党委工作部
    assert titles(other_secretary, "report") == []
    assert titles(member, "report") == []
    assert titles(discipline, "report") == []  # 纪检部 is a supervisor but not the 党委工作部


# --- Meetings ---------------------------------------------------------------------------------


def notified_meeting(branch, **kw):
    return MeetingFactory(branch=branch, status=Meeting.Status.NOTIFIED, **kw)


def pending(meeting, user):
    return LeaveRequest.objects.create(meeting=meeting, member=user.member, reason="井下当班", created_at=NOW)


@pytest.mark.django_db
def test_leave_requests_for_the_secretary_or_the_group_leader(
    branch, group, other_branch, secretary, member, other_secretary
):
    leader = member_with_login(branch=branch, group=group, username="leader", role=Post.Role.GROUP_LEADER, name="组长")
    deputy = member_with_login(branch=branch, username="deputy", role=Post.Role.DEPUTY_SECRETARY, name="副书记")
    branch_meeting = notified_meeting(branch, topic="支部党员大会")
    pending(branch_meeting, member)
    group_meeting = notified_meeting(branch, topic="党小组会", group=group, types=["group_meeting"])
    pending(group_meeting, member)
    decided = notified_meeting(branch, topic="已审批")
    LeaveRequest.objects.create(
        meeting=decided, member=member.member, reason="x", created_at=NOW, status=LeaveRequest.Status.APPROVED
    )
    locked = MeetingFactory(branch=branch, status=Meeting.Status.APPROVED, topic="已通过")
    pending(locked, member)
    pending(notified_meeting(other_branch, topic="别的支部会议"), other_secretary)

    assert titles(secretary, "leave") == ["李党员 请假：支部党员大会"]
    assert titles(leader, "leave") == ["李党员 请假：党小组会"]
    assert titles(deputy, "leave") == []  # 书记 only (org.rules.decides_leave)
    assert titles(member, "leave") == []
    assert titles(other_secretary, "leave") == ["赵书记 请假：别的支部会议"]
    # the same answer as the predicate, request by request (org.rules: one rule, one home)
    for user in (secretary, leader, deputy, member, other_secretary):
        shown = set(titles(user, "leave"))
        for request in LeaveRequest.objects.select_related("meeting", "member"):
            expected = request.status == LeaveRequest.Status.PENDING and may_decide_leave(user, request.meeting)
            assert (f"{request.member.name} 请假：{request.meeting.topic}" in shown) == expected, (user, request)


@pytest.mark.django_db
def test_minutes_due_for_recorder_and_secretaries(branch, other_branch, secretary, member, other_secretary):
    held = MeetingFactory(
        branch=branch, status=Meeting.Status.HELD, topic="已召开", planned_start=NOW - dt.timedelta(days=1)
    )
    recorded = MeetingFactory(
        branch=other_branch,
        status=Meeting.Status.HELD,
        topic="他记录的",
        recorder=member.member,
        planned_start=NOW - dt.timedelta(days=2),
    )
    MeetingFactory(branch=branch, status=Meeting.Status.NOTIFIED, topic="还没开")  # in two days
    MeetingFactory(
        branch=branch, status=Meeting.Status.SUBMITTED, topic="已提交", planned_start=NOW - dt.timedelta(days=3)
    )

    assert titles(secretary, "minutes") == ["已召开"]
    assert titles(member, "minutes") == ["他记录的"]
    assert titles(other_secretary, "minutes") == ["他记录的"]
    (row,) = [r for r in todo.rows_for(secretary, now=timezone.now()) if r.kind == "minutes"]
    assert row.due_at == held.minutes_due_at
    assert row.url == reverse("meetings:meeting_minutes", args=[held.pk])
    assert recorded.minutes_due_at is not None


@pytest.mark.django_db
def test_returned_records_for_the_branch_committee(branch, other_branch, secretary, member, other_secretary):
    committee_member = member_with_login(branch=branch, username="zuzhi", role=Post.Role.ORGANIZATION, name="组织委员")
    MeetingFactory(
        branch=branch, status=Meeting.Status.RETURNED, topic="被退回的记录", planned_start=NOW - dt.timedelta(days=5)
    )
    MeetingFactory(
        branch=other_branch,
        status=Meeting.Status.RETURNED,
        topic="别的支部退回",
        planned_start=NOW - dt.timedelta(days=5),
    )

    assert titles(secretary, "returned") == ["被退回的记录"]
    assert titles(committee_member, "returned") == ["被退回的记录"]
    assert titles(member, "returned") == []
    assert titles(other_secretary, "returned") == ["别的支部退回"]


# --- Supervision ---------------------------------------------------------------------------------


def make_rectification(branch, owner, *, status=Rectification.Status.OPEN, text="会议记录不完整"):
    finding = Finding.objects.create(branch=branch, category="records", description=text, raised_at=NOW)
    return Rectification.objects.create(
        finding=finding, branch=branch, owner=owner, due_at=NOW + dt.timedelta(days=30), created_at=NOW, status=status
    )


@pytest.mark.django_db
def test_rectifications_to_answer_for_their_owner(branch, other_branch, secretary, member, other_secretary):
    make_rectification(branch, secretary, text="整改中")
    make_rectification(branch, secretary, status=Rectification.Status.OVERDUE, text="已逾期")
    make_rectification(branch, secretary, status=Rectification.Status.SUBMITTED, text="已提交")
    make_rectification(other_branch, other_secretary, text="别的支部")

    assert titles(secretary, "rectification") == ["已逾期", "整改中"]
    assert titles(member, "rectification") == []
    assert titles(other_secretary, "rectification") == ["别的支部"]


@pytest.mark.django_db
def test_review_queue_for_supervisors_only(branch, other_branch, secretary, member, supervisor):
    MeetingFactory(branch=branch, status=Meeting.Status.SUBMITTED, topic="待审核一", submitted_at=NOW)
    MeetingFactory(branch=other_branch, status=Meeting.Status.SUBMITTED, topic="待审核二", submitted_at=NOW)
    MeetingFactory(branch=branch, status=Meeting.Status.APPROVED, topic="已通过")
    committee = staff_user(username="dangwei", role=StaffRole.Role.COMMITTEE)

    assert titles(supervisor, "review") == ["待审核一", "待审核二"]
    assert titles(secretary, "review") == []
    assert titles(member, "review") == []
    assert titles(committee, "review") == []


@pytest.mark.django_db
def test_manual_scores_for_supervisors_while_missing(branch, other_branch, supervisor, secretary):
    from assessment.models import BranchScore, Item, ItemScore, Run, Scheme

    scheme = Scheme.objects.create(year=2091, name="测试方案")
    item = Item.objects.create(
        scheme=scheme,
        category="组织生活",
        name="支部工作评价",
        order=1,
        max_points=Decimal("10"),
        method="manual",
        kind="manual",
    )
    draft = Run.objects.create(
        scheme=scheme,
        kind=Run.Kind.QUARTER,
        period_start=dt.date(2091, 1, 1),
        period_end=dt.date(2091, 4, 1),
        created_at=NOW,
    )
    done = Run.objects.create(
        scheme=scheme,
        kind=Run.Kind.QUARTER,
        period_start=dt.date(2091, 4, 1),
        period_end=dt.date(2091, 7, 1),
        created_at=NOW,
    )
    published = Run.objects.create(
        scheme=scheme,
        kind=Run.Kind.QUARTER,
        period_start=dt.date(2091, 7, 1),
        period_end=dt.date(2091, 10, 1),
        created_at=NOW,
        status=Run.Status.PUBLISHED,
    )
    for run in (draft, done, published):
        for b in (branch, other_branch):
            score = BranchScore.objects.create(run=run, branch=b, total=Decimal("0"), grade="", rank=1)
            entered = {"entered_at": NOW, "entered_by": supervisor} if run is done else {}
            ItemScore.objects.create(branch_score=score, item=item, points=Decimal("0"), **entered)

    rows = [r for r in todo.rows_for(supervisor, now=timezone.now()) if r.kind == "manual_score"]
    assert [r.url for r in rows] == [reverse("assessment:manual_scores", args=[draft.pk])]
    assert rows[0].state == "2 项未评分"
    assert titles(secretary, "manual_score") == []


# --- Order and the overdue boundary ---------------------------------------------------------------


@pytest.mark.django_db
def test_earliest_deadline_first_and_overdue_boundary(branch, member):
    now = dt.datetime(2026, 6, 10, 15, 0, tzinfo=SH)
    midnight = dt.datetime(2026, 6, 11, 0, 0, tzinfo=SH)  # 2026年6月10日 24:00
    make_task(member, org=branch, title="今天24:00", due=midnight)
    make_task(member, org=branch, title="一分钟前", due=now - dt.timedelta(minutes=1))
    make_task(member, org=branch, title="下周", due=now + dt.timedelta(days=7))
    rows = todo.rows_for(member, now=now)
    assert [(r.title, r.overdue) for r in rows] == [("一分钟前", True), ("今天24:00", False), ("下周", False)]
    assert rows[1].due_text == "2026年6月10日 24:00"
    # at 24:00 itself the deadline has passed
    assert [r.overdue for r in todo.rows_for(member, now=midnight)][:2] == [True, True]


@pytest.mark.django_db
def test_page_marks_overdue_rows_and_filters_by_kind(client, branch, member):
    make_task(member, org=branch, title="逾期任务", due=timezone.now() - dt.timedelta(minutes=1))
    make_task(member, org=branch, title="补学任务", source=Task.Source.MAKEUP)
    response = client_for(client, member).get(reverse("todo:index"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="list-group-item list-group-item-action todo-row') == 2
    assert html.count('data-overdue="1"') == 1
    assert "已逾期" in html
    filtered = client.get(reverse("todo:index"), {"kind": "makeup"}).content.decode()
    assert "补学任务" in filtered and "逾期任务" not in filtered
    # an unknown kind shows everything
    assert "逾期任务" in client.get(reverse("todo:index"), {"kind": "nope"}).content.decode()


@pytest.mark.django_db
def test_empty_state_and_anonymous(client, member):
    assert client.get(reverse("todo:index")).status_code == 302
    html = client_for(client, member).get(reverse("todo:index")).content.decode()
    assert "目前没有等待您办理的事项" in html


@pytest.mark.django_db
def test_page_rejects_post(client, member):
    assert client_for(client, member).post(reverse("todo:index")).status_code == 405


# --- Query counts -----------------------------------------------------------------------------------


def _fill_secretary(branch, secretary, member, n):
    for i in range(n):
        make_task(secretary, org=branch, title=f"任务{i}", due=NOW + dt.timedelta(hours=i + 1))
        if i % 5 == 0:
            make_task(member, org=branch, title=f"报告{i}", status=Task.Status.SUBMITTED, assigned_by=secretary)
            pending(notified_meeting(branch, topic=f"会议{i}"), member)
            make_rectification(branch, secretary, text=f"问题{i}")


def _fill_supervisor(branch, n):
    for i in range(n):
        MeetingFactory(branch=branch, status=Meeting.Status.SUBMITTED, topic=f"待审核{i}", submitted_at=NOW)


def _page_queries(client, django_assert_num_queries, user, expected_rows, n_queries):
    cache.clear()
    client_for(client, user)
    with django_assert_num_queries(n_queries):
        response = client.get(reverse("todo:index"))
    assert response.content.decode().count("todo-row") == expected_rows


# The page's queries for a 书记: session, user, scope (4), the counts per kind (1), the page's keys (1),
# one per applicable provider (6), the inbox badge, the permission checks of the navbar (2), the
# member's name, the session save (3). For a 督导组 member: scope (2), 5 providers (+1 prefetch of the
# review queue's types), no branch rows. A member also reads the speeches they are asked to
# confirm (the attestation provider) and study's 学习任务 provider: +2.
PAGE_QUERIES = {"secretary": 21, "supervisor": 13}


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["secretary", "supervisor"])
@pytest.mark.parametrize("n", [1, 60])
def test_page_query_count_fixed(client, django_assert_num_queries, branch, secretary, member, supervisor, who, n):
    user = secretary if who == "secretary" else supervisor
    if who == "secretary":
        _fill_secretary(branch, secretary, member, n)
        waiting = n + 3 * len(range(0, n, 5))  # tasks, and per fifth: a report, a leave request, a rectification
    else:
        _fill_supervisor(branch, n)
        waiting = n
    client_for(client, user)
    client.get(reverse("todo:index"))  # warm the session
    cache.clear()
    with django_assert_num_queries(PAGE_QUERIES[who]):
        html = client.get(reverse("todo:index")).content.decode()
    assert html.count('data-kind="') == min(waiting, todo.PAGE_SIZE)
    assert ("下一页" in html) == (waiting > todo.PAGE_SIZE)
    if waiting > todo.PAGE_SIZE:  # the next page costs the same
        with django_assert_num_queries(PAGE_QUERIES[who]):
            html = client.get(reverse("todo:index"), {"page": 2}).content.decode()
        assert html.count('data-kind="') == waiting - todo.PAGE_SIZE


@pytest.mark.django_db
def test_pages_keep_the_deadline_order_across_page_breaks(client, branch, secretary, member):
    # 51 tasks and one rectification due between the 49th and 50th task, one row without a deadline.
    for i in range(51):
        make_task(secretary, org=branch, title=f"任务{i:02d}", due=NOW + dt.timedelta(hours=i + 1))
    rect = make_rectification(branch, secretary, text="整改一项")
    Rectification.objects.filter(pk=rect.pk).update(due_at=NOW + dt.timedelta(hours=49, minutes=30))
    MeetingFactory(branch=branch, status=Meeting.Status.RETURNED, topic="退回的记录", submitted_at=NOW)
    c = client_for(client, secretary)
    first = c.get(reverse("todo:index")).content.decode()
    second = c.get(reverse("todo:index"), {"page": 2}).content.decode()
    assert first.count('data-kind="') == 50
    assert "任务48" in first and "整改一项" in first and "任务49" not in first
    assert second.index("任务49") < second.index("任务50") < second.index("退回的记录")
    assert "下一页" in first and "下一页" not in second and "上一页" in second
    # the counts above the list still count every row
    assert "全部 53" in first and "全部 53" in second


@pytest.mark.django_db
def test_a_page_past_the_end_says_so(client, branch, member):
    make_task(member, org=branch, title="一项")
    html = client_for(client, member).get(reverse("todo:index"), {"page": 7}).content.decode()
    assert "这一页没有内容了" in html


# --- The navbar count ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_count_equals_rows_on_the_page(client, branch, secretary, member, supervisor):
    _fill_secretary(branch, secretary, member, 12)
    _fill_supervisor(branch, 3)
    make_task(secretary, org=branch, title="补学", source=Task.Source.MAKEUP)
    make_task(member, org=branch, title="党员的任务")
    for user in (secretary, member, supervisor):
        cache.clear()
        client.force_login(user)
        html = client.get(reverse("todo:index")).content.decode()
        n = html.count('data-kind="')
        assert n > 0
        assert count(user) == n
        # the navbar shows the same number
        assert f'id="todo-count">{n}<' in html


@pytest.mark.django_db
def test_navbar_counts_in_one_query_cached_or_not(django_assert_num_queries, rf, branch, secretary, member):
    from bulletin.models import Notification
    from tasks.context_processors import navbar

    _fill_secretary(branch, secretary, member, 6)
    Notification.objects.create(
        channel=Notification.Channel.INBOX,
        recipient=secretary,
        subject="通知",
        body="请准时参加。",
        url="/",
        status=Notification.Status.SENT,
        next_attempt_at=NOW,
        created_at=NOW,
    )
    request = rf.get("/")
    request.user = secretary
    get_scope(secretary)  # computed once per request anyway (org.context_processors.roles)
    with django_assert_num_queries(1):  # the inbox badge and 我的待办, one statement
        first = navbar(request)
    assert first["todo_count"] == len(todo.rows_for(secretary, now=timezone.now())) > 0
    with django_assert_num_queries(1):  # cached: only the inbox, as before 我的待办
        again = navbar(request)
    assert again == first
    assert first["inbox_unread"] == 1


@pytest.mark.django_db
def test_navbar_count_anonymous_no_query(django_assert_num_queries, rf):
    from django.contrib.auth.models import AnonymousUser

    from tasks.context_processors import navbar

    request = rf.get("/")
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert navbar(request) == {"inbox_unread": 0, "todo_count": 0}


@pytest.mark.django_db
def test_ordinary_page_costs_no_more_query_without_the_cache(client, branch, secretary, member):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _fill_secretary(branch, secretary, member, 3)
    client.force_login(secretary)
    url = reverse("bulletin:announcement_list")
    client.get(url)  # warm
    with CaptureQueriesContext(connection) as cached:
        client.get(url)
    cache.delete(todo.cache_key(secretary.pk))
    with CaptureQueriesContext(connection) as uncached:
        html = client.get(url).content.decode()
    assert len(uncached.captured_queries) == len(cached.captured_queries)
    navbar_sql = [q["sql"] for q in uncached.captured_queries if "_todo_n" in q["sql"]]
    assert len(navbar_sql) == 1 and "bulletin_notification" in navbar_sql[0]
    assert not any("_todo_n" in q["sql"] for q in cached.captured_queries)
    assert 'id="todo-count">' in html
    assert "我的待办" in html


@pytest.mark.django_db
def test_the_count_is_cached_for_a_while(client, branch, member):
    make_task(member, org=branch, title="一")
    client.force_login(member)
    url = reverse("bulletin:announcement_list")
    assert 'id="todo-count">1<' in client.get(url).content.decode()
    make_rectification(branch, member, text="新的整改")  # not attributed: the cached count stays 60 s
    assert 'id="todo-count">1<' in client.get(url).content.decode()
    client.get(reverse("todo:index"))  # the page recounts and refreshes it
    assert 'id="todo-count">2<' in client.get(url).content.decode()


@pytest.mark.django_db
def test_saving_a_task_drops_its_peoples_counts(client, branch, secretary, member):
    client.force_login(member)
    url = reverse("bulletin:announcement_list")
    assert 'id="todo-count"' not in client.get(url).content.decode()
    task = make_task(member, org=branch, title="新任务", assigned_by=secretary)
    assert 'id="todo-count">1<' in client.get(url).content.decode()
    cache.set(todo.cache_key(secretary.pk), 7)
    task.status = Task.Status.SUBMITTED
    task.save()
    assert cache.get(todo.cache_key(secretary.pk)) is None
    assert 'id="todo-count"' not in client.get(url).content.decode()


# --- The bench's preparation ----------------------------------------------------------------------


@pytest.mark.django_db
def test_bench_prepare_gives_the_secretary_open_tasks(branch, secretary, capsys):
    from bench import bench_todo

    assert bench_todo.prepare(n_tasks=5) == "secretary"
    assert bench_todo.prepare(n_tasks=5) == "secretary"  # again: replaced, not doubled
    rows = [r for r in todo.rows_for(secretary, now=timezone.now()) if r.kind == "task"]
    assert len(rows) == 5
    assert sum(r.overdue for r in rows) == 5  # due from 5 days ago to yesterday
    try:
        import bench.load  # noqa: F401
    except ImportError:
        assert bench_todo.measure() == []
        assert "bench.load" in capsys.readouterr().out
