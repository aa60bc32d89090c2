"""技术攻关 projects: a branch's or 党小组's project on a production problem, its outcome and its verification.

A project runs 立项 → 实施中 → 待验收 → 已验收 / 未通过, or is ended (终止) before it is
reported. Each state flip is a conditional update in ``practice.projects``; history keeps who
and when. The outcome is verified by a named user of a configured department (生产技术科,
安监处, 财务部 …) who is neither the project's leader nor one of its members; a verified
outcome (已验收 or 未通过) is locked.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from org.models import Member, Organization

AMOUNT = {"max_digits": 14, "decimal_places": 2}
VALUE = {"max_digits": 14, "decimal_places": 4}


class VerifyingDepartment(models.Model):
    """A department that verifies 攻关 outcomes (生产技术科, 安监处, 财务部 …) and the users who may verify for it."""

    name = models.CharField(_("部门名称"), max_length=50, unique=True)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("验收人员"), blank=True, related_name="verifying_departments"
    )
    active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("验收部门")
        verbose_name_plural = _("验收部门")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    """One 技术攻关 project of a branch (or one of its 党小组), with its target, outcome and verification."""

    class Source(models.TextChoices):
        PRODUCTION = "production", _("生产问题")
        SAFETY = "safety", _("安全隐患")
        COST = "cost", _("成本")
        EFFICIENCY = "efficiency", _("效率")
        OTHER = "other", _("其他")

    class State(models.TextChoices):
        OPENED = "opened", _("立项")
        IN_PROGRESS = "in_progress", _("实施中")
        REPORTED = "reported", _("待验收")
        VERIFIED = "verified", _("已验收")
        FAILED = "failed", _("未通过")
        TERMINATED = "terminated", _("终止")

    EDITABLE_STATES = (State.OPENED, State.IN_PROGRESS)
    # Verified either way: locked for everyone.
    DECIDED_STATES = (State.VERIFIED, State.FAILED)

    title = models.CharField(_("项目名称"), max_length=200)
    problem = models.TextField(_("问题描述"))
    source = models.CharField(_("问题来源"), max_length=20, choices=Source.choices)
    branch = models.ForeignKey(
        Organization, verbose_name=_("所属支部"), on_delete=models.PROTECT, related_name="projects"
    )
    group = models.ForeignKey(
        Organization,
        verbose_name=_("攻关党小组"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="group_projects",
    )
    leader = models.ForeignKey(Member, verbose_name=_("负责人"), on_delete=models.PROTECT, related_name="led_projects")
    started_on = models.DateField(_("开始日期"))
    metric = models.CharField(_("目标指标"), max_length=100)
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    baseline_value = models.DecimalField(_("基准值"), **VALUE)
    target_value = models.DecimalField(_("目标值"), **VALUE)
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.OPENED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("立项人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("立项时间"))
    # The opening form's token: the same form submitted twice opens one project.
    token = models.CharField(_("表单标识"), max_length=64, null=True, blank=True, unique=True, editable=False)
    started_at = models.DateTimeField(_("开始实施时间"), null=True, blank=True)
    # The outcome report (成果报告).
    measured_value = models.DecimalField(_("实测值"), null=True, blank=True, **VALUE)
    money_estimate = models.DecimalField(_("经济效益估算（元）"), null=True, blank=True, **AMOUNT)
    outcome = models.TextField(_("成果说明"), blank=True)
    reported_at = models.DateTimeField(_("提交验收时间"), null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    department = models.ForeignKey(
        VerifyingDepartment,
        verbose_name=_("验收部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    verifier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("验收人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects_to_verify",
    )
    verified_at = models.DateTimeField(_("验收时间"), null=True, blank=True)
    verify_comment = models.TextField(_("验收意见"), blank=True)
    ended_at = models.DateTimeField(_("终止时间"), null=True, blank=True)
    end_reason = models.TextField(_("终止原因"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("技术攻关项目")
        verbose_name_plural = _("技术攻关项目")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["branch", "state"], name="practice_project_branch_state"),
            models.Index(fields=["verified_at"], name="practice_project_verified", condition=Q(state="verified")),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_locked(self) -> bool:
        return self.state in self.DECIDED_STATES

    @property
    def unit_text(self) -> str:
        return self.unit or ""


class ProjectMember(models.Model):
    """A member of a project's team: a party member from the roster, or a non-party worker by name and post."""

    project = models.ForeignKey(Project, verbose_name=_("攻关项目"), on_delete=models.CASCADE, related_name="team")
    member = models.ForeignKey(
        Member, verbose_name=_("党员"), null=True, blank=True, on_delete=models.PROTECT, related_name="project_roles"
    )
    name = models.CharField(_("姓名（非党员）"), max_length=50, blank=True)
    post = models.CharField(_("岗位"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("攻关成员")
        verbose_name_plural = _("攻关成员")
        ordering = ["project", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(member__isnull=False) & Q(name="")) | (Q(member__isnull=True) & ~Q(name="")),
                name="%(app_label)s_%(class)s_member_or_name",
                violation_error_message=_("成员须为名册中的党员，或填写非党员的姓名。"),
            ),
            models.UniqueConstraint(
                fields=["project", "member"],
                condition=Q(member__isnull=False),
                name="%(app_label)s_%(class)s_once_per_project",
                violation_error_message=_("该党员已是本项目成员。"),
            ),
        ]

    def __str__(self) -> str:
        return self.member.name if self.member_id else self.name

    @property
    def display_name(self) -> str:
        return self.member.name if self.member_id else self.name

    @property
    def is_party(self) -> bool:
        return self.member_id is not None


class ProjectMilestone(models.Model):
    """A milestone of a project: a ``tasks.Task`` (source 攻关节点) created once, when the project is opened."""

    project = models.ForeignKey(
        Project, verbose_name=_("攻关项目"), on_delete=models.CASCADE, related_name="milestones"
    )
    task = models.OneToOneField(
        "tasks.Task", verbose_name=_("任务"), on_delete=models.PROTECT, related_name="project_milestone"
    )
    order = models.PositiveSmallIntegerField(_("序号"))

    class Meta:
        verbose_name = _("攻关节点")
        verbose_name_plural = _("攻关节点")
        ordering = ["project", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "order"],
                name="%(app_label)s_%(class)s_once",
                violation_error_message=_("该节点已创建。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} #{self.order}"


class ProjectEvidence(models.Model):
    """An evidence file of a project's outcome, stored privately (the evidence storage) and served by a checked view."""

    project = models.ForeignKey(Project, verbose_name=_("攻关项目"), on_delete=models.CASCADE, related_name="evidence")
    original_name = models.CharField(_("文件名"), max_length=255)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    stored = models.CharField(_("存储位置"), max_length=300)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"))

    class Meta:
        verbose_name = _("成果佐证材料")
        verbose_name_plural = _("成果佐证材料")
        ordering = ["project", "id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class ProjectEvent(models.Model):
    """One step of a project's timeline (立项, 开始实施, 提交验收, 验收 …), shown on its page."""

    project = models.ForeignKey(Project, verbose_name=_("攻关项目"), on_delete=models.CASCADE, related_name="events")
    state = models.CharField(_("状态"), max_length=20, choices=Project.State.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("时间"))
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("攻关项目记录")
        verbose_name_plural = _("攻关项目记录")
        ordering = ["project", "at", "id"]

    def __str__(self) -> str:
        return f"{self.project} {self.get_state_display()}"
