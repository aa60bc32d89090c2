"""主题党日 activities: the kinds of activity, as data the admin edits.

(Helpers extend this module with the activities of a record and the hazards found.)
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


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
