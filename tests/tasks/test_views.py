"""The task pages: who sees and does what, bad input at the forms, and pinned query counts."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from org.models import Post
from tasks.models import Dispatch, Task, TaskReport
from tasks.report_files import report_file_process
from tasks.services import dispatch_send, task_create, task_report
from tests.supervision.conftest import SAMPLES

from ..conftest import client_for
from ..factories import BranchFactory, member_with_login, staff_user

pytestmark = pytest.mark.django_db

PHOTO = SAMPLES / "Canon_40D.jpg"


def _due(days=14):
    return timezone.now() + dt.timedelta(days=days)


@pytest.fixture
def task(branch, secretary, supervisor):
    return task_create(
        organization=branch,
        owner=secretary.member,
        title="六月组织生活指南",
        due_at=_due(),
        now=timezone.now(),
        assigned_by=supervisor,
        source=Task.Source.DISPATCH,
    )


@pytest.fixture
def dispatched(branch, secretary, supervisor):
    dispatch = dispatch_send(
        title="六月组织生活指南",
        due_at=_due(),
        audience=Dispatch.Audience.ALL_BRANCHES,
        user=supervisor,
        now=timezone.now(),
    )
    return dispatch.tasks.get(organization=branch)


@pytest.mark.parametrize(
    ("who", "expected"),
    [("secretary", 200), ("member", 200), ("supervisor", 200), ("other_secretary", 404), ("anonymous", 302)],
)
def test_who_sees_a_task(client, people, task, who, expected):
    response = client_for(client, people[who]).get(reverse("tasks:detail", args=[task.pk]))
    assert response.status_code == expected
    if expected == 200:
        assert "六月组织生活指南" in response.content.decode()


def test_a_secretary_never_lists_another_branchs_tasks(client, other_secretary, task):
    response = client_for(client, other_secretary).get(reverse("tasks:list") + "?scope=all")
    assert "六月组织生活指南" not in response.content.decode()


@pytest.mark.parametrize(
    ("who", "expected"), [("member", 403), ("supervisor", 403), ("other_secretary", 404), ("anonymous", 302)]
)
def test_only_the_owner_or_a_helper_reports(client, people, task, who, expected):
    response = client_for(client, people[who]).post(reverse("tasks:report", args=[task.pk]), {"text": "已完成"})
    assert response.status_code == expected
    task.refresh_from_db()
    assert task.status == Task.Status.TODO
    assert not TaskReport.objects.exists()


def test_the_owner_reports_with_a_photo(client, secretary, task):
    photo = SimpleUploadedFile("现场.jpg", PHOTO.read_bytes(), content_type="image/jpeg")
    response = client_for(client, secretary).post(
        reverse("tasks:report", args=[task.pk]), {"text": "已组织学习", "files": [photo], "token": "t1"}
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == Task.Status.SUBMITTED
    file = task.reports.get().files.get()
    report_file_process(file_id=file.pk, now=timezone.now())
    served = client.get(reverse("tasks:report_file", args=[file.pk]))
    assert served["Content-Type"] == "image/jpeg"
    assert b"".join(served.streaming_content)[:2] == b"\xff\xd8"


@pytest.mark.parametrize(("who", "expected"), [("member", 200), ("other_secretary", 404), ("anonymous", 302)])
def test_report_files_are_served_only_to_those_who_see_the_task(client, people, secretary, task, who, expected):
    photo = SimpleUploadedFile("现场.jpg", PHOTO.read_bytes(), content_type="image/jpeg")
    report = task_report(task=task, user=secretary, text="", files=[photo], now=timezone.now())
    report_file_process(file_id=report.files.get().pk, now=timezone.now())
    response = client_for(client, people[who]).get(reverse("tasks:report_file", args=[report.files.get().pk]))
    assert response.status_code == expected


def test_an_empty_report_is_refused_with_a_message(client, secretary, task):
    response = client_for(client, secretary).post(reverse("tasks:report", args=[task.pk]), {"text": ""})
    assert response.status_code == 400
    assert "请填写办理情况或上传附件" in response.content.decode()
    task.refresh_from_db()
    assert task.status == Task.Status.TODO


def test_the_same_form_submitted_twice_is_refused(client, secretary, task):
    c = client_for(client, secretary)
    c.post(reverse("tasks:report", args=[task.pk]), {"text": "已完成", "token": "same"})
    response = c.post(reverse("tasks:report", args=[task.pk]), {"text": "已完成", "token": "same"})
    assert response.status_code == 400
    assert "已经提交过了" in response.content.decode()
    assert TaskReport.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "expected"), [("secretary", 403), ("member", 403), ("other_secretary", 404), ("anonymous", 302)]
)
def test_only_the_assigner_or_work_dept_accepts_a_dispatched_task(client, people, secretary, dispatched, who, expected):
    task = dispatched
    task_report(task=task, user=secretary, text="已完成", now=timezone.now())
    response = client_for(client, people[who]).post(reverse("tasks:accept", args=[task.pk]))
    assert response.status_code == expected
    task.refresh_from_db()
    assert task.status == Task.Status.SUBMITTED


def test_the_assigner_returns_then_accepts(client, secretary, supervisor, task):
    task_report(task=task, user=secretary, text="初稿", now=timezone.now())
    c = client_for(client, supervisor)
    c.post(reverse("tasks:return", args=[task.pk]), {"reason": "缺少照片"})
    task.refresh_from_db()
    assert task.status == Task.Status.RETURNED
    task_report(task=task, user=secretary, text="补充", now=timezone.now())
    c.post(reverse("tasks:accept", args=[task.pk]))
    task.refresh_from_db()
    assert task.status == Task.Status.DONE


def test_a_return_without_reason_says_so(client, secretary, supervisor, task):
    task_report(task=task, user=secretary, text="初稿", now=timezone.now())
    response = client_for(client, supervisor).post(reverse("tasks:return", args=[task.pk]), {"reason": ""}, follow=True)
    assert "请填写退回原因。" in response.content.decode()
    task.refresh_from_db()
    assert task.status == Task.Status.SUBMITTED


def test_the_secretary_decides_a_task_of_the_branch_itself(client, branch, secretary, member):
    own = task_create(organization=branch, owner=member.member, title="整理党费台账", due_at=_due(), now=timezone.now())
    task_report(task=own, user=member, text="已整理", now=timezone.now())
    client_for(client, secretary).post(reverse("tasks:accept", args=[own.pk]))
    own.refresh_from_db()
    assert own.status == Task.Status.DONE


@pytest.mark.parametrize(
    ("who", "expected"), [("secretary", 403), ("member", 403), ("other_secretary", 404), ("anonymous", 302)]
)
def test_only_the_assigner_cancels(client, people, task, who, expected):
    response = client_for(client, people[who]).post(reverse("tasks:cancel", args=[task.pk]), {"reason": "不办了"})
    assert response.status_code == expected
    task.refresh_from_db()
    assert task.status == Task.Status.TODO


@pytest.mark.parametrize(
    ("who", "expected"), [("member", 403), ("supervisor", 403), ("other_secretary", 404), ("anonymous", 302)]
)
def test_only_the_branch_committee_hands_over(client, people, member, task, who, expected):
    response = client_for(client, people[who]).post(
        reverse("tasks:hand_over", args=[task.pk]), {"owner": member.member.pk}
    )
    assert response.status_code == expected
    task.refresh_from_db()
    assert task.owner.name == "王书记"


def test_the_secretary_hands_over_and_an_empty_owner_is_refused(client, branch, secretary, member, task):
    c = client_for(client, secretary)
    response = c.post(reverse("tasks:hand_over", args=[task.pk]), {"owner": ""})
    assert response.status_code == 400
    assert "请指定责任人" in response.content.decode()
    c.post(reverse("tasks:hand_over", args=[task.pk]), {"owner": member.member.pk})
    task.refresh_from_db()
    assert task.owner == member.member


@pytest.mark.parametrize("who", ["secretary", "member", "other_secretary"])
def test_branch_people_cannot_dispatch_or_see_the_matrix(client, people, who):
    c = client_for(client, people[who])
    for name in ("tasks:dispatch_create", "tasks:dispatch_matrix"):
        assert c.get(reverse(name)).status_code == 403
    assert c.post(reverse("tasks:dispatch_create"), {"title": "x", "audience": "all"}).status_code == 403
    assert not Dispatch.objects.exists()


def test_anonymous_is_sent_to_login_from_dispatch(client):
    assert client.get(reverse("tasks:dispatch_create")).status_code == 302


def test_the_work_dept_dispatches_to_all_branches(client, supervisor, secretary, other_secretary):
    tomorrow = timezone.localdate() + dt.timedelta(days=7)
    response = client_for(client, supervisor).post(
        reverse("tasks:dispatch_create"),
        {"title": "六月组织生活指南", "audience": "all", "due_date": tomorrow.isoformat()},
    )
    assert response.status_code == 302
    dispatch = Dispatch.objects.get()
    assert dispatch.tasks.count() == 2
    assert dispatch.due_text.endswith("24:00")


def test_a_past_deadline_is_refused_at_the_form(client, supervisor, secretary):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    response = client_for(client, supervisor).post(
        reverse("tasks:dispatch_create"),
        {"title": "六月组织生活指南", "audience": "all", "due_date": yesterday.isoformat()},
    )
    assert response.status_code == 400
    assert "完成期限必须晚于现在。" in response.content.decode()
    assert not Dispatch.objects.exists()


def _many_branches(n):
    for i in range(n):
        b = BranchFactory(name=f"第{i}党支部")
        member_with_login(branch=b, username=f"s{i}", role=Post.Role.SECRETARY)


@pytest.mark.parametrize("n", [1, 12])
def test_the_matrix_costs_the_same_queries(client, django_assert_num_queries, n):
    _many_branches(n)
    staff = staff_user(username="wd", role="work_dept")
    for d in range(3):
        dispatch_send(title=f"任务{d}", due_at=_due(), audience="all", user=staff, now=timezone.now())
    c = client_for(client, staff)
    c.get(reverse("tasks:dispatch_matrix"))
    with django_assert_num_queries(QUERIES["matrix"]):
        response = c.get(reverse("tasks:dispatch_matrix"))
    assert response.content.decode().count("matrix-cell") == 3 * n


@pytest.mark.parametrize("n", [1, 12])
def test_the_dispatch_detail_costs_the_same_queries(client, django_assert_num_queries, n):
    _many_branches(n)
    staff = staff_user(username="wd", role="work_dept")
    dispatch = dispatch_send(title="任务", due_at=_due(), audience="all", user=staff, now=timezone.now())
    c = client_for(client, staff)
    c.get(reverse("tasks:dispatch_detail", args=[dispatch.pk]))
    with django_assert_num_queries(QUERIES["dispatch_detail"]):
        response = c.get(reverse("tasks:dispatch_detail", args=[dispatch.pk]))
    assert response.content.decode().count('class="dispatch-row"') == n


@pytest.mark.parametrize("n", [1, 12])
def test_the_task_list_costs_the_same_queries(client, branch, secretary, django_assert_num_queries, n):
    for i in range(n):
        task_create(organization=branch, owner=secretary.member, title=f"任务{i}", due_at=_due(), now=timezone.now())
    c = client_for(client, secretary)
    c.get(reverse("tasks:list"))
    with django_assert_num_queries(QUERIES["list"]):
        response = c.get(reverse("tasks:list"))
    assert response.content.decode().count("task-row") == n


@pytest.mark.parametrize("n", [1, 8])
def test_the_task_page_costs_the_same_queries(client, secretary, supervisor, task, django_assert_num_queries, n):
    for i in range(n):
        Task.objects.filter(pk=task.pk).update(status=Task.Status.IN_PROGRESS)
        task_report(task=task, user=secretary, text=f"第{i}次", now=timezone.now())
        if i < n - 1:
            from tasks.services import task_return

            task_return(task=task, user=supervisor, reason="再改", now=timezone.now())
    c = client_for(client, supervisor)
    c.get(reverse("tasks:detail", args=[task.pk]))
    with django_assert_num_queries(QUERIES["detail"]):
        response = c.get(reverse("tasks:detail", args=[task.pk]))
    assert response.content.decode().count('task-report"') == n


# Each count includes the base page's own (session, user, scope, inbox count, ...).
QUERIES = {"matrix": 10, "dispatch_detail": 8, "list": 12, "detail": 11}
