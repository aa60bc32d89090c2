"""学习任务: an item assigned to branches or members; each member's task in 我的待办 closes when they finish it."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from org.models import Post, StaffRole
from study.assignments import assignment_create, on_learning_completed
from study.models import Assignment, AssignmentTarget, StudyItem
from study.quiz import attempt_start, attempt_submit
from tasks import todo
from tasks.models import Task
from tasks.services import task_report

from ..conftest import client_for
from ..factories import BranchFactory, MemberFactory, MembershipFactory, StudyItemFactory, member_with_login, staff_user
from .study_helpers import NOW, complete, two_question_quiz

pytestmark = pytest.mark.django_db

DUE = NOW + dt.timedelta(days=7)


@pytest.fixture
def committee(db):
    return staff_user(username="weiyuan", role=StaffRole.Role.COMMITTEE)


@pytest.fixture
def item(db):
    return StudyItemFactory(title="煤矿安全规程")


def assign(item, user, **kwargs):
    kwargs.setdefault("due_at", DUE)
    kwargs.setdefault("now", NOW)
    return assignment_create(item=item, user=user, **kwargs)


def branches_with_members(n, per_branch=2):
    made = []
    for i in range(n):
        branch = BranchFactory(name=f"第{i}队党支部")
        for j in range(per_branch):
            member_with_login(branch=branch, username=f"b{i}m{j}")
        made.append(branch)
    return made


def test_each_member_with_a_login_of_the_chosen_branches_gets_one_study_task(
    branch, other_branch, secretary, member, other_secretary, supervisor, item
):
    no_login = MemberFactory(name="无账号")
    MembershipFactory(member=no_login, organization=branch)

    assignment = assign(item, supervisor, branches=[branch, other_branch])

    tasks = Task.objects.filter(study_target__assignment=assignment).order_by("owner__name")
    assert sorted(t.owner.name for t in tasks) == sorted(["王书记", "李党员", "赵书记"])
    assert {t.source for t in tasks} == {Task.Source.STUDY}
    assert {t.due_at for t in tasks} == {DUE}
    mine = tasks.get(owner=member.member)
    assert mine.organization == branch and mine.title == "学习《煤矿安全规程》"


def test_the_task_shows_in_my_todo_and_links_to_the_assignment(branch, member, supervisor, item):
    assignment = assign(item, supervisor, branches=[branch])

    rows = todo.rows_for(member, now=NOW, kind="study")

    assert [r.url for r in rows] == [reverse("study:assignment_todo", args=[assignment.pk])]
    assert todo.rows_for(member, now=NOW, kind="task") == []  # not twice


@pytest.mark.parametrize("n", [1, 8])
def test_assigning_takes_the_same_number_of_queries_for_one_or_eight_branches(
    n, supervisor, item, django_assert_num_queries
):
    branches = branches_with_members(n)

    with django_assert_num_queries(21):
        assign(item, supervisor, branches=branches)

    assert AssignmentTarget.objects.count() == 2 * n


def test_the_deadline_must_be_later_than_now_and_nothing_is_saved(branch, member, supervisor, item):
    with pytest.raises(ValidationError) as error:
        assign(item, supervisor, branches=[branch], due_at=NOW)

    assert "完成期限必须晚于现在" in str(error.value)
    assert not Assignment.objects.exists() and not Task.objects.exists()


def test_only_a_published_item_can_be_assigned(branch, member, supervisor):
    draft = StudyItemFactory(state=StudyItem.State.DRAFT)

    with pytest.raises(ValidationError, match="只能布置已发布的学习资料"):
        assign(draft, supervisor, branches=[branch])


def test_an_item_published_to_other_branches_cannot_be_assigned_to_this_one(
    branch, other_branch, member, other_secretary, supervisor
):
    theirs = StudyItemFactory(audience=StudyItem.Audience.BRANCHES, branches=[other_branch])

    with pytest.raises(ValidationError, match="综采一队党支部"):
        assign(theirs, supervisor, branches=[branch, other_branch])
    assert not Task.objects.exists()


def test_a_secretary_assigns_within_their_own_branch_only(
    branch, other_branch, secretary, member, other_secretary, item
):
    with pytest.raises(ValidationError, match="书记只能给本支部布置学习任务"):
        assign(item, secretary, branches=[other_branch], own_branch=branch)
    with pytest.raises(ValidationError, match="赵书记"):
        assign(item, secretary, members=[other_secretary.member], own_branch=branch)

    assignment = assign(item, secretary, members=[member.member], own_branch=branch)

    assert [t.member for t in assignment.targets.all()] == [member.member]


def test_finishing_the_item_closes_the_task_once(branch, member, supervisor, item):
    assignment = assign(item, supervisor, branches=[branch])
    task = Task.objects.get(study_target__assignment=assignment, owner=member.member)
    record = complete(item, member, at=NOW + dt.timedelta(days=1))

    on_learning_completed(record=record, now=NOW + dt.timedelta(days=1))
    on_learning_completed(record=record, now=NOW + dt.timedelta(days=2))

    task.refresh_from_db()
    assert task.status == Task.Status.DONE
    assert task.completed_at == NOW + dt.timedelta(days=1)
    assert task.events.filter(action="accepted").count() == 1
    assert task.history.first().history_change_reason == "学习记录已完成，任务自动完成"


def test_a_member_who_had_already_finished_is_done_at_assignment(branch, secretary, member, supervisor, item):
    complete(item, member, at=NOW - dt.timedelta(days=3))

    assignment = assign(item, supervisor, branches=[branch])

    statuses = dict(Task.objects.filter(study_target__assignment=assignment).values_list("owner__name", "status"))
    assert statuses == {"李党员": Task.Status.DONE, "王书记": Task.Status.TODO}


def test_a_study_task_cannot_be_reported_by_text(branch, member, supervisor, item):
    assign(item, supervisor, branches=[branch])
    task = Task.objects.get(owner=member.member)

    with pytest.raises(ValidationError, match="学完资料后自动完成"):
        task_report(task=task, user=member, text="已学习", now=NOW)
    task.refresh_from_db()
    assert task.status == Task.Status.TODO


def test_an_item_that_requires_its_quiz_closes_the_task_only_after_a_pass(branch, member, supervisor, item):
    item.requires_quiz_pass = True
    item.save()
    quiz, right = two_question_quiz(item)
    assign(item, supervisor, branches=[branch])
    task = Task.objects.get(owner=member.member)
    record = complete(item, member)

    on_learning_completed(record=record, now=NOW)
    task.refresh_from_db()
    assert task.status == Task.Status.TODO

    attempt = attempt_start(quiz=quiz, member=member.member, now=NOW)
    attempt_submit(attempt=attempt, answers=right, now=NOW + dt.timedelta(minutes=5))
    task.refresh_from_db()
    assert task.status == Task.Status.DONE


# --- The assign page ---------------------------------------------------------------------------


def form_data(**kwargs):
    data = {"scope": "all", "due_date": "2026-03-17", "note": "", "form_token": "t-1"}
    data.update(kwargs)
    return data


@time_machine.travel(NOW, tick=False)
def test_the_committee_assigns_to_chosen_branches_from_the_page(client, branch, other_branch, member, committee, item):
    response = client_for(client, committee).post(
        reverse("study:assignment_create", args=[item.pk]), form_data(scope="chosen", branches=[branch.pk])
    )

    assignment = Assignment.objects.get()
    assert response.status_code == 302 and response.url == reverse("study:assignment_detail", args=[assignment.pk])
    assert assignment.due_at == dt.datetime(2026, 3, 18, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert [t.branch for t in assignment.targets.all()] == [branch]


@time_machine.travel(NOW, tick=False)
def test_the_deadline_day_today_is_taken_and_yesterday_is_refused(client, branch, member, supervisor, item):
    c = client_for(client, supervisor)
    url = reverse("study:assignment_create", args=[item.pk])

    refused = c.post(url, form_data(due_date="2026-03-09", form_token="a"))
    assert refused.status_code == 400 and "完成期限必须晚于现在" in refused.content.decode()
    assert not Assignment.objects.exists()

    assert c.post(url, form_data(due_date="2026-03-10", form_token="b")).status_code == 302


@time_machine.travel(NOW, tick=False)
def test_a_second_submit_of_the_form_changes_nothing(client, branch, member, supervisor, item):
    c = client_for(client, supervisor)
    url = reverse("study:assignment_create", args=[item.pk])
    c.post(url, form_data())

    again = c.post(url, form_data())

    assert again.status_code == 400 and "请勿重复提交" in again.content.decode()
    assert Assignment.objects.count() == 1 and Task.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_a_secretary_page_offers_their_members_and_assigns_to_them_only(
    client, branch, other_branch, secretary, member, other_secretary, item
):
    c = client_for(client, secretary)
    page = c.get(reverse("study:assignment_create", args=[item.pk]))
    assert "李党员" in page.content.decode() and "掘进二队党支部" not in page.content.decode()

    c.post(reverse("study:assignment_create", args=[item.pk]), form_data(scope="members", members=[member.member.pk]))

    assignment = Assignment.objects.get()
    assert assignment.branch == branch
    assert [t.member for t in assignment.targets.all()] == [member.member]


@pytest.mark.parametrize("who", ["member", "anonymous"])
def test_those_who_may_not_assign_are_refused(client, people, branch, item, who):
    response = client_for(client, people[who]).post(reverse("study:assignment_create", args=[item.pk]), form_data())

    assert response.status_code == (403 if who == "member" else 302)
    assert not Assignment.objects.exists()


def test_a_group_leader_or_committee_member_who_is_not_the_secretary_cannot_assign(client, branch, member, item):
    organizer = member_with_login(branch=branch, username="zuzhi", role=Post.Role.ORGANIZATION)

    response = client_for(client, organizer).post(reverse("study:assignment_create", args=[item.pk]), form_data())

    assert response.status_code == 403 and not Assignment.objects.exists()


# --- The assigner's completion page ------------------------------------------------------------


@pytest.fixture
def mine_wide(branch, other_branch, secretary, member, other_secretary, supervisor, item):
    assignment = assign(item, supervisor, branches=[branch, other_branch])
    complete(item, member)
    on_learning_completed(record=item.records.get(member=member.member), now=NOW)
    return assignment


def test_the_assigner_sees_completion_per_branch_and_per_member(client, mine_wide, branch, supervisor):
    response = client_for(client, supervisor).get(
        reverse("study:assignment_detail", args=[mine_wide.pk]), {"branch": branch.pk}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert [(b.name, b.done, b.total) for b in response.context["branches"]] == [
        ("综采一队党支部", 1, 2),
        ("掘进二队党支部", 0, 1),
    ]
    rows = {t.member.name: t.task.status for t in response.context["page"]}
    assert rows == {"李党员": "done", "王书记": "todo"}
    assert "已完成" in body and "未完成" in body


def test_a_secretary_of_an_assigned_branch_sees_only_their_branch(client, mine_wide, other_branch, other_secretary):
    response = client_for(client, other_secretary).get(reverse("study:assignment_detail", args=[mine_wide.pk]))

    assert [b.name for b in response.context["branches"]] == ["掘进二队党支部"]
    assert [t.member.name for t in response.context["page"]] == ["赵书记"]


@pytest.mark.parametrize("who", ["member", "anonymous"])
def test_the_completion_page_is_refused_to_others(client, people, mine_wide, who):
    response = client_for(client, people[who]).get(reverse("study:assignment_detail", args=[mine_wide.pk]))

    assert response.status_code == (404 if who == "member" else 302)


def test_a_secretary_of_a_branch_not_assigned_gets_404(client, branch, secretary, member, other_secretary, item):
    assignment = assign(item, secretary, branches=[branch], own_branch=branch)

    response = client_for(client, other_secretary).get(reverse("study:assignment_detail", args=[assignment.pk]))

    assert response.status_code == 404


@pytest.mark.parametrize("n", [1, 30])
def test_the_completion_page_has_a_fixed_number_of_queries(
    client, branch, supervisor, item, n, django_assert_num_queries
):
    for j in range(n):
        member_with_login(branch=branch, username=f"m{j}")
    assignment = assign(item, supervisor, branches=[branch])
    c = client_for(client, supervisor)
    url = reverse("study:assignment_detail", args=[assignment.pk])
    c.get(url)

    with django_assert_num_queries(9):
        response = c.get(url, {"branch": branch.pk})

    assert len(response.context["page"]) == n


def test_the_member_task_page_is_the_assigned_members_only(
    client, branch, member, secretary, other_secretary, supervisor, item
):
    assignment = assign(item, supervisor, branches=[branch])
    url = reverse("study:assignment_todo", args=[assignment.pk])

    assert client_for(client, member).get(url).status_code == 200
    client.logout()
    assert client_for(client, other_secretary).get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_confirming_a_document_as_studied_closes_the_task_through_the_completion_signal(
    branch, member, supervisor, item
):
    from study.records import record_confirm_document, record_open

    assign(item, supervisor, branches=[branch])
    record_open(item=item, member=member.member, now=NOW)

    record_confirm_document(item=item, member=member.member, now=NOW + dt.timedelta(minutes=20))

    task = Task.objects.get(owner=member.member)
    assert (task.status, task.completed_at) == (Task.Status.DONE, NOW + dt.timedelta(minutes=20))


@pytest.mark.parametrize("n", [1, 25])
def test_the_assignment_list_has_a_fixed_number_of_queries(
    client, branch, member, supervisor, n, django_assert_num_queries
):
    for _ in range(n):
        assign(StudyItemFactory(), supervisor, branches=[branch])
    c = client_for(client, supervisor)
    url = reverse("study:assignment_list")
    c.get(url)

    with django_assert_num_queries(7):
        response = c.get(url)

    assert len(response.context["page"]) == min(n, 20)


def test_the_assignment_list_shows_a_secretary_what_reaches_their_branch_only(
    client, branch, other_branch, secretary, member, other_secretary, supervisor, item
):
    ours = assign(item, supervisor, branches=[branch])
    assign(StudyItemFactory(title="别的"), supervisor, branches=[other_branch])

    response = client_for(client, secretary).get(reverse("study:assignment_list"))

    assert list(response.context["page"]) == [ours]


@pytest.mark.parametrize(("who", "status"), [("member", 403), ("anonymous", 302)])
def test_the_assignment_list_is_refused_to_members_and_anonymous(client, people, who, status):
    assert client_for(client, people[who]).get(reverse("study:assignment_list")).status_code == status


def test_each_assigned_member_is_told_in_their_inbox(branch, member, secretary, supervisor, item):
    from bulletin.models import Notification

    assign(item, supervisor, branches=[branch])

    rows = Notification.objects.filter(channel=Notification.Channel.INBOX, subject="学习《煤矿安全规程》")
    assert sorted(n.recipient.username for n in rows) == ["member", "secretary"]
