"""The reviewer's signals on the review page: the notice and who got it, the check-ins and their devices,
the shared-device flag, flag decisions kept with each round, the approval's confirmation, raising a finding."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile

from meetings.models import Attendance, Meeting
from org.models import StaffRole
from supervision.models import Evidence, Flag, Review, ReviewFlagRecord, evidence_storage
from supervision.services import evidence as evidence_services
from supervision.services import integrity, review
from tests.conftest import client_for
from tests.factories import staff_user

from .test_review_pages import REFUSED, add_evidence, add_flag, url
from .test_review_services import START, T_APPROVE, T_RETURN, submitted_record


@pytest.fixture
def committee(db):
    """A 党委委员: reads the review pages, decides nothing."""
    return staff_user(username="committee", role=StaffRole.Role.COMMITTEE)


@pytest.fixture
def record(branch, secretary, member):
    return submitted_record(branch, secretary, member)


def check_in(meeting, member, *, minute, device):
    Attendance.objects.filter(meeting=meeting, member=member.member).update(
        status=Attendance.Status.PRESENT, checked_in_at=START + dt.timedelta(minutes=minute), checkin_device=device
    )


# --- The notice and the check-ins -------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["supervisor", "committee"])
def test_the_review_page_shows_when_the_notice_went_out_and_to_whom(client, people, committee, record, role):
    user = committee if role == "committee" else people[role]
    html = client_for(client, user).get(url("review_detail", record.pk)).content.decode()

    # Published three days before the 09:00 meeting of 12 May, to the secretary and the member.
    assert "通知发布于 2026年5月9日 09:00" in html
    assert "已通知 2 人" in html
    assert html.count('class="notice-recipient"') == 2
    assert "王书记" in html and "李党员" in html


@pytest.mark.django_db
def test_a_record_without_a_published_notice_says_so(client, supervisor, record):
    Meeting.objects.filter(pk=record.pk).update(notice_published_at=None)
    html = client_for(client, supervisor).get(url("review_detail", record.pk)).content.decode()
    assert "未在系统中发布会议通知。" in html


@pytest.mark.django_db
def test_the_check_ins_are_listed_with_their_times_and_devices_and_a_shared_device_is_marked(
    client, supervisor, record, secretary, member
):
    check_in(record, secretary, minute=-5, device="a" * 20)
    check_in(record, member, minute=-4, device="a" * 20)

    html = client_for(client, supervisor).get(url("review_detail", record.pk)).content.decode()

    assert html.count('class="checkin text-danger" data-shared="1"') == 2
    assert "08:55:00 王书记" in html and "08:56:00 李党员" in html
    assert "设备1" in html and "a" * 20 not in html  # the device id itself stays on the server
    assert 'id="shared-device-warning"' in html


@pytest.mark.django_db
def test_two_members_on_their_own_devices_raise_no_warning(client, supervisor, record, secretary, member):
    check_in(record, secretary, minute=-5, device="a" * 20)
    check_in(record, member, minute=-4, device="b" * 20)

    html = client_for(client, supervisor).get(url("review_detail", record.pk)).content.decode()

    assert "设备1" in html and "设备2" in html
    assert 'id="shared-device-warning"' not in html
    integrity.meeting_checks(meeting=record, now=T_RETURN)
    assert not Flag.objects.filter(meeting=record, kind=Flag.Kind.SHARED_DEVICE).exists()


# --- The shared-device flag -------------------------------------------------------------------


@pytest.mark.django_db
def test_one_device_checking_in_two_members_becomes_a_flag_counted_in_the_queue(
    client, supervisor, record, secretary, member
):
    check_in(record, secretary, minute=-5, device="a" * 20)
    check_in(record, member, minute=-4, device="a" * 20)

    integrity.meeting_checks(meeting=record, now=T_RETURN)
    integrity.meeting_checks(meeting=record, now=T_RETURN)  # a second run makes no second flag

    flag = Flag.objects.get(meeting=record, kind=Flag.Kind.SHARED_DEVICE)
    assert flag.message.startswith("同一台设备为 2 名党员扫码签到：王书记（08:55）、李党员（08:56）")
    queue = client_for(client, supervisor).get(url("review_queue"), {"flags": "open"})
    assert [m.pk for m in queue.context["page"].object_list] == [record.pk]
    # Counted with the record's other open flag (no photo was uploaded).
    assert set(Flag.objects.filter(meeting=record).values_list("kind", flat=True)) == {
        Flag.Kind.SHARED_DEVICE,
        Flag.Kind.MISSING_PHOTO,
    }
    assert queue.context["page"].object_list[0].open_flag_count == 2


@pytest.mark.django_db
def test_the_shared_device_flag_goes_when_the_check_in_is_corrected(record, secretary, member):
    check_in(record, secretary, minute=-5, device="a" * 20)
    check_in(record, member, minute=-4, device="a" * 20)
    integrity.meeting_checks(meeting=record, now=T_RETURN)
    Attendance.objects.filter(meeting=record, member=member.member).update(checkin_device="", checked_in_at=None)

    integrity.meeting_checks(meeting=record, now=T_RETURN)

    assert not Flag.objects.filter(meeting=record, kind=Flag.Kind.SHARED_DEVICE).exists()


# --- Approving with open flags ----------------------------------------------------------------


@pytest.mark.django_db
def test_approving_a_record_with_an_open_flag_is_refused_without_the_confirmation(record, supervisor):
    add_flag(record, "capture:1")

    with pytest.raises(ValidationError) as error:
        review.review_approve(meeting=record, user=supervisor, now=T_APPROVE)

    assert error.value.code == "open_flags"
    assert "1 条检查提示待核实" in error.value.messages[0]
    record.refresh_from_db()
    assert record.status == Meeting.Status.SUBMITTED and not Review.objects.filter(meeting=record).exists()


@pytest.mark.django_db
def test_approving_with_the_confirmation_or_once_every_flag_is_decided_goes_through(record, supervisor):
    flag = add_flag(record, "capture:1")
    integrity.flag_decide(flag=flag, confirm=False, reason="核实无误", user=supervisor, now=T_APPROVE)
    assert review.review_approve(meeting=record, user=supervisor, now=T_APPROVE).action == Review.Action.APPROVE


@pytest.mark.django_db
def test_the_page_asks_for_the_confirmation_and_approves_once_it_is_ticked(client, supervisor, record):
    add_flag(record, "capture:1")
    c = client_for(client, supervisor)
    assert 'id="approve-confirm"' in c.get(url("review_detail", record.pk)).content.decode()

    refused = c.post(url("review_approve", record.pk), {"seen_round": 1})

    assert refused.status_code == 200
    assert "请勾选“仍然通过”" in refused.content.decode()
    assert Meeting.objects.get(pk=record.pk).status == Meeting.Status.SUBMITTED

    approved = c.post(url("review_approve", record.pk), {"seen_round": 1, "despite_open_flags": "on"})

    assert approved.status_code == 302
    assert Meeting.objects.get(pk=record.pk).status == Meeting.Status.APPROVED


@pytest.mark.django_db
def test_a_record_without_open_flags_asks_no_confirmation(client, supervisor, record):
    html = client_for(client, supervisor).get(url("review_detail", record.pk)).content.decode()
    assert 'id="approve-confirm"' not in html
    assert client.post(url("review_approve", record.pk), {"seen_round": 1}).status_code == 302


@pytest.mark.django_db
def test_on_a_phone_the_warnings_come_before_the_record_and_a_bar_keeps_the_decision_in_reach(
    client, supervisor, record
):
    add_flag(record, "capture:1")
    html = client_for(client, supervisor).get(url("review_detail", record.pk)).content.decode()
    # Source order is the phone's order: decision, warnings, then the long record.
    assert html.index('id="review-actions"') < html.index('id="review-flags"') < html.index('id="review-minutes"')
    assert 'id="review-sticky"' in html and "1 条待核实" in html


# --- Decisions kept with the round --------------------------------------------------------------


@pytest.mark.django_db
def test_a_flag_confirmed_in_round_one_stays_on_the_page_after_the_secretary_deletes_the_photo(
    client, supervisor, secretary, record
):
    photo = add_evidence(record, 1)
    evidence_storage().save(photo.thumbnail.name, ContentFile(b"\xff\xd8thumb"))
    flag = add_flag(record, "dup:1", evidence=photo, kind=Flag.Kind.DUPLICATE_PHOTO, message="照片与其他会议重复")
    integrity.flag_decide(flag=flag, confirm=True, reason="与 4 月照片相同", user=supervisor, now=T_RETURN)
    review.review_return(meeting=record, comment="请换成本次会议的照片", user=supervisor, now=T_RETURN)

    evidence_services.evidence_delete(evidence=Evidence.objects.get(pk=photo.pk), user=secretary, now=T_RETURN)

    assert not Flag.objects.filter(pk=flag.pk).exists()  # the flag went with its photo ...
    kept = ReviewFlagRecord.objects.get()  # ... its decision stayed with the round
    assert (kept.status, kept.flag_id, kept.evidence_name) == (Flag.Status.CONFIRMED, None, "DSCN0001.JPG")
    assert kept.evidence_sha256 == photo.sha256 and bytes(kept.thumbnail) == b"\xff\xd8thumb"
    Meeting.objects.filter(pk=record.pk).update(status=Meeting.Status.SUBMITTED)
    c = client_for(client, supervisor)
    html = c.get(url("review_detail", record.pk)).content.decode()
    assert 'class="list-group-item small flag-record" data-status="confirmed" data-round="1"' in html
    assert "照片与其他会议重复" in html and "该材料已被支部删除" in html and "与 4 月照片相同" in html
    thumb = c.get(url("flag_record_thumbnail", kept.pk))
    assert thumb.status_code == 200 and thumb.content == b"\xff\xd8thumb"


@pytest.mark.django_db
@pytest.mark.parametrize("role", REFUSED)
def test_the_kept_thumbnail_is_refused_to_the_branchs_people_and_others(client, people, supervisor, record, role):
    flag = add_flag(record, "capture:1")
    integrity.flag_decide(flag=flag, confirm=True, reason="", user=supervisor, now=T_RETURN)
    review.review_return(meeting=record, comment="请补充", user=supervisor, now=T_RETURN)
    ReviewFlagRecord.objects.update(thumbnail=b"\xff\xd8")
    kept = ReviewFlagRecord.objects.get()

    response = client_for(client, people[role]).get(url("flag_record_thumbnail", kept.pk))

    assert response.status_code == REFUSED[role]


@pytest.mark.django_db
def test_open_flags_are_not_kept_with_the_round(record, supervisor):
    add_flag(record, "capture:1")
    review.review_return(meeting=record, comment="请补充", user=supervisor, now=T_RETURN)
    assert not ReviewFlagRecord.objects.exists()


# --- Raising a finding from the review page -------------------------------------------------------


@pytest.mark.django_db
def test_a_supervisor_raises_a_finding_from_the_review_page_with_branch_and_meeting_prefilled(
    client, supervisor, record
):
    c = client_for(client, supervisor)
    html = c.get(url("review_detail", record.pk)).content.decode()
    link = f"{url('finding_create')}?meeting={record.pk}"
    assert f'id="raise-finding" href="{link}"' in html

    form = c.get(link)

    assert form.context["branch"] == record.branch
    assert form.context["form"].initial["meeting"] == record.pk


@pytest.mark.django_db
def test_the_committee_reads_the_review_page_without_the_raise_button(client, committee, record):
    html = client_for(client, committee).get(url("review_detail", record.pk)).content.decode()
    assert 'id="raise-finding"' not in html
