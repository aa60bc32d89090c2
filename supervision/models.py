"""Evidence and its integrity checks, reviews of submitted records, findings and rectifications."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.db import models
from django.db.models import Q
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from meetings.models import Meeting, Speech
from org.clock import deadline_text
from org.models import Member, Organization


class _EvidenceStorage(LazyObject):
    """``storages["evidence"]``, looked up on first use (and again after tests change ``STORAGES``)."""

    def _setup(self):
        self._wrapped = storages["evidence"]


_evidence_storage = _EvidenceStorage()


@receiver(setting_changed)
def _reset_evidence_storage(*, setting, **kwargs):
    if setting == "STORAGES":
        _evidence_storage._wrapped = empty


def evidence_storage():
    """Evidence lives in its own private storage (local folder or S3 bucket), never under MEDIA_URL."""
    return _evidence_storage


class SupervisionPolicy(models.Model):
    """The configurable numbers of evidence checks and rectification (one row, edited in the admin)."""

    photo_max_mb = models.PositiveIntegerField(_("会议照片单个文件上限（MB）"), default=20)
    signin_max_mb = models.PositiveIntegerField(_("签到表单个文件上限（MB）"), default=20)
    scan_max_mb = models.PositiveIntegerField(_("会议记录扫描件单个文件上限（MB）"), default=50)
    video_max_mb = models.PositiveIntegerField(_("视频单个文件上限（MB）"), default=500)
    other_max_mb = models.PositiveIntegerField(_("其他材料单个文件上限（MB）"), default=50)
    max_image_megapixels = models.PositiveIntegerField(_("图片像素上限（百万像素）"), default=60)
    capture_tolerance_minutes = models.PositiveIntegerField(_("拍摄时间容差（分钟）"), default=60)
    gps_max_distance_m = models.PositiveIntegerField(_("拍摄地点与会议地点最大距离（米）"), default=1000)
    photo_hash_max_distance = models.PositiveSmallIntegerField(
        _("照片相似判定阈值（感知哈希汉明距离）"),
        default=10,
        help_text=_(
            "0–11：越小越严格。默认 10：缩放、重新压缩、裁去 5% 的副本在 10 以内，不同照片在 18 以上；"
            "取 11 时每次查找的候选约多 8 倍"
        ),
    )
    minutes_similarity_threshold = models.DecimalField(
        _("会议记录雷同阈值（内容重合比例）"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.50"),
        help_text=_(
            "0–1：本次记录中有多大比例的内容（按句计，多个支部都有的学习原文等常见内容按出现范围降低权重）"
            "包含在另一份记录中时提示雷同。默认 0.5：测试集中抄袭的副本在 0.6 以上，各支部如实记录的在 0.25 以下"
        ),
    )
    late_entry_grace_days = models.PositiveSmallIntegerField(
        _("超过记录提交期限几天后录入视为补录"),
        default=0,
        help_text=_("0：按会议记录提交期限（会议规则参数“会后几天内提交记录”，按自然日），期限一过录入即提示补录"),
    )
    rectification_months = models.PositiveSmallIntegerField(
        _("整改期限（月）"),
        default=1,
        help_text=_("按自然月计算：15 日提出的问题，期限到下月 15 日当天结束；下月没有该日时到月末"),
    )
    escalation_days = models.PositiveSmallIntegerField(_("逾期几天后再次督办"), default=7)
    attestation_days = models.PositiveSmallIntegerField(
        _("发言人确认发言记录的期限（天）"),
        default=3,
        help_text=_("按自然日：3 表示 10 日提交的记录，发言人须在 13 日 24:00 前确认或提出异议"),
    )

    class Meta:
        verbose_name = _("督导检查参数")
        verbose_name_plural = _("督导检查参数")
        constraints = [
            models.CheckConstraint(
                condition=Q(photo_hash_max_distance__lte=11),
                name="%(app_label)s_%(class)s_hash_distance_max",
                violation_error_message=_("照片相似判定阈值不能大于 11。"),
            ),
            models.CheckConstraint(
                condition=Q(minutes_similarity_threshold__gt=0) & Q(minutes_similarity_threshold__lte=1),
                name="%(app_label)s_%(class)s_similarity_range",
                violation_error_message=_("雷同阈值须在 0 到 1 之间。"),
            ),
        ]

    def __str__(self) -> str:
        return str(_("督导检查参数"))

    @classmethod
    def current(cls) -> SupervisionPolicy:
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy

    def max_bytes(self, category: str) -> int:
        megabytes = {
            Evidence.Category.PHOTO: self.photo_max_mb,
            Evidence.Category.SIGNIN: self.signin_max_mb,
            Evidence.Category.MINUTES_SCAN: self.scan_max_mb,
            Evidence.Category.VIDEO: self.video_max_mb,
            Evidence.Category.OTHER: self.other_max_mb,
        }[category]
        return megabytes * 1024 * 1024

    @property
    def max_image_pixels(self) -> int:
        return self.max_image_megapixels * 1_000_000

    @property
    def capture_tolerance(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.capture_tolerance_minutes)


class Finding(models.Model):
    """A problem a supervisor found in a branch's work (optionally in one meeting's record)."""

    class Category(models.TextChoices):
        CADENCE = "cadence", _("会议频次不足")
        RECORDS = "records", _("会议记录不规范")
        FALSE_RECORDS = "false_records", _("记录或材料不实")
        ATTENDANCE = "attendance", _("党员参会不足")
        FORMALISM = "formalism", _("形式主义")
        ASSESSMENT = "assessment", _("考核不合格")
        OTHER = "other", _("其他")

    class Severity(models.TextChoices):
        MINOR = "minor", _("轻微")
        MODERATE = "moderate", _("一般")
        SERIOUS = "serious", _("严重")

    branch = models.ForeignKey(
        Organization,
        verbose_name=_("支部"),
        on_delete=models.PROTECT,
        related_name="findings",
        limit_choices_to={"kind": Organization.Kind.BRANCH},
    )
    meeting = models.ForeignKey(
        Meeting, verbose_name=_("相关会议"), null=True, blank=True, on_delete=models.PROTECT, related_name="findings"
    )
    category = models.CharField(_("问题类别"), max_length=20, choices=Category.choices)
    severity = models.CharField(_("严重程度"), max_length=20, choices=Severity.choices, default=Severity.MODERATE)
    description = models.TextField(_("问题描述"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("提出人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    raised_at = models.DateTimeField(_("提出时间"))
    # Set by other services that raise findings (e.g. an assessment run): one finding per key.
    source_key = models.CharField(_("来源键"), max_length=100, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("督导发现问题")
        verbose_name_plural = _("督导发现问题")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key"],
                condition=~Q(source_key=""),
                name="%(app_label)s_%(class)s_one_per_source",
                violation_error_message=_("该来源已提出过问题。"),
            ),
        ]
        indexes = [models.Index(fields=["branch", "raised_at"], name="supervision_finding_branch_at")]

    def __str__(self) -> str:
        return f"{self.branch} {self.get_category_display()} {self.raised_at:%Y-%m-%d}"


class Rectification(models.Model):
    """The branch's rectification of a finding: owner, deadline, measures, verification.

    ``due_at`` is stored and indexed so the overdue sweep is one indexed query; ``overdue_at``
    and ``escalated_at`` are set once by conditional updates, so a sweep that runs twice
    flags and notifies once.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("整改中")
        OVERDUE = "overdue", _("逾期")
        SUBMITTED = "submitted", _("已提交")
        VERIFIED = "verified", _("已通过")

    # States in which the branch may still write its answer.
    ANSWERABLE_STATUSES = (Status.OPEN, Status.OVERDUE)

    finding = models.OneToOneField(
        Finding, verbose_name=_("问题"), on_delete=models.CASCADE, related_name="rectification"
    )
    branch = models.ForeignKey(
        Organization, verbose_name=_("支部"), on_delete=models.PROTECT, related_name="rectifications"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("整改责任人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rectifications_owned",
    )
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.OPEN)
    due_at = models.DateTimeField(_("整改期限"))
    measures = models.TextField(_("整改措施"), blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    verified_at = models.DateTimeField(_("验收时间"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("验收人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    overdue_at = models.DateTimeField(_("逾期标记时间"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("再次督办时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("整改")
        verbose_name_plural = _("整改")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(
                fields=["due_at"], name="supervision_rect_open_due", condition=Q(status="open", overdue_at__isnull=True)
            ),
            models.Index(
                fields=["due_at"],
                name="supervision_rect_escalate_due",
                condition=Q(status="overdue", escalated_at__isnull=True),
            ),
            models.Index(fields=["branch", "status"], name="supervision_rect_branch_status"),
        ]

    def __str__(self) -> str:
        return f"{self.branch} 整改（{self.get_status_display()}）"

    @property
    def due_text(self) -> str:
        """The deadline as people read it: a calendar-month deadline shows as its last day, 24:00."""
        return deadline_text(self.due_at)


class RectificationEvent(models.Model):
    """One step of a rectification, kept for its history: opened, answered, rejected with reason, verified."""

    class Action(models.TextChoices):
        OPENED = "opened", _("下达整改")
        SUBMITTED = "submitted", _("提交整改情况")
        REJECTED = "rejected", _("驳回")
        VERIFIED = "verified", _("验收通过")
        OVERDUE = "overdue", _("逾期")
        ESCALATED = "escalated", _("再次督办")

    rectification = models.ForeignKey(
        Rectification, verbose_name=_("整改"), on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)
    text = models.TextField(_("说明"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("整改记录")
        verbose_name_plural = _("整改记录")
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(action="rejected") | ~Q(text=""),
                name="%(app_label)s_%(class)s_rejection_has_reason",
                violation_error_message=_("驳回须填写理由。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rectification_id} {self.get_action_display()}"


class Evidence(models.Model):
    """An uploaded file: a meeting's photo, video, sign-in sheet or scan, or a finding's or rectification's material.

    ``original`` is the file as uploaded, kept privately and never served (it may carry
    GPS); ``file`` is the copy that is shown and downloaded (images re-encoded without
    metadata), ``thumbnail`` its small picture. Both are made by the worker; until then
    ``status`` is 处理中. Capture time, position and camera are kept as data.
    """

    class Category(models.TextChoices):
        PHOTO = "photo", _("会议照片")
        SIGNIN = "signin", _("签到表")
        MINUTES_SCAN = "minutes_scan", _("会议记录扫描件")
        VIDEO = "video", _("视频")
        OTHER = "other", _("其他材料")

    class Kind(models.TextChoices):
        IMAGE = "image", _("图片")
        VIDEO = "video", _("视频")
        PDF = "pdf", _("PDF 文档")

    class Status(models.TextChoices):
        PROCESSING = "processing", _("处理中")
        READY = "ready", _("可用")
        FAILED = "failed", _("处理失败")

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("会议"), null=True, blank=True, on_delete=models.CASCADE, related_name="evidence"
    )
    finding = models.ForeignKey(
        Finding, verbose_name=_("问题"), null=True, blank=True, on_delete=models.CASCADE, related_name="evidence"
    )
    rectification = models.ForeignKey(
        Rectification,
        verbose_name=_("整改"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="evidence",
    )
    category = models.CharField(_("类别"), max_length=20, choices=Category.choices)
    kind = models.CharField(_("文件类型"), max_length=10, choices=Kind.choices)
    content_type = models.CharField(_("MIME 类型"), max_length=100)
    original_name = models.CharField(_("原文件名"), max_length=255)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    original = models.FileField(_("原始文件"), storage=evidence_storage, max_length=200)
    file = models.FileField(_("展示文件"), storage=evidence_storage, max_length=200, blank=True)
    thumbnail = models.FileField(_("缩略图"), storage=evidence_storage, max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.PROCESSING)
    error = models.CharField(_("处理错误"), max_length=300, blank=True)

    width = models.PositiveIntegerField(_("宽"), null=True, blank=True)
    height = models.PositiveIntegerField(_("高"), null=True, blank=True)
    duration_seconds = models.DecimalField(_("时长（秒）"), max_digits=9, decimal_places=2, null=True, blank=True)
    captured_at = models.DateTimeField(_("拍摄时间"), null=True, blank=True)
    gps_latitude = models.DecimalField(_("拍摄纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    gps_longitude = models.DecimalField(_("拍摄经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    camera = models.CharField(_("相机"), max_length=100, blank=True)

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"))
    processed_at = models.DateTimeField(_("处理完成时间"), null=True, blank=True)
    # While 处理中: when the worker that claimed the row is presumed dead unless it renews
    # the lease; empty when nobody holds it. The sweep reclaims rows past it.
    lease_expires_at = models.DateTimeField(_("处理租约到期时间"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        ordering = ["category", "uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(meeting__isnull=False, finding__isnull=True, rectification__isnull=True)
                    | Q(meeting__isnull=True, finding__isnull=False, rectification__isnull=True)
                    | Q(meeting__isnull=True, finding__isnull=True, rectification__isnull=False)
                ),
                name="%(app_label)s_%(class)s_one_owner",
                violation_error_message=_("材料须且只能属于一个会议、问题或整改。"),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "uploaded_at"], name="supervision_evidence_status"),
            models.Index(
                fields=["lease_expires_at"],
                condition=Q(status="processing"),
                name="supervision_evidence_lease",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.original_name}"


class PhotoFingerprint(models.Model):
    """A photo's 64-bit perceptual hash, split into four 16-bit chunks for a multi-index lookup.

    Two hashes within Hamming distance d share at least one chunk within distance d // 4
    (pigeonhole), so a lookup reads a few index ranges instead of scanning every hash.
    ``meeting`` is copied from the evidence so a lookup needs no join, and each chunk's index
    covers the hash and the ids: a candidate is judged from the index alone, without reading
    the table row (about twice as fast at a million photos).
    """

    evidence = models.OneToOneField(
        Evidence, verbose_name=_("材料"), primary_key=True, on_delete=models.CASCADE, related_name="fingerprint"
    )
    meeting = models.ForeignKey(Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="+")
    # Signed: the 64-bit hash is stored as a two's complement BIGINT.
    hash = models.BigIntegerField(_("感知哈希"))
    chunk0 = models.PositiveIntegerField()
    chunk1 = models.PositiveIntegerField()
    chunk2 = models.PositiveIntegerField()
    chunk3 = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("照片指纹")
        verbose_name_plural = _("照片指纹")
        indexes = [
            models.Index(fields=[f"chunk{n}", "hash", "meeting", "evidence"], name=f"supervision_fp_chunk{n}")
            for n in range(4)
        ]

    def __str__(self) -> str:
        return f"{self.evidence_id}: {self.hash & 0xFFFFFFFFFFFFFFFF:016x}"


class PhotoView(models.Model):
    """One view of a photo (mirrored, trimmed, a region, a collage part, turned) and its 64-bit hash.

    The same multi-index as ``PhotoFingerprint``, with several rows per photo
    (``supervision.photocopies.copy_hashes``): a copy is a candidate when any of its views
    is near any stored view, and is then confirmed with keypoints before a flag is raised.
    """

    evidence = models.ForeignKey(Evidence, verbose_name=_("材料"), on_delete=models.CASCADE, related_name="views")
    meeting = models.ForeignKey(Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="+")
    hash = models.BigIntegerField(_("感知哈希"))
    chunk0 = models.PositiveIntegerField()
    chunk1 = models.PositiveIntegerField()
    chunk2 = models.PositiveIntegerField()
    chunk3 = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("照片视图指纹")
        verbose_name_plural = _("照片视图指纹")
        indexes = [
            models.Index(fields=[f"chunk{n}", "hash", "meeting", "evidence"], name=f"supervision_pv_chunk{n}")
            for n in range(4)
        ]

    def __str__(self) -> str:
        return f"{self.evidence_id}: {self.hash & 0xFFFFFFFFFFFFFFFF:016x}"


class MeetingCheck(models.Model):
    """When a meeting's record was last checked, and its minutes' MinHash signature."""

    meeting = models.OneToOneField(
        Meeting, verbose_name=_("会议"), primary_key=True, on_delete=models.CASCADE, related_name="integrity_check"
    )
    checked_at = models.DateTimeField(_("检查时间"))
    minutes_signature = models.BinaryField(_("记录 MinHash 签名"), blank=True, default=b"")
    shingle_count = models.PositiveIntegerField(_("记录片段数"), default=0)

    class Meta:
        verbose_name = _("记录检查")
        verbose_name_plural = _("记录检查")

    def __str__(self) -> str:
        return f"{self.meeting_id} {self.checked_at:%Y-%m-%d %H:%M}"


class MinutesBand(models.Model):
    """One LSH band of a meeting's minutes signature: meetings sharing a band are candidates."""

    meeting = models.ForeignKey(Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="+")
    band = models.PositiveSmallIntegerField(_("分段"))
    value = models.BigIntegerField(_("分段哈希"))

    class Meta:
        verbose_name = _("记录签名分段")
        verbose_name_plural = _("记录签名分段")
        indexes = [models.Index(fields=["band", "value"], name="supervision_minutesband_lookup")]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "band"],
                name="%(app_label)s_%(class)s_one_per_band",
                violation_error_message=_("每个分段只有一个哈希。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id}/{self.band}"


class MinutesPassage(models.Model):
    """One passage hash of a meeting's minutes (a whole sentence or a sampled run), with the meeting's branch.

    The index on (hash, branch, meeting) answers both lookups from the index alone: which
    other meetings share a passage, and in how many branches' records it occurs.
    """

    meeting = models.ForeignKey(Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="+")
    # No index of its own: the lookup index covers it, and every insert would pay for a second one.
    branch = models.ForeignKey(
        Organization, verbose_name=_("支部"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    hash = models.BigIntegerField(_("片段哈希"))

    class Meta:
        verbose_name = _("记录片段")
        verbose_name_plural = _("记录片段")
        indexes = [models.Index(fields=["hash", "branch", "meeting"], name="supervision_passage_lookup")]

    def __str__(self) -> str:
        return f"{self.meeting_id}: {self.hash}"


class Flag(models.Model):
    """A warning the system raised about a record, in plain Chinese, for supervisors.

    A flag never blocks anything. A supervisor confirms it (it then counts against the
    branch in the assessment) or dismisses it with a reason; both are kept. ``key`` makes
    re-running a check idempotent: one flag per meeting and key.
    """

    class Kind(models.TextChoices):
        CAPTURE_TIME = "capture_time", _("拍摄时间不符")
        GPS_FAR = "gps_far", _("拍摄地点不符")
        DUPLICATE_PHOTO = "duplicate_photo", _("照片重复使用")
        SIMILAR_MINUTES = "similar_minutes", _("会议记录雷同")
        LATE_ENTRY = "late_entry", _("会后补录")
        MISSING_PHOTO = "missing_photo", _("缺少会议照片")
        SHARED_DEVICE = "shared_device", _("同一设备代签到")
        SPEECH_DISPUTED = "speech_disputed", _("发言记录有异议")
        SPEECHES_UNCONFIRMED = "speech_unconfirmed", _("发言记录多数未确认")

    class Status(models.TextChoices):
        OPEN = "open", _("待核实")
        CONFIRMED = "confirmed", _("已确认")
        DISMISSED = "dismissed", _("已排除")

    meeting = models.ForeignKey(Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="flags")
    evidence = models.ForeignKey(
        Evidence, verbose_name=_("材料"), null=True, blank=True, on_delete=models.CASCADE, related_name="flags"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    key = models.CharField(_("去重键"), max_length=100)
    message = models.TextField(_("说明"))
    related_meeting = models.ForeignKey(
        Meeting,
        verbose_name=_("相关会议"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    related_evidence = models.ForeignKey(
        Evidence,
        verbose_name=_("相关材料"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    score = models.FloatField(_("相似度/距离"), null=True, blank=True)
    # Photo copies: the keypoint match's share of identical blocks, and the matched region in
    # each picture ({"evidence": [[x, y] x 4], "related": [[x, y] x 4]}, 0–1 coordinates).
    match_score = models.FloatField(_("匹配得分"), null=True, blank=True)
    match_region = models.JSONField(_("匹配区域"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核实人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    decision_reason = models.TextField(_("核实说明"), blank=True)
    created_at = models.DateTimeField(_("发现时间"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("检查提示")
        verbose_name_plural = _("检查提示")
        ordering = ["meeting", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "key"],
                name="%(app_label)s_%(class)s_one_per_key",
                violation_error_message=_("该提示已存在。"),
            ),
            models.CheckConstraint(
                condition=~Q(status="dismissed") | ~Q(decision_reason=""),
                name="%(app_label)s_%(class)s_dismiss_has_reason",
                violation_error_message=_("排除提示须填写理由。"),
            ),
        ]
        indexes = [models.Index(fields=["status", "meeting"], name="supervision_flag_status")]

    def __str__(self) -> str:
        return f"{self.meeting_id} {self.get_kind_display()}"


class Review(models.Model):
    """A supervisor's decision on a submitted record: approve, return with comments, or reopen for a spot check.

    Every round is kept; ``round`` numbers the submissions (1 for the first submission,
    2 after the first return, ...).
    """

    class Action(models.TextChoices):
        APPROVE = "approve", _("审核通过")
        RETURN = "return", _("退回修改")
        REOPEN = "reopen", _("抽查重开")

    meeting = models.ForeignKey(Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="reviews")
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)
    comment = models.TextField(_("意见"), blank=True)
    round = models.PositiveSmallIntegerField(_("轮次"), default=1)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审核人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("审核记录")
        verbose_name_plural = _("审核记录")
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action="approve") | ~Q(comment=""),
                name="%(app_label)s_%(class)s_comment_required",
                violation_error_message=_("退回或抽查重开须填写意见。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id} 第{self.round}轮 {self.get_action_display()}"


class ReviewFlagRecord(models.Model):
    """A decided flag as it stood when a review round was decided, kept with that round.

    A flag about a photo goes when the photo goes (the secretary may delete it after a
    return), so the round keeps its own copy: what the flag said, which file it was about
    (name, hash, thumbnail) and the supervisor's decision.
    """

    review = models.ForeignKey(
        Review, verbose_name=_("审核记录"), on_delete=models.CASCADE, related_name="flag_records"
    )
    flag = models.ForeignKey(
        Flag, verbose_name=_("检查提示"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Flag.Kind.choices)
    message = models.TextField(_("说明"))
    status = models.CharField(_("状态"), max_length=20, choices=Flag.Status.choices)
    decided_by_name = models.CharField(_("核实人"), max_length=100, blank=True)
    decided_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    decision_reason = models.TextField(_("核实说明"), blank=True)
    evidence_name = models.CharField(_("材料文件名"), max_length=255, blank=True)
    evidence_sha256 = models.CharField(_("材料 SHA-256"), max_length=64, blank=True)
    evidence_captured_at = models.DateTimeField(_("材料拍摄时间"), null=True, blank=True)
    # The thumbnail's bytes (a few KB): the evidence's own file is deleted with it.
    thumbnail = models.BinaryField(_("缩略图"), blank=True, default=b"")

    class Meta:
        verbose_name = _("审核时的提示核实")
        verbose_name_plural = _("审核时的提示核实")
        ordering = ["review", "id"]

    def __str__(self) -> str:
        return f"{self.review} {self.get_kind_display()}"


class SpeechAttestation(models.Model):
    """A speaker's answer to their recorded point (确认 / 有异议 with a comment), asked after submission.

    Made for every speech of a submitted record whose speaker has a login (except the
    submitter's own: they wrote the record). ``due_at`` is stored and indexed for the sweep
    that flags disputes and records left mostly unconfirmed; ``flagged_at`` is set once by a
    conditional update, so a sweep that runs twice flags once. A speech rewritten after a
    return is a new speech: it is asked again.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("未确认")
        CONFIRMED = "confirmed", _("已确认")
        DISPUTED = "disputed", _("有异议")

    speech = models.OneToOneField(Speech, verbose_name=_("发言"), on_delete=models.CASCADE, related_name="attestation")
    meeting = models.ForeignKey(Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, verbose_name=_("发言人"), on_delete=models.CASCADE, related_name="attestations")
    status = models.CharField(_("确认情况"), max_length=20, choices=Status.choices, default=Status.PENDING)
    comment = models.TextField(_("异议说明"), blank=True)
    requested_at = models.DateTimeField(_("请求确认时间"))
    due_at = models.DateTimeField(_("确认期限"))
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    # When the sweep judged it: a dispute flagged, or the deadline passed and the record was counted.
    flagged_at = models.DateTimeField(_("检查时间"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("发言确认")
        verbose_name_plural = _("发言确认")
        ordering = ["meeting", "speech__agenda_item__order", "speech__order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="disputed") | ~Q(comment=""),
                name="%(app_label)s_%(class)s_dispute_has_comment",
                violation_error_message=_("提出异议须说明哪里与您的发言不符。"),
            ),
        ]
        indexes = [
            models.Index(fields=["due_at"], name="supervision_attest_due", condition=Q(flagged_at__isnull=True)),
            models.Index(fields=["member", "status"], name="supervision_attest_member"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id} {self.member_id} {self.get_status_display()}"

    @property
    def due_text(self) -> str:
        return deadline_text(self.due_at)
