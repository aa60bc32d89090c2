"""How study counts in members' participation (我的参与) and 评优: configurable, off by default.

Counts only what was done (微党课 given, items finished), never time spent online: the 2026
rules on government apps forbid using study time as an assessment criterion.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class StudyParticipationRule(models.Model):
    """One row, edited in the admin: whether study shows on 我的参与 and what 评优 asks of it."""

    show_on_participation = models.BooleanField(
        _("在个人参与中显示学习情况"), default=False, help_text=_("显示讲授微党课次数和完成学习资料份数。")
    )
    commendation_min_completed = models.PositiveSmallIntegerField(
        _("评优须完成学习资料（份）"), default=0, help_text=_("考核期内至少完成这么多份学习资料；0 表示不作要求。")
    )
    commendation_min_lessons = models.PositiveSmallIntegerField(
        _("评优须讲授微党课（次）"), default=0, help_text=_("考核期内至少讲授（发布）这么多次微党课；0 表示不作要求。")
    )

    class Meta:
        verbose_name = _("学习与个人参与")
        verbose_name_plural = _("学习与个人参与")

    def __str__(self) -> str:
        return str(_("学习与个人参与"))

    @classmethod
    def current(cls) -> StudyParticipationRule:
        return cls.objects.order_by("pk").first() or cls()

    @property
    def asks_for_commendation(self) -> bool:
        return bool(self.commendation_min_completed or self.commendation_min_lessons)
