"""Scoring schemes as data, assessment runs, branch scores with every deduction, member participation."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from bulletin.models import Announcement
from meetings.models import CadenceRule, Meeting
from org.clock import quarter_label, year_label
from org.models import Member, Organization
from supervision.models import Finding, Flag, Rectification, Review

POINTS = {"max_digits": 6, "decimal_places": 2}

# Time spent online or watching. No ``Item.Kind`` computes from it (none can: the learning
# records keep what was played, not who was logged in how long), so the one way a scheme could
# build on it is a manual item whose name or standard says so: ``Item.clean`` refuses those.
# "学时" stays allowed: it is the credit of completed items (study.ledger), a completion measure.
STUDY_TIME_WORDS = ("在线时长", "在线时间", "学习时长", "学习时间", "观看时长", "播放时长", "登录时长", "浏览时长")
STUDY_TIME_MESSAGE = _(
    "按照 2026 年关于政务应用程序的规定，不得把学习时长、在线时长作为考核依据（“{word}”）。"
    "可以考核学习是否完成（如年度学时是否达标）。"
)


class Scheme(models.Model):
    """The scoring scheme of one year: items by category, grade bands and the member participation rules.

    Edited in the admin; a new year's scheme starts as a copy of last year's.
    """

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    name = models.CharField(_("名称"), max_length=100)
    copied_from = models.ForeignKey(
        "self", verbose_name=_("复制自"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Member participation (个人参与): the score of one member in one period.
    member_max_points = models.DecimalField(_("党员参与满分"), default=Decimal("10"), **POINTS)
    member_one_absence_deduction = models.DecimalField(_("无故缺席 1 次扣分"), default=Decimal("3"), **POINTS)
    member_two_absences_deduction = models.DecimalField(_("无故缺席 2 次扣分"), default=Decimal("5"), **POINTS)
    member_zero_at_absences = models.PositiveSmallIntegerField(_("无故缺席几次及以上得 0 分"), default=3)
    member_late_deduction = models.DecimalField(_("迟到每次扣分"), default=Decimal("0.5"), **POINTS)
    # Eligibility for commendation (评优).
    eligibility_min_attendance_percent = models.PositiveSmallIntegerField(_("评优：出勤率不低于（%）"), default=90)
    eligibility_no_unexcused_absence = models.BooleanField(_("评优：无无故缺席"), default=True)
    eligibility_branch_not_failing = models.BooleanField(_("评优：所在支部考核合格"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("考核方案")
        verbose_name_plural = _("考核方案")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(member_zero_at_absences__gte=1),
                name="%(app_label)s_%(class)s_zero_at_positive",
                violation_error_message=_("得 0 分的缺席次数至少为 1。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.name}"


class Item(models.Model):
    """One scored item of a scheme: its maximum, how it is scored, and its deduction rules.

    Automatic items are computed from the records (``kind``); manual ones are entered by a
    supervisor with a comment. A bonus item adds up to ``max_points``; a veto item
    (一票否决) scores nothing and, when triggered, means the branch cannot pass. The score
    of an item never goes below 0 (its floor).
    """

    class Method(models.TextChoices):
        AUTO = "auto", _("自动计算")
        MANUAL = "manual", _("人工评分")

    class Kind(models.TextChoices):
        CADENCE = "cadence", _("会议按期召开")
        RETURNED = "returned", _("会议记录被退回")
        MINUTES_LATE = "minutes_late", _("会议记录逾期提交")
        ATTENDANCE = "attendance", _("党员出勤率")
        FLAGS = "flags", _("经核实的材料问题")
        FINDINGS = "findings", _("督导发现问题")
        RECTIFICATION_OVERDUE = "rectification_overdue", _("整改逾期")
        SECRETARY_LESSON = "secretary_lesson", _("书记每年讲党课")
        TYPE_ATTENDANCE_TARGET = "type_attendance_target", _("会议出勤率目标（按会议类型）")
        DISPATCH_ON_TIME = "dispatch_on_time", _("上级交办任务按期完成")
        MANUAL = "manual", _("人工评分")

    scheme = models.ForeignKey(Scheme, verbose_name=_("考核方案"), on_delete=models.CASCADE, related_name="items")
    category = models.CharField(_("类别"), max_length=50, help_text=_("如：会议开展、党员参与、记录规范、督导整改"))
    name = models.CharField(_("考核项目"), max_length=100)
    description = models.TextField(_("评分标准"), blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    max_points = models.DecimalField(_("分值"), **POINTS)
    method = models.CharField(_("评分方式"), max_length=10, choices=Method.choices, default=Method.AUTO)
    kind = models.CharField(_("计算依据"), max_length=30, choices=Kind.choices, default=Kind.MANUAL)
    is_bonus = models.BooleanField(_("加分项"), default=False)
    is_veto = models.BooleanField(_("一票否决项"), default=False)
    cadence_rule = models.ForeignKey(
        CadenceRule,
        verbose_name=_("会议频次规则"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("“会议按期召开”项：留空表示全部启用的规则"),
    )
    per_unit = models.DecimalField(
        _("每次扣分"),
        default=Decimal("1"),
        help_text=_("缺开一次、退回一次、逾期一次、一条问题或出勤率每低 1 个百分点扣的分"),
        **POINTS,
    )
    per_late = models.DecimalField(_("补开一次扣分"), default=Decimal("0.5"), **POINTS)
    per_minor = models.DecimalField(_("轻微问题每条扣分"), default=Decimal("0.5"), **POINTS)
    per_serious = models.DecimalField(_("严重问题每条扣分"), default=Decimal("2"), **POINTS)
    target_percent = models.PositiveSmallIntegerField(_("出勤率目标（%）"), null=True, blank=True)
    per_notice = models.DecimalField(
        _("会议通知不规范每次扣分"),
        default=Decimal("0"),
        db_default=Decimal("0"),
        help_text=_("已召开的会议未发布通知或通知晚于规定时间（党员大会提前 3 天），每次扣的分；0 表示本项不计"),
        **POINTS,
    )

    class Meta:
        verbose_name = _("考核项目")
        verbose_name_plural = _("考核项目")
        ordering = ["scheme", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_points__gte=0),
                name="%(app_label)s_%(class)s_max_not_negative",
                violation_error_message=_("分值不能为负。"),
            ),
            models.CheckConstraint(
                condition=Q(method="manual", kind="manual") | (Q(method="auto") & ~Q(kind="manual")),
                name="%(app_label)s_%(class)s_method_matches_kind",
                violation_error_message=_("人工评分项的计算依据须为“人工评分”，自动计算项须选择计算依据。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} / {self.name}（{self.max_points} 分）"

    def clean(self):
        super().clean()
        errors = {}
        for field in ("name", "description"):
            word = next((w for w in STUDY_TIME_WORDS if w in (getattr(self, field) or "")), None)
            if word:
                errors[field] = STUDY_TIME_MESSAGE.format(word=word)
        if errors:
            raise ValidationError(errors)


class RunKind(models.TextChoices):
    """A run is quarterly or annual; each kind has its own grade bands (domain.md's tables)."""

    QUARTER = "quarter", _("季度考核")
    YEAR = "year", _("年度考核")


class GradeBand(models.Model):
    """A grade and the lowest total that reaches it, for quarterly or annual runs; failing bands rectify.

    A total reaches a band when it is at least ``min_score``, compared at the stored 0.01:
    89.99 is below 90, 96.50 below 97; nothing is rounded up.
    """

    scheme = models.ForeignKey(Scheme, verbose_name=_("考核方案"), on_delete=models.CASCADE, related_name="bands")
    run_kind = models.CharField(
        _("适用考核"), max_length=10, choices=RunKind.choices, default=RunKind.YEAR, db_default=RunKind.YEAR
    )
    name = models.CharField(_("等次"), max_length=20)
    min_score = models.DecimalField(_("最低分"), **POINTS)
    is_failing = models.BooleanField(_("不合格"), default=False)

    class Meta:
        verbose_name = _("等次")
        verbose_name_plural = _("等次")
        ordering = ["scheme", "run_kind", "-min_score"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "run_kind", "name"],
                name="%(app_label)s_%(class)s_unique_kind_name",
                violation_error_message=_("同一方案同一考核类型中等次名称不能重复。"),
            ),
            models.UniqueConstraint(
                fields=["scheme", "run_kind", "min_score"],
                name="%(app_label)s_%(class)s_unique_kind_min",
                violation_error_message=_("同一方案同一考核类型中两个等次的最低分不能相同。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_run_kind_display()} {self.name} ≥ {self.min_score}"


class Run(models.Model):
    """One quarterly or annual assessment of every branch: draft → committee review → published.

    A draft can be recomputed at will (the same records give the same numbers); manual
    scores survive a recompute. Published runs are locked; their history is kept.
    """

    Kind = RunKind

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        REVIEW = "review", _("委员会审核")
        PUBLISHED = "published", _("已发布")

    scheme = models.ForeignKey(Scheme, verbose_name=_("考核方案"), on_delete=models.PROTECT, related_name="runs")
    kind = models.CharField(_("考核类型"), max_length=10, choices=Kind.choices)
    period_start = models.DateField(_("期间开始"))
    period_end = models.DateField(_("期间结束（不含）"))
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    computed_at = models.DateTimeField(_("计算时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交审核时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    notice = models.ForeignKey(
        Announcement, verbose_name=_("通报"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("考核")
        verbose_name_plural = _("考核")
        ordering = ["-period_start", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "period_start"],
                name="%(app_label)s_%(class)s_one_per_period",
                violation_error_message=_("该期间的考核已存在。"),
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=models.F("period_start")),
                name="%(app_label)s_%(class)s_end_after_start",
                violation_error_message=_("期间结束须晚于开始。"),
            ),
        ]

    def __str__(self) -> str:
        return str(self.label)

    @property
    def label(self) -> str:
        if self.kind == self.Kind.YEAR:
            return f"{year_label(self.period_start)}考核"
        return f"{quarter_label(self.period_start)}考核"

    @property
    def is_locked(self) -> bool:
        return self.status == self.Status.PUBLISHED


class BranchScore(models.Model):
    """A branch's result in a run: total, grade, rank and the change since the previous run."""

    run = models.ForeignKey(Run, verbose_name=_("考核"), on_delete=models.CASCADE, related_name="scores")
    branch = models.ForeignKey(
        Organization, verbose_name=_("支部"), on_delete=models.PROTECT, related_name="assessment_scores"
    )
    total = models.DecimalField(_("总分"), **POINTS)
    grade = models.CharField(_("等次"), max_length=20)
    is_failing = models.BooleanField(_("不合格"), default=False)
    vetoed = models.BooleanField(_("一票否决"), default=False)
    rank = models.PositiveIntegerField(_("排名"))
    previous_rank = models.PositiveIntegerField(_("上期排名"), null=True, blank=True)
    previous_total = models.DecimalField(_("上期总分"), null=True, blank=True, **POINTS)
    rectification = models.ForeignKey(
        Rectification,
        verbose_name=_("整改"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recheck_recorded_at = models.DateTimeField(_("回头看记录时间"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("支部得分")
        verbose_name_plural = _("支部得分")
        ordering = ["run", "rank", "branch__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "branch"],
                name="%(app_label)s_%(class)s_one_per_branch",
                violation_error_message=_("每个支部在一次考核中只有一个得分。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch} {self.total}（{self.grade}）"

    @property
    def rank_change(self) -> int | None:
        """Places gained since the previous run (positive = moved up)."""
        if self.previous_rank is None:
            return None
        return self.previous_rank - self.rank


class ItemScore(models.Model):
    """A branch's score on one item; manual items carry who entered it, when and why."""

    branch_score = models.ForeignKey(
        BranchScore, verbose_name=_("支部得分"), on_delete=models.CASCADE, related_name="items"
    )
    item = models.ForeignKey(Item, verbose_name=_("考核项目"), on_delete=models.PROTECT, related_name="+")
    points = models.DecimalField(_("得分"), **POINTS)
    deducted = models.DecimalField(_("扣分"), default=Decimal("0"), **POINTS)
    veto_triggered = models.BooleanField(_("触发一票否决"), default=False)
    manual_points = models.DecimalField(_("人工评分"), null=True, blank=True, **POINTS)
    comment = models.TextField(_("评分说明"), blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("评分人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("评分时间"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("项目得分")
        verbose_name_plural = _("项目得分")
        ordering = ["branch_score", "item__order", "item_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch_score", "item"],
                name="%(app_label)s_%(class)s_one_per_item",
                violation_error_message=_("每个项目只有一个得分。"),
            ),
            models.CheckConstraint(
                condition=Q(points__gte=0),
                name="%(app_label)s_%(class)s_floor",
                violation_error_message=_("项目得分不能低于 0。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.name}: {self.points}"


class Deduction(models.Model):
    """One line of why points were lost (or gained), with a link to the record behind it."""

    item_score = models.ForeignKey(
        ItemScore, verbose_name=_("项目得分"), on_delete=models.CASCADE, related_name="deductions"
    )
    points = models.DecimalField(_("扣分"), help_text=_("负数表示加分"), **POINTS)
    reason = models.CharField(_("原因"), max_length=300)
    period_start = models.DateField(_("所属期间"), null=True, blank=True)
    meeting = models.ForeignKey(
        Meeting, verbose_name=_("会议"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finding = models.ForeignKey(
        Finding, verbose_name=_("问题"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rectification = models.ForeignKey(
        Rectification, verbose_name=_("整改"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    flag = models.ForeignKey(
        Flag, verbose_name=_("检查提示"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review = models.ForeignKey(
        Review, verbose_name=_("审核记录"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("扣分明细")
        verbose_name_plural = _("扣分明细")
        ordering = ["item_score", "period_start", "id"]

    def __str__(self) -> str:
        return f"{self.points} {self.reason}"


class MemberScore(models.Model):
    """A member's participation in a run's period: counts, score, and eligibility for 评优."""

    run = models.ForeignKey(Run, verbose_name=_("考核"), on_delete=models.CASCADE, related_name="member_scores")
    member = models.ForeignKey(Member, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey(Organization, verbose_name=_("支部"), on_delete=models.PROTECT, related_name="+")
    expected = models.PositiveIntegerField(_("应参加"))
    attended = models.PositiveIntegerField(_("出席"))
    late = models.PositiveIntegerField(_("迟到"), default=0)
    on_leave = models.PositiveIntegerField(_("请假"))
    absent = models.PositiveIntegerField(_("无故缺席"))
    lessons_given = models.PositiveIntegerField(_("讲党课"))
    points = models.DecimalField(_("参与得分"), **POINTS)
    eligible = models.BooleanField(_("可参加评优"))
    ineligible_reason = models.CharField(_("不可评优原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("党员参与")
        verbose_name_plural = _("党员参与")
        ordering = ["run", "branch", "member__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "member"],
                name="%(app_label)s_%(class)s_one_per_member",
                violation_error_message=_("每名党员在一次考核中只有一条记录。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.points}"

    @property
    def attendance_rate(self) -> Decimal | None:
        if not self.expected:
            return None
        return (Decimal(self.attended) * 100 / Decimal(self.expected)).quantize(Decimal("0.1"))


class ParticipationBaseline(models.Model):
    """The baseline period the committee compares the mine's participation rate against (one row)."""

    start = models.DateField(_("基准期开始"))
    end = models.DateField(_("基准期结束（不含）"))
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("设置人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_at = models.DateTimeField(_("设置时间"))

    class Meta:
        verbose_name = _("参与率基准期")
        verbose_name_plural = _("参与率基准期")
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")),
                name="%(app_label)s_%(class)s_end_after_start",
                violation_error_message=_("基准期结束须晚于开始。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m} – {self.end:%Y-%m}"
