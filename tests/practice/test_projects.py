"""技术攻关 projects: opening with team and milestones, the lifecycle, evidence, verification, the lock."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from bulletin.models import Notification
from practice import projects as services
from practice.models import Project, ProjectEvidence, ProjectMilestone
from practice.projects import MilestonePlan, Worker
from tasks.models import Task
from tests.factories import member_with_login

from .conftest import NOW, member_of, open_project, photo, reported

pytestmark = pytest.mark.django_db


def test_opening_a_project_keeps_party_members_workers_and_makes_each_milestone_a_task_once(
    branch, group, group_leader, member
):
    project = open_project(
        branch=branch,
        group=group,
        user=group_leader,
        leader=member_of(group_leader),
        party_members=[member_of(member), member_of(group_leader)],
        workers=[Worker("张三", "采煤机司机"), Worker("  ")],
        milestones=[MilestonePlan("完成喷雾装置安装", dt.date(2027, 4, 30))],
        token="t1",
    )
    team = sorted((m.display_name, m.is_party, m.post) for m in project.team.all())
    assert team == [("张三", False, "采煤机司机"), ("李党员", True, "")]
    milestone = ProjectMilestone.objects.get(project=project)
    assert milestone.task.source == Task.Source.MILESTONE
    assert milestone.task.owner == member_of(group_leader)
    assert milestone.task.title == "攻关节点：完成喷雾装置安装"
    with pytest.raises(ValidationError, match="已经立项"):
        open_project(
            branch=branch,
            group=group,
            user=group_leader,
            leader=member_of(group_leader),
            milestones=[MilestonePlan("完成喷雾装置安装", dt.date(2027, 4, 30))],
            token="t1",
        )
    assert Project.objects.count() == 1
    assert Task.objects.filter(source=Task.Source.MILESTONE).count() == 1


def test_a_project_without_a_leader_is_refused_in_chinese_and_nothing_is_saved(branch, group, group_leader):
    with pytest.raises(ValidationError) as caught:
        open_project(branch=branch, group=group, user=group_leader, leader=None)
    assert "请指定项目负责人" in str(caught.value.message_dict["leader"])
    assert not Project.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"metric": ""}, "metric", "请填写目标指标"),
        ({"baseline_value": None}, "baseline_value", "请填写基准值"),
        ({"target_value": None}, "target_value", "请填写目标值"),
        ({"target_value": Decimal("10")}, "target_value", "目标值不能与基准值相同"),
    ],
)
def test_a_project_without_a_target_is_refused_and_nothing_is_saved(
    branch, group, group_leader, overrides, field, text
):
    with pytest.raises(ValidationError) as caught:
        open_project(branch=branch, group=group, user=group_leader, leader=member_of(group_leader), **overrides)
    assert text in str(caught.value.message_dict[field])
    assert not Project.objects.exists()
    assert not Task.objects.exists()


def test_a_leader_from_another_branch_is_refused(branch, group, group_leader, other_secretary):
    with pytest.raises(ValidationError, match="不是综采一队党支部的党员"):
        open_project(branch=branch, group=group, user=group_leader, leader=member_of(other_secretary))
    assert not Project.objects.exists()


def test_a_milestone_already_past_is_refused_with_nothing_saved(branch, group, group_leader):
    with pytest.raises(ValidationError, match="完成日期已过"):
        open_project(
            branch=branch,
            group=group,
            user=group_leader,
            leader=member_of(group_leader),
            milestones=[MilestonePlan("补做", NOW.date() - dt.timedelta(days=1))],
        )
    assert not Project.objects.exists()
    assert not Task.objects.exists()


def test_the_outcome_goes_to_the_named_verifier_and_a_pass_locks_it_with_history(
    branch, group, group_leader, verifier, safety_dept, evidence_storage_dir
):
    project = open_project(branch=branch, group=group, user=group_leader, leader=member_of(group_leader))
    reported(project, user=group_leader, verifier=verifier, department=safety_dept)
    project.refresh_from_db()
    assert project.state == Project.State.REPORTED
    evidence = ProjectEvidence.objects.get(project=project)
    assert evidence.content_type == "image/jpeg"
    assert (evidence_storage_dir / evidence.stored).exists()

    later = NOW + dt.timedelta(days=40)
    services.project_verify(project=project, passed=True, comment="经现场检测属实", user=verifier, now=later)
    project.refresh_from_db()
    assert project.state == Project.State.VERIFIED
    assert project.verified_at == later
    with pytest.raises(ValidationError, match="已验收，不能再修改"):
        services.project_update(project=project, user=group_leader, now=later, title="改名")
    with pytest.raises(ValidationError, match="已验收"):
        services.project_verify(project=project, passed=False, comment="再改", user=verifier, now=later)
    with pytest.raises(ValidationError, match="已验收"):
        services.project_terminate(project=project, reason="不做了", user=group_leader, now=later)
    project.refresh_from_db()
    assert (project.title, project.state, project.verify_comment) == ("综采工作面降尘", "verified", "经现场检测属实")
    reasons = list(
        project.history.order_by("history_date", "history_id").values_list("history_change_reason", flat=True)
    )
    assert reasons == ["立项", "实施中", "待验收", "已验收"]


@pytest.fixture
def evidence_storage_dir(_evidence_storage):
    return _evidence_storage


def test_an_outcome_without_evidence_is_refused_and_nothing_changes(branch, group, group_leader, verifier, safety_dept):
    project = open_project(branch=branch, group=group, user=group_leader, leader=member_of(group_leader))
    services.project_start(project=project, user=group_leader, now=NOW)
    with pytest.raises(ValidationError) as caught:
        services.project_report(
            project=project,
            measured_value=Decimal("6"),
            money_estimate=None,
            outcome="粉尘浓度下降 40 %",
            files=[],
            department=safety_dept,
            verifier=verifier,
            user=group_leader,
            now=NOW,
        )
    assert "请上传成果佐证材料" in str(caught.value.message_dict["files"])
    project.refresh_from_db()
    assert project.state == Project.State.IN_PROGRESS
    assert project.measured_value is None


def test_a_damaged_evidence_file_is_refused_with_the_reason_and_nothing_is_stored(
    branch, group, group_leader, verifier, safety_dept, evidence_storage_dir
):
    project = open_project(branch=branch, group=group, user=group_leader, leader=member_of(group_leader))
    services.project_start(project=project, user=group_leader, now=NOW)
    fake = SimpleUploadedFile("fake.jpg", b"<html>not a photo</html>", content_type="image/jpeg")
    with pytest.raises(ValidationError, match=r"fake\.jpg"):
        services.project_report(
            project=project,
            measured_value=Decimal("6"),
            money_estimate=None,
            outcome="下降",
            files=[photo(), fake],
            department=safety_dept,
            verifier=verifier,
            user=group_leader,
            now=NOW,
        )
    assert not ProjectEvidence.objects.exists()
    assert not list(evidence_storage_dir.rglob("*.jpg"))
    project.refresh_from_db()
    assert project.state == Project.State.IN_PROGRESS


def test_a_verifier_who_is_on_the_team_is_refused_in_chinese(branch, group, group_leader, safety_dept):
    teammate = member_with_login(branch=branch, group=group, username="teammate", name="周队员")
    safety_dept.users.add(teammate)
    project = open_project(
        branch=branch,
        group=group,
        user=group_leader,
        leader=member_of(group_leader),
        party_members=[member_of(teammate)],
    )
    services.project_start(project=project, user=group_leader, now=NOW)
    with pytest.raises(ValidationError) as caught:
        services.project_report(
            project=project,
            measured_value=Decimal("6"),
            money_estimate=None,
            outcome="下降",
            files=[photo()],
            department=safety_dept,
            verifier=teammate,
            user=group_leader,
            now=NOW,
        )
    assert "验收人不能是本项目的负责人或成员" in str(caught.value.message_dict["verifier"])
    project.refresh_from_db()
    assert project.state == Project.State.IN_PROGRESS
    assert not ProjectEvidence.objects.exists()


def test_the_leader_cannot_verify_either(branch, group, group_leader, safety_dept):
    safety_dept.users.add(group_leader)
    project = open_project(branch=branch, group=group, user=group_leader, leader=member_of(group_leader))
    assert "不能是本项目的负责人" in services.verifier_problem(
        project=project, department=safety_dept, verifier=group_leader
    )


def test_a_user_outside_the_department_cannot_be_named_verifier(branch, group, group_leader, supervisor, safety_dept):
    project = open_project(branch=branch, group=group, user=group_leader, leader=member_of(group_leader))
    assert "不是安监处的验收人员" in services.verifier_problem(
        project=project, department=safety_dept, verifier=supervisor
    )


def test_only_the_named_verifier_decides_and_a_fail_is_locked_too(
    branch, group, group_leader, verifier, safety_dept, supervisor
):
    project = open_project(branch=branch, group=group, user=group_leader, leader=member_of(group_leader))
    reported(project, user=group_leader, verifier=verifier, department=safety_dept)
    with pytest.raises(ValidationError, match="只有指定的验收人"):
        services.project_verify(project=project, passed=True, comment="好", user=supervisor, now=NOW)
    with pytest.raises(ValidationError, match="请填写验收意见"):
        services.project_verify(project=project, passed=False, comment=" ", user=verifier, now=NOW)
    services.project_verify(project=project, passed=False, comment="降幅未达目标", user=verifier, now=NOW)
    project.refresh_from_db()
    assert project.state == Project.State.FAILED
    assert project.is_locked


def test_ending_a_project_cancels_its_open_milestones(branch, group, group_leader):
    project = open_project(
        branch=branch,
        group=group,
        user=group_leader,
        leader=member_of(group_leader),
        milestones=[MilestonePlan("安装", dt.date(2027, 4, 30))],
    )
    with pytest.raises(ValidationError, match="请填写终止原因"):
        services.project_terminate(project=project, reason="", user=group_leader, now=NOW)
    services.project_terminate(project=project, reason="设备停产", user=group_leader, now=NOW)
    project.refresh_from_db()
    assert project.state == Project.State.TERMINATED
    assert Task.objects.get(project_milestone__project=project).status == Task.Status.CANCELLED
    with pytest.raises(ValidationError, match="已终止"):
        services.project_start(project=project, user=group_leader, now=NOW)


def test_the_verifier_is_told_of_the_report_and_the_leader_of_the_verdict_once_each(
    branch, group, group_leader, verifier, safety_dept
):
    project = open_project(branch=branch, group=group, user=group_leader, leader=member_of(group_leader))
    reported(project, user=group_leader, verifier=verifier, department=safety_dept)
    to_verifier = Notification.objects.filter(recipient=verifier, channel=Notification.Channel.INBOX)
    assert [n.subject for n in to_verifier] == ["攻关成果待你验收：综采工作面降尘"]
    services.project_verify(project=project, passed=True, comment="属实", user=verifier, now=NOW)
    to_leader = Notification.objects.filter(recipient=group_leader, channel=Notification.Channel.INBOX)
    assert [n.subject for n in to_leader] == ["攻关项目“综采工作面降尘”已验收"]
