"""Announcements with read receipts, and the notification outbox."""

from django.conf import settings
from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.db import models
from django.db.models import Q
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext_lazy as _

from org.models import Organization


class Announcement(models.Model):
    """A notice or study material for the whole mine (no organization) or one branch."""

    class Kind(models.TextChoices):
        NOTICE = "notice", _("公告")
        STUDY = "study", _("学习资料")
        MEETING = "meeting", _("会议通知")
        CIRCULAR = "circular", _("通报")

    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"))
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices, default=Kind.NOTICE)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("发布范围"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="announcements",
        help_text=_("留空表示全矿"),
    )
    published_at = models.DateTimeField(_("发布时间"), db_index=True)
    pinned = models.BooleanField(_("置顶"), default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发布人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("公告")
        verbose_name_plural = _("公告")
        ordering = ["-pinned", "-published_at", "-id"]
        indexes = [models.Index(fields=["organization", "-published_at"], name="bulletin_ann_org_pub")]

    def __str__(self) -> str:
        return self.title

    @property
    def audience_label(self) -> str:
        return self.organization.name if self.organization_id else "全矿"


class ReadReceipt(models.Model):
    """That a user opened an announcement, and when."""

    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="read_receipts")
    read_at = models.DateTimeField(_("阅读时间"))

    class Meta:
        verbose_name = _("阅读记录")
        verbose_name_plural = _("阅读记录")
        constraints = [
            models.UniqueConstraint(
                fields=["announcement", "user"],
                name="%(app_label)s_%(class)s_once_per_user",
                violation_error_message=_("已记录阅读。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.announcement}"


class WebhookEndpoint(models.Model):
    """A group-robot (企业微信 / 钉钉) webhook of an organisation: notifications for its people are posted there."""

    class Flavor(models.TextChoices):
        WECOM = "wecom", _("企业微信群机器人")
        DINGTALK = "dingtalk", _("钉钉群机器人")

    organization = models.ForeignKey(
        Organization, verbose_name=_("组织"), on_delete=models.CASCADE, related_name="webhooks"
    )
    flavor = models.CharField(_("类型"), max_length=20, choices=Flavor.choices, default=Flavor.WECOM)
    url = models.URLField(_("Webhook 地址"), max_length=500)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("群机器人通知渠道")
        verbose_name_plural = _("群机器人通知渠道")

    def __str__(self) -> str:
        return f"{self.organization} {self.get_flavor_display()}"


class Notification(models.Model):
    """One outbox row per recipient and channel, written in the transaction of its cause.

    Delivery flips ``status`` with a conditional update, so a row is sent once even
    when a task runs twice; the sweep re-sends rows still pending after ``next_attempt_at``.
    The in-app inbox is the rows of channel ``inbox``.
    """

    class Channel(models.TextChoices):
        INBOX = "inbox", _("站内消息")
        EMAIL = "email", _("电子邮件")
        WEBHOOK = "webhook", _("群机器人")

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    webhook = models.ForeignKey(
        WebhookEndpoint, verbose_name=_("群机器人"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    # Identifies the cause (e.g. "meeting:12:notice"): with recipient and channel
    # it is unique, so a reminder written twice is stored once.
    dedupe_key = models.CharField(_("去重键"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"))
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"))
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key", "channel", "recipient"],
                condition=~Q(dedupe_key="") & Q(recipient__isnull=False),
                name="%(app_label)s_%(class)s_once_per_recipient",
                violation_error_message=_("该通知已发送给此人。"),
            ),
            models.UniqueConstraint(
                fields=["dedupe_key", "webhook"],
                condition=~Q(dedupe_key="") & Q(webhook__isnull=False),
                name="%(app_label)s_%(class)s_once_per_webhook",
                violation_error_message=_("该通知已发送到此群。"),
            ),
            models.CheckConstraint(
                condition=(Q(channel="webhook") & Q(webhook__isnull=False) & Q(recipient__isnull=True))
                | (~Q(channel="webhook") & Q(recipient__isnull=False) & Q(webhook__isnull=True)),
                name="%(app_label)s_%(class)s_target_matches_channel",
                violation_error_message=_("群机器人通知须指定群，其他通知须指定接收人。"),
            ),
        ]
        indexes = [
            # The sweep's query: pending rows that are due.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="bulletin_notif_due",
            ),
            models.Index(
                fields=["recipient", "read_at"],
                condition=Q(channel="inbox"),
                name="bulletin_notif_inbox",
            ),
            # notify()'s look-up of the rows it has just written (dedupe_key, created_at):
            # the unique indexes above are partial, so no plan could use them for it and the
            # look-up scanned the whole table (430 ms at 906,000 rows).
            models.Index(fields=["dedupe_key", "created_at"], name="bulletin_notif_dedupe"),
            # The outbox bound's sweep: delivered e-mail and webhook rows by age.
            models.Index(
                fields=["sent_at"],
                condition=Q(status="sent") & ~Q(channel="inbox"),
                name="bulletin_notif_delivered",
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class WorkerHeartbeat(models.Model):
    """When a Celery worker last ran the beat's heartbeat task: one row per worker, shown on the status page.

    The task is scheduled by beat and run by a worker, so a fresh row means both are alive.
    """

    worker = models.CharField(_("后台任务进程"), max_length=200, unique=True)
    seen_at = models.DateTimeField(_("最近心跳"))

    class Meta:
        verbose_name = _("后台任务心跳")
        verbose_name_plural = _("后台任务心跳")

    def __str__(self) -> str:
        return self.worker


class _ExportStorage(LazyObject):
    """``storages["exports"]``, looked up on first use (and again after tests change ``STORAGES``)."""

    def _setup(self):
        self._wrapped = storages["exports"]


_export_storage = _ExportStorage()


@receiver(setting_changed)
def _reset_export_storage(*, setting, **kwargs):
    if setting == "STORAGES":
        _export_storage._wrapped = empty


def export_storage():
    """Export files are private (local folder or S3 prefix), never under MEDIA_URL."""
    return _export_storage


class ExportJob(models.Model):
    """A mine-wide export made by the worker: the writer of its ``kind`` (``bulletin.exports``) with
    its ``parameters``, its progress, and the file kept until ``expires_at``.

    One job per kind, parameters and user may be queued or running at a time (a partial unique
    constraint), so a second click while one runs finds the first instead of starting another.
    The file is served only after the kind's permission check passes again at download.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")
        EXPIRED = "expired", _("已过期")

    ACTIVE_STATES = (State.QUEUED, State.RUNNING)

    kind = models.CharField(_("导出类型"), max_length=50)
    parameters = models.JSONField(_("参数"), default=dict)
    # The parameters as canonical JSON (sorted keys), for the one-active-job constraint.
    parameters_key = models.CharField(_("参数键"), max_length=500)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.CASCADE, related_name="export_jobs"
    )
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.QUEUED)
    progress_done = models.PositiveIntegerField(_("已完成"), default=0)
    progress_total = models.PositiveIntegerField(_("总数"), default=0)
    failure_reason = models.TextField(_("失败原因"), blank=True)
    file = models.FileField(_("文件"), storage=export_storage, upload_to="exports/%Y/%m/", blank=True)
    filename = models.CharField(_("文件名"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("申请时间"))
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导出任务")
        verbose_name_plural = _("导出任务")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "parameters_key", "requested_by"],
                condition=Q(state__in=["queued", "running"]),
                name="%(app_label)s_%(class)s_one_active",
                violation_error_message=_("同一导出正在生成中。"),
            ),
        ]
        indexes = [
            # The expiry sweep: finished files past their date.
            models.Index(fields=["expires_at"], condition=Q(state="done"), name="bulletin_export_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(100, self.progress_done * 100 // self.progress_total)
