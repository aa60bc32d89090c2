"""The study library: columns (专栏), items (documents, articles, videos, audio), their media.

An item is written as a draft, sent for review, published to an audience (the whole mine,
chosen branches, or roles such as 书记 and 支委) and may later be withdrawn; who reviewed and
when is kept. A video or audio item's file is processed by the worker (duration, poster frame,
a phone-playable MP4 when the upload is not one) into ``StudyMedia``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from meetings.models import Meeting
from org.models import Member, Organization
from supervision.models import evidence_storage


class StudyPolicy(models.Model):
    """The configurable numbers of study (one row, edited in the admin)."""

    complete_ratio = models.DecimalField(
        _("完成比例"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.90"),
        help_text=_("视频或音频实际播放到这一比例即记为学完（0.90 即 90%）。"),
    )
    minutes_per_hour = models.PositiveSmallIntegerField(
        _("每学时分钟数"), default=45, help_text=_("视频、音频按时长折算学时：每这么多分钟计 1 学时。")
    )
    max_rate = models.DecimalField(_("最高认可倍速"), max_digits=3, decimal_places=1, default=Decimal("2.0"))
    heartbeat_seconds = models.PositiveSmallIntegerField(_("进度上报间隔（秒）"), default=15)

    class Meta:
        verbose_name = _("学习设置")
        verbose_name_plural = _("学习设置")

    def __str__(self) -> str:
        return str(_("学习设置"))

    @classmethod
    def current(cls) -> StudyPolicy:
        return cls.objects.order_by("pk").first() or cls()


class StudyRequirement(models.Model):
    """学时 a person must complete in a year, by role (data, not code: 32 for members, 56 for 书记 and 支委)."""

    class Audience(models.TextChoices):
        MEMBER = "member", _("党员")
        COMMITTEE = "committee", _("书记、支委")

    audience = models.CharField(_("对象"), max_length=20, choices=Audience.choices)
    hours = models.DecimalField(_("年度学时要求"), max_digits=5, decimal_places=1)
    # Empty: applies to every year that has no row of its own.
    year = models.PositiveSmallIntegerField(_("年度"), null=True, blank=True)

    class Meta:
        verbose_name = _("学时要求")
        verbose_name_plural = _("学时要求")
        ordering = ["audience", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["audience", "year"],
                name="%(app_label)s_%(class)s_one_per_audience_year",
                violation_error_message=_("同一对象同一年度只能有一条学时要求。"),
            ),
            models.UniqueConstraint(
                fields=["audience"],
                condition=Q(year__isnull=True),
                name="%(app_label)s_%(class)s_one_default_per_audience",
                violation_error_message=_("同一对象只能有一条通用学时要求。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_audience_display()} {self.year or ''} {self.hours}"


class Column(models.Model):
    """A column (专栏) of the library: 理论学习, 安全生产, 警示教育, 微党课 (configurable)."""

    name = models.CharField(_("专栏名称"), max_length=50, unique=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("专栏")
        verbose_name_plural = _("专栏")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class StudyItem(models.Model):
    """One piece of study material or one 微党课, from draft to published (or withdrawn)."""

    class Kind(models.TextChoices):
        DOCUMENT = "document", _("文档")
        ARTICLE = "article", _("图文")
        VIDEO = "video", _("视频")
        AUDIO = "audio", _("音频")

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        IN_REVIEW = "in_review", _("待审核")
        PUBLISHED = "published", _("已发布")
        WITHDRAWN = "withdrawn", _("已撤回")

    class Audience(models.TextChoices):
        MINE = "mine", _("全矿")
        BRANCHES = "branches", _("指定支部")
        ROLES = "roles", _("指定对象")

    class Role(models.TextChoices):
        SECRETARY = "secretary", _("书记")
        COMMITTEE = "committee", _("支委")

    PLAYABLE_KINDS = (Kind.VIDEO, Kind.AUDIO)

    title = models.CharField(_("标题"), max_length=200)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    column = models.ForeignKey(Column, verbose_name=_("专栏"), on_delete=models.PROTECT, related_name="items")
    summary = models.TextField(_("简介"), blank=True)
    # An article is written in the page; other kinds may add a few lines here too.
    body = models.TextField(_("正文"), blank=True)
    lecturer = models.ForeignKey(
        Member, verbose_name=_("主讲人"), on_delete=models.SET_NULL, null=True, blank=True, related_name="lectures"
    )
    # A lecturer from outside the roster (a 先进 from another mine, a teacher of the 党校).
    lecturer_name = models.CharField(_("主讲人（名单外）"), max_length=50, blank=True)
    # The organisation that publishes the item: the 党委 for the whole mine, or a branch.
    organization = models.ForeignKey(
        Organization, verbose_name=_("发布组织"), on_delete=models.PROTECT, related_name="study_items"
    )
    audience = models.CharField(_("学习对象"), max_length=20, choices=Audience.choices, default=Audience.MINE)
    branches = models.ManyToManyField(
        Organization, verbose_name=_("指定支部"), blank=True, related_name="assigned_study_items"
    )
    # Comma-free list of Role values for Audience.ROLES (e.g. "secretary committee").
    roles = models.CharField(_("指定对象"), max_length=100, blank=True)
    # Empty for a video/audio: credited from its duration (StudyPolicy.minutes_per_hour).
    credit_hours = models.DecimalField(_("学时"), max_digits=4, decimal_places=1, null=True, blank=True)
    # A recorded 党课 published as a 微党课 keeps its meeting.
    source_meeting = models.ForeignKey(
        Meeting,
        verbose_name=_("来源会议"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="study_items",
    )
    # With a quiz: completion of the item also needs a passed attempt (study.quiz.quiz_blocks_completion).
    requires_quiz_pass = models.BooleanField(_("须通过测验"), default=False)
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="study_items"
    )
    created_at = models.DateTimeField(_("创建时间"))
    submitted_at = models.DateTimeField(_("提交审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviewed_study_items",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_note = models.CharField(_("审核意见"), max_length=500, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    withdrawn_reason = models.CharField(_("撤回原因"), max_length=500, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("学习资料")
        verbose_name_plural = _("学习资料")
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(fields=["state", "-published_at"], name="study_item_state_published"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def lecturer_display(self) -> str:
        return self.lecturer.name if self.lecturer_id else self.lecturer_name


class StudyMedia(models.Model):
    """The file of an item and what the worker made of it: duration, poster frame, playable MP4."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待处理")
        PROCESSING = "processing", _("处理中")
        READY = "ready", _("可播放")
        FAILED = "failed", _("处理失败")

    item = models.OneToOneField(StudyItem, verbose_name=_("学习资料"), on_delete=models.CASCADE, related_name="media")
    original = models.FileField(_("原始文件"), storage=evidence_storage, max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=200, blank=True)
    content_type = models.CharField(_("文件类型"), max_length=100, blank=True)
    size = models.PositiveBigIntegerField(_("大小（字节）"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    # The file phones play: the original when it already is H.264/AAC MP4, else the worker's transcode.
    playable = models.FileField(_("播放文件"), storage=evidence_storage, max_length=200, blank=True)
    playable_size = models.PositiveBigIntegerField(_("播放文件大小"), default=0)
    poster = models.FileField(_("封面"), storage=evidence_storage, max_length=200, blank=True)
    duration_seconds = models.FloatField(_("时长（秒）"), null=True, blank=True)
    status = models.CharField(_("处理状态"), max_length=20, choices=Status.choices, default=Status.PENDING)
    error = models.CharField(_("处理失败原因"), max_length=300, blank=True)
    uploaded_at = models.DateTimeField(_("上传时间"))
    processed_at = models.DateTimeField(_("处理完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("学习资料文件")
        verbose_name_plural = _("学习资料文件")

    def __str__(self) -> str:
        return self.original_name or str(self.item)
