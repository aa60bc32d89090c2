"""补学 (make-up study): which meeting types ask for it, and what a member did of it.

A member on leave (请假) or absent (缺席) from a meeting of a type whose rule is on gets one
补学 task when the record is submitted. The task is done when the member has opened the
meeting's record after the task was made (``MakeupStudy.minutes_opened_at``) and reported a
reflection of at least ``min_reflection_chars`` characters; the 书记 confirms or returns it.
补学 never turns an absence into attendance: nothing here touches ``meetings.Attendance``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from meetings.models import Meeting, MeetingType
from org.models import Member

from .core import Task


class MakeupRule(models.Model):
    """Whether members who missed a meeting of ``meeting_type`` make it up, by when, and how much they write."""

    meeting_type = models.OneToOneField(
        MeetingType, verbose_name=_("会议类型"), on_delete=models.CASCADE, related_name="makeup_rule"
    )
    is_enabled = models.BooleanField(_("启用补学"), default=False)
    due_days = models.PositiveSmallIntegerField(
        _("几天内完成"), default=14, help_text=_("从会议记录提交之日起按自然日计算，期限为最后一天 24:00")
    )
    min_reflection_chars = models.PositiveSmallIntegerField(
        _("心得体会最少字数"), default=100, help_text=_("不计空格和换行")
    )

    class Meta:
        verbose_name = _("补学规则")
        verbose_name_plural = _("补学规则")
        ordering = ["meeting_type__sort_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(due_days__gte=1),
                name="%(app_label)s_%(class)s_due_days_positive",
                violation_error_message=_("完成天数至少为 1 天。"),
            )
        ]

    def __str__(self) -> str:
        return str(self.meeting_type)


class MakeupStudy(models.Model):
    """The reading half of one 补学 task: when its member first opened the meeting's record."""

    task = models.OneToOneField(Task, verbose_name=_("补学任务"), on_delete=models.CASCADE, related_name="makeup")
    min_reflection_chars = models.PositiveSmallIntegerField(_("心得体会最少字数"))
    minutes_opened_at = models.DateTimeField(_("阅读会议记录时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("补学记录")
        verbose_name_plural = _("补学记录")

    def __str__(self) -> str:
        return str(self.task)


class MakeupSkip(models.Model):
    """A member who missed a meeting but got no 补学 task, and why (e.g. no login account)."""

    meeting = models.ForeignKey(Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="makeup_skips")
    member = models.ForeignKey(Member, verbose_name=_("党员"), on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("原因"), max_length=200)
    created_at = models.DateTimeField(_("记录时间"))

    class Meta:
        verbose_name = _("未生成的补学任务")
        verbose_name_plural = _("未生成的补学任务")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "member"],
                name="%(app_label)s_%(class)s_once_per_absence",
                violation_error_message=_("已记录该党员本次未生成补学任务的原因。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.reason}"
