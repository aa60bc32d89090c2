"""What happens to a task: its timeline (``TaskEvent``), the owner's reports and their files, the policy."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .core import Task


class TaskEvent(models.Model):
    """One line of a task's timeline, shown on its page: who did what, when, with a note."""

    class Action(models.TextChoices):
        CREATED = "created", _("创建")
        STARTED = "started", _("开始办理")
        HANDED_OVER = "handed_over", _("调整责任人")
        REPORTED = "reported", _("提交办理情况")
        ACCEPTED = "accepted", _("验收通过")
        RETURNED = "returned", _("退回")
        CANCELLED = "cancelled", _("取消")
        OVERDUE = "overdue", _("逾期")
        ESCALATED = "escalated", _("上报党委")

    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("事项"), max_length=20, choices=Action.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"))
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("任务记录")
        verbose_name_plural = _("任务记录")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["task", "at"], name="tasks_event_task_at")]

    def __str__(self) -> str:
        return f"{self.task} {self.get_action_display()}"


class TaskReport(models.Model):
    """One report of the owner (办理情况): text and/or files; ``token`` makes a second submit of one form a no-op."""

    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="reports")
    text = models.TextField(_("办理情况"), blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("提交人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(_("提交时间"))
    # One per rendered form: the same form submitted twice is refused by this constraint.
    token = models.CharField(_("表单标识"), max_length=64, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("办理情况")
        verbose_name_plural = _("办理情况")
        ordering = ["submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "token"],
                condition=~models.Q(token=""),
                name="%(app_label)s_%(class)s_one_per_form",
                violation_error_message=_("这份办理情况已经提交过了。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.submitted_at:%Y-%m-%d}"


def _report_file_name(instance, filename):
    return f"tasks/{instance.report.task_id}/{filename}"


class TaskReportFile(models.Model):
    """A file of a report, checked by content like meeting evidence and kept in the evidence storage.

    ``stored`` is the original as uploaded (a photo keeps its EXIF, GPS included) and is never
    served; the worker makes ``display`` (re-encoded without metadata) and ``thumbnail`` through
    the evidence pipeline (``supervision.services.evidence.store_clean_copies``), and only then
    is the file 可用. A file the worker cannot read turns 处理失败 with a Chinese message; the
    report, its text and the original are kept.
    """

    class Status(models.TextChoices):
        PROCESSING = "processing", _("处理中")
        READY = "ready", _("可用")
        FAILED = "failed", _("处理失败")

    report = models.ForeignKey(TaskReport, verbose_name=_("办理情况"), on_delete=models.CASCADE, related_name="files")
    original_name = models.CharField(_("文件名"), max_length=255)
    content_type = models.CharField(_("文件类型"), max_length=100)
    kind = models.CharField(_("类别"), max_length=10, default="image")
    size = models.PositiveBigIntegerField(_("大小"))
    sha256 = models.CharField(_("校验值"), max_length=64)
    stored = models.CharField(_("存储位置"), max_length=255)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.PROCESSING)
    display = models.CharField(_("展示文件"), max_length=255, blank=True)
    display_type = models.CharField(_("展示文件类型"), max_length=100, blank=True)
    thumbnail = models.CharField(_("缩略图"), max_length=255, blank=True)
    error = models.CharField(_("处理失败原因"), max_length=300, blank=True)
    processed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    lease_expires_at = models.DateTimeField(_("处理租约到期"), null=True, blank=True)

    class Meta:
        verbose_name = _("办理情况附件")
        verbose_name_plural = _("办理情况附件")
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["lease_expires_at"],
                condition=models.Q(status="processing"),
                name="tasks_reportfile_processing",
            )
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class TaskPolicy(models.Model):
    """The reminder and escalation days of every task (one row, edited in the admin like ``SupervisionPolicy``)."""

    remind_days_before = models.PositiveSmallIntegerField(_("到期前提醒天数"), default=3)
    escalate_days_after = models.PositiveSmallIntegerField(_("逾期后上报党委天数"), default=3)

    class Meta:
        verbose_name = _("督办任务设置")
        verbose_name_plural = _("督办任务设置")

    def __str__(self) -> str:
        return str(_("督办任务设置"))

    @classmethod
    def current(cls) -> TaskPolicy:
        policy = cls.objects.order_by("pk").first()
        return policy if policy is not None else cls()
