"""Every write of the meetings app: plan, notice, minutes, attendance, votes, leave, submit, cancel.

Each service takes ``now`` and the acting ``user``, validates with messages the
secretary can act on, and refuses to touch a locked record (approved or cancelled).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from bulletin.models import Announcement
from bulletin.services import notify
from org import rules
from org.clock import datetime_label, local_date, time_range_label
from org.models import Member, Organization, Post
from org.selectors import active_on, branch_committee_on, branch_secretary_on
from org.texts import prefixed, quoted

from . import hooks
from .models import (
    AgendaItem,
    Attendance,
    LeaveRequest,
    Meeting,
    MeetingType,
    MeetingTypePeriod,
    Place,
    Speech,
    ThemeTag,
    Vote,
)
from .places import place_problem
from .quorum import VoteCounts, check_vote, committee_quorum_met

LOCKED_MESSAGE = "该会议记录已审核通过，已锁定，不能修改。"


def locked_message(meeting: Meeting) -> str:
    """Why a locked record cannot be edited, in the words of its state (已提交 is not 已通过)."""
    if meeting.status == Meeting.Status.SUBMITTED:
        return _("该会议记录已提交，正在等待审核，已锁定，不能修改；如需修改，请等待督导退回。")
    if meeting.status == Meeting.Status.CANCELLED:
        return _("本次会议已取消，不能修改。")
    return LOCKED_MESSAGE


def _ensure_editable(meeting: Meeting) -> None:
    if meeting.is_locked:
        raise ValidationError(locked_message(meeting), code="locked")


# --- Plan and notice ------------------------------------------------------------------


def _validate_plan(
    *,
    branch: Organization,
    group: Organization | None,
    types: Sequence[MeetingType],
    planned_start: dt.datetime,
    planned_end: dt.datetime,
    lecturer: Member | None,
    lesson_title: str,
    place: str = "",
    venue: Place | None = None,
) -> None:
    errors: dict[str, list[str]] = {}
    codes = {t.code for t in types}
    if venue is None and not place.strip():
        errors.setdefault("place", []).append(_("请选择会议地点，或手工填写地点。"))
    if problem := place_problem(venue, branch=branch):
        errors.setdefault("venue", []).append(problem)
    if not types:
        errors.setdefault("types", []).append(_("请至少选择一种会议类型。"))
    if MeetingType.Code.GROUP_MEETING in codes:
        if group is None:
            errors.setdefault("group", []).append(_("党小组会须选择党小组。"))
        elif group.parent_id != branch.pk:
            errors.setdefault("group", []).append(_("该党小组不属于本支部。"))
    elif group is not None and group.parent_id != branch.pk:
        errors.setdefault("group", []).append(_("该党小组不属于本支部。"))
    if planned_end <= planned_start:
        errors.setdefault("planned_end", []).append(_("计划结束时间必须晚于开始时间。"))
    if any(t.requires_lecturer for t in types) and lecturer is None and lesson_title:
        errors.setdefault("lecturer", []).append(_("党课须填写授课人。"))
    if errors:
        raise ValidationError(errors)


def _apply_plan(
    meeting: Meeting,
    *,
    group: Organization | None,
    types: Sequence[MeetingType],
    topic: str,
    agenda: str,
    requirements: str,
    planned_start: dt.datetime,
    planned_end: dt.datetime,
    place: str,
    lecturer: Member | None,
    lesson_title: str,
    theme_tags: Iterable[ThemeTag],
    venue: Place | None = None,
) -> None:
    """Write a plan's fields (validated by ``_validate_plan``) and save, for a new meeting or a change.

    A place of the register gives the meeting its name and coordinates (the GPS check reads
    them); a place typed by hand has none, so its photos' positions are not checked.
    """
    meeting.group = group
    meeting.topic = topic.strip()
    meeting.agenda = agenda
    meeting.requirements = requirements
    meeting.planned_start = planned_start
    meeting.planned_end = planned_end
    meeting.venue = venue
    if venue is not None:
        meeting.place, meeting.latitude, meeting.longitude = venue.name, venue.latitude, venue.longitude
    else:
        meeting.place, meeting.latitude, meeting.longitude = place.strip(), None, None
    meeting.lecturer = lecturer
    meeting.lesson_title = lesson_title.strip()
    meeting.full_clean()
    meeting.save()
    meeting.types.set(types)
    meeting.theme_tags.set(theme_tags)


@transaction.atomic
def meeting_plan(
    *,
    branch: Organization,
    types: Sequence[MeetingType],
    planned_start: dt.datetime,
    planned_end: dt.datetime,
    place: str,
    user,
    now: dt.datetime,
    group: Organization | None = None,
    topic: str = "",
    agenda: str = "",
    requirements: str = "",
    lecturer: Member | None = None,
    lesson_title: str = "",
    theme_tags: Iterable[ThemeTag] = (),
    venue: Place | None = None,
) -> Meeting:
    """Plan a meeting (状态: 计划). The topic may still be open; it is required to publish the notice."""
    _validate_plan(
        place=place,
        venue=venue,
        branch=branch,
        group=group,
        types=types,
        planned_start=planned_start,
        planned_end=planned_end,
        lecturer=lecturer,
        lesson_title=lesson_title,
    )
    meeting = Meeting(branch=branch, created_by=user)
    _apply_plan(
        meeting,
        group=group,
        types=types,
        topic=topic,
        agenda=agenda,
        requirements=requirements,
        planned_start=planned_start,
        planned_end=planned_end,
        place=place,
        lecturer=lecturer,
        lesson_title=lesson_title,
        theme_tags=theme_tags,
        venue=venue,
    )
    # What higher apps add to a new plan's agenda (上次会议议定事项落实情况), once, at the top.
    lines = [
        line for line in hooks.agenda_prefill(meeting=meeting, now=now) if line.split("：")[0] not in meeting.agenda
    ]
    if lines:
        meeting.agenda = "\n".join([*lines, meeting.agenda]).strip()
        meeting.save(update_fields=["agenda", "updated_at"])
    return meeting


@transaction.atomic
def meeting_update_plan(
    *,
    meeting: Meeting,
    user,
    now: dt.datetime,
    types: Sequence[MeetingType],
    planned_start: dt.datetime,
    planned_end: dt.datetime,
    place: str,
    group: Organization | None = None,
    topic: str = "",
    agenda: str = "",
    requirements: str = "",
    lecturer: Member | None = None,
    lesson_title: str = "",
    theme_tags: Iterable[ThemeTag] = (),
    venue: Place | None = None,
) -> Meeting:
    """Change a planned or notified meeting; attendees of a notified one are told of the change."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.status not in (Meeting.Status.PLANNED, Meeting.Status.NOTIFIED):
        raise ValidationError(_("会议已召开，计划不能再修改；请录入会议记录。"), code="not_planned")
    _validate_plan(
        place=place,
        venue=venue,
        branch=meeting.branch,
        group=group,
        types=types,
        planned_start=planned_start,
        planned_end=planned_end,
        lecturer=lecturer,
        lesson_title=lesson_title,
    )
    before = (meeting.planned_start, meeting.planned_end, meeting.place)
    _apply_plan(
        meeting,
        group=group,
        types=types,
        topic=topic,
        agenda=agenda,
        requirements=requirements,
        planned_start=planned_start,
        planned_end=planned_end,
        place=place,
        lecturer=lecturer,
        lesson_title=lesson_title,
        theme_tags=theme_tags,
        venue=venue,
    )
    moved = before != (meeting.planned_start, meeting.planned_end, meeting.place)
    if meeting.status == Meeting.Status.NOTIFIED:
        _validate_notice(meeting)
        meeting_sync_expected(meeting=meeting)
        if moved:
            _notify_attendees(
                meeting,
                subject=prefixed(_("会议变更"), meeting.topic),
                body=_notice_text(meeting),
                dedupe_key=f"meeting:{meeting.pk}:changed:{now.timestamp():.0f}",
                now=now,
            )
    return meeting


def _validate_notice(meeting: Meeting) -> None:
    errors = notice_problems(meeting)
    if errors:
        raise ValidationError(errors)


def notice_problems(meeting: Meeting) -> dict[str, list[str]]:
    """What the plan still lacks before its notice may be published, by field ({} when it may)."""
    types = list(meeting.types.all())
    errors: dict[str, list[str]] = {}
    if not meeting.topic.strip():
        errors.setdefault("topic", []).append(_("发布通知前须确定会议主题。"))
    if any(t.requires_lecturer for t in types):
        if meeting.lecturer_id is None:
            errors.setdefault("lecturer", []).append(_("党课须确定授课人。"))
        if not meeting.lesson_title.strip():
            errors.setdefault("lesson_title", []).append(_("党课须确定党课题目。"))
    if any(t.requires_theme_tags for t in types) and not meeting.theme_tags.exists():
        errors.setdefault("theme_tags", []).append(_("主题党日须选择至少一个主题标签（如“安全生产”）。"))
    return errors


def _notice_text(meeting: Meeting) -> str:
    type_names = "、".join(t.name for t in meeting.types.all())
    lines = [
        _("会议类型：{type_names}").format(type_names=type_names),
        _("会议主题：{topic}").format(topic=meeting.topic),
        _("时间：{time_range_label}").format(
            time_range_label=time_range_label(meeting.planned_start, meeting.planned_end)
        ),
        _("地点：{place}").format(place=meeting.place),
    ]
    if meeting.group_id:
        lines.append(_("参会范围：{name}全体党员").format(name=meeting.group.name))
    if meeting.lecturer_id:
        lines.append(
            _("授课人：{name}　题目：{lesson_title}").format(
                name=meeting.lecturer.name, lesson_title=meeting.lesson_title
            )
        )
    if meeting.agenda:
        lines.append(_("议程：\n{agenda}").format(agenda=meeting.agenda))
    lines.append(meeting.requirements or _("要求：请准时参加，不能参加的请提前在系统中请假，经书记批准。"))
    return "\n".join(lines)


def _notify_attendees(meeting: Meeting, *, subject: str, body: str, dedupe_key: str, now: dt.datetime) -> int:
    users = [
        a.member.user for a in meeting.attendances.select_related("member__user").filter(member__user__isnull=False)
    ]
    return notify(
        recipients=users,
        subject=subject,
        body=body,
        url=reverse("meetings:meeting_detail", args=[meeting.pk]),
        dedupe_key=dedupe_key,
        now=now,
    )


@transaction.atomic
def meeting_publish_notice(*, meeting: Meeting, user, now: dt.datetime) -> Meeting:
    """Publish the notice: posted to the branch's bulletin and sent to every expected attendee, once."""
    meeting = (
        Meeting.objects.select_for_update(of=("self",)).select_related("branch", "group", "lecturer").get(pk=meeting.pk)
    )
    if meeting.status != Meeting.Status.PLANNED:
        raise ValidationError(_("该会议的通知已发布。"), code="already_notified")
    _validate_notice(meeting)
    changed = Meeting.objects.filter(pk=meeting.pk, status=Meeting.Status.PLANNED).update(
        status=Meeting.Status.NOTIFIED, notice_published_at=now
    )
    if changed != 1:  # a second submit of the same form
        raise ValidationError(_("该会议的通知已发布。"), code="already_notified")
    meeting.refresh_from_db()
    meeting_sync_expected(meeting=meeting)
    text = _notice_text(meeting)
    Announcement.objects.create(
        title=prefixed(_("会议通知"), meeting.topic),
        body=text,
        kind=Announcement.Kind.MEETING,
        organization=meeting.branch,
        published_at=now,
        author=user,
    )
    _notify_attendees(
        meeting,
        subject=prefixed(_("会议通知"), meeting.topic),
        body=text,
        dedupe_key=f"meeting:{meeting.pk}:notice",
        now=now,
    )
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, reason: str, user, now: dt.datetime) -> Meeting:
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.status not in (Meeting.Status.PLANNED, Meeting.Status.NOTIFIED):
        raise ValidationError(_("只有尚未召开的会议可以取消。"), code="not_cancellable")
    if not reason.strip():
        raise ValidationError({"reason": [_("取消会议须填写原因。")]})
    was_notified = meeting.status == Meeting.Status.NOTIFIED
    meeting.status = Meeting.Status.CANCELLED
    meeting.cancel_reason = reason.strip()
    meeting.save(update_fields=["status", "cancel_reason", "updated_at"])
    if was_notified:
        _notify_attendees(
            meeting,
            subject=prefixed(_("会议取消"), meeting.topic),
            body=(
                _("原定 {datetime_label} 的会议已取消。原因：{cancel_reason}").format(
                    datetime_label=datetime_label(meeting.planned_start), cancel_reason=meeting.cancel_reason
                )
            ),
            dedupe_key=f"meeting:{meeting.pk}:cancelled",
            now=now,
        )
    return meeting


# --- Expected attendees -----------------------------------------------------------------


def expected_members(meeting: Meeting, *, on: dt.date) -> list[Member]:
    """Who is expected (应到) on ``on``.

    The audience of a combined meeting is the widest of its types' audiences.
    """
    audiences = {t.audience for t in meeting.types.all()}
    members = Member.objects.in_good_standing()
    if MeetingType.Audience.BRANCH in audiences:
        qs = members.filter(Q(memberships__organization_id=meeting.branch_id) & active_on(on, "memberships__"))
    elif MeetingType.Audience.GROUP in audiences and meeting.group_id:
        qs = members.filter(Q(memberships__organization_id=meeting.group_id) & active_on(on, "memberships__"))
        if MeetingType.Audience.COMMITTEE in audiences:
            qs = members.filter(pk__in=qs.values("pk")) | branch_committee_on(meeting.branch_id, on=on)
    else:
        qs = branch_committee_on(meeting.branch_id, on=on)
    return list(qs.distinct().order_by("name", "id").prefetch_related("status_periods"))


@transaction.atomic
def meeting_sync_expected(*, meeting: Meeting) -> None:
    """Make the attendance list match the membership and statuses on the meeting date.

    Run when the notice goes out, when minutes or attendance are saved and on submit.
    Adds members now expected, removes rows of members no longer expected (transferred
    out on or before the meeting date: ``Membership.ended_on`` is exclusive), and sets each
    remaining row's category and vote right from ``Member.is_full_member_on`` /
    ``can_vote_on`` for that date, keeping what was recorded for them. Approved leave
    asked before the start flows into rows not yet recorded.
    """
    _ensure_editable(meeting)
    on = meeting.held_on
    expected = {m.pk: m for m in expected_members(meeting, on=on)}
    rows = {a.member_id: a for a in meeting.attendances.all()}
    stale = [pk for pk in rows if pk not in expected]
    if stale:
        meeting.attendances.filter(member_id__in=stale).delete()
    to_add, to_update = [], []
    for pk, member in expected.items():
        probationary = not member.is_full_member_on(on)
        can_vote = member.can_vote_on(on)
        row = rows.get(pk)
        if row is None:
            to_add.append(Attendance(meeting=meeting, member=member, is_probationary=probationary, can_vote=can_vote))
        elif (row.is_probationary, row.can_vote) != (probationary, can_vote):
            row.is_probationary, row.can_vote = probationary, can_vote
            to_update.append(row)
    Attendance.objects.bulk_create(to_add)
    if to_update:
        Attendance.objects.bulk_update(to_update, ["is_probationary", "can_vote"])
    for member_id, reason in (
        LeaveRequest.objects.valid_for_attendance().filter(meeting=meeting).values_list("member_id", "reason")
    ):
        meeting.attendances.filter(member_id=member_id, status="").update(
            status=Attendance.Status.LEAVE, leave_reason=reason
        )


def officer_absence_problems(meeting: Meeting, statuses: dict[int, str]) -> list[str]:
    """The chair and the recorder ran the meeting: neither can be on leave or absent.

    ``statuses`` maps member id to attendance status (the rows, or the entries being saved).
    """
    problems = []
    for role, member_id in ((_("主持人"), meeting.chair_id), (_("记录人"), meeting.recorder_id)):
        status = statuses.get(member_id) if member_id else None
        if status in (Attendance.Status.LEAVE, Attendance.Status.ABSENT):
            label = Attendance.Status(status).label
            message = _("%(role)s不能登记为%(status)s：主持会议和记录会议的人必须到会。")
            problems.append(message % {"role": role, "status": label})
    return problems


# --- Minutes -------------------------------------------------------------------------


@transaction.atomic
def meeting_record_minutes(
    *,
    meeting: Meeting,
    user,
    now: dt.datetime,
    actual_start: dt.datetime,
    actual_end: dt.datetime,
    place: str,
    chair: Member,
    recorder: Member,
    guests: str = "",
    resolutions: str = "",
    counts_for: dt.date | None = None,
    type_periods: dict[int, dt.date | None] | None = None,
) -> Meeting:
    """Enter the basic facts of the minutes; the meeting becomes 已召开.

    ``type_periods``: type id -> the day whose period that type of a combined meeting
    counts for (None: the meeting's own); types left out keep what they had.
    """
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    _ensure_editable(meeting)
    errors: dict[str, list[str]] = {}
    if actual_end <= actual_start:
        errors.setdefault("actual_end", []).append(_("实际结束时间必须晚于开始时间。"))
    if actual_start > now:
        errors.setdefault("actual_start", []).append(_("会议尚未开始，不能录入会议记录。"))
    held_on = local_date(actual_start)
    if counts_for is not None and counts_for > held_on:
        errors.setdefault("counts_for", []).append(_("归属期间不能晚于会议召开日期。"))
    type_periods = type_periods or {}
    for type_id, day in type_periods.items():
        if day is not None and day > held_on:
            errors.setdefault(f"type_period_{type_id}", []).append(_("本类型归属期间不能晚于会议召开日期。"))
    if errors:
        raise ValidationError(errors)
    meeting.actual_start = actual_start
    meeting.actual_end = actual_end
    meeting.place = place.strip()
    meeting.chair = chair
    meeting.recorder = recorder
    meeting.guests = guests
    meeting.resolutions = resolutions
    meeting.counts_for = counts_for or held_on
    if problems := officer_absence_problems(meeting, dict(meeting.attendances.values_list("member_id", "status"))):
        raise ValidationError(problems)
    if meeting.minutes_entered_at is None:
        meeting.minutes_entered_at = now
    if meeting.status in (Meeting.Status.PLANNED, Meeting.Status.NOTIFIED):
        meeting.status = Meeting.Status.HELD
    meeting.full_clean()
    meeting.save()
    _set_type_periods(meeting, type_periods)
    meeting_sync_expected(meeting=meeting)
    return meeting


def _set_type_periods(meeting: Meeting, type_periods: dict[int, dt.date | None]) -> None:
    """Keep a MeetingTypePeriod only for a type of the meeting whose period differs from the meeting's."""
    type_ids = set(meeting.types.values_list("pk", flat=True))
    for type_id, day in type_periods.items():
        if type_id not in type_ids:
            continue
        if day is None or day == meeting.counts_for:
            for row in MeetingTypePeriod.objects.filter(meeting=meeting, type_id=type_id):
                row.delete()  # one by one, so that the history records it
        else:
            MeetingTypePeriod.objects.update_or_create(meeting=meeting, type_id=type_id, defaults={"counts_for": day})


@dataclass
class SpeechData:
    speaker: Member
    points: str
    dissent: bool = False


@dataclass
class AgendaItemData:
    """One item of the minutes. ``pk``: the item it rewrites (its identity, and its 议定事项's task, stay)."""

    title: str
    speeches: list[SpeechData] = field(default_factory=list)
    pk: int | None = None
    is_decision: bool = False
    decision_owner: Member | None = None
    decision_due_on: dt.date | None = None


def decision_problems(meeting: Meeting, items: Sequence[AgendaItemData], *, now: dt.datetime) -> list[str]:
    """Why the 议定事项 among ``items`` cannot stand (the owner rule is asked of ``hooks``)."""
    problems = []
    codes = {t.code for t in meeting.types.all()}
    today = local_date(now)
    for i, item in enumerate(items, start=1):
        if not item.is_decision:
            continue
        if not codes & RESOLUTION_TYPES:
            problems.append(_("第 {i} 项议题：只有支委会和党员大会的议题可以定为议定事项。").format(i=i))
            continue
        if item.decision_owner is None:
            problems.append(_("第 {i} 项议定事项没有落实责任人：每项议定事项都必须有一名责任人。").format(i=i))
        elif problem := hooks.decision_problem(
            meeting=meeting, owner=item.decision_owner, due_on=item.decision_due_on, now=now
        ):
            problems.append(_("第 {i} 项议定事项：{problem}").format(i=i, problem=problem))
        if item.decision_due_on is None:
            problems.append(_("第 {i} 项议定事项没有落实期限。").format(i=i))
        elif item.decision_due_on < today:
            problems.append(_("第 {i} 项议定事项的落实期限已过，请填写今天或以后的日期。").format(i=i))
    return problems


@transaction.atomic
def meeting_save_agenda(*, meeting: Meeting, items: Sequence[AgendaItemData], user, now: dt.datetime) -> None:
    """Replace the agenda items and speeches of the minutes (history keeps the old ones).

    An item posted with its ``pk`` is rewritten in place, so that a 议定事项 keeps its identity
    (and its one task) however often the record is saved, returned and resubmitted.
    """
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    _ensure_editable(meeting)
    errors = []
    for i, item in enumerate(items, start=1):
        if not item.title.strip():
            errors.append(_("第 {i} 项议题没有填写标题。").format(i=i))
        for speech in item.speeches:
            if not speech.points.strip():
                errors.append(_("第 {i} 项议题中 {name} 的发言要点为空。").format(i=i, name=speech.speaker.name))
    errors.extend(decision_problems(meeting, items, now=now))
    if errors:
        raise ValidationError(errors)
    old = {a.pk: a for a in meeting.agenda_items.all()}
    kept = {item.pk for item in items if item.pk in old}
    still_decisions = {item.pk for item in items if item.pk in old and item.is_decision}
    # A 议定事项 un-marked or deleted: its follow-up (a task, in the tasks app) is withdrawn.
    hooks.decisions_withdrawn(
        meeting=meeting,
        item_ids=[pk for pk, a in old.items() if a.is_decision and pk not in still_decisions],
        user=user,
        now=now,
    )
    for pk, agenda_item in old.items():
        agenda_item.speeches.all().delete()
        if pk not in kept:
            agenda_item.delete()
    for i, item in enumerate(items, start=1):
        agenda_item = old[item.pk] if item.pk in kept else AgendaItem(meeting=meeting)
        agenda_item.order = i
        agenda_item.title = item.title.strip()
        agenda_item.is_decision = item.is_decision
        agenda_item.decision_owner = item.decision_owner if item.is_decision else None
        agenda_item.decision_due_on = item.decision_due_on if item.is_decision else None
        agenda_item.save()
        for j, speech in enumerate(item.speeches, start=1):
            Speech.objects.create(
                agenda_item=agenda_item,
                speaker=speech.speaker,
                points=speech.points.strip(),
                dissent=speech.dissent,
                order=j,
            )


def approved_leave_reasons(meeting: Meeting) -> dict[int, str]:
    """{member id: reason} of the leave that may stand in this meeting's attendance."""
    return dict(LeaveRequest.objects.valid_for_attendance().filter(meeting=meeting).values_list("member_id", "reason"))


@transaction.atomic
def attendance_record(*, meeting: Meeting, entries: dict[int, str], user, now: dt.datetime) -> None:
    """Record each expected member's attendance: {member_id: status}.

    The list is first re-derived for the meeting date. 请假 stands only on an approved
    request made before the start (its reason is the request's); anyone else who did
    not come is 无故缺席. The chair and the recorder cannot be on leave or absent.
    """
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    _ensure_editable(meeting)
    # Attendance is a fact of the meeting: nobody is 出席 or 缺席 before it starts.
    start = meeting.actual_start or meeting.planned_start
    if start > now:
        raise ValidationError(
            _("会议尚未开始（{start}），不能登记出席情况。").format(
                start=f"{timezone.localtime(start):%Y-%m-%d %H:%M}"
            ),
            code="not_started",
        )
    meeting_sync_expected(meeting=meeting)
    rows = {a.member_id: a for a in meeting.attendances.select_related("member")}
    leave = approved_leave_reasons(meeting)
    errors = []
    for member_id, status in entries.items():
        row = rows.get(member_id)
        if row is None:
            errors.append(_("名单中有不属于本次会议应到人员的党员，请刷新页面后重试。"))
            continue
        if status and status not in Attendance.Status.values:
            errors.append(_("%(name)s：出席情况无效。") % {"name": row.member.name})
        elif status == Attendance.Status.LEAVE and member_id not in leave:
            message = _("%(name)s：没有会前获批的请假申请，不能登记为请假；未到会请登记为无故缺席。")
            errors.append(message % {"name": row.member.name})
    statuses = {pk: row.status for pk, row in rows.items()} | dict(entries)
    errors.extend(officer_absence_problems(meeting, statuses))
    if errors:
        raise ValidationError(errors)
    for member_id, status in entries.items():
        row = rows[member_id]
        reason = leave[member_id] if status == Attendance.Status.LEAVE else ""
        if (row.status, row.leave_reason) != (status, reason):
            row.status = status
            row.leave_reason = reason
            row.save(update_fields=["status", "leave_reason"])


def all_present_entries(rows: Iterable[Attendance], *, leave_member_ids: Iterable[int]) -> dict[int, str]:
    """ "全部出席": {member id: 出席} for everyone without approved leave whose check-in has not already said."""
    leave_ids = set(leave_member_ids)
    return {
        r.member_id: Attendance.Status.PRESENT for r in rows if r.member_id not in leave_ids and not r.checked_in_at
    }


@dataclass(frozen=True)
class AttendanceSummary:
    expected: int
    expected_full: int
    expected_probationary: int
    present: int
    present_full: int
    present_probationary: int
    late: int
    leave: int
    absent: int
    unrecorded: int
    voting_expected: int
    voting_present: int
    committee_expected: int
    committee_present: int

    @property
    def adds_up(self) -> bool:
        return self.present + self.leave + self.absent == self.expected

    @property
    def rate(self) -> float | None:
        return self.present / self.expected if self.expected else None


def attendance_summary(meeting: Meeting, *, rows: Iterable[Attendance] | None = None) -> AttendanceSummary:
    """The numbers of the minutes (应到/实到/请假/缺席, split 正式/预备), from the rows."""
    rows = list(meeting.attendances.all() if rows is None else rows)
    on = meeting.held_on
    committee_ids = set(branch_committee_on(meeting.branch_id, on=on).values_list("pk", flat=True))
    present = [r for r in rows if r.status in Attendance.PRESENT_STATUSES]
    return AttendanceSummary(
        expected=len(rows),
        expected_full=sum(1 for r in rows if not r.is_probationary),
        expected_probationary=sum(1 for r in rows if r.is_probationary),
        present=len(present),
        present_full=sum(1 for r in present if not r.is_probationary),
        present_probationary=sum(1 for r in present if r.is_probationary),
        late=sum(1 for r in rows if r.status == Attendance.Status.LATE),
        leave=sum(1 for r in rows if r.status == Attendance.Status.LEAVE),
        absent=sum(1 for r in rows if r.status == Attendance.Status.ABSENT),
        unrecorded=sum(1 for r in rows if not r.status),
        voting_expected=sum(1 for r in rows if r.can_vote),
        voting_present=sum(1 for r in present if r.can_vote),
        committee_expected=sum(1 for r in rows if r.member_id in committee_ids),
        committee_present=sum(1 for r in present if r.member_id in committee_ids),
    )


# --- Votes ---------------------------------------------------------------------------


@transaction.atomic
def vote_record(
    *,
    meeting: Meeting,
    kind: str,
    motion: str,
    yes: int,
    no: int,
    abstain: int,
    user,
    now: dt.datetime,
    candidate: Member | None = None,
    candidate_name: str = "",
    written_opinions: int = 0,
) -> Vote:
    """Record one vote after checking quorum, eligibility and the tally; decide whether it passed.

    An election or a 转正 is of one member (``candidate``); an admission is of one
    applicant, who is not a member yet (``candidate_name``).
    """
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    _ensure_editable(meeting)
    if meeting.status not in Meeting.HELD_STATUSES:
        raise ValidationError(_("请先录入会议基本情况（实际时间、主持人、记录人），再录入表决。"))
    summary = attendance_summary(meeting)
    if summary.unrecorded:
        raise ValidationError(
            _("还有 {unrecorded} 名应到党员未登记出席情况，请先完成出席登记再录入表决。").format(
                unrecorded=summary.unrecorded
            )
        )
    candidate_name = _vote_candidate_name(meeting, kind=kind, candidate=candidate, candidate_name=candidate_name)
    if kind == Vote.Kind.ADMISSION:
        candidate = None
    counts = VoteCounts(yes=yes, no=no, abstain=abstain, written_opinions=written_opinions)
    passed = check_vote(
        counts=counts,
        voting_expected=summary.voting_expected,
        voting_present=summary.voting_present,
        election=kind == Vote.Kind.ELECTION,
        allows_written=kind == Vote.Kind.ADMISSION,
    )
    vote = Vote(
        meeting=meeting,
        kind=kind,
        motion=motion.strip(),
        candidate=candidate,
        candidate_name=candidate_name,
        yes=yes,
        no=no,
        abstain=abstain,
        written_opinions=written_opinions,
        voting_expected=summary.voting_expected,
        voting_present=summary.voting_present,
        passed=passed,
        order=meeting.votes.count() + 1,
    )
    vote.full_clean()
    vote.save()
    return vote


def _vote_candidate_name(meeting: Meeting, *, kind: str, candidate: Member | None, candidate_name: str) -> str:
    """The name recorded for the vote's candidate, after checking who may be one on the meeting date.

    Election: a member of the branch with vote rights on that date (a 预备党员 or a member
    under 留党察看 is never elected). 转正: a 预备党员 of the branch. Admission: an applicant,
    named in free text because they are not a member yet.
    """
    on = meeting.held_on
    if kind == Vote.Kind.ADMISSION:
        if not candidate_name.strip():
            raise ValidationError({"candidate_name": [_("接收预备党员须逐个填写发展对象的姓名，一人一表决。")]})
        return candidate_name.strip()
    if kind not in (Vote.Kind.ELECTION, Vote.Kind.FULL_MEMBERSHIP):
        return candidate.name if candidate is not None else candidate_name.strip()
    if candidate is None:
        message = (
            _("选举须从本支部党员中逐个选择候选人，一人一表决。")
            if kind == Vote.Kind.ELECTION
            else _("预备党员转正须选择本支部的预备党员，一人一表决。")
        )
        raise ValidationError({"candidate": [message]})
    if not Member.objects.of_organization_on(meeting.branch, on).filter(pk=candidate.pk).exists():
        raise ValidationError({"candidate": [_("{name}在会议当天不是本支部党员。").format(name=candidate.name)]})
    if kind == Vote.Kind.ELECTION and not candidate.can_vote_on(on):
        raise ValidationError(
            {
                "candidate": [
                    _("{reason}，没有被选举权，不能作为选举候选人。").format(reason=candidate.no_vote_reason_on(on))
                ]
            }
        )
    if kind == Vote.Kind.FULL_MEMBERSHIP and candidate.is_full_member_on(on):
        raise ValidationError(
            {"candidate": [_("{name}在会议当天已是正式党员，不需要转正表决。").format(name=candidate.name)]}
        )
    return candidate.name


@transaction.atomic
def vote_delete(*, vote: Vote, user, now: dt.datetime) -> None:
    # Read the meeting afresh and locked: the caller's copy may predate an approval.
    _ensure_editable(Meeting.objects.select_for_update().get(pk=vote.meeting_id))
    vote.delete()


# --- Submit --------------------------------------------------------------------------


# The meetings that decide (支委会, 党员大会) record what they decided: a resolution or a vote.
RESOLUTION_TYPES = frozenset({MeetingType.Code.COMMITTEE_MEETING, MeetingType.Code.GENERAL_MEETING})


def submission_problems(meeting: Meeting) -> list[str]:
    """What still keeps the record from being complete, in the secretary's words (the one home of "complete").

    Reads agenda items, speeches, attendances and votes through the prefetch cache when
    present (``selectors.meeting_detail_queryset``).
    """
    problems = []
    types = list(meeting.types.all())
    codes = {t.code for t in types}
    if not meeting.topic.strip():
        problems.append(_("缺少会议主题。"))
    if not (meeting.actual_start and meeting.actual_end):
        problems.append(_("缺少实际开始和结束时间。"))
    if not meeting.place.strip():
        problems.append(_("缺少会议地点。"))
    if not meeting.chair_id:
        problems.append(_("缺少主持人。"))
    if not meeting.recorder_id:
        problems.append(_("缺少记录人。"))
    if any(t.requires_lecturer for t in types) and not (meeting.lecturer_id and meeting.lesson_title.strip()):
        problems.append(_("党课须填写授课人和党课题目。"))
    items = list(meeting.agenda_items.all())
    if not items:
        problems.append(_("缺少议题及发言要点。"))
    rows = list(meeting.attendances.all())
    status_of = {r.member_id: r.status for r in rows}
    for n, item in enumerate(items, start=1):
        speeches = list(item.speeches.all())
        if not speeches:
            problems.append(
                _("第 {n} 项议题“{title}”没有发言要点：每项议题至少记录一位发言人的发言要点。").format(
                    n=n, title=item.title
                )
            )
        for speech in speeches:
            # Plan, minutes and attendance must corroborate: a speaker was there.
            status = status_of.get(speech.speaker_id)
            if status in (Attendance.Status.LEAVE, Attendance.Status.ABSENT):
                problems.append(
                    _("第 {n} 项议题的发言人{name}登记为{status}，请核对出席情况或发言记录。").format(
                        n=n, name=speech.speaker.name, status=Attendance.Status(status).label
                    )
                )
    if codes & RESOLUTION_TYPES and not (meeting.resolutions.strip() or list(meeting.votes.all())):
        names = "、".join(t.name for t in types if t.code in RESOLUTION_TYPES)
        problems.append(_("{types}须记录会议决议（在会议基本情况中填写决议，或录入表决结果）。").format(types=names))
    summary = attendance_summary(meeting, rows=rows)
    if summary.expected == 0:
        problems.append(_("应到人数为 0，请核对会议日期和支部党员名单。"))
    if not summary.adds_up:
        problems.append(
            _(
                "出席情况不完整：实到 {present} + 请假 {leave} + 缺席 {absent} = {value}，"
                "不等于应到 {expected} 人（还有 {unrecorded} 人未登记）。"
            ).format(
                present=summary.present,
                leave=summary.leave,
                absent=summary.absent,
                value=summary.present + summary.leave + summary.absent,
                expected=summary.expected,
                unrecorded=summary.unrecorded,
            )
        )
    if MeetingType.Code.COMMITTEE_MEETING in codes and not committee_quorum_met(
        committee_present=summary.committee_present, committee_expected=summary.committee_expected
    ):
        problems.append(
            _("支委会到会委员 {committee_present} 人，未超过支部委员 {committee_expected} 人的半数。").format(
                committee_present=summary.committee_present, committee_expected=summary.committee_expected
            )
        )
    problems.extend(officer_absence_problems(meeting, {r.member_id: r.status for r in meeting.attendances.all()}))
    problems.extend(vote_attendance_problems(meeting, summary))
    return problems


def vote_attendance_problems(meeting: Meeting, summary: AttendanceSummary) -> list[str]:
    """Votes that no longer stand on the attendance now recorded (quorum or pass rule), by name."""
    problems = []
    for vote in meeting.votes.all():
        counts = VoteCounts(yes=vote.yes, no=vote.no, abstain=vote.abstain, written_opinions=vote.written_opinions)
        try:
            passed = check_vote(
                counts=counts,
                voting_expected=summary.voting_expected,
                voting_present=summary.voting_present,
                election=vote.kind == Vote.Kind.ELECTION,
                allows_written=vote.kind == Vote.Kind.ADMISSION,
            )
        except ValidationError as error:
            why = "；".join(error.messages)
        else:
            if passed == vote.passed:
                continue
            why = _("按现在的人数表决结果应为“%(result)s”") % {"result": _("通过") if passed else _("未通过")}
        problems.append(
            _(
                "表决“%(motion)s”是按应到有表决权 %(then_expected)s 人、实到 %(then_present)s 人作出的，"
                "现在的出席情况为应到 %(expected)s 人、实到 %(present)s 人，该表决不再成立（%(why)s）。"
                "请核对出席情况，或删除后重新录入该表决。"
            )
            % {
                "motion": vote.motion,
                "then_expected": vote.voting_expected,
                "then_present": vote.voting_present,
                "expected": summary.voting_expected,
                "present": summary.voting_present,
                "why": why,
            }
        )
    return problems


@transaction.atomic
def meeting_submit(*, meeting: Meeting, user, now: dt.datetime) -> Meeting:
    """Submit the record for review (已召开 or 已退回 → 已提交)."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.status == Meeting.Status.SUBMITTED:
        raise ValidationError(_("该会议记录已提交，正在等待审核。"), code="already_submitted")
    if meeting.status not in (Meeting.Status.HELD, Meeting.Status.RETURNED):
        raise ValidationError(_("请先录入会议记录再提交。"), code="not_held")
    # The list and vote rights as of the meeting date, in case membership changed since the last save.
    meeting_sync_expected(meeting=meeting)
    problems = submission_problems(meeting)
    if problems:
        raise ValidationError(problems)
    changed = Meeting.objects.filter(pk=meeting.pk, status=meeting.status).update(
        status=Meeting.Status.SUBMITTED, submitted_at=now
    )
    if changed != 1:
        raise ValidationError(_("该会议记录已提交，正在等待审核。"), code="already_submitted")
    meeting.refresh_from_db()
    # What higher apps make of a submitted record (议定事项 → tasks, 补学), in this transaction.
    hooks.submitted(meeting=meeting, user=user, now=now)
    return meeting


# --- Leave ---------------------------------------------------------------------------


def _leave_decider(meeting: Meeting, *, on: dt.date) -> Member | None:
    """Who decides leave for ``meeting`` (the 书记; for a 党小组会 its 党小组长), to be told of a request."""
    if meeting.is_group_meeting:
        post = (
            Post.objects.filter(Q(organization_id=meeting.group_id, role=Post.Role.GROUP_LEADER) & active_on(on))
            .select_related("member__user")
            .first()
        )
        return post.member if post else None
    return branch_secretary_on(meeting.branch, on=on)


def _leave_timing_error(meeting: Meeting, *, now: dt.datetime) -> ValidationError | None:
    if meeting.accepts_leave_at(now):
        return None
    if meeting.status == Meeting.Status.PLANNED:
        return ValidationError(_("会议通知发布后才能请假。"), code="not_notified")
    if meeting.status == Meeting.Status.NOTIFIED:
        return ValidationError(_("请假须在会议开始前提出；会议开始后未到会的记为缺席。"), code="started")
    return ValidationError(_("会议已召开或已取消，不能再请假。"), code="closed")


def _save_leave(leave: LeaveRequest) -> LeaveRequest:
    leave.full_clean()
    try:
        # A savepoint: two simultaneous requests both pass the checks; the unique constraint
        # stops the second, which gets the same message instead of a 500.
        with transaction.atomic():
            leave.save()
    except IntegrityError:
        raise ValidationError(_("已为本次会议提交过请假申请。")) from None
    return leave


@transaction.atomic
def leave_request(*, meeting: Meeting, member: Member, reason: str, now: dt.datetime) -> LeaveRequest:
    """A member asks for leave in advance (after the notice, before the start); the decider is told."""
    meeting = Meeting.objects.select_related("branch").get(pk=meeting.pk)  # the caller's copy may be stale
    if error := _leave_timing_error(meeting, now=now):
        raise error
    if not reason.strip():
        raise ValidationError({"reason": [_("请填写请假事由。")]})
    if not rules.may_ask_for_leave(member.pk, meeting, now=now):
        raise ValidationError(_("您不是本次会议的应到人员，无需请假。"))
    if LeaveRequest.objects.filter(
        meeting=meeting, member=member, status__in=[LeaveRequest.Status.PENDING, LeaveRequest.Status.APPROVED]
    ).exists():
        raise ValidationError(_("您已为本次会议提交过请假申请。"))
    leave = _save_leave(LeaveRequest(meeting=meeting, member=member, reason=reason.strip(), created_at=now))
    decider = _leave_decider(meeting, on=local_date(now))
    if decider is not None and decider.user_id:
        notify(
            recipients=[decider.user],
            subject=_("请假申请：{name}").format(name=member.name),
            body=_("{name} 申请不参加{quoted}，事由：{reason}").format(
                name=member.name, quoted=quoted(meeting.topic), reason=leave.reason
            ),
            url=reverse("meetings:meeting_detail", args=[meeting.pk]),
            dedupe_key=f"leave:{leave.pk}:requested",
            now=now,
        )
    return leave


@transaction.atomic
def leave_register(*, meeting: Meeting, member: Member, reason: str, user, now: dt.datetime) -> LeaveRequest:
    """The 书记 (a 党小组会: its 党小组长) registers approved leave for a member (代登记), before the start.

    Recorded with who registered it and when, so the record shows it was not the member's own request.
    """
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not rules.decides_leave(user, meeting):
        raise ValidationError(_("只有支部书记（党小组会为本组党小组长）可以代登记请假。"), code="not_decider")
    if error := _leave_timing_error(meeting, now=now):
        raise error
    if not reason.strip():
        raise ValidationError({"reason": [_("请填写请假事由。")]})
    if not rules.member_is_expected(member.pk, meeting):
        raise ValidationError(_("%(name)s不是本次会议的应到人员。") % {"name": member.name})
    if LeaveRequest.objects.filter(
        meeting=meeting, member=member, status__in=[LeaveRequest.Status.PENDING, LeaveRequest.Status.APPROVED]
    ).exists():
        raise ValidationError(_("%(name)s已有本次会议的请假申请，请直接审批。") % {"name": member.name})
    leave = _save_leave(
        LeaveRequest(
            meeting=meeting,
            member=member,
            reason=reason.strip(),
            created_at=now,
            status=LeaveRequest.Status.APPROVED,
            decided_by=user,
            decided_at=now,
            registered_by=user,
        )
    )
    meeting.attendances.filter(member_id=member.pk).exclude(status__in=Attendance.PRESENT_STATUSES).update(
        status=Attendance.Status.LEAVE, leave_reason=leave.reason
    )
    return leave


@transaction.atomic
def leave_decide(*, leave: LeaveRequest, approve: bool, user, now: dt.datetime, note: str = "") -> LeaveRequest:
    """The 书记 (a 党小组会: its 党小组长) approves or refuses; an approval flows into the attendance list."""
    new_status = LeaveRequest.Status.APPROVED if approve else LeaveRequest.Status.REJECTED
    meeting = Meeting.objects.select_for_update().get(pk=leave.meeting_id)
    if meeting.is_locked:
        # A submitted or approved record is locked: a request left pending stays as it was.
        raise ValidationError(_("会议记录已提交或已审核通过，不能再处理请假申请。"), code="locked")
    if not rules.may_decide_leave(user, meeting):
        raise ValidationError(_("请假由支部书记审批（党小组会由本组党小组长审批）。"), code="not_decider")
    changed = LeaveRequest.objects.filter(pk=leave.pk, status=LeaveRequest.Status.PENDING).update(
        status=new_status, decided_by=user, decided_at=now, decision_note=note.strip()
    )
    if changed != 1:
        raise ValidationError(_("该请假申请已处理。"))
    leave.refresh_from_db()
    if approve:
        meeting.attendances.filter(member_id=leave.member_id).exclude(status__in=Attendance.PRESENT_STATUSES).update(
            status=Attendance.Status.LEAVE, leave_reason=leave.reason
        )
    if leave.member.user_id:
        notify(
            recipients=[leave.member.user],
            subject=prefixed(_("请假{value}").format(value="已批准" if approve else "未批准"), meeting.topic),
            body=note or "",
            url=reverse("meetings:meeting_detail", args=[meeting.pk]),
            dedupe_key=f"leave:{leave.pk}:decided",
            now=now,
        )
    return leave


@transaction.atomic
def leave_withdraw(*, leave: LeaveRequest, member: Member, now: dt.datetime) -> None:
    if leave.member_id != member.pk:
        raise ValidationError(_("只能撤回自己的请假申请。"))
    # Once the meeting is held the attendance is the record's; withdrawing would rewrite it.
    if leave.meeting.status not in (Meeting.Status.PLANNED, Meeting.Status.NOTIFIED):
        raise ValidationError(_("会议已召开或已取消，不能再撤回请假申请。"))
    changed = LeaveRequest.objects.filter(
        pk=leave.pk, status__in=[LeaveRequest.Status.PENDING, LeaveRequest.Status.APPROVED]
    ).update(status=LeaveRequest.Status.WITHDRAWN, decided_at=now)
    if changed != 1:
        raise ValidationError(_("该请假申请已不能撤回。"))
    leave.meeting.attendances.filter(member_id=member.pk, status=Attendance.Status.LEAVE).update(
        status="", leave_reason=""
    )
