"""Learning records: what each member actually studied, item by item.

A video or audio record keeps the merged intervals really played (the player reports every
~15 s; gaps longer than the time that passed, rates above 2× and intervals beyond the duration
are refused), the last position for resume, and the moment it became complete. A document is
complete when opened and confirmed 已学. Credit (学时) is given once, at completion.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from org.models import Member

from .library import StudyItem


class LearningRecord(models.Model):
    """One member's progress through one item."""

    item = models.ForeignKey(StudyItem, verbose_name=_("学习资料"), on_delete=models.CASCADE, related_name="records")
    member = models.ForeignKey(
        Member, verbose_name=_("党员"), on_delete=models.CASCADE, related_name="learning_records"
    )
    # [[start, end], ...] in seconds, sorted and merged: what was really played.
    intervals = models.JSONField(_("已播放区间"), default=list, blank=True)
    played_seconds = models.FloatField(_("已播放秒数"), default=0)
    last_position = models.FloatField(_("上次播放位置"), default=0)
    last_report_at = models.DateTimeField(_("最近上报时间"), null=True, blank=True)
    # The player's own clock on that report: a report older than it arrives out of order.
    last_sent_at = models.DateTimeField(_("最近上报的客户端时间"), null=True, blank=True)
    opened_at = models.DateTimeField(_("首次打开时间"))
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    # 学时 credited at completion (the item's credit then), so a later edit of the item keeps the ledger.
    credit_hours = models.DecimalField(_("获得学时"), max_digits=4, decimal_places=1, null=True, blank=True)

    class Meta:
        verbose_name = _("学习记录")
        verbose_name_plural = _("学习记录")
        constraints = [
            models.UniqueConstraint(
                fields=["item", "member"],
                name="%(app_label)s_%(class)s_one_per_member",
                violation_error_message=_("每名党员每份资料只有一条学习记录。"),
            ),
        ]
        indexes = [
            models.Index(
                fields=["member", "completed_at"],
                condition=Q(completed_at__isnull=False),
                name="study_record_member_completed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.item}"
