"""学习交流群: the branch's one stream, members' 学习心得 posts, hiding a post, and the group robot.

The stream (``stream``) is materials published to the branch (and mine-wide ones), the branch's
published meeting notices and its members' posts, newest first, read in a fixed number of
queries per page: one UNION of (kind, id, time) sliced to the page, then one query per kind.
New posts and newly published materials reach the branch's group robot (企业微信/钉钉) through
the bulletin outbox; a post's photos stay private (served by a permission-checked view, and only
the worker's copy without EXIF: ``study.post_photos``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Q, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from bulletin.models import Notification
from bulletin.services import EXCERPT_CHARS, notify
from meetings.models import Meeting
from org.models import Member, Organization
from org.paging import PageWithoutTotal, page_without_total
from supervision import imaging
from supervision.models import SupervisionPolicy, evidence_storage

from .assignments import item_url
from .models import GroupPost, GroupPostPhoto, StudyItem
from .post_photos import enqueue_post_photos

PAGE_SIZE = 20
MAX_POST_CHARS = 2000
MAX_PHOTOS = 9
PHOTO_CATEGORY = "photo"


def branch_items(branch_id: int):
    """Published items that reach the whole branch: mine-wide, or published to this branch."""
    # A subquery, not a join: an item is one row however many branches it names.
    to_branch = StudyItem.branches.through.objects.filter(organization_id=branch_id).values("studyitem_id")
    return StudyItem.objects.filter(state=StudyItem.State.PUBLISHED).filter(
        Q(audience=StudyItem.Audience.MINE) | Q(audience=StudyItem.Audience.BRANCHES, pk__in=to_branch)
    )


def branch_notices(branch_id: int):
    """The branch's meetings whose notice was published (cancelled ones left out)."""
    return Meeting.objects.filter(branch_id=branch_id, notice_published_at__isnull=False).exclude(
        status=Meeting.Status.CANCELLED
    )


@dataclass(frozen=True)
class Entry:
    kind: str  # "item" | "notice" | "post"
    at: dt.datetime
    obj: object


def stream(branch: Organization, *, raw_page=None, page_size: int = PAGE_SIZE) -> PageWithoutTotal:
    """One page of the branch's stream, newest first: at most 5 queries whatever the page holds."""
    kind = models.CharField()

    def keyed(qs, name: str, at: str):
        return qs.annotate(entry_kind=Value(name, output_field=kind), entry_at=F(at), ref=F("pk")).values_list(
            "entry_kind", "ref", "entry_at"
        )

    union = (
        keyed(branch_items(branch.pk).order_by(), "item", "published_at")
        .union(
            keyed(branch_notices(branch.pk).order_by(), "notice", "notice_published_at"),
            keyed(GroupPost.objects.filter(branch=branch).order_by(), "post", "created_at"),
            all=True,
        )
        .order_by("-entry_at", "-ref")
    )
    page = page_without_total(union, raw_page, page_size)
    ids: dict[str, list[int]] = {"item": [], "notice": [], "post": []}
    for name, ref, _at in page.object_list:
        ids[name].append(ref)
    loaded = {
        "item": StudyItem.objects.select_related("column").in_bulk(ids["item"]) if ids["item"] else {},
        "notice": Meeting.objects.prefetch_related("types").in_bulk(ids["notice"]) if ids["notice"] else {},
        "post": (
            GroupPost.objects.select_related("author", "item").prefetch_related("photos").in_bulk(ids["post"])
            if ids["post"]
            else {}
        ),
    }
    page.object_list = [Entry(name, at, loaded[name][ref]) for name, ref, at in page.object_list if ref in loaded[name]]
    return page


# --- Posts ------------------------------------------------------------------------------


def _checked_photos(files: list) -> list[tuple[object, imaging.Sniffed, str, int]]:
    """Each photo checked by content (type, size, pixels, damage); refused as a whole if any is bad."""
    if len(files) > MAX_PHOTOS:
        raise ValidationError({"photos": [_("每条心得最多 {n} 张照片。").format(n=MAX_PHOTOS)]})
    policy = SupervisionPolicy.current()
    limit = policy.max_bytes(PHOTO_CATEGORY)
    checked, problems = [], []
    for upload in files:
        name = getattr(upload, "name", "") or _("照片")
        if upload.size > limit:
            problems.append(_("{name}：照片超过 {mb} MB。").format(name=name, mb=limit // (1024 * 1024)))
            continue
        try:
            sniffed = imaging.check_upload(upload, category=PHOTO_CATEGORY, max_pixels=policy.max_image_pixels)
        except imaging.UploadRejected as rejected:
            problems.append(f"{name}：{rejected.message}")
            continue
        digest = hashlib.sha256()
        upload.seek(0)
        for chunk in upload.chunks(1024 * 1024):
            digest.update(chunk)
        upload.seek(0)
        checked.append((upload, sniffed, digest.hexdigest(), upload.size))
    if problems:
        raise ValidationError({"photos": problems})
    return checked


def post_create(
    *,
    branch: Organization,
    author: Member,
    text: str,
    now: dt.datetime,
    item: StudyItem | None = None,
    photos: Iterable = (),
    token: str = "",
) -> GroupPost:
    """A member posts a 学习心得 (text, optional photos, optional item); the branch's robot hears of it."""
    text = (text or "").strip()
    photos = list(photos)
    if not text:
        raise ValidationError({"text": [_("请填写学习心得。")]})
    if len(text) > MAX_POST_CHARS:
        raise ValidationError({"text": [_("学习心得最多 {n} 字。").format(n=MAX_POST_CHARS)]})
    if item is not None and not branch_items(branch.pk).filter(pk=item.pk).exists():
        raise ValidationError({"item": [_("只能关联本支部可以学习的已发布资料。")]})
    if token and GroupPost.objects.filter(token=token).exists():
        raise ValidationError(_("这条学习心得已经发表过了，请勿重复提交。"))
    checked = _checked_photos(photos)
    storage = evidence_storage()
    stored: list[str] = []
    try:
        for upload, sniffed, _digest, _size in checked:
            name = f"study/posts/{timezone.localtime(now):%Y/%m}/{uuid.uuid4().hex}{sniffed.extension}"
            upload.seek(0)
            stored.append(storage.save(name, upload))
        with transaction.atomic():
            post = GroupPost(branch=branch, author=author, item=item, text=text, created_at=now, token=token)
            post.full_clean()
            post._history_user = author.user
            post._history_date = now
            post.save()
            made = GroupPostPhoto.objects.bulk_create(
                GroupPostPhoto(post=post, stored=name, content_type=sniffed.content_type, size=size, sha256=digest)
                for (_upload, sniffed, digest, size), name in zip(checked, stored, strict=True)
            )
            # 处理中 until the worker made the copy without EXIF (GPS) that is served.
            enqueue_post_photos([p.pk for p in made])
            notify(
                recipients=(),
                subject=_("学习交流群：{name}发表了学习心得").format(name=author.name),
                body=text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…",
                url=reverse("study:group", args=[branch.pk]),
                dedupe_key=f"study-post:{post.pk}",
                webhook_organizations=[branch],
                now=now,
            )
    except BaseException:
        for name in stored:
            storage.delete(name)
        raise
    return post


@transaction.atomic
def post_hide(*, post: GroupPost, user, reason: str, now: dt.datetime) -> GroupPost:
    """The 书记 hides a post with a reason; the post is kept (and its history says who and why)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写隐藏原因。")]})
    changed = GroupPost.objects.filter(pk=post.pk, hidden_at__isnull=True).update(
        hidden_at=now, hidden_by=user, hidden_reason=reason[:300]
    )
    if not changed:
        raise ValidationError(_("这条学习心得已经隐藏了。"))
    # One history row saying who hid it and why (record_history saves a status this model has not).
    post.refresh_from_db()
    post._history_user = user
    post._history_date = now
    post._change_reason = _("隐藏：{reason}").format(reason=reason[:80])
    post.save(update_fields=["hidden_reason"])
    return post


# --- Materials reach the group robots ---------------------------------------------------------


def item_robot_branches(item: StudyItem):
    """The branches whose group hears of ``item``: all active branches for a mine-wide item, else its branches."""
    if item.audience == StudyItem.Audience.MINE:
        return Organization.objects.branches().active()
    if item.audience == StudyItem.Audience.BRANCHES:
        return item.branches.all()
    return Organization.objects.none()  # an item for 书记/支委 only is not a group's material


def item_published_to_groups(*, item: StudyItem, now: dt.datetime) -> int:
    """A published item reaches each of its branches' group robots once (outbox rows, deduplicated)."""
    summary = item.summary or item.body
    return notify(
        recipients=(),
        subject=_("新学习资料：{title}").format(title=item.title),
        body=summary if len(summary) <= EXCERPT_CHARS else summary[:EXCERPT_CHARS] + "…",
        url=item_url(item),
        dedupe_key=f"study-item:{item.pk}",
        channels=(Notification.Channel.WEBHOOK,),
        webhook_organizations=list(item_robot_branches(item)),
        now=now,
    )
