"""民主评议党员: the annual appraisal (issue 13).

A year's campaign (``AppraisalYear``, opened by the 党委 with its weights and limits as data),
one round per branch (``Round``, started by the branch's 书记 at its 民主评议 meeting), the
people appraised (``Appraisee``: full members graded, 预备党员 listed and never graded), and
the anonymous ballots.

Anonymity is a property of the tables, not of the pages: ``Ballot`` and ``BallotGrade`` hold
the round, the ballot's group (党员 / 群众) and the grades, with random UUID keys and no voter,
session, address, time or sequence. Who has voted is ``VoterMark`` (created for every voter when
the round starts, flipped by a conditional update, so its rows are in roster order and not in
voting order) and ``MassesCode`` (printed codes, given to no named person); neither carries any
key of a ballot. Ballot tables have no history and no admin page.
"""

from __future__ import annotations

import math
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from org.models import Member, Organization


class Grade(models.TextChoices):
    EXCELLENT = "excellent", _("优秀")
    QUALIFIED = "qualified", _("合格")
    BASIC = "basic", _("基本合格")
    FAIL = "fail", _("不合格")


class Part(models.TextChoices):
    """The four parts of the weighted score."""

    SELF = "self", _("自评")
    PEER = "peer", _("党员互评")
    MASSES = "masses", _("群众评议")
    ORG = "org", _("组织评价")


class AppraisalYear(models.Model):
    """One year's 民主评议, opened by the 党委, with its weights and limits (edited in the admin)."""

    class ProbationaryGroup(models.TextChoices):
        MASSES = "masses", _("计入群众评议")
        PEER = "peer", _("计入党员互评")
        NONE = "none", _("不参加评议投票")

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("开启人"), null=True, blank=True, on_delete=models.SET_NULL
    )
    opened_at = models.DateTimeField(_("开启时间"))
    correction_days = models.PositiveSmallIntegerField(_("限期改正天数"), default=90)
    weight_self = models.PositiveSmallIntegerField(_("自评权重（%）"), default=20)
    weight_peer = models.PositiveSmallIntegerField(_("党员互评权重（%）"), default=40)
    weight_masses = models.PositiveSmallIntegerField(_("群众评议权重（%）"), default=20)
    weight_org = models.PositiveSmallIntegerField(_("组织评价权重（%）"), default=20)
    points_excellent = models.PositiveSmallIntegerField(_("“优秀”折合分"), default=100)
    points_qualified = models.PositiveSmallIntegerField(_("“合格”折合分"), default=80)
    points_basic = models.PositiveSmallIntegerField(_("“基本合格”折合分"), default=60)
    points_fail = models.PositiveSmallIntegerField(_("“不合格”折合分"), default=0)
    threshold_excellent = models.DecimalField(_("建议“优秀”的最低得分"), max_digits=5, decimal_places=2, default=90)
    threshold_qualified = models.DecimalField(_("建议“合格”的最低得分"), max_digits=5, decimal_places=2, default=75)
    threshold_basic = models.DecimalField(_("建议“基本合格”的最低得分"), max_digits=5, decimal_places=2, default=60)
    excellent_cap_numerator = models.PositiveSmallIntegerField(_("优秀比例（分子）"), default=1)
    excellent_cap_denominator = models.PositiveSmallIntegerField(
        _("优秀比例（分母）"),
        default=3,
        validators=[MinValueValidator(1)],
        help_text=_("优秀人数不超过参评正式党员数 × 分子 ÷ 分母（向下取整）；如 30% 填 3 和 10"),
    )
    fail_requires_reason = models.BooleanField(_("定为“不合格”须填写支委会书面理由"), default=True)
    probationary_group = models.CharField(
        _("预备党员的评议票"), max_length=20, choices=ProbationaryGroup.choices, default=ProbationaryGroup.MASSES
    )
    commendation_uses_grade = models.BooleanField(
        _("评优和绩效表使用评议等次"), default=True, help_text=_("开启后，确认为“不合格”的党员不能评优；等次写入绩效表")
    )
    min_voters_for_member_tallies = models.PositiveSmallIntegerField(
        _("显示个人票数的最少投票人数"),
        default=5,
        validators=[MinValueValidator(2), MaxValueValidator(100)],
        help_text=_("投票人数少于此数时只显示全支部合计，避免从票数推出个人投票"),
    )

    class Meta:
        verbose_name = _("民主评议年度")
        verbose_name_plural = _("民主评议年度")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(excellent_cap_denominator__gte=1),
                name="%(app_label)s_%(class)s_cap_denominator_positive",
                violation_error_message=_("优秀比例的分母必须大于 0。"),
            ),
        ]

    def __str__(self) -> str:
        return _("{year}年民主评议党员").format(year=self.year)

    def clean(self):
        from django.core.exceptions import ValidationError

        total = self.weight_self + self.weight_peer + self.weight_masses + self.weight_org
        if total != 100:
            raise ValidationError(_("四项权重之和必须为 100，现为 {total}。").format(total=total))
        if not (self.threshold_excellent >= self.threshold_qualified >= self.threshold_basic):
            raise ValidationError(_("建议等次的分数线须从“优秀”到“基本合格”依次不升高。"))

    def weights(self) -> dict[str, int]:
        return {
            Part.SELF: self.weight_self,
            Part.PEER: self.weight_peer,
            Part.MASSES: self.weight_masses,
            Part.ORG: self.weight_org,
        }

    def points(self) -> dict[str, int]:
        return {
            Grade.EXCELLENT: self.points_excellent,
            Grade.QUALIFIED: self.points_qualified,
            Grade.BASIC: self.points_basic,
            Grade.FAIL: self.points_fail,
        }

    def excellent_cap(self, graded: int) -> int:
        """At most ``graded × numerator ÷ denominator`` 优秀, rounded down (9 → 3 at 1/3)."""
        return math.floor(graded * self.excellent_cap_numerator / self.excellent_cap_denominator)


class Round(models.Model):
    """One branch's 民主评议 of one year: 准备 → 投票中 → 已截止 → 已确认."""

    class State(models.TextChoices):
        PREPARING = "preparing", _("准备")
        VOTING = "voting", _("投票中")
        CLOSED = "closed", _("已截止")
        CONFIRMED = "confirmed", _("已确认")

    year = models.ForeignKey(AppraisalYear, verbose_name=_("年度"), on_delete=models.PROTECT, related_name="rounds")
    branch = models.ForeignKey(
        Organization, verbose_name=_("党支部"), on_delete=models.PROTECT, related_name="appraisal_rounds"
    )
    meeting = models.OneToOneField(
        "meetings.Meeting", verbose_name=_("民主评议会议"), on_delete=models.PROTECT, related_name="appraisal_round"
    )
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.PREPARING)
    window_start = models.DateTimeField(_("投票开始时间"))
    window_end = models.DateTimeField(_("投票截止时间"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"))
    voting_opened_at = models.DateTimeField(_("开始投票时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("截止时间"), null=True, blank=True)
    proposed_at = models.DateTimeField(_("支委会提出等次时间"), null=True, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提出人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("党委确认时间"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("支部民主评议")
        verbose_name_plural = _("支部民主评议")
        ordering = ["-year__year", "branch__sort_order", "branch_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "branch"],
                name="%(app_label)s_%(class)s_one_per_branch_year",
                violation_error_message=_("该支部本年度已开展民主评议。"),
            ),
            models.CheckConstraint(
                condition=Q(window_end__gt=models.F("window_start")),
                name="%(app_label)s_%(class)s_window_ends_after_start",
                violation_error_message=_("投票截止时间必须晚于开始时间。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch} {self.year.year}"

    def is_open_at(self, now) -> bool:
        return self.state == self.State.VOTING and self.window_start <= now < self.window_end

    @property
    def results_visible(self) -> bool:
        return self.state in (self.State.CLOSED, self.State.CONFIRMED)


class Appraisee(models.Model):
    """A member of the branch on the meeting date: full members are graded; 预备党员 are listed only."""

    round = models.ForeignKey(Round, verbose_name=_("民主评议"), on_delete=models.CASCADE, related_name="appraisees")
    member = models.ForeignKey(Member, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="appraisals")
    is_graded = models.BooleanField(_("参加评定等次"), default=True, help_text=_("预备党员参加评议，不评定等次"))
    self_summary = models.TextField(_("个人总结"), blank=True)
    self_grade = models.CharField(_("自评等次"), max_length=20, choices=Grade.choices, blank=True)
    summary_at = models.DateTimeField(_("个人总结提交时间"), null=True, blank=True)
    org_grade = models.CharField(_("组织评价等次"), max_length=20, choices=Grade.choices, blank=True)
    org_opinion = models.TextField(_("支委会组织意见"), blank=True)
    score = models.DecimalField(_("综合得分"), max_digits=5, decimal_places=2, null=True, blank=True)
    proposed_grade = models.CharField(_("支委会提出等次"), max_length=20, choices=Grade.choices, blank=True)
    reason = models.TextField(_("支委会书面理由"), blank=True)
    confirmed_grade = models.CharField(_("党委确认等次"), max_length=20, choices=Grade.choices, blank=True)
    rectification_task = models.ForeignKey(
        "tasks.Task", verbose_name=_("限期改正任务"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("参评党员")
        verbose_name_plural = _("参评党员")
        ordering = ["member__name", "member_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "member"],
                name="%(app_label)s_%(class)s_once_per_round",
                violation_error_message=_("该党员已在本次评议名单中。"),
            ),
            models.CheckConstraint(
                condition=Q(is_graded=True) | (Q(proposed_grade="") & Q(confirmed_grade="") & Q(org_grade="")),
                name="%(app_label)s_%(class)s_probationary_never_graded",
                violation_error_message=_("预备党员参加评议，但不评定等次。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} ({self.round})"


class VoterMark(models.Model):
    """A voter of a round and whether they have voted: created for all at the start, flipped once.

    Created in roster order when the round starts, so the row order says nothing about the
    order of voting; ``has_voted`` is set by ``filter(has_voted=False).update(...)`` and the
    unique constraint keeps one mark per member. No key of a ballot, no time.
    """

    round = models.ForeignKey(Round, verbose_name=_("民主评议"), on_delete=models.CASCADE, related_name="voter_marks")
    member = models.ForeignKey(Member, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="+")
    group = models.CharField(_("计票类别"), max_length=20, choices=Part.choices, default=Part.PEER)
    has_voted = models.BooleanField(_("已投票"), default=False)

    class Meta:
        verbose_name = _("投票名单")
        verbose_name_plural = _("投票名单")
        constraints = [
            models.UniqueConstraint(
                fields=["round", "member"],
                name="%(app_label)s_%(class)s_one_per_member",
                violation_error_message=_("该党员已在投票名单中。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} ({self.round})"


class MassesCode(models.Model):
    """A one-time, expiring code for one 群众代表: printed on a sheet and given to nobody by name."""

    round = models.ForeignKey(Round, verbose_name=_("民主评议"), on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(_("评议码"), max_length=16, unique=True)
    expires_at = models.DateTimeField(_("有效期至"))
    is_used = models.BooleanField(_("已使用"), default=False)

    class Meta:
        verbose_name = _("群众评议码")
        verbose_name_plural = _("群众评议码")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.code


class Ballot(models.Model):
    """One anonymous ballot: the round and the group it counts in. Nothing else, on purpose."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="ballots")
    group = models.CharField(max_length=20, choices=[(Part.PEER, Part.PEER.label), (Part.MASSES, Part.MASSES.label)])

    class Meta:
        verbose_name = _("选票")
        verbose_name_plural = _("选票")
        # No ordering: a list of ballots is never shown, and no column orders them.
        default_permissions = ()

    def __str__(self) -> str:
        return str(_("选票"))


class BallotGrade(models.Model):
    """One grade on one ballot for one appraisee."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="grades")
    appraisee = models.ForeignKey(Appraisee, on_delete=models.CASCADE, related_name="ballot_grades")
    grade = models.CharField(max_length=20, choices=Grade.choices)

    class Meta:
        verbose_name = _("选票等次")
        verbose_name_plural = _("选票等次")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["ballot", "appraisee"],
                name="%(app_label)s_%(class)s_once_per_ballot",
                violation_error_message=_("一张选票对同一党员只能评定一次。"),
            ),
        ]

    def __str__(self) -> str:
        return self.get_grade_display()
