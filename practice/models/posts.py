"""党员先锋岗 and 党员责任区: a member answers for a named post or an area, with a public statement."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from org.models import Member, Organization


class PioneerPostQuerySet(models.QuerySet):
    def current_on(self, day):
        """Held on ``day``: started on or before it, not ended yet (``ended_on`` is the first day no longer held)."""
        return self.filter(Q(started_on__lte=day) & (Q(ended_on__isnull=True) | Q(ended_on__gt=day)))


class PioneerPost(models.Model):
    """One member's 党员先锋岗 (a named post) or 党员责任区 (an area), named by the branch's 书记."""

    class Kind(models.TextChoices):
        POST = "post", _("党员先锋岗")
        AREA = "area", _("党员责任区")

    branch = models.ForeignKey(
        Organization, verbose_name=_("支部"), on_delete=models.PROTECT, related_name="pioneer_posts"
    )
    member = models.ForeignKey(Member, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="pioneer_posts")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.POST)
    name = models.CharField(_("岗位或区域"), max_length=100, help_text=_("如“综采工作面安全先锋岗”“3101 回风巷责任区”"))
    statement = models.TextField(_("承诺"))
    started_on = models.DateField(_("开始日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True, help_text=_("当日起不再担任；留空表示至今"))
    token = models.CharField(max_length=32, blank=True, editable=False)

    objects = PioneerPostQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("先锋岗/责任区")
        verbose_name_plural = _("先锋岗/责任区")
        ordering = ["kind", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gt=F("started_on")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message=_("结束日期须晚于开始日期。"),
            ),
            models.UniqueConstraint(
                fields=["branch", "token"],
                condition=~Q(token=""),
                name="%(app_label)s_%(class)s_once_per_token",
                violation_error_message=_("该先锋岗已经保存过了。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}（{self.member}）"
