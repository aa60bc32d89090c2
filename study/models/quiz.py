"""Quizzes (测验), optional per item: single/multiple choice questions, a pass mark, attempts kept.

An attempt is open until submitted; submitting scores it once (a conditional update) and an
answer for a submitted attempt is refused. ``StudyItem.requires_quiz_pass`` makes completion
of the item need a passed attempt. There are no leaderboards: nothing ranks members.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from org.models import Member

from .library import StudyItem


class Quiz(models.Model):
    """The quiz of one item."""

    item = models.OneToOneField(StudyItem, verbose_name=_("学习资料"), on_delete=models.CASCADE, related_name="quiz")
    pass_percent = models.PositiveSmallIntegerField(
        _("及格线（%）"), default=60, help_text=_("答对题数占全部题数的比例达到此值即为通过。")
    )

    class Meta:
        verbose_name = _("测验")
        verbose_name_plural = _("测验")
        constraints = [
            models.CheckConstraint(
                condition=Q(pass_percent__gte=1, pass_percent__lte=100),
                name="%(app_label)s_%(class)s_pass_percent_range",
                violation_error_message=_("及格线应在 1% 到 100% 之间。"),
            ),
        ]

    def __str__(self) -> str:
        return str(self.item)


class Question(models.Model):
    """One question; a single-choice question has exactly one right choice."""

    class Kind(models.TextChoices):
        SINGLE = "single", _("单选题")
        MULTIPLE = "multiple", _("多选题")

    quiz = models.ForeignKey(Quiz, verbose_name=_("测验"), on_delete=models.CASCADE, related_name="questions")
    text = models.CharField(_("题目"), max_length=500)
    kind = models.CharField(_("题型"), max_length=20, choices=Kind.choices, default=Kind.SINGLE)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("测验题")
        verbose_name_plural = _("测验题")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.text


class Choice(models.Model):
    """One choice of a question."""

    question = models.ForeignKey(Question, verbose_name=_("题目"), on_delete=models.CASCADE, related_name="choices")
    text = models.CharField(_("选项"), max_length=300)
    is_correct = models.BooleanField(_("正确答案"), default=False)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("选项")
        verbose_name_plural = _("选项")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.text


class Attempt(models.Model):
    """One member's attempt at a quiz: open while answering, scored once when submitted."""

    quiz = models.ForeignKey(Quiz, verbose_name=_("测验"), on_delete=models.CASCADE, related_name="attempts")
    member = models.ForeignKey(Member, verbose_name=_("党员"), on_delete=models.CASCADE, related_name="quiz_attempts")
    started_at = models.DateTimeField(_("开始时间"))
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    correct = models.PositiveSmallIntegerField(_("答对题数"), default=0)
    total = models.PositiveSmallIntegerField(_("题目总数"), default=0)
    passed = models.BooleanField(_("是否通过"), default=False)

    class Meta:
        verbose_name = _("测验记录")
        verbose_name_plural = _("测验记录")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["quiz", "member", "passed"], name="study_attempt_member_passed")]

    def __str__(self) -> str:
        return f"{self.member} · {self.quiz}"


class Answer(models.Model):
    """The choices one attempt gave for one question (the last answer counts until submitted)."""

    attempt = models.ForeignKey(Attempt, verbose_name=_("测验记录"), on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, verbose_name=_("题目"), on_delete=models.CASCADE, related_name="+")
    choices = models.ManyToManyField(Choice, verbose_name=_("所选选项"), related_name="+")
    answered_at = models.DateTimeField(_("作答时间"))

    class Meta:
        verbose_name = _("作答")
        verbose_name_plural = _("作答")
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "question"],
                name="%(app_label)s_%(class)s_one_per_question",
                violation_error_message=_("每道题只保留一份作答。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.attempt} · {self.question}"
