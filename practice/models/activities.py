"""主题党日 activities: the kinds of activity, as data the admin edits.

``Activity``: what a 主题党日 did (kind, description, the study item it used); ``Hazard``: the
hazards its members named, each made a task for its owner.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from org.models import Member


class ActivityKind(models.Model):
    """A kind of 主题党日 activity: 观看警示片/学习, 隐患排查/讨论, 参观教育基地, 志愿服务, 岗位实践, ..."""

    name = models.CharField(_("活动形式"), max_length=50, unique=True)
    # Activities of this kind may link a study item (a film, a text).
    links_study = models.BooleanField(_("可关联学习资料"), default=False)
    # Activities of this kind record the hazards members named.
    records_hazards = models.BooleanField(_("记录发现的隐患"), default=False)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("活动形式")
        verbose_name_plural = _("活动形式")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class Activity(models.Model):
    """One activity of a 主题党日 record (观看警示片, 隐患大家谈 ...), optionally linking a published study item."""

    meeting = models.ForeignKey(
        "meetings.Meeting", verbose_name=_("会议"), on_delete=models.CASCADE, related_name="activities"
    )
    kind = models.ForeignKey(ActivityKind, verbose_name=_("活动形式"), on_delete=models.PROTECT, related_name="+")
    description = models.TextField(_("活动内容"))
    study_item = models.ForeignKey(
        "study.StudyItem",
        verbose_name=_("学习资料"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="theme_day_activities",
    )
    order = models.PositiveSmallIntegerField(_("序号"), default=1)
    # The form's one-time token: a second submit of the same form finds the row it made.
    token = models.CharField(max_length=32, blank=True, editable=False)
    created_at = models.DateTimeField(_("录入时间"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("主题党日活动")
        verbose_name_plural = _("主题党日活动")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "token"],
                condition=~Q(token=""),
                name="%(app_label)s_%(class)s_once_per_token",
                violation_error_message=_("该活动已经保存过了。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}：{self.description[:20]}"


class Hazard(models.Model):
    """A hazard members named at a 主题党日 (隐患大家谈): where, how serious, who removes it by when.

    Saving it makes one ``tasks.Task`` (source 隐患整改) for the owner, exactly once: ``task``
    is set by a conditional update from empty. The owner closes it by reporting with a photo.
    """

    class Severity(models.TextChoices):
        ORDINARY = "ordinary", _("一般")
        SERIOUS = "serious", _("较大")
        MAJOR = "major", _("重大")

    meeting = models.ForeignKey(
        "meetings.Meeting", verbose_name=_("会议"), on_delete=models.CASCADE, related_name="hazards"
    )
    description = models.TextField(_("隐患描述"))
    location = models.CharField(_("地点"), max_length=200)
    severity = models.CharField(_("隐患等级"), max_length=20, choices=Severity.choices, default=Severity.ORDINARY)
    owner = models.ForeignKey(
        Member, verbose_name=_("整改责任人"), on_delete=models.PROTECT, related_name="hazards_owned"
    )
    due_on = models.DateField(_("整改期限"))
    task = models.OneToOneField(
        "tasks.Task",
        verbose_name=_("整改任务"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hazard",
    )
    token = models.CharField(max_length=32, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("录入人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("录入时间"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("发现的隐患")
        verbose_name_plural = _("发现的隐患")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "token"],
                condition=~Q(token=""),
                name="%(app_label)s_%(class)s_once_per_token",
                violation_error_message=_("该隐患已经保存过了。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.location}：{self.description[:20]}"
