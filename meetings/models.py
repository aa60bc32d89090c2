"""Meeting types and cadence rules as data; meetings with their notice, minutes, attendance, votes and leave."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from org.clock import local_date
from org.models import Member, Organization

from .deadlines import minutes_due_at


class MeetingType(models.Model):
    """One of the seven meeting types of domain.md. Rows are data; ``code`` carries the rules attached to a type."""

    class Code(models.TextChoices):
        GENERAL_MEETING = "general_meeting", _("支部党员大会")
        COMMITTEE_MEETING = "committee_meeting", _("支部委员会")
        GROUP_MEETING = "group_meeting", _("党小组会")
        PARTY_LESSON = "party_lesson", _("党课")
        THEME_DAY = "theme_day", _("主题党日")
        ORG_LIFE = "org_life", _("组织生活会")
        DEMOCRATIC_REVIEW = "democratic_review", _("民主评议党员")

    class Audience(models.TextChoices):
        BRANCH = "branch", _("支部全体党员")
        COMMITTEE = "committee", _("支部委员")
        GROUP = "group", _("党小组党员")

    code = models.CharField(_("代码"), max_length=30, choices=Code.choices, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    audience = models.CharField(_("参会范围"), max_length=20, choices=Audience.choices, default=Audience.BRANCH)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    requires_lecturer = models.BooleanField(_("须填写授课人和课题"), default=False)
    requires_theme_tags = models.BooleanField(_("须选择主题标签"), default=False)
    requires_photo = models.BooleanField(_("须上传会议照片"), default=True)
    attendance_target_percent = models.PositiveSmallIntegerField(
        _("出席率目标（%）"), null=True, blank=True, help_text=_("如主题党日 80%；留空表示无要求")
    )

    class Meta:
        verbose_name = _("会议类型")
        verbose_name_plural = _("会议类型")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name


class ThemeTag(models.Model):
    """A business theme of a 主题党日 (安全生产, 节能减排 …), configurable."""

    name = models.CharField(_("名称"), max_length=50, unique=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("主题标签")
        verbose_name_plural = _("主题标签")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Place(models.Model):
    """A meeting place of the register (会议室, 区队学习室, 教育基地 ...), with its coordinates.

    A place with a ``branch`` belongs to that branch (its 书记 edits it); one without is
    mine-wide (the red-education bases, the 矿部 rooms), edited in the admin only. A meeting
    planned at a place copies its name and coordinates (``Meeting.place/latitude/longitude``):
    the GPS check of the evidence runs against those.
    """

    class Kind(models.TextChoices):
        MEETING_ROOM = "meeting_room", _("会议室")
        STUDY_ROOM = "study_room", _("区队学习室")
        EDUCATION_BASE = "education_base", _("教育基地")
        OTHER = "other", _("其他")

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, default=Kind.MEETING_ROOM)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    contact = models.CharField(_("联系人及电话"), max_length=100, blank=True)
    capacity = models.PositiveIntegerField(_("容纳人数"), null=True, blank=True)
    branch = models.ForeignKey(
        Organization,
        verbose_name=_("所属支部"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="places",
        limit_choices_to={"kind": Organization.Kind.BRANCH},
        help_text=_("留空表示全矿共用（如教育基地）"),
    )
    is_default = models.BooleanField(_("本支部默认地点"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("会议地点")
        verbose_name_plural = _("会议地点")
        ordering = ["branch_id", "kind", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch"],
                condition=Q(is_default=True, branch__isnull=False),
                name="%(app_label)s_%(class)s_one_default_per_branch",
                violation_error_message=_("每个支部只能有一个默认地点。"),
            ),
            models.UniqueConstraint(
                fields=["branch", "name"],
                name="%(app_label)s_%(class)s_unique_name_in_branch",
                violation_error_message=_("已有同名的地点。"),
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="%(app_label)s_%(class)s_latitude_range",
                violation_error_message=_("纬度须在 -90 到 90 之间。"),
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="%(app_label)s_%(class)s_longitude_range",
                violation_error_message=_("经度须在 -180 到 180 之间。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def is_base(self) -> bool:
        return self.kind == self.Kind.EDUCATION_BASE

    def clean(self):
        from django.core.exceptions import ValidationError

        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError(_("纬度和经度须同时填写或同时留空。"))
        if self.is_default and self.branch_id is None:
            raise ValidationError({"is_default": _("全矿共用的地点不能设为某支部的默认地点。")})


class CadenceRule(models.Model):
    """At least ``min_count`` meetings of any of ``types`` per ``period``, per branch or per group."""

    class Scope(models.TextChoices):
        BRANCH = "branch", _("每个支部")
        GROUP = "group", _("每个党小组")

    class Period(models.TextChoices):
        MONTH = "month", _("每月")
        QUARTER = "quarter", _("每季度")
        HALF_YEAR = "half_year", _("每半年")
        YEAR = "year", _("每年")

    name = models.CharField(_("名称"), max_length=100)
    types = models.ManyToManyField(MeetingType, verbose_name=_("会议类型（任一）"), related_name="cadence_rules")
    scope = models.CharField(_("范围"), max_length=20, choices=Scope.choices, default=Scope.BRANCH)
    period = models.CharField(_("周期"), max_length=20, choices=Period.choices)
    min_count = models.PositiveSmallIntegerField(_("最少次数"), default=1)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    basis = models.CharField(_("依据"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("召开频次规则")
        verbose_name_plural = _("召开频次规则")
        ordering = ["sort_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_count__gte=1),
                name="%(app_label)s_%(class)s_min_count_positive",
                violation_error_message=_("最少次数至少为 1。"),
            )
        ]

    def __str__(self) -> str:
        return self.name


class Exemption(models.Model):
    """A branch (or one of its groups) excused from one rule for one period (e.g. newly formed), approver and reason.

    Without ``group`` it covers the whole branch, its groups included; with one, that group only.
    """

    branch = models.ForeignKey(
        Organization, verbose_name=_("支部"), on_delete=models.CASCADE, related_name="cadence_exemptions"
    )
    group = models.ForeignKey(
        Organization,
        verbose_name=_("党小组"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="group_cadence_exemptions",
        limit_choices_to={"kind": Organization.Kind.GROUP},
        help_text=_("留空表示全支部（含各党小组）"),
    )
    rule = models.ForeignKey(CadenceRule, verbose_name=_("规则"), on_delete=models.CASCADE, related_name="exemptions")
    period_start = models.DateField(_("期间开始"), help_text=_("该期间的第一天，如 2026-04-01"))
    reason = models.TextField(_("理由"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("批准人"), on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("批准时间"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("豁免")
        verbose_name_plural = _("豁免")
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "rule", "period_start"],
                condition=Q(group__isnull=True),
                name="%(app_label)s_%(class)s_once_per_period",
                violation_error_message=_("该支部在该期间已有此规则的豁免。"),
            ),
            models.UniqueConstraint(
                fields=["group", "rule", "period_start"],
                condition=Q(group__isnull=False),
                name="%(app_label)s_%(class)s_once_per_group_period",
                violation_error_message=_("该党小组在该期间已有此规则的豁免。"),
            ),
        ]

    def __str__(self) -> str:
        unit = f"{self.branch}{self.group}" if self.group_id else f"{self.branch}"
        return f"{unit} {self.rule} {self.period_start:%Y-%m}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.group_id is None:
            return
        if self.group.kind != Organization.Kind.GROUP or self.group.parent_id != self.branch_id:
            raise ValidationError({"group": _("所选党小组不属于该支部。")})
        if self.rule_id is not None and self.rule.scope != CadenceRule.Scope.GROUP:
            raise ValidationError({"group": _("该规则按支部计算，不能只豁免一个党小组。")})


class MeetingQuerySet(models.QuerySet):
    def held(self):
        return self.filter(status__in=Meeting.HELD_STATUSES)

    def refresh_minutes_due(self, *, days: int) -> int:
        """Recompute ``minutes_due_at`` of these meetings for a filing rule of ``days`` days; returns rows changed."""
        changed = []
        for meeting in self.only("pk", "planned_start", "actual_start", "minutes_due_at").iterator(chunk_size=2000):
            due = minutes_due_at(meeting.held_on, days=days)
            if meeting.minutes_due_at != due:
                meeting.minutes_due_at = due
                changed.append(meeting)
        self.model.objects.bulk_update(changed, ["minutes_due_at"], batch_size=500)
        return len(changed)

    def held_in(self, start: dt.datetime, end: dt.datetime):
        """Meetings held in [start, end) (aware datetimes; see ``Meeting.held_in_q``), whatever their status."""
        return self.filter(Meeting.held_in_q(start, end))


class Meeting(models.Model):
    """A meeting of a branch (or of one of its groups): plan, notice, minutes and review state.

    A meeting may carry several types (a 党课 given at a 党员大会 counts for both).
    ``counts_for`` is the day whose period the meeting counts for: the day it was
    held, unless it makes up (补开) for an earlier period, which then shows as late.
    """

    class Status(models.TextChoices):
        PLANNED = "planned", _("计划")
        NOTIFIED = "notified", _("已通知")
        HELD = "held", _("已召开")
        SUBMITTED = "submitted", _("已提交")
        APPROVED = "approved", _("已通过")
        RETURNED = "returned", _("已退回")
        CANCELLED = "cancelled", _("已取消")

    HELD_STATUSES = (Status.HELD, Status.SUBMITTED, Status.APPROVED, Status.RETURNED)
    # States in which the branch may still edit the record.
    EDITABLE_STATUSES = (Status.PLANNED, Status.NOTIFIED, Status.HELD, Status.RETURNED)

    branch = models.ForeignKey(
        Organization,
        verbose_name=_("支部"),
        on_delete=models.PROTECT,
        related_name="meetings",
        limit_choices_to={"kind": Organization.Kind.BRANCH},
    )
    group = models.ForeignKey(
        Organization,
        verbose_name=_("党小组"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="group_meetings",
        limit_choices_to={"kind": Organization.Kind.GROUP},
    )
    types = models.ManyToManyField(MeetingType, verbose_name=_("会议类型"), related_name="meetings")
    topic = models.CharField(_("会议主题"), max_length=200, blank=True)
    agenda = models.TextField(_("议程"), blank=True)
    requirements = models.TextField(_("会议要求"), blank=True, help_text=_("请假程序、签到时间等"))
    planned_start = models.DateTimeField(_("计划开始时间"))
    planned_end = models.DateTimeField(_("计划结束时间"))
    place = models.CharField(_("地点"), max_length=200)
    latitude = models.DecimalField(_("地点纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("地点经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    # The register's place the meeting was planned at; its name and coordinates are copied above.
    venue = models.ForeignKey(
        Place, verbose_name=_("登记地点"), null=True, blank=True, on_delete=models.PROTECT, related_name="meetings"
    )
    lecturer = models.ForeignKey(
        Member, verbose_name=_("授课人"), null=True, blank=True, on_delete=models.PROTECT, related_name="lessons_given"
    )
    lesson_title = models.CharField(_("党课题目"), max_length=200, blank=True)
    theme_tags = models.ManyToManyField(ThemeTag, verbose_name=_("主题标签"), blank=True, related_name="meetings")
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.PLANNED)
    cancel_reason = models.TextField(_("取消原因"), blank=True)
    notice_published_at = models.DateTimeField(_("通知发布时间"), null=True, blank=True)

    # Minutes (会议记录)
    actual_start = models.DateTimeField(_("实际开始时间"), null=True, blank=True)
    actual_end = models.DateTimeField(_("实际结束时间"), null=True, blank=True)
    chair = models.ForeignKey(
        Member,
        verbose_name=_("主持人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="meetings_chaired",
    )
    recorder = models.ForeignKey(
        Member,
        verbose_name=_("记录人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="meetings_recorded",
    )
    guests = models.TextField(_("列席人员"), blank=True)
    resolutions = models.TextField(_("会议决议"), blank=True)
    counts_for = models.DateField(_("归属期间"), null=True, blank=True, db_index=True)
    minutes_entered_at = models.DateTimeField(_("记录录入时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    # The filing deadline (deadlines.minutes_due_at of the held day), kept by save(); the sweep,
    # the score and the integrity check read it. Indexed for the sweep while not submitted.
    minutes_due_at = models.DateTimeField(_("记录提交期限"), null=True, blank=True, editable=False)
    # Set once by the sweep when minutes are overdue.
    minutes_overdue_at = models.DateTimeField(_("记录逾期标记时间"), null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = MeetingQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"], m2m_fields=[types, theme_tags])

    class Meta:
        verbose_name = _("会议")
        verbose_name_plural = _("会议")
        ordering = ["-planned_start", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_end__gt=models.F("planned_start")),
                name="%(app_label)s_%(class)s_planned_end_after_start",
                violation_error_message=_("计划结束时间必须晚于开始时间。"),
            ),
            models.CheckConstraint(
                condition=Q(actual_end__isnull=True)
                | Q(actual_start__isnull=True)
                | Q(actual_end__gt=models.F("actual_start")),
                name="%(app_label)s_%(class)s_actual_end_after_start",
                violation_error_message=_("实际结束时间必须晚于开始时间。"),
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancel_reason=""),
                name="%(app_label)s_%(class)s_cancel_has_reason",
                violation_error_message=_("取消会议须填写原因。"),
            ),
        ]
        indexes = [
            models.Index(fields=["branch", "counts_for"], name="meetings_meeting_branch_period"),
            models.Index(fields=["branch", "planned_start"], name="meetings_meeting_branch_start"),
            # the all-meetings list of the committee: newest first across every branch
            models.Index(fields=["-planned_start", "-id"], name="meetings_meeting_start_id"),
            models.Index(fields=["status", "actual_end"], name="meetings_meeting_status_end"),
            # the review queue: submitted records, oldest submission first
            models.Index(
                fields=["submitted_at", "id"],
                condition=Q(status="submitted"),
                name="meetings_meeting_review_queue",
            ),
            models.Index(
                fields=["minutes_due_at"],
                condition=Q(submitted_at__isnull=True, minutes_overdue_at__isnull=True),
                name="meetings_meeting_minutes_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch} {self.planned_start:%Y-%m-%d} {self.topic}"

    # Saving any of these may move the held day, hence the filing deadline.
    _HELD_FIELDS = frozenset({"planned_start", "actual_start"})

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is None or self._HELD_FIELDS & set(update_fields):
            self.minutes_due_at = minutes_due_at(self.held_on, days=MeetingPolicy.current().minutes_due_days)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "minutes_due_at"}
        super().save(*args, **kwargs)

    @property
    def is_locked(self) -> bool:
        """Approved records are locked; cancelled ones are closed."""
        return self.status not in self.EDITABLE_STATUSES

    @staticmethod
    def held_in_q(start: dt.datetime, end: dt.datetime, *, prefix: str = "") -> Q:
        """The one "held in a period" rule: held in [start, end) by the actual start, else the planned one.

        This is the day it was held, not the period it counts for (``type_counts_for``).
        ``prefix`` reaches the meeting from another model (``"meeting__"``). Spelled as two
        branches rather than on a Coalesce so that each side can use an index.
        """
        return Q(**{f"{prefix}actual_start__gte": start, f"{prefix}actual_start__lt": end}) | Q(
            **{
                f"{prefix}actual_start__isnull": True,
                f"{prefix}planned_start__gte": start,
                f"{prefix}planned_start__lt": end,
            }
        )

    @property
    def held_on(self) -> dt.date:
        """The mine's calendar day the meeting was held (actual start, else planned)."""
        return local_date(self.actual_start or self.planned_start)

    def counts_for_type(self, meeting_type: MeetingType) -> dt.date | None:
        """``type_counts_for`` for one meeting in Python: the type's own period, else the meeting's."""
        for row in self.type_periods.all():
            if row.type_id == meeting_type.pk:
                return row.counts_for
        return self.counts_for

    def type_codes(self) -> set[str]:
        """Codes of this meeting's types (uses the prefetched ``types`` when present)."""
        return {t.code for t in self.types.all()}

    @property
    def is_group_meeting(self) -> bool:
        """A 党小组会 of one group (its 党小组长 decides leave), not a branch-wide meeting naming a group."""
        return self.group_id is not None and MeetingType.Code.GROUP_MEETING in self.type_codes()

    @property
    def ends_at(self) -> dt.datetime:
        """When the meeting ended (or is planned to end): check-in closes then."""
        return self.actual_end or self.planned_end

    def accepts_leave_at(self, now: dt.datetime) -> bool:
        """Leave is asked (or registered by the 书记) after the notice and before the meeting starts."""
        return self.status == self.Status.NOTIFIED and now < self.planned_start

    def checkin_open_at(self, now: dt.datetime, *, policy: MeetingPolicy | None = None) -> bool:
        """Check-in is open from ``checkin_opens_minutes_before`` the start until the meeting ends."""
        if self.status not in (self.Status.NOTIFIED, self.Status.HELD):
            return False
        return (policy or MeetingPolicy.current()).checkin_window(self).contains(now)


class MeetingTypePeriod(models.Model):
    """The period one type of a combined meeting counts for, when it is not the meeting's own.

    A 党员大会 + 党课 held on 3 April that makes up the first quarter's missed 党课 counts
    Q1 for 党课 (late) and Q2 for 党员大会. Only types whose period differs from
    ``Meeting.counts_for`` have a row; a meeting without rows behaves as before.

    A small model rather than a ``counts_for`` on the meeting↔type table: ``Meeting.types``
    keeps its automatic through table (no data migration of every meeting's types, and its
    history through ``m2m_fields`` unchanged), and the exception is stored only where it exists.
    Read it through ``type_counts_for`` (queries) or ``Meeting.counts_for_type`` (one meeting).
    """

    meeting = models.ForeignKey(Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="type_periods")
    type = models.ForeignKey(MeetingType, verbose_name=_("会议类型"), on_delete=models.PROTECT, related_name="+")
    counts_for = models.DateField(_("本类型归属期间"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("分类型归属期间")
        verbose_name_plural = _("分类型归属期间")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "type"], name="meetings_typeperiod_unique_meeting_type"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.counts_for:%Y-%m-%d}"


def type_counts_for(*, meeting: str = "pk", type: str = "types", prefix: str = "") -> Coalesce:
    """The one rule for the day whose period a type of a meeting counts for, as a query expression.

    The type's own period (``MeetingTypePeriod``) if it has one, else the meeting's
    ``counts_for`` (null for a meeting not yet held: callers fall back to the held day).
    ``meeting`` and ``type`` name the meeting's id and the type's id in the outer query
    (by default a ``Meeting`` query joined to ``types``); ``prefix`` reaches the meeting's
    ``counts_for`` from another model. A correlated subquery on a unique index: no extra query.
    """
    own = MeetingTypePeriod.objects.filter(meeting_id=OuterRef(meeting), type_id=OuterRef(type)).values("counts_for")
    return Coalesce(Subquery(own[:1]), F(f"{prefix}counts_for"), output_field=models.DateField())


class AgendaItem(models.Model):
    """One topic discussed at a meeting (议题), in order."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    order = models.PositiveSmallIntegerField(_("序号"), default=1)
    title = models.CharField(_("议题"), max_length=200)
    # 议定事项: a decision of a 支委会 or 党员大会 to be followed up. Submitting the record makes
    # one task of it for ``decision_owner`` due at the end of ``decision_due_on`` (tasks app).
    is_decision = models.BooleanField(_("议定事项"), default=False)
    decision_owner = models.ForeignKey(
        Member,
        verbose_name=_("落实责任人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="decisions_owned",
    )
    decision_due_on = models.DateField(_("落实期限"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("议题")
        verbose_name_plural = _("议题")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.title


class Speech(models.Model):
    """A speaker's main points on one agenda item, and whether they dissented."""

    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="speeches")
    speaker = models.ForeignKey(Member, verbose_name=_("发言人"), on_delete=models.PROTECT, related_name="speeches")
    points = models.TextField(_("发言要点"))
    dissent = models.BooleanField(_("持不同意见"), default=False)
    order = models.PositiveSmallIntegerField(_("序号"), default=1)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("发言")
        verbose_name_plural = _("发言")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.speaker}: {self.points[:20]}"


class AttendanceQuerySet(models.QuerySet):
    def tally_by_meeting(self):
        """Per meeting, the figures of the minutes (应到/实到/迟到/请假/缺席/未登记, 预备 split) counted in SQL.

        The ledger counts many meetings at once with this; ``services.attendance_summary``
        counts one meeting's prefetched rows with the same statuses.
        """
        present = Q(status__in=Attendance.PRESENT_STATUSES)
        probationary = Q(is_probationary=True)
        # order_by() drops the default ordering, which would join members into the GROUP BY.
        return (
            self.order_by()
            .values("meeting_id")
            .annotate(
                expected=models.Count("id"),
                expected_probationary=models.Count("id", filter=probationary),
                present=models.Count("id", filter=present),
                present_probationary=models.Count("id", filter=present & probationary),
                late=models.Count("id", filter=Q(status=Attendance.Status.LATE)),
                leave=models.Count("id", filter=Q(status=Attendance.Status.LEAVE)),
                absent=models.Count("id", filter=Q(status=Attendance.Status.ABSENT)),
                unrecorded=models.Count("id", filter=Q(status="")),
            )
        )


class Attendance(models.Model):
    """One expected attendee (应到) of a meeting and what became of them.

    Rows are made from membership on the meeting date, with the member's
    category and vote right on that date kept as they were.
    """

    class Status(models.TextChoices):
        PRESENT = "present", _("出席")
        LATE = "late", _("迟到")
        LEAVE = "leave", _("请假")
        ABSENT = "absent", _("无故缺席")

    PRESENT_STATUSES = (Status.PRESENT, Status.LATE)

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendances")
    member = models.ForeignKey(Member, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="attendances")
    is_probationary = models.BooleanField(_("预备党员"), default=False)
    can_vote = models.BooleanField(_("有表决权"), default=True)
    status = models.CharField(_("出席情况"), max_length=20, choices=Status.choices, blank=True)
    leave_reason = models.CharField(_("请假事由"), max_length=200, blank=True)
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    # A keyed hash of the signed device cookie's id (``meetings.checkin.device_hash``), never the id itself.
    checkin_device = models.CharField(_("签到设备"), max_length=64, blank=True)
    # The fallback signals: the browser and the network (an address prefix), and whether the device
    # came without a valid cookie (cleared, forged, or its first check-in) and was given a new one.
    checkin_user_agent = models.CharField(_("签到浏览器"), max_length=200, blank=True)
    checkin_network = models.CharField(_("签到网络"), max_length=50, blank=True)
    checkin_new_device = models.BooleanField(_("签到时新发设备标识"), default=False)

    objects = AttendanceQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("出席记录")
        verbose_name_plural = _("出席记录")
        ordering = ["member__name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "member"],
                name="%(app_label)s_%(class)s_once_per_meeting",
                violation_error_message=_("该党员已在本次会议的应到名单中。"),
            ),
            models.CheckConstraint(
                condition=~Q(status="leave") | ~Q(leave_reason=""),
                name="%(app_label)s_%(class)s_leave_has_reason",
                violation_error_message=_("请假须填写事由。"),
            ),
            models.CheckConstraint(
                condition=Q(is_probationary=False) | Q(can_vote=False),
                name="%(app_label)s_%(class)s_probationary_cannot_vote",
                violation_error_message=_("预备党员没有表决权。"),
            ),
        ]
        indexes = [models.Index(fields=["member", "status"], name="meetings_att_member_status")]

    def __str__(self) -> str:
        return f"{self.meeting_id} {self.member} {self.get_status_display()}"


class LeaveRequestQuerySet(models.QuerySet):
    def valid_for_attendance(self):
        """Approved requests made before their meeting started: the only source of 请假 in attendance."""
        return self.filter(status=LeaveRequest.Status.APPROVED, created_at__lt=models.F("meeting__planned_start"))

    def decided_by(self, *, branch_ids, group_ids):
        """Requests whose decider is the 书记 of one of ``branch_ids`` or, for a 党小组会, the 党小组长 of
        one of ``group_ids``: ``org.rules.decides_leave`` and ``Meeting.is_group_meeting`` as one filter."""
        group_meeting = models.Exists(
            Meeting.types.through.objects.filter(
                meeting_id=models.OuterRef("meeting_id"), meetingtype__code=MeetingType.Code.GROUP_MEETING
            )
        )
        is_group = Q(meeting__group_id__isnull=False) & Q(group_meeting)
        return self.filter(
            (is_group & Q(meeting__group_id__in=group_ids)) | (~is_group & Q(meeting__branch_id__in=branch_ids))
        )


class LeaveRequest(models.Model):
    """A member's request for leave from one meeting, decided by the 书记 (a 党小组会: its 党小组长).

    ``registered_by`` is set when the 书记 registered the leave on the member's behalf
    (代登记) before the meeting started; ``created_at`` is then the time of registration.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("未批准")
        WITHDRAWN = "withdrawn", _("已撤回")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="leave_requests")
    member = models.ForeignKey(Member, verbose_name=_("党员"), on_delete=models.CASCADE, related_name="leave_requests")
    reason = models.CharField(_("请假事由"), max_length=200)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("申请时间"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=200, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("代登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = LeaveRequestQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("请假申请")
        verbose_name_plural = _("请假申请")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "member"],
                condition=Q(status__in=["pending", "approved"]),
                name="%(app_label)s_%(class)s_one_open_per_meeting",
                violation_error_message=_("您已为本次会议提交过请假申请。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.meeting_id} {self.get_status_display()}"


class Vote(models.Model):
    """A vote taken at a meeting: one motion, or one candidate at a time."""

    class Kind(models.TextChoices):
        MOTION = "motion", _("一般表决")
        ADMISSION = "admission", _("接收预备党员")
        FULL_MEMBERSHIP = "full_membership", _("预备党员转正")
        ELECTION = "election", _("选举")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="votes")
    kind = models.CharField(_("表决类型"), max_length=20, choices=Kind.choices, default=Kind.MOTION)
    motion = models.CharField(_("表决事项"), max_length=200)
    # Who is voted on. For an election or a 转正 the candidate is a member of the branch
    # (a full member with vote rights, or a 预备党员); an applicant being admitted is not a
    # member yet, so admission names them in ``candidate_name`` only. ``candidate_name``
    # always holds the name as recorded, for the record and the ledger.
    candidate = models.ForeignKey(
        Member,
        verbose_name=_("候选人/对象（党员）"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="candidacies",
    )
    candidate_name = models.CharField(_("候选人/对象"), max_length=50, blank=True)
    yes = models.PositiveIntegerField(_("赞成"))
    no = models.PositiveIntegerField(_("反对"))
    abstain = models.PositiveIntegerField(_("弃权"))
    written_opinions = models.PositiveIntegerField(
        _("书面意见"), default=0, help_text=_("接收预备党员时，因故缺席党员的书面表决意见（已计入赞成/反对/弃权）")
    )
    # Snapshot of the numbers the result was decided on, for the record.
    voting_expected = models.PositiveIntegerField(_("应到有表决权人数"))
    voting_present = models.PositiveIntegerField(_("实到有表决权人数"))
    passed = models.BooleanField(_("通过"))
    order = models.PositiveSmallIntegerField(_("序号"), default=1)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("表决")
        verbose_name_plural = _("表决")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.motion


class MeetingPolicy(models.Model):
    """The configurable numbers of the meeting rules (one row, edited in the admin)."""

    minutes_due_days = models.PositiveSmallIntegerField(
        _("会后几天内提交记录"),
        default=3,
        help_text=_("按自然日：3 表示 10 日召开的会议须在 13 日 24:00 前提交记录；修改后对尚未提交的记录生效"),
    )
    period_end_reminder_days = models.CharField(_("期末提醒（提前天数，逗号分隔）"), max_length=50, default="7,2")
    absence_warning_months = models.PositiveSmallIntegerField(_("连续缺席提醒书记（月）"), default=2)
    absence_escalation_months = models.PositiveSmallIntegerField(_("连续缺席上报督导（月）"), default=6)
    checkin_opens_minutes_before = models.PositiveSmallIntegerField(_("签到提前开放（分钟）"), default=30)
    checkin_token_seconds = models.PositiveSmallIntegerField(_("签到码刷新间隔（秒）"), default=30)
    late_after_minutes = models.PositiveSmallIntegerField(_("开始后几分钟签到记为迟到"), default=10)
    notice_days_before = models.PositiveSmallIntegerField(
        _("会议通知至少提前几天发布"),
        default=1,
        help_text=_("按自然日：1 表示会议当天零点前（即至少前一天）发布通知"),
    )
    general_meeting_notice_days_before = models.PositiveSmallIntegerField(
        _("党员大会至少提前几天报党委"),
        default=3,
        help_text=_("按自然日：3 表示 10 日召开的党员大会须在 7 日 24:00 前发布通知"),
    )

    class Meta:
        verbose_name = _("会议规则参数")
        verbose_name_plural = _("会议规则参数")

    def __str__(self) -> str:
        return str(_("会议规则参数"))

    @classmethod
    def current(cls) -> MeetingPolicy:
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy

    def checkin_window(self, meeting: Meeting) -> CheckinWindow:
        """The one home of the check-in window: signing in after the meeting ended would be 代签到."""
        return CheckinWindow(
            opens=meeting.planned_start - dt.timedelta(minutes=self.checkin_opens_minutes_before),
            closes=meeting.ends_at,
        )

    def late_after(self, meeting: Meeting) -> dt.datetime:
        return meeting.planned_start + dt.timedelta(minutes=self.late_after_minutes)

    def is_late(self, meeting: Meeting, *, at: dt.datetime) -> bool:
        """The one home of 迟到: arriving more than ``late_after_minutes`` after the planned start."""
        return at > self.late_after(meeting)

    @property
    def reminder_days(self) -> list[int]:
        return sorted({int(p) for p in self.period_end_reminder_days.split(",") if p.strip().isdigit()}, reverse=True)


@dataclass(frozen=True)
class CheckinWindow:
    """From ``opens`` (inclusive) until ``closes``, the meeting's end (exclusive)."""

    opens: dt.datetime
    closes: dt.datetime

    def contains(self, now: dt.datetime) -> bool:
        return self.opens <= now < self.closes


class ComplianceRollup(models.Model):
    """One closed compliance cell (rule × branch or group × period) as the engine computed it.

    Kept by ``meetings/rollups.py`` (after commit, through the worker) and rebuilt by
    ``manage.py rebuild_rollups``. A month, quarter, half year or year is one row keyed
    by the period's first day (``period_start``); a month belongs to the row of the
    period that contains it. Only periods over when computed are stored: a running
    period is always computed live. ``unit`` is the group's id, 0 for the branch itself.
    """

    rule = models.ForeignKey(CadenceRule, on_delete=models.CASCADE, related_name="+")
    branch = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    unit = models.IntegerField(default=0)
    period_start = models.DateField()
    period_end = models.DateField()
    outcome = models.CharField(max_length=20)
    count = models.PositiveIntegerField(default=0)
    on_time_count = models.PositiveIntegerField(default=0)
    meeting_ids = models.JSONField(default=list)
    exemption = models.ForeignKey(Exemption, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("达标汇总")
        verbose_name_plural = _("达标汇总")
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "rule", "unit", "period_start"], name="%(app_label)s_%(class)s_one_per_cell"
            )
        ]
        indexes = [models.Index(fields=["period_start", "branch"], name="meetings_rollup_period_branch")]

    def __str__(self) -> str:
        return f"{self.branch_id} {self.rule_id} {self.unit} {self.period_start:%Y-%m} {self.outcome}"


class AttendanceRollup(models.Model):
    """Expected and attended of one branch in one closed month (meetings/attendance_rates.py's counts).

    Kept with the compliance rollup by ``meetings/rollups.py``: a row for every branch and
    every month over when computed (0 / 0 included, so that a missing row means "not
    computed yet" and the month is counted live instead). The trend and the dashboard read it.
    """

    branch = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    expected = models.PositiveIntegerField(default=0)
    attended = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("参与率汇总")
        verbose_name_plural = _("参与率汇总")
        constraints = [
            models.UniqueConstraint(fields=["branch", "month"], name="%(app_label)s_%(class)s_one_per_month")
        ]
        indexes = [models.Index(fields=["month", "branch"], name="meetings_attroll_month_branch")]

    def __str__(self) -> str:
        return f"{self.branch_id} {self.month:%Y-%m} {self.attended}/{self.expected}"
