"""Every write of the study library: drafts, review, publication, withdrawal, a 党课 as a 微党课.

Each state flip is a conditional update (``filter(pk=..., state=OLD).update(...)``) that acts
only when it changed a row, followed by a history row (``org.history.record_history``), so a
double click or two reviewers at once take a step once. Who may call what is checked by the
views with the ``study.*`` predicates (``org/rules.py``); these functions check what the
item must be (its state, its content) and refuse with a Chinese message.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from bulletin.services import notify
from meetings.models import Meeting, MeetingType
from org.clock import date_label, local_date
from org.history import record_history
from org.models import Member, Organization
from supervision.models import Evidence

from .groups import item_published_to_groups
from .models import Column, StudyItem, StudyMedia

RECORDING_COLUMN = "微党课"
FILE_KINDS = (StudyItem.Kind.DOCUMENT, StudyItem.Kind.VIDEO, StudyItem.Kind.AUDIO)
# A document's credit is set by its publisher (an article is a document written in the page);
# a video's or audio's comes from its length (StudyPolicy.minutes_per_hour) unless set.
CREDIT_REQUIRED_KINDS = (StudyItem.Kind.DOCUMENT, StudyItem.Kind.ARTICLE)


class StudyStateError(ValidationError):
    """The item is no longer in the state the step starts from (someone else took it first)."""


def content_problems(
    *,
    kind: str,
    body: str,
    audience: str,
    branch_ids,
    roles: str,
    credit_hours: Decimal | None,
    lecturer: Member | None,
    lecturer_name: str,
) -> dict[str, list[str]]:
    """What is wrong with an item's fields, per field (empty when nothing is): the one check of a draft."""
    problems: dict[str, list[str]] = {}
    if kind == StudyItem.Kind.ARTICLE and not body.strip():
        problems.setdefault("body", []).append(_("图文资料须填写正文。"))
    if kind in CREDIT_REQUIRED_KINDS and credit_hours is None:
        problems.setdefault("credit_hours", []).append(_("文档、图文资料须由发布人设定学时。"))
    if credit_hours is not None and credit_hours <= 0:
        problems.setdefault("credit_hours", []).append(_("学时须大于 0。"))
    if audience == StudyItem.Audience.BRANCHES and not branch_ids:
        problems.setdefault("branches", []).append(_("学习对象为“指定支部”时，请至少选择一个支部。"))
    if audience == StudyItem.Audience.ROLES:
        chosen = set(roles.split())
        if not chosen:
            problems.setdefault("roles", []).append(_("学习对象为“指定对象”时，请至少选择书记或支委。"))
        elif not chosen <= set(StudyItem.Role.values):
            problems.setdefault("roles", []).append(_("指定对象只能是书记或支委。"))
    if lecturer is not None and lecturer_name.strip():
        problems.setdefault("lecturer_name", []).append(_("主讲人请在名单中选择，或填写名单外的姓名，不要两项都填。"))
    return problems


def submission_problems(item: StudyItem) -> list[str]:
    """What keeps a draft from review (or an item from publication): its content and its file."""
    problems = [
        message
        for messages in content_problems(
            kind=item.kind,
            body=item.body,
            audience=item.audience,
            branch_ids=[b.pk for b in item.branches.all()],
            roles=item.roles,
            credit_hours=item.credit_hours,
            lecturer=item.lecturer,
            lecturer_name=item.lecturer_name,
        ).values()
        for message in messages
    ]
    if item.kind in FILE_KINDS:
        media = StudyMedia.objects.filter(item=item).only("status", "error").first()
        if media is None:
            problems.append(_("{kind}资料还没有上传文件，请先上传。").format(kind=StudyItem.Kind(item.kind).label))
        elif media.status == StudyMedia.Status.FAILED:
            problems.append(_("文件处理失败（{error}），请重新上传。").format(error=media.error or _("原因未知")))
    return problems


def _clean_fields(fields: dict, *, branches) -> None:
    problems = content_problems(
        kind=fields["kind"],
        body=fields.get("body", ""),
        audience=fields["audience"],
        branch_ids=[b.pk for b in branches],
        roles=fields.get("roles", ""),
        credit_hours=fields.get("credit_hours"),
        lecturer=fields.get("lecturer"),
        lecturer_name=fields.get("lecturer_name", ""),
    )
    if any(b.kind != Organization.Kind.BRANCH for b in branches):
        problems.setdefault("branches", []).append(_("只能指定党支部。"))
    if problems:
        raise ValidationError(problems)


def _audience_fields(fields: dict, branches) -> tuple[dict, list]:
    """Keep only what the chosen audience uses (a mine-wide item carries no branches or roles)."""
    fields = dict(fields)
    if fields["audience"] != StudyItem.Audience.ROLES:
        fields["roles"] = ""
    else:
        fields["roles"] = " ".join(r for r in StudyItem.Role.values if r in set(fields.get("roles", "").split()))
    if fields["audience"] != StudyItem.Audience.BRANCHES:
        branches = []
    return fields, list(branches)


EDITABLE_FIELDS = (
    "kind",
    "column",
    "title",
    "summary",
    "body",
    "lecturer",
    "lecturer_name",
    "audience",
    "roles",
    "credit_hours",
)


@transaction.atomic
def item_create(
    *,
    user,
    organization: Organization,
    branches=(),
    now: dt.datetime,
    source_meeting: Meeting | None = None,
    **fields,
) -> StudyItem:
    """A new draft of ``organization`` written by ``user`` (``fields``: those of ``EDITABLE_FIELDS``)."""
    fields, branches = _audience_fields(fields, branches)
    _clean_fields(fields, branches=branches)
    item = StudyItem(
        organization=organization, created_by=user, created_at=now, source_meeting=source_meeting, **fields
    )
    item._history_user = user
    item._history_date = now
    item._change_reason = _("创建草稿")
    item.full_clean()
    item.save()
    item.branches.set(branches)
    return item


@transaction.atomic
def item_update(*, item: StudyItem, user, branches=(), now: dt.datetime, **fields) -> StudyItem:
    """Save a draft's fields; only a draft may change (a returned item is a draft again)."""
    locked = StudyItem.objects.select_for_update().get(pk=item.pk)
    if locked.state != StudyItem.State.DRAFT:
        raise StudyStateError(_("只有草稿可以修改；已提交审核或已发布的资料请先退回或撤回。"), code="state")
    fields, branches = _audience_fields({"kind": locked.kind, **fields}, branches)
    if fields["kind"] != locked.kind and StudyMedia.objects.filter(item=locked).exists():
        raise ValidationError({"kind": [_("已上传文件的资料不能更改类型。")]})
    _clean_fields(fields, branches=branches)
    for name, value in fields.items():
        setattr(locked, name, value)
    locked._history_user = user
    locked._history_date = now
    locked._change_reason = _("修改草稿")
    locked.full_clean()
    locked.save(update_fields=[f for f in EDITABLE_FIELDS if f in fields])
    locked.branches.set(branches)
    return locked


def _flip(item: StudyItem, *, from_state: str, user, now: dt.datetime, reason: str, **changes) -> StudyItem:
    """The conditional update of one step; refused (nothing changed) when the item already left ``from_state``."""
    changed = StudyItem.objects.filter(pk=item.pk, state=from_state).update(**changes)
    if not changed:
        current = StudyItem.objects.filter(pk=item.pk).values_list("state", flat=True).first()
        label = StudyItem.State(current).label if current else _("已删除")
        raise StudyStateError(_("资料当前状态为“{state}”，此操作已无效（可能已被他人处理）。").format(state=label))
    record_history(StudyItem, item.pk, user=user, now=now, reason=reason, state_field="state")
    return StudyItem.objects.select_related("organization", "column", "lecturer").get(pk=item.pk)


@transaction.atomic
def item_submit(*, item: StudyItem, user, now: dt.datetime) -> StudyItem:
    """Send a draft to the 党委工作部 for review (草稿 → 待审核)."""
    problems = submission_problems(item)
    if problems:
        raise ValidationError(problems)
    item = _flip(
        item,
        from_state=StudyItem.State.DRAFT,
        user=user,
        now=now,
        reason=_("提交审核"),
        state=StudyItem.State.IN_REVIEW,
        submitted_at=now,
    )
    return item


@transaction.atomic
def item_publish(*, item: StudyItem, user, now: dt.datetime, note: str = "") -> StudyItem:
    """The reviewer publishes the item to its audience (待审核 → 已发布); reviewer and time are kept."""
    problems = submission_problems(item)
    if problems:
        raise ValidationError(problems)
    item = _flip(
        item,
        from_state=StudyItem.State.IN_REVIEW,
        user=user,
        now=now,
        reason=_("审核通过并发布") + (f"：{note.strip()}" if note.strip() else ""),
        state=StudyItem.State.PUBLISHED,
        reviewed_by=user,
        reviewed_at=now,
        review_note=note.strip()[:500],
        published_at=now,
        withdrawn_at=None,
        withdrawn_reason="",
    )
    _tell_author(item, subject=_("学习资料已审核发布：{title}").format(title=item.title), body=note, now=now)
    # The branches' 学习交流群 robots hear of the new material (once per item, through the outbox).
    item_published_to_groups(item=item, now=now)
    return item


@transaction.atomic
def item_return(*, item: StudyItem, user, now: dt.datetime, note: str) -> StudyItem:
    """The reviewer returns the item to its authors with a note (待审核 → 草稿)."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_("退回修改须填写审核意见，说明需要修改什么。")]})
    item = _flip(
        item,
        from_state=StudyItem.State.IN_REVIEW,
        user=user,
        now=now,
        reason=_("退回修改：{note}").format(note=note),
        state=StudyItem.State.DRAFT,
        reviewed_by=user,
        reviewed_at=now,
        review_note=note[:500],
    )
    _tell_author(item, subject=_("学习资料被退回修改：{title}").format(title=item.title), body=note, now=now)
    return item


@transaction.atomic
def item_withdraw(*, item: StudyItem, user, now: dt.datetime, reason: str) -> StudyItem:
    """Take a published item out of the library with a reason (已发布 → 已撤回); records stay."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("撤回须填写原因。")]})
    return _flip(
        item,
        from_state=StudyItem.State.PUBLISHED,
        user=user,
        now=now,
        reason=_("撤回：{reason}").format(reason=reason),
        state=StudyItem.State.WITHDRAWN,
        withdrawn_at=now,
        withdrawn_reason=reason[:500],
    )


@transaction.atomic
def item_reopen(*, item: StudyItem, user, now: dt.datetime) -> StudyItem:
    """A withdrawn item becomes a draft again, to be corrected and sent for review once more."""
    return _flip(
        item,
        from_state=StudyItem.State.WITHDRAWN,
        user=user,
        now=now,
        reason=_("重新编辑"),
        state=StudyItem.State.DRAFT,
    )


def _tell_author(item: StudyItem, *, subject: str, body: str, now: dt.datetime) -> None:
    notify(
        recipients=[item.created_by],
        subject=subject,
        body=body,
        url=reverse("study:item_detail", args=[item.pk]),
        dedupe_key=f"study:item:{item.pk}:{item.state}:{now.isoformat()}",
        now=now,
    )


# --- A recorded 党课 as a 微党课 ------------------------------------------------------------


def is_party_lesson(meeting: Meeting, types=None) -> bool:
    codes = {t.code for t in (types if types is not None else meeting.types.all())}
    return MeetingType.Code.PARTY_LESSON in codes


def recording_of(meeting: Meeting) -> Evidence | None:
    """The meeting's video evidence that can become a 微党课: the first processed one."""
    return (
        Evidence.objects.filter(meeting=meeting, kind=Evidence.Kind.VIDEO, status=Evidence.Status.READY)
        .order_by("uploaded_at", "id")
        .first()
    )


def recording_item_of(meeting: Meeting) -> StudyItem | None:
    """The 微党课 already made from ``meeting`` (not counting a withdrawn one)."""
    return (
        StudyItem.objects.filter(source_meeting=meeting)
        .exclude(state=StudyItem.State.WITHDRAWN)
        .order_by("-id")
        .first()
    )


def recording_problems(meeting: Meeting) -> list[str]:
    problems = []
    if not is_party_lesson(meeting):
        problems.append(_("只有党课可以发布为微党课。"))
    if meeting.status not in Meeting.HELD_STATUSES:
        problems.append(_("党课召开后才能发布为微党课。"))
    return problems


@transaction.atomic
def publish_recording(*, meeting: Meeting, user, now: dt.datetime) -> tuple[StudyItem, bool]:
    """One step from a held 党课 to a 微党课 waiting for the 党委工作部's review.

    The item is a video in the column 微党课, of the meeting's branch, for the whole mine, with
    the meeting's lecturer and lesson title, and ``source_meeting`` kept. The meeting's video
    evidence (if any) is copied as the item's file through ``study.media.attach_upload`` (checked
    again as a study video; the evidence itself is never touched) and the item is sent for review;
    without a video it stays a draft for the branch to upload one. A second call returns the
    item the first made (``False``: nothing new).
    """
    from . import media

    Meeting.objects.select_for_update().filter(pk=meeting.pk).first()  # one 微党课 per meeting at once
    existing = recording_item_of(meeting)
    if existing is not None:
        return existing, False
    problems = recording_problems(meeting)
    if problems:
        raise ValidationError(problems)
    column = Column.objects.filter(name=RECORDING_COLUMN).first()
    if column is None:
        column = Column.objects.create(name=RECORDING_COLUMN, order=Column.objects.count())
    title = (meeting.lesson_title or meeting.topic or _("党课")).strip()[:200]
    item = item_create(
        user=user,
        organization=meeting.branch,
        now=now,
        source_meeting=meeting,
        kind=StudyItem.Kind.VIDEO,
        column=column,
        title=title,
        summary=_("{branch}{date}党课录像").format(
            branch=meeting.branch.name, date=date_label(local_date(meeting.actual_start or meeting.planned_start))
        ),
        body="",
        lecturer=meeting.lecturer,
        lecturer_name="",
        audience=StudyItem.Audience.MINE,
        roles="",
        credit_hours=None,
    )
    evidence = recording_of(meeting)
    if evidence is not None:
        stored = evidence.file or evidence.original
        with stored.storage.open(stored.name, "rb") as fh:
            media.attach_upload(item=item, upload=File(fh, name=evidence.original_name), user=user, now=now)
        item = item_submit(item=item, user=user, now=now)
    return item, True
