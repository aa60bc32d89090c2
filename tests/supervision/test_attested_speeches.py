"""Attested speeches: after submission each speaker with a login confirms or disputes their recorded point
within N days; disputes and records mostly unconfirmed at the deadline become flags, once."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from bulletin.models import Notification
from meetings import services as meetings
from supervision.models import Flag, SpeechAttestation, SupervisionPolicy
from supervision.services import attestation as services
from tasks import todo
from tests.conftest import client_for
from tests.factories import MeetingFactory, MemberFactory, MembershipFactory, member_with_login

from .conftest import local
from .test_review_services import START

SUBMIT = START + dt.timedelta(hours=3)  # 12 May 12:00 at the mine
DUE = local(2026, 5, 16, 0)  # 3 days: the end of 15 May
LAST_MINUTE = local(2026, 5, 15, 23, 59)


@pytest.fixture
def third(branch, group):
    return member_with_login(branch=branch, group=group, username="third", name="张党员")


def record_with_speakers(branch, secretary, speakers, *, recorder):
    """A record submitted by the secretary, one agenda item with one speech per speaker (in order)."""
    meeting = MeetingFactory(
        branch=branch,
        types=["general_meeting"],
        topic="学习安全生产责任制",
        planned_start=START,
        planned_end=START + dt.timedelta(hours=1, minutes=30),
    )
    meetings.meeting_publish_notice(meeting=meeting, user=secretary, now=START - dt.timedelta(days=3))
    meetings.meeting_record_minutes(
        meeting=meeting,
        user=secretary,
        now=START + dt.timedelta(hours=2),
        actual_start=START,
        actual_end=START + dt.timedelta(hours=1, minutes=30),
        place="三楼党员活动室",
        chair=secretary.member,
        recorder=recorder.member,
        resolutions="同意年度党建工作计划。",
    )
    entries = {a.member_id: "present" for a in meeting.attendances.all()}
    meetings.attendance_record(meeting=meeting, entries=entries, user=secretary, now=START + dt.timedelta(hours=2))
    meetings.meeting_save_agenda(
        meeting=meeting,
        user=secretary,
        now=START + dt.timedelta(hours=2),
        items=[
            meetings.AgendaItemData(
                title="传达安全生产会议精神",
                speeches=[
                    meetings.SpeechData(speaker=speaker, points=f"{speaker.name}：井下作业必须落实手指口述。")
                    for speaker in speakers
                ],
            )
        ],
    )
    return meetings.meeting_submit(meeting=meeting, user=secretary, now=SUBMIT)


def asked(meeting):
    return list(SpeechAttestation.objects.filter(meeting=meeting).order_by("speech__order"))


def attest_notices(user):
    return list(Notification.objects.filter(recipient=user, channel="inbox", dedupe_key__startswith="attest:"))


# --- Asking -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_speaker_with_a_login_is_asked_once_and_the_submitter_and_members_without_login_are_not(
    branch, secretary, member, third
):
    no_login = MemberFactory(name="孙无号")
    MembershipFactory(member=no_login, organization=branch)
    meeting = record_with_speakers(
        branch, secretary, [secretary.member, member.member, member.member, third.member, no_login], recorder=member
    )

    rows = asked(meeting)
    assert [r.member.name for r in rows] == ["李党员", "李党员", "张党员"]
    assert {r.due_at for r in rows} == {DUE}
    assert len(attest_notices(member)) == 1 and len(attest_notices(third)) == 1
    assert attest_notices(secretary) == []
    notice = attest_notices(member)[0]
    assert notice.url == reverse("supervision:attest_meeting", args=[meeting.pk])
    assert "2026年5月15日 24:00" in notice.body

    # Run twice (a hook called again): nothing more is made or sent.
    assert services.request_attestations(meeting=meeting, user=secretary, now=SUBMIT) == 0
    assert len(asked(meeting)) == 3 and len(attest_notices(member)) == 1


@pytest.mark.django_db
def test_the_deadline_follows_the_policy_in_calendar_days_at_the_mine(branch, secretary, member):
    SupervisionPolicy.objects.update_or_create(pk=1, defaults={"attestation_days": 1})
    meeting = record_with_speakers(branch, secretary, [member.member], recorder=member)
    assert asked(meeting)[0].due_at == local(2026, 5, 14, 0)


# --- Answering --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_speaker_confirms_in_the_last_minute_and_is_refused_at_the_deadline(branch, secretary, member, third):
    meeting = record_with_speakers(branch, secretary, [member.member, third.member], recorder=member)
    mine, theirs = asked(meeting)

    services.attestation_answer(attestation=mine, confirm=True, comment="", member_id=member.member.pk, now=LAST_MINUTE)
    with pytest.raises(ValidationError) as caught:
        services.attestation_answer(attestation=theirs, confirm=True, comment="", member_id=third.member.pk, now=DUE)

    assert "确认期限（2026年5月15日 24:00）已过" in caught.value.messages[0]
    assert SpeechAttestation.objects.get(pk=mine.pk).status == SpeechAttestation.Status.CONFIRMED
    assert SpeechAttestation.objects.get(pk=theirs.pk).status == SpeechAttestation.Status.PENDING


@pytest.mark.django_db
def test_a_dispute_needs_a_comment_and_a_second_answer_changes_nothing(branch, secretary, member):
    meeting = record_with_speakers(branch, secretary, [member.member], recorder=member)
    (row,) = asked(meeting)
    with pytest.raises(ValidationError) as caught:
        services.attestation_answer(
            attestation=row, confirm=False, comment="  ", member_id=member.member.pk, now=SUBMIT
        )
    assert caught.value.message_dict["comment"] == ["提出异议须说明哪里与您的发言不符。"]

    services.attestation_answer(
        attestation=row, confirm=False, comment="我没有这样说过", member_id=member.member.pk, now=SUBMIT
    )
    with pytest.raises(ValidationError):
        services.attestation_answer(attestation=row, confirm=True, comment="", member_id=member.member.pk, now=SUBMIT)

    row.refresh_from_db()
    assert (row.status, row.comment) == (SpeechAttestation.Status.DISPUTED, "我没有这样说过")


# --- Flags --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_dispute_becomes_one_flag_in_the_review_queue_however_often_the_sweep_runs(
    client, branch, secretary, member, supervisor
):
    meeting = record_with_speakers(branch, secretary, [member.member], recorder=member)
    (row,) = asked(meeting)
    services.attestation_answer(
        attestation=row, confirm=False, comment="我当天在井下当班", member_id=member.member.pk, now=SUBMIT
    )

    assert services.attestations_sweep(now=SUBMIT) == {"disputed": 1, "unconfirmed": 0}
    assert services.attestations_sweep(now=SUBMIT) == {"disputed": 0, "unconfirmed": 0}

    flag = Flag.objects.get(meeting=meeting, kind=Flag.Kind.SPEECH_DISPUTED)
    assert flag.message.startswith("李党员对记录中本人在“传达安全生产会议精神”中的发言有异议：我当天在井下当班")
    queue = client_for(client, supervisor).get(reverse("supervision:review_queue"), {"flags": "open"})
    assert [m.pk for m in queue.context["page"].object_list] == [meeting.pk]
    # After the deadline the record is not also "mostly unconfirmed": the dispute was an answer.
    assert services.attestations_sweep(now=DUE) == {"disputed": 0, "unconfirmed": 0}


@pytest.mark.django_db
def test_exactly_half_unconfirmed_at_the_deadline_raises_no_flag(branch, secretary, member, third):
    meeting = record_with_speakers(branch, secretary, [member.member, third.member], recorder=member)
    mine, _theirs = asked(meeting)
    services.attestation_answer(attestation=mine, confirm=True, comment="", member_id=member.member.pk, now=SUBMIT)

    assert services.attestations_sweep(now=DUE) == {"disputed": 0, "unconfirmed": 0}
    assert not Flag.objects.filter(meeting=meeting).exclude(kind=Flag.Kind.MISSING_PHOTO).exists()


@pytest.mark.django_db
def test_more_than_half_unconfirmed_is_flagged_at_the_deadline_not_in_its_last_minute(branch, secretary, member, third):
    meeting = record_with_speakers(branch, secretary, [member.member, third.member, third.member], recorder=member)
    mine, _a, _b = asked(meeting)
    services.attestation_answer(attestation=mine, confirm=True, comment="", member_id=member.member.pk, now=SUBMIT)

    assert services.attestations_sweep(now=LAST_MINUTE)["unconfirmed"] == 0
    assert services.attestations_sweep(now=DUE)["unconfirmed"] == 1
    assert services.attestations_sweep(now=DUE + dt.timedelta(hours=1))["unconfirmed"] == 0

    flag = Flag.objects.get(meeting=meeting, kind=Flag.Kind.SPEECHES_UNCONFIRMED)
    assert flag.message.startswith("记录中 3 条发言有 2 条到期未经发言人确认（张党员）")
    assert flag.status == Flag.Status.OPEN


# --- The pages ------------------------------------------------------------------------------------


def attest_url(meeting):
    return reverse("supervision:attest_meeting", args=[meeting.pk])


def answer_url(row):
    return reverse("supervision:attest_answer", args=[row.pk])


@pytest.mark.django_db
def test_the_supervisor_sees_each_speech_confirmed_disputed_or_unconfirmed(
    client, branch, secretary, member, third, supervisor
):
    meeting = record_with_speakers(branch, secretary, [member.member, third.member, third.member], recorder=member)
    a, b, _c = asked(meeting)
    services.attestation_answer(attestation=a, confirm=True, comment="", member_id=member.member.pk, now=SUBMIT)
    services.attestation_answer(
        attestation=b, confirm=False, comment="不是我说的", member_id=third.member.pk, now=SUBMIT
    )

    html = client_for(client, supervisor).get(reverse("supervision:review_detail", args=[meeting.pk])).content.decode()

    assert html.count('class="small speech-attestation" data-status="confirmed"') == 1
    assert html.count('data-status="disputed"') == 1 and "本人有异议</span> 2026-05-12 12:00：不是我说的" in html
    assert html.count('data-status="pending"') == 1 and "本人未确认</span> 期限 2026年5月15日 24:00" in html


@pytest.mark.django_db
def test_the_speaker_confirms_on_their_page_and_it_leaves_their_todo(client, branch, secretary, member, time_machine):
    meeting = record_with_speakers(branch, secretary, [member.member], recorder=member)
    (row,) = asked(meeting)
    time_machine.move_to(SUBMIT + dt.timedelta(hours=1))
    rows = todo.rows_for(member, now=SUBMIT + dt.timedelta(hours=1))
    assert [(r.kind, r.url) for r in rows if r.kind == "attestation"] == [
        ("attestation", f"{attest_url(meeting)}#attest-{row.pk}")
    ]

    c = client_for(client, member)
    page = c.get(attest_url(meeting))
    assert page.status_code == 200 and "李党员：井下作业必须落实手指口述。" in page.content.decode()
    c.post(answer_url(row), {"decision": "confirm"})
    c.post(answer_url(row), {"decision": "dispute", "comment": "改主意"})  # a second submit changes nothing

    row.refresh_from_db()
    assert row.status == SpeechAttestation.Status.CONFIRMED and row.comment == ""
    if hasattr(member, "_sanhui_scope"):
        del member._sanhui_scope
    assert not [r for r in todo.rows_for(member, now=SUBMIT + dt.timedelta(hours=1)) if r.kind == "attestation"]


@pytest.mark.django_db
def test_the_pending_speech_leaves_the_todo_at_its_deadline(branch, secretary, member):
    record_with_speakers(branch, secretary, [member.member], recorder=member)
    assert [r.kind for r in todo.rows_for(member, now=LAST_MINUTE)].count("attestation") == 1
    if hasattr(member, "_sanhui_scope"):
        del member._sanhui_scope
    assert [r.kind for r in todo.rows_for(member, now=DUE)].count("attestation") == 0


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["third", "secretary", "other_secretary", "supervisor"])
def test_nobody_but_the_speaker_sees_or_answers_their_speech(
    client, branch, secretary, member, third, people, role, time_machine
):
    meeting = record_with_speakers(branch, secretary, [member.member], recorder=member)
    (row,) = asked(meeting)
    time_machine.move_to(SUBMIT + dt.timedelta(hours=1))
    user = third if role == "third" else people[role]
    c = client_for(client, user)

    assert c.get(attest_url(meeting)).status_code == 404
    assert c.post(answer_url(row), {"decision": "dispute", "comment": "代答"}).status_code == 404
    row.refresh_from_db()
    assert row.status == SpeechAttestation.Status.PENDING


@pytest.mark.django_db
def test_anonymous_is_sent_to_sign_in_and_nothing_changes(client, branch, secretary, member):
    meeting = record_with_speakers(branch, secretary, [member.member], recorder=member)
    (row,) = asked(meeting)
    assert client.get(attest_url(meeting)).status_code == 302
    assert client.post(answer_url(row), {"decision": "confirm"}).status_code == 302
    assert SpeechAttestation.objects.get(pk=row.pk).status == SpeechAttestation.Status.PENDING


@pytest.mark.django_db
def test_the_speaker_page_reads_a_fixed_number_of_queries(
    client, branch, secretary, member, django_assert_num_queries, time_machine
):
    one = record_with_speakers(branch, secretary, [member.member], recorder=member)
    many = record_with_speakers(branch, secretary, [member.member] * 6, recorder=member)
    time_machine.move_to(SUBMIT + dt.timedelta(hours=1))
    c = client_for(client, member)
    c.get(attest_url(one))  # warm the session and scope
    counts = []
    for meeting in (one, many):
        with django_assert_num_queries(11) as captured:
            c.get(attest_url(meeting))
        counts.append(len(captured))
    assert counts[0] == counts[1]
