"""学习交流群: members' 学习心得 posts in their branch's stream, with photos; the 书记 may hide one.

The stream itself (materials, meeting notices, posts) is read by ``study.groups.stream``; only
the posts are stored here. A hidden post is kept with who hid it, when and why (history too).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from org.models import Member, Organization
from supervision.models import evidence_storage

from .library import StudyItem


class GroupPost(models.Model):
    """One member's 学习心得 in their branch's 学习交流群, optionally about an item."""

    branch = models.ForeignKey(
        Organization, verbose_name=_("支部"), on_delete=models.PROTECT, related_name="study_posts"
    )
    author = models.ForeignKey(Member, verbose_name=_("作者"), on_delete=models.PROTECT, related_name="study_posts")
    item = models.ForeignKey(
        StudyItem, verbose_name=_("相关资料"), null=True, blank=True, on_delete=models.SET_NULL, related_name="posts"
    )
    text = models.TextField(_("学习心得"))
    created_at = models.DateTimeField(_("发表时间"))
    hidden_at = models.DateTimeField(_("隐藏时间"), null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("隐藏人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    hidden_reason = models.CharField(_("隐藏原因"), max_length=300, blank=True)
    token = models.CharField(_("表单标识"), max_length=64, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("学习心得")
        verbose_name_plural = _("学习心得")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["token"],
                condition=~Q(token=""),
                name="%(app_label)s_%(class)s_one_per_form_token",
                violation_error_message=_("这条学习心得已经发表过了，请勿重复提交。"),
            ),
        ]
        indexes = [models.Index(fields=["branch", "-created_at"], name="study_post_branch_created")]

    def __str__(self) -> str:
        return self.text[:30]

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class GroupPostPhoto(models.Model):
    """A photo of a post, checked by content and stored privately (served by a permission-checked view).

    ``stored`` is the original as uploaded (its EXIF, GPS included) and is never served; the
    worker (``study.post_photos``) makes ``display`` without metadata through the evidence
    pipeline (``supervision.services.evidence.store_clean_copies``), and only then is it 可用.
    """

    class Status(models.TextChoices):
        PROCESSING = "processing", _("处理中")
        READY = "ready", _("可用")
        FAILED = "failed", _("处理失败")

    post = models.ForeignKey(GroupPost, verbose_name=_("学习心得"), on_delete=models.CASCADE, related_name="photos")
    stored = models.FileField(_("文件"), storage=evidence_storage, max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.PROCESSING)
    display = models.CharField(_("展示文件"), max_length=255, blank=True)
    display_type = models.CharField(_("展示文件类型"), max_length=100, blank=True)
    error = models.CharField(_("处理失败原因"), max_length=300, blank=True)
    processed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    lease_expires_at = models.DateTimeField(_("处理租约到期"), null=True, blank=True)

    class Meta:
        verbose_name = _("学习心得照片")
        verbose_name_plural = _("学习心得照片")
        ordering = ["id"]

    def __str__(self) -> str:
        return str(self.post)
