"""An approved record cannot be edited by anyone through any view.

Every URL that writes a meeting or anything hanging off it (plan, notice, cancel,
minutes, agenda and speeches, attendance, votes, leave, submit, check-in, evidence,
the review decisions, the Django admin) is posted to, as the branch secretary, the
recorder, a supervisor and a superuser, for an approved meeting; each is refused
and the meeting with all its rows is exactly as before (a snapshot of every column,
of the history tables and of the evidence files on disk).
"""

import datetime as dt

import pytest
from django.contrib import messages as django_messages
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from bulletin.models import Announcement, Notification
from meetings import checkin
from meetings import services as meetings
from meetings.models import AgendaItem, Attendance, LeaveRequest, Meeting, MeetingPolicy, MeetingType, Speech, Vote
from supervision.models import Evidence, Flag, Review, evidence_storage
from supervision.services import review
from tests.conftest import client_for
from tests.factories import MeetingFactory, UserFactory, member_with_login

from .conftest import SAMPLES, local

START = local(2026, 5, 12, 9)
END = START + dt.timedelta(hours=1, minutes=30)
PHOTO = SAMPLES / "gps_DSCN0010.jpg"


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def absentee(branch):
    """A third member of the branch, who asked for leave and was never answered."""
    return member_with_login(branch=branch, username="absentee", name="孙党员")


@pytest.fixture
def approved(branch, secretary, member, absentee, supervisor):
    """A record taken through every step the branch takes, then approved: minutes, attendance with an absence,
    speeches, a vote, a photo with its files on disk, a flag, and a leave request still pending."""
    meeting = MeetingFactory(branch=branch, types=["general_meeting"], planned_start=START, planned_end=END)
    meetings.meeting_publish_notice(meeting=meeting, user=secretary, now=START - dt.timedelta(days=3))
    leave = meetings.leave_request(
        meeting=meeting, member=absentee.member, reason="井下值班", now=START - dt.timedelta(days=2)
    )
    entered = END + dt.timedelta(hours=1)
    meetings.meeting_record_minutes(
        meeting=meeting,
        user=secretary,
        now=entered,
        actual_start=START,
        actual_end=END,
        place="三楼党员活动室",
        chair=secretary.member,
        recorder=member.member,
        resolutions="同意年度党建工作计划。",
    )
    meetings.attendance_record(
        meeting=meeting,
        entries={
            secretary.member.pk: "present",
            member.member.pk: "present",
            # A request never answered is no leave: 请假 stands only on approved leave.
            absentee.member.pk: "absent",
        },
        user=secretary,
        now=entered,
    )
    meetings.meeting_save_agenda(
        meeting=meeting,
        user=member,
        now=entered,
        items=[
            meetings.AgendaItemData(
                title="传达安全生产会议精神",
                speeches=[
                    meetings.SpeechData(speaker=secretary.member, points="落实手指口述。"),
                    meetings.SpeechData(speaker=member.member, points="建议增加班前会。", dissent=True),
                ],
            )
        ],
    )
    vote = meetings.vote_record(
        meeting=meeting, kind="motion", motion="年度计划", yes=2, no=0, abstain=0, user=secretary, now=entered
    )
    photo = _stored_evidence(meeting, uploaded_by=secretary, at=entered)
    Flag.objects.create(
        meeting=meeting, evidence=photo, kind=Flag.Kind.LATE_ENTRY, key="late", message="会后补录", created_at=entered
    )
    meetings.meeting_submit(meeting=meeting, user=secretary, now=entered + dt.timedelta(hours=1))
    # The planted flag is left 待核实: the supervisor approves with "仍然通过" ticked.
    review.review_approve(meeting=meeting, user=supervisor, now=entered + dt.timedelta(days=1), despite_open_flags=True)
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.APPROVED
    meeting.the_vote, meeting.the_leave, meeting.the_photo = vote, leave, photo
    return meeting


def _stored_evidence(meeting, *, uploaded_by, at):
    storage = evidence_storage()
    data = PHOTO.read_bytes()
    names = {
        kind: storage.save(f"{kind}/{meeting.pk}/photo.jpg", ContentFile(data))
        for kind in ("originals", "files", "thumbnails")
    }
    return Evidence.objects.create(
        meeting=meeting,
        category=Evidence.Category.PHOTO,
        kind=Evidence.Kind.IMAGE,
        content_type="image/jpeg",
        original_name="DSCN0010.jpg",
        size=len(data),
        sha256="0" * 64,
        original=names["originals"],
        file=names["files"],
        thumbnail=names["thumbnails"],
        status=Evidence.Status.READY,
        uploaded_by=uploaded_by,
        uploaded_at=at,
        processed_at=at,
        captured_at=START,
    )


# --- The snapshot ------------------------------------------------------------------------------


def _rows(qs):
    return list(qs.order_by("pk").values())


def snapshot(meeting, evidence_root):
    """Every column of the meeting and its rows, the history tables' sizes, and the evidence files' bytes."""
    files = (
        {str(p.relative_to(evidence_root)): p.read_bytes() for p in sorted(evidence_root.rglob("*")) if p.is_file()}
        if evidence_root.exists()
        else {}
    )
    return {
        "meeting": _rows(Meeting.objects.filter(pk=meeting.pk)),
        "types": sorted(meeting.types.values_list("pk", flat=True)),
        "theme_tags": sorted(meeting.theme_tags.values_list("pk", flat=True)),
        "attendances": _rows(Attendance.objects.filter(meeting=meeting)),
        "agenda_items": _rows(AgendaItem.objects.filter(meeting=meeting)),
        "speeches": _rows(Speech.objects.filter(agenda_item__meeting=meeting)),
        "votes": _rows(Vote.objects.filter(meeting=meeting)),
        "leave_requests": _rows(LeaveRequest.objects.filter(meeting=meeting)),
        "evidence": _rows(Evidence.objects.filter(meeting=meeting)),
        "flags": _rows(Flag.objects.filter(meeting=meeting)),
        "reviews": _rows(Review.objects.filter(meeting=meeting)),
        "history": [
            model.history.count() for model in (Meeting, AgendaItem, Speech, Attendance, Vote, LeaveRequest, Evidence)
        ],
        "announcements": Announcement.objects.count(),
        "notifications": Notification.objects.count(),
        "files": files,
    }


# --- Every write -------------------------------------------------------------------------------


def _local(value):
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def _plant_vote_token(client, meeting):
    """The votes page of a locked record redirects, so its token is put in the session as a stale page holds it."""
    session = client.session
    tokens = session.get("meetings_form_tokens", {})
    tokens["stale-vote-page"] = {"purpose": f"vote:{meeting.pk}", "result": None}
    session["meetings_form_tokens"] = tokens
    session.save()
    return "stale-vote-page"


def writes(meeting, *, client, secretary, member):
    """(name, url, data) of every view that writes the meeting or its rows, with the data a user would send."""
    m = reverse
    pk = meeting.pk
    attendance = {
        "member_ids": ",".join(str(i) for i in sorted(meeting.attendances.values_list("member_id", flat=True)))
    }
    for member_id in meeting.attendances.values_list("member_id", flat=True):
        attendance[f"status_{member_id}"] = "absent"
        attendance[f"reason_{member_id}"] = ""
    older_version = meeting.history.order_by("history_date", "history_id").first().history_id
    token = checkin.current_token(meeting, now=timezone.now(), policy=MeetingPolicy.current())
    return [
        (
            "meeting_edit",
            m("meetings:meeting_edit", args=[pk]),
            {
                "types": [MeetingType.objects.get(code="general_meeting").pk],
                "topic": "改过的主题",
                "planned_start": _local(START),
                "planned_end": _local(END),
                "place": "别处",
            },
        ),
        ("meeting_publish", m("meetings:meeting_publish", args=[pk]), {}),
        ("meeting_cancel", m("meetings:meeting_cancel", args=[pk]), {"reason": "不开了"}),
        (
            "meeting_minutes",
            m("meetings:meeting_minutes", args=[pk]),
            {
                "actual_start": _local(START),
                "actual_end": _local(END + dt.timedelta(hours=1)),
                "place": "改过的地点",
                "chair": secretary.member.pk,
                "recorder": member.member.pk,
                "resolutions": "改过的决议",
            },
        ),
        (
            "meeting_agenda",
            m("meetings:meeting_agenda", args=[pk]),
            {
                "items-TOTAL_FORMS": "1",
                "items-INITIAL_FORMS": "0",
                "items-0-title": "补写的议题",
                "speeches-TOTAL_FORMS": "0",
                "speeches-INITIAL_FORMS": "0",
            },
        ),
        ("meeting_attendance", m("meetings:meeting_attendance", args=[pk]), attendance),
        (
            "meeting_votes",
            m("meetings:meeting_votes", args=[pk]),
            {
                "kind": "motion",
                "motion": "补录的表决",
                "yes": 2,
                "no": 0,
                "abstain": 0,
                "form_token": _plant_vote_token(client, meeting),
            },
        ),
        ("vote_delete", m("meetings:vote_delete", args=[pk, meeting.the_vote.pk]), {}),
        ("meeting_submit", m("meetings:meeting_submit", args=[pk]), {}),
        ("leave_create", m("meetings:leave_create", args=[pk]), {"reason": "补请假"}),
        ("leave_decide", m("meetings:leave_decide", args=[meeting.the_leave.pk]), {"decision": "approve", "note": ""}),
        ("leave_withdraw", m("meetings:leave_withdraw", args=[meeting.the_leave.pk]), {}),
        ("checkin", m("meetings:checkin", args=[pk]), {"t": token}),
        (
            "evidence_upload",
            m("supervision:evidence_upload", args=[pk]),
            {"category": "photo", "files": [ContentFile(PHOTO.read_bytes(), name="补拍.jpg")]},
        ),
        ("evidence_delete", m("supervision:evidence_delete", args=[meeting.the_photo.pk]), {}),
        ("review_approve", m("supervision:review_approve", args=[pk]), {}),
        ("review_return", m("supervision:review_return", args=[pk]), {"comment": "再改改"}),
        (
            "admin_meeting_change",
            m("admin:meetings_meeting_change", args=[pk]),
            {"topic": "改过的主题", "place": "别处"},
        ),
        ("admin_meeting_delete", m("admin:meetings_meeting_delete", args=[pk]), {"post": "yes"}),
        ("admin_meeting_revert", m("admin:meetings_meeting_simple_history", args=[pk, older_version]), {"topic": "旧"}),
        ("admin_vote_change", m("admin:meetings_vote_change", args=[meeting.the_vote.pk]), {"yes": 9}),
        ("admin_vote_delete", m("admin:meetings_vote_delete", args=[meeting.the_vote.pk]), {"post": "yes"}),
        (
            "admin_leave_change",
            m("admin:meetings_leaverequest_change", args=[meeting.the_leave.pk]),
            {"status": "approved"},
        ),
        (
            "admin_evidence_change",
            m("admin:supervision_evidence_change", args=[meeting.the_photo.pk]),
            {"original_name": "x.jpg"},
        ),
        ("admin_evidence_delete", m("admin:supervision_evidence_delete", args=[meeting.the_photo.pk]), {"post": "yes"}),
    ]


# Not in the list: reopening an approved record is the supervisor's spot check (it stays locked
# to the branch; test_review_services.py), and deciding a flag changes the flag, not the record.


def refusal(response) -> str:
    """How the response refused, or "" when it did not visibly refuse."""
    if response.status_code in (400, 403, 404, 405):
        return str(response.status_code)
    path = response.request["PATH_INFO"]
    if path.startswith((reverse("admin:login"), reverse("login"))):
        return "sign-in"
    context = response.context or {}
    levels = [m.level for m in context.get("messages", [])] if "messages" in context else []
    if django_messages.SUCCESS in levels:
        return ""
    if django_messages.ERROR in levels:
        return "error message"
    html = response.content.decode()
    if "invalid-feedback" in html or "alert-danger" in html or "errorlist" in html:
        return "form error"
    return ""


# meetings.services.leave_decide decides a pending leave request whatever the meeting's state
# (it only leaves the attendance alone when the meeting is locked), so the branch's managers
# (and a superuser, who passes every permission) still change an approved record's leave list.
# Needed in meetings: refuse in leave_decide when ``leave.meeting.is_locked``. Tested apart, below.
KNOWN_HOLES = {"leave_decide"}
ROLES = ["secretary", "recorder", "supervisor", "superuser"]


def _user(role, *, secretary, member, supervisor, superuser):
    return {"secretary": secretary, "recorder": member, "supervisor": supervisor, "superuser": superuser}[role]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_an_approved_record_cannot_be_edited_by_anyone_through_any_view(
    client, approved, secretary, member, supervisor, superuser, _evidence_storage, role
):
    c = client_for(client, _user(role, secretary=secretary, member=member, supervisor=supervisor, superuser=superuser))
    before = snapshot(approved, _evidence_storage)
    assert before["files"] and before["leave_requests"][0]["status"] == LeaveRequest.Status.PENDING

    outcomes = {}
    for name, target, data in writes(approved, client=c, secretary=secretary, member=member):
        if name in KNOWN_HOLES:
            continue
        response = c.post(target, data, follow=True)
        outcomes[name] = refusal(response)
        assert snapshot(approved, _evidence_storage) == before, f"{name} changed the approved record as {role}"

    assert {name for name, how in outcomes.items() if not how} == set(), outcomes
    assert len(outcomes) == 24


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role",
    ROLES,
)
def test_a_leave_request_left_pending_cannot_be_decided_once_the_record_is_approved(
    client, approved, secretary, member, supervisor, superuser, _evidence_storage, role
):
    c = client_for(client, _user(role, secretary=secretary, member=member, supervisor=supervisor, superuser=superuser))
    before = snapshot(approved, _evidence_storage)

    response = c.post(
        reverse("meetings:leave_decide", args=[approved.the_leave.pk]), {"decision": "approve"}, follow=True
    )

    assert refusal(response)
    assert snapshot(approved, _evidence_storage) == before


@pytest.mark.django_db
def test_the_edit_pages_of_an_approved_record_do_not_open_for_its_secretary(client, approved, secretary):
    c = client_for(client, secretary)
    for name in ("meeting_minutes", "meeting_agenda", "meeting_attendance", "meeting_votes", "meeting_edit"):
        response = c.get(reverse(f"meetings:{name}", args=[approved.pk]), follow=True)
        assert response.redirect_chain[-1][0] == reverse("meetings:meeting_detail", args=[approved.pk]), name
    html = c.get(reverse("meetings:meeting_detail", args=[approved.pk])).content.decode()
    assert "会议记录已审核通过，已锁定，不能再修改。" in html
    assert reverse("meetings:meeting_minutes", args=[approved.pk]) not in html


@pytest.mark.django_db
def test_the_admin_shows_an_approved_meeting_without_a_save_button(client, approved, superuser):
    page = client_for(client, superuser).get(reverse("admin:meetings_meeting_change", args=[approved.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert approved.topic in html
    assert 'name="_save"' not in html and 'name="topic"' not in html
