"""Study assignments (学习任务): an item assigned to branches or chosen members, with a deadline.

Each assigned member gets one ``tasks.Task`` (source 学习任务) in 我的待办, owned by the member;
``AssignmentTarget`` ties the member, their branch and that task to the assignment, so the
assigner's completion page reads one table. The task is done when the member's learning
record of the item completes (``study.assignments.close_assignment_tasks``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from org.clock import deadline_text
from org.models import Member, Organization
from tasks.models import Task

from .library import StudyItem


class Assignment(models.Model):
    """One item assigned at once to branches (their members) or to chosen members."""

    class Audience(models.TextChoices):
        BRANCHES = "branches", _("指定支部全体党员")
        MEMBERS = "members", _("指定党员")

    item = models.ForeignKey(
        StudyItem, verbose_name=_("学习资料"), on_delete=models.PROTECT, related_name="assignments"
    )
    audience = models.CharField(_("布置对象"), max_length=20, choices=Audience.choices, default=Audience.BRANCHES)
    branches = models.ManyToManyField(
        Organization, verbose_name=_("支部"), blank=True, related_name="study_assignments"
    )
    # Set when a 书记 assigns within their own branch; empty for the 党委.
    branch = models.ForeignKey(
        Organization,
        verbose_name=_("布置支部"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="own_study_assignments",
    )
    note = models.TextField(_("学习要求"), blank=True)
    due_at = models.DateTimeField(_("完成期限"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("布置人"), on_delete=models.PROTECT, related_name="study_assignments"
    )
    created_at = models.DateTimeField(_("布置时间"))
    # The form's one-time token: a second submit of the same form is refused.
    token = models.CharField(_("表单标识"), max_length=64, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("学习任务")
        verbose_name_plural = _("学习任务")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["token"],
                condition=~Q(token=""),
                name="%(app_label)s_%(class)s_one_per_form_token",
                violation_error_message=_("这项学习任务已经布置过了，请勿重复提交。"),
            ),
        ]

    def __str__(self) -> str:
        return str(self.item)

    @property
    def due_text(self) -> str:
        return deadline_text(self.due_at)


class AssignmentTarget(models.Model):
    """One assigned member: their branch at assignment time and their task."""

    assignment = models.ForeignKey(
        Assignment, verbose_name=_("学习任务"), on_delete=models.CASCADE, related_name="targets"
    )
    member = models.ForeignKey(Member, verbose_name=_("党员"), on_delete=models.CASCADE, related_name="+")
    branch = models.ForeignKey(Organization, verbose_name=_("支部"), on_delete=models.PROTECT, related_name="+")
    task = models.OneToOneField(Task, verbose_name=_("待办任务"), on_delete=models.CASCADE, related_name="study_target")

    class Meta:
        verbose_name = _("学习任务对象")
        verbose_name_plural = _("学习任务对象")
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "member"],
                name="%(app_label)s_%(class)s_once_per_member",
                violation_error_message=_("该党员已在这项学习任务中。"),
            ),
        ]
        indexes = [models.Index(fields=["assignment", "branch"], name="study_target_assignment_branch")]

    def __str__(self) -> str:
        return f"{self.assignment} · {self.member}"
