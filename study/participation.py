"""What study adds to a member's participation (我的参与) and 评优, per ``StudyParticipationRule``.

Set-based: two grouped queries whatever the number of members. Lessons given are published
items the member lectures (微党课 and others), dated by publication; study completed is items
finished (``study.quiz.finished_records``), dated by completion. Both in the mine's local time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count
from django.utils.translation import gettext as _

from org.clock import local_midnight

from .models import StudyItem, StudyParticipationRule
from .quiz import finished_records


@dataclass(frozen=True)
class StudyCounts:
    lessons_given: int = 0
    completed: int = 0


def study_counts(*, start: dt.date, end: dt.date, member_ids: Iterable[int] | None = None) -> dict[int, StudyCounts]:
    """Per member: items lectured (published in [start, end)) and items finished (completed in [start, end))."""
    lo, hi = local_midnight(start), local_midnight(end)
    lessons = StudyItem.objects.filter(
        state=StudyItem.State.PUBLISHED, lecturer__isnull=False, published_at__gte=lo, published_at__lt=hi
    )
    done = finished_records().filter(completed_at__gte=lo, completed_at__lt=hi)
    if member_ids is not None:
        member_ids = list(member_ids)
        lessons = lessons.filter(lecturer_id__in=member_ids)
        done = done.filter(member_id__in=member_ids)
    given = dict(lessons.values("lecturer_id").annotate(n=Count("id")).order_by().values_list("lecturer_id", "n"))
    finished = dict(done.values("member_id").annotate(n=Count("id")).order_by().values_list("member_id", "n"))
    return {m: StudyCounts(given.get(m, 0), finished.get(m, 0)) for m in set(given) | set(finished)}


def commendation_reasons(rule: StudyParticipationRule, counts: StudyCounts) -> list[str]:
    """Why study keeps a member from 评优 under ``rule`` (empty when it does not, or the rule is off)."""
    reasons = []
    if rule.commendation_min_completed and counts.completed < rule.commendation_min_completed:
        reasons.append(
            _("完成学习资料 {n} 份，少于 {need} 份").format(n=counts.completed, need=rule.commendation_min_completed)
        )
    if rule.commendation_min_lessons and counts.lessons_given < rule.commendation_min_lessons:
        reasons.append(
            _("讲授微党课 {n} 次，少于 {need} 次").format(n=counts.lessons_given, need=rule.commendation_min_lessons)
        )
    return reasons


@dataclass(frozen=True)
class StudySummary:
    year: int
    counts: StudyCounts


def member_study_summary(member_id: int, *, today: dt.date) -> StudySummary | None:
    """This year's study of one member for 我的参与, or None when the rule does not show it (one query then)."""
    if not StudyParticipationRule.current().show_on_participation:
        return None
    start = dt.date(today.year, 1, 1)
    counts = study_counts(start=start, end=dt.date(today.year + 1, 1, 1), member_ids=[member_id])
    return StudySummary(year=today.year, counts=counts.get(member_id, StudyCounts()))
