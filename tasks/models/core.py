"""Tasks with a named owner (督办): directives sent down, 议定事项 followed up, 补学, 整改.

One object carries every "someone must act on this": a directive from the 党委 sent to many
branches (a ``Dispatch`` with one ``Task`` per recipient), a decision taken at a meeting (an
agenda item marked 议定事项), a member's make-up study after an absence (补学), a rectification.
Every task belongs to one organisation and has exactly one owner, a member with an account.
``due_at`` is stored and indexed so that the reminder and overdue sweeps are indexed queries;
the reminder, overdue and escalation times are set once by conditional updates.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from org.clock import deadline_text
from org.models import Member, Organization


class Dispatch(models.Model):
    """One directive sent down at once (上级交办): each recipient organisation gets its own task."""

    class Audience(models.TextChoices):
        ALL_BRANCHES = "all", _("全部支部")
        CHOSEN = "chosen", _("指定支部")
        COMMITTEE = "committee", _("支部委员会")

    title = models.CharField(_("任务名称"), max_length=200)
    description = models.TextField(_("任务要求"), blank=True)
    audience = models.CharField(_("下发范围"), max_length=20, choices=Audience.choices, default=Audience.ALL_BRANCHES)
    # Empty: the branch's 书记 owns each task; otherwise the member holding this post on the due date.
    route_to_post = models.CharField(_("承办职务"), max_length=30, blank=True)
    due_at = models.DateTimeField(_("完成期限"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("下发人"), on_delete=models.PROTECT, related_name="dispatches"
    )
    created_at = models.DateTimeField(_("下发时间"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("下发任务")
        verbose_name_plural = _("下发任务")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def due_text(self) -> str:
        return deadline_text(self.due_at)


class Task(models.Model):
    """One thing one named person must do by a deadline, in one organisation."""

    class Source(models.TextChoices):
        DISPATCH = "dispatch", _("上级交办")
        DECISION = "decision", _("支委会议定事项")
        MAKEUP = "makeup", _("补学")
        RECTIFICATION = "rectification", _("整改")
        STUDY = "study", _("学习任务")
        HAZARD = "hazard", _("隐患整改")
        MILESTONE = "milestone", _("攻关节点")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        TODO = "todo", _("待办")
        IN_PROGRESS = "in_progress", _("进行中")
        SUBMITTED = "submitted", _("已提交")
        DONE = "done", _("已完成")
        RETURNED = "returned", _("已退回")
        CANCELLED = "cancelled", _("已取消")

    # Still waiting for the owner (the sweeps and 我的待办 read these).
    OPEN_STATUSES = (Status.TODO, Status.IN_PROGRESS, Status.RETURNED)
    # Not finished either way: open, or reported and waiting for the assigner.
    LIVE_STATUSES = (*OPEN_STATUSES, Status.SUBMITTED)

    title = models.CharField(_("任务名称"), max_length=200)
    description = models.TextField(_("任务要求"), blank=True)
    organization = models.ForeignKey(
        Organization, verbose_name=_("所属组织"), on_delete=models.PROTECT, related_name="tasks"
    )
    owner = models.ForeignKey(Member, verbose_name=_("责任人"), on_delete=models.PROTECT, related_name="tasks_owned")
    helpers = models.ManyToManyField(Member, verbose_name=_("协办人"), blank=True, related_name="tasks_helped")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("交办人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks_assigned",
    )
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices, default=Source.OTHER)
    dispatch = models.ForeignKey(
        Dispatch, verbose_name=_("下发任务"), null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    meeting = models.ForeignKey(
        "meetings.Meeting",
        verbose_name=_("来源会议"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    agenda_item = models.ForeignKey(
        "meetings.AgendaItem",
        verbose_name=_("来源议题"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    finding = models.ForeignKey(
        "supervision.Finding",
        verbose_name=_("来源问题"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    due_at = models.DateTimeField(_("完成期限"))
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.TODO)
    created_at = models.DateTimeField(_("创建时间"))
    started_at = models.DateTimeField(_("开始办理时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("验收人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    cancel_reason = models.TextField(_("取消原因"), blank=True)
    return_reason = models.TextField(_("退回原因"), blank=True)
    return_count = models.PositiveSmallIntegerField(_("退回次数"), default=0)
    # Set once each, by conditional updates of the sweeps.
    reminded_at = models.DateTimeField(_("到期前提醒时间"), null=True, blank=True)
    reminded_due_day_at = models.DateTimeField(_("到期当日提醒时间"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("逾期标记时间"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("上报党委时间"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("任务")
        verbose_name_plural = _("任务")
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dispatch", "organization"],
                condition=Q(dispatch__isnull=False),
                name="%(app_label)s_%(class)s_one_per_dispatch_recipient",
                violation_error_message=_("该任务已下发给这个组织。"),
            ),
            models.UniqueConstraint(
                fields=["agenda_item"],
                condition=Q(source="decision", agenda_item__isnull=False),
                name="%(app_label)s_%(class)s_one_per_decision",
                violation_error_message=_("该议定事项已生成任务。"),
            ),
            models.UniqueConstraint(
                fields=["meeting", "owner"],
                condition=Q(source="makeup"),
                name="%(app_label)s_%(class)s_one_makeup_per_absence",
                violation_error_message=_("该党员的这次补学任务已存在。"),
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="tasks_task_open_due",
                condition=Q(status__in=["todo", "in_progress", "returned"], overdue_at__isnull=True),
            ),
            models.Index(fields=["owner", "status"], name="tasks_task_owner_status"),
            models.Index(fields=["organization", "status"], name="tasks_task_org_status"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def due_text(self) -> str:
        return deadline_text(self.due_at)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES
