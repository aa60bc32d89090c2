"""Minutes, attendance, agenda, votes, submit and leave through the pages, and the lock after approval."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import services
from meetings.models import AgendaItem, Attendance, LeaveRequest, Meeting, Vote
from tests.conftest import client_for
from tests.factories import MeetingFactory, member_with_login


def local(value):
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def url(name, meeting, *args):
    return reverse(f"meetings:{name}", args=[meeting.pk, *args])


@pytest.fixture
def c(client, secretary):
    return client_for(client, secretary)


@pytest.fixture
def notified(branch, secretary, member):
    meeting = MeetingFactory(branch=branch, types=["general_meeting"])
    return services.meeting_publish_notice(meeting=meeting, user=secretary, now=timezone.now())


def minutes_data(secretary, member, **overrides):
    start = timezone.now() - dt.timedelta(hours=3)
    data = {
        "actual_start": local(start),
        "actual_end": local(start + dt.timedelta(hours=1, minutes=30)),
        "place": "三楼党员活动室",
        "chair": secretary.member.pk,
        "recorder": member.member.pk,
        "guests": "矿工会主席",
        "resolutions": "同意年度党建工作计划。",
    }
    data.update(overrides)
    return data


@pytest.fixture
def held(c, notified, secretary, member):
    c.post(url("meeting_minutes", notified), minutes_data(secretary, member))
    notified.refresh_from_db()
    return notified


def attendance_data(meeting, statuses):
    """POST data of the attendance page: {member_id: status} for the rows of ``meeting``."""
    data = {"member_ids": ",".join(str(i) for i in sorted(meeting.attendances.values_list("member_id", flat=True)))}
    for member_id, status in statuses.items():
        data[f"status_{member_id}"] = status
    return data


# --- Minutes -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_recording_the_minutes_marks_the_meeting_held(c, notified, secretary, member):
    response = c.post(url("meeting_minutes", notified), minutes_data(secretary, member), follow=True)

    notified.refresh_from_db()
    assert notified.status == Meeting.Status.HELD
    assert (notified.chair, notified.recorder) == (secretary.member, member.member)
    assert "会议基本情况已保存。请继续登记出席情况和议题发言。" in messages_of(response)
    html = response.content.decode()
    assert "矿工会主席" in html and "同意年度党建工作计划。" in html


@pytest.mark.django_db
def test_minutes_that_end_before_they_start_are_refused(c, notified, secretary, member):
    data = minutes_data(secretary, member)
    data["actual_end"] = data["actual_start"]

    response = c.post(url("meeting_minutes", notified), data)

    assert response.context["form"].errors["actual_end"] == ["实际结束时间必须晚于开始时间。"]
    notified.refresh_from_db()
    assert notified.status == Meeting.Status.NOTIFIED


@pytest.mark.django_db
def test_minutes_cannot_be_entered_before_the_meeting_starts(c, notified, secretary, member):
    start = timezone.now() + dt.timedelta(hours=1)
    data = minutes_data(secretary, member, actual_start=local(start), actual_end=local(start + dt.timedelta(hours=1)))

    response = c.post(url("meeting_minutes", notified), data)

    assert response.context["form"].errors["actual_start"] == ["会议尚未开始，不能录入会议记录。"]


@pytest.mark.django_db
def test_a_make_up_meeting_counts_for_an_earlier_period_but_not_a_later_one(c, notified, secretary, member):
    held_on = timezone.localdate() - dt.timedelta(days=0)
    later = held_on + dt.timedelta(days=40)

    refused = c.post(url("meeting_minutes", notified), minutes_data(secretary, member, counts_for=later.isoformat()))
    c.post(url("meeting_minutes", notified), minutes_data(secretary, member, counts_for="2020-03-15"))

    assert refused.context["form"].errors["counts_for"] == ["归属期间不能晚于会议召开日期。"]
    notified.refresh_from_db()
    assert notified.counts_for == dt.date(2020, 3, 15)


# --- Attendance --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_attendance_page_lists_each_expected_member_with_full_or_probationary(c, branch, secretary, member):
    member_with_login(branch=branch, username="yubei", name="预备张", category="probationary")
    meeting = services.meeting_publish_notice(meeting=MeetingFactory(branch=branch), user=secretary, now=timezone.now())

    html = c.get(url("meeting_attendance", meeting)).content.decode()

    assert html.count('class="list-group-item attendance-row"') == 3
    assert "预备张" in html and "预备</span>" in html


@pytest.mark.django_db
def test_attendance_is_saved_and_counted(c, branch, held, secretary, member):
    # 请假 comes from leave approved before the start; its reason is the request's.
    shift = member_with_login(branch=branch, username="shift", name="当班的")
    LeaveRequest.objects.create(
        meeting=held,
        member=shift.member,
        reason="井下值班",
        status=LeaveRequest.Status.APPROVED,
        created_at=held.planned_start - dt.timedelta(hours=1),
    )
    services.meeting_sync_expected(meeting=held)
    data = attendance_data(
        held, {secretary.member.pk: "present", member.member.pk: "present", shift.member.pk: "leave"}
    )

    response = c.post(url("meeting_attendance", held), data, follow=True)

    assert "出席情况已保存：应到 3 人，实到 2 人，请假 1 人，缺席 0 人，未登记 0 人。" in messages_of(response)
    assert dict(held.attendances.values_list("member_id", "leave_reason")) == {
        secretary.member.pk: "",
        member.member.pk: "",
        shift.member.pk: "井下值班",
    }
    assert "当班的：请假（井下值班）" in response.content.decode()


@pytest.mark.django_db
def test_leave_without_an_approved_request_is_refused_and_not_offered(c, branch, held, secretary, member):
    other = member_with_login(branch=branch, username="other", name="没请假的")
    services.meeting_sync_expected(meeting=held)
    page = c.get(url("meeting_attendance", held))
    assert ("leave", "请假") not in page.context["form"].fields[f"status_{other.member.pk}"].choices

    data = attendance_data(
        held, {secretary.member.pk: "present", member.member.pk: "present", other.member.pk: "leave"}
    )
    response = c.post(url("meeting_attendance", held), data)

    assert response.context["form"].errors[f"status_{other.member.pk}"]
    assert set(held.attendances.values_list("status", flat=True)) == {""}


@pytest.mark.django_db
def test_when_the_expected_list_changed_since_loading_nothing_is_saved_and_the_input_is_kept(
    c, branch, held, secretary, member
):
    data = attendance_data(held, {secretary.member.pk: "present", member.member.pk: "late"})
    # Meanwhile a member joins the branch (backdated) and the list is refreshed.
    newcomer = member_with_login(branch=branch, username="newcomer", name="新来的")
    services.meeting_sync_expected(meeting=held)

    response = c.post(url("meeting_attendance", held), data)

    errors = response.context["form"].non_field_errors()
    assert errors[0].startswith("您打开本页后，应到名单发生了变化；新增：新来的。本次没有保存")
    assert set(held.attendances.values_list("status", flat=True)) == {""}
    html = response.content.decode()
    assert '<option value="late" selected>' in html  # what the user chose is still there
    assert f'data-member="{newcomer.member.pk}"' in html
    # Saving the page as shown now works.
    form_data = response.context["form"].data
    assert form_data["member_ids"] == ",".join(
        str(i) for i in sorted(held.attendances.values_list("member_id", flat=True))
    )


@pytest.mark.django_db
def test_a_member_who_left_is_named_when_the_list_shrank(c, branch, held, secretary, member):
    extra = member_with_login(branch=branch, username="leaver", name="调走的")
    services.meeting_sync_expected(meeting=held)
    data = attendance_data(held, {secretary.member.pk: ("present", "")})
    extra.member.memberships.update(ended_on=dt.date(2020, 6, 1))
    services.meeting_sync_expected(meeting=held)

    response = c.post(url("meeting_attendance", held), data)

    assert "移出：调走的" in response.context["form"].non_field_errors()[0]


# --- Agenda and speeches -----------------------------------------------------------------------


def agenda_data(items, speeches):
    data = {
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": "0",
        "speeches-TOTAL_FORMS": str(len(speeches)),
        "speeches-INITIAL_FORMS": "0",
    }
    for i, title in enumerate(items):
        data[f"items-{i}-title"] = title
    for i, (item, speaker, points, dissent) in enumerate(speeches):
        data.update({f"speeches-{i}-item": item, f"speeches-{i}-speaker": speaker, f"speeches-{i}-points": points})
        if dissent:
            data[f"speeches-{i}-dissent"] = "on"
    return data


@pytest.mark.django_db
def test_agenda_items_and_speeches_are_saved_in_order_with_dissent(c, held, secretary, member):
    data = agenda_data(
        ["传达安全生产文件", "", "讨论年度计划"],
        [
            (3, member.member.pk, "建议增加井下安全培训。", True),
            (1, secretary.member.pk, "要抓好安全。", False),
            ("", "", "", False),
        ],
    )

    response = c.post(url("meeting_agenda", held), data, follow=True)

    assert "议题及发言已保存（2 项议题）。" in messages_of(response)
    items = list(AgendaItem.objects.filter(meeting=held).prefetch_related("speeches"))
    assert [(i.order, i.title) for i in items] == [(1, "传达安全生产文件"), (2, "讨论年度计划")]
    assert [(s.speaker_id, s.dissent) for s in items[1].speeches.all()] == [(member.member.pk, True)]
    assert "不同意见" in response.content.decode()
    # The page opens again with what was saved.
    again = c.get(url("meeting_agenda", held))
    assert [row["title"] for row in again.context["items_fs"].initial] == ["传达安全生产文件", "讨论年度计划"]
    # Each row carries its item's id, so that saving again rewrites the same item (a 议定事项 keeps its task).
    assert [row["item_id"] for row in again.context["items_fs"].initial] == [i.pk for i in items]


@pytest.mark.django_db
def test_a_speech_on_a_missing_item_or_without_points_is_refused(c, held, secretary, member):
    data = agenda_data(["传达文件"], [(2, secretary.member.pk, "发言", False), (1, member.member.pk, "", False)])

    response = c.post(url("meeting_agenda", held), data)

    forms = response.context["speeches_fs"].forms
    assert forms[0].errors["item"] == ["没有第 2 项议题（或该议题为空、已删除）。"]
    assert forms[1].errors["points"] == ["请填写发言要点。"]
    assert not AgendaItem.objects.filter(meeting=held).exists()


# --- Votes -------------------------------------------------------------------------------------


@pytest.fixture
def attended(held, secretary, member):
    services.attendance_record(
        meeting=held,
        user=secretary,
        now=timezone.now(),
        entries={secretary.member.pk: "present", member.member.pk: "present"},
    )
    return held


def vote_token(c, meeting):
    return c.get(url("meeting_votes", meeting)).context["form"].initial["form_token"]


@pytest.mark.django_db
def test_a_vote_is_recorded_with_its_result(c, attended):
    data = {
        "kind": "motion",
        "motion": "年度计划",
        "yes": 2,
        "no": 0,
        "abstain": 0,
        "form_token": vote_token(c, attended),
    }

    response = c.post(url("meeting_votes", attended), data, follow=True)

    assert "表决“年度计划”已记录：通过。" in messages_of(response)
    assert "应到 2 / 实到 2" in response.content.decode()


@pytest.mark.django_db
def test_an_impossible_count_is_refused_with_the_reason_and_nothing_is_saved(c, attended):
    data = {
        "kind": "motion",
        "motion": "年度计划",
        "yes": 3,
        "no": 0,
        "abstain": 0,
        "form_token": vote_token(c, attended),
    }

    response = c.post(url("meeting_votes", attended), data)

    assert response.context["form"].non_field_errors() == [
        "赞成、反对、弃权合计 3 票，超过了到会有表决权的正式党员 2 人（预备党员没有表决权）。"
    ]
    assert not Vote.objects.exists()


@pytest.mark.django_db
def test_an_election_without_a_candidate_is_refused_on_the_candidate_field(c, attended):
    data = {"kind": "election", "motion": "选举支部书记", "yes": 2, "no": 0, "abstain": 0}
    data["form_token"] = vote_token(c, attended)

    response = c.post(url("meeting_votes", attended), data)

    assert response.context["form"].errors["candidate"] == ["选举须从本支部党员中逐个选择候选人，一人一表决。"]


@pytest.mark.django_db
def test_submitting_the_same_vote_form_twice_records_one_vote(c, attended):
    data = {
        "kind": "motion",
        "motion": "年度计划",
        "yes": 2,
        "no": 0,
        "abstain": 0,
        "form_token": vote_token(c, attended),
    }

    c.post(url("meeting_votes", attended), data)
    second = c.post(url("meeting_votes", attended), data, follow=True)

    assert Vote.objects.count() == 1
    assert "该表决已经记录过，没有重复记录。" in messages_of(second)


@pytest.mark.django_db
def test_a_vote_is_deleted_while_the_record_is_editable(c, attended, secretary):
    vote = services.vote_record(
        meeting=attended, kind="motion", motion="年度计划", yes=2, no=0, abstain=0, user=secretary, now=timezone.now()
    )

    response = c.post(url("vote_delete", attended, vote.pk), follow=True)

    assert "表决“年度计划”已删除。" in messages_of(response)
    assert not Vote.objects.exists()


# --- Submit ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_detail_page_lists_what_still_keeps_the_record_from_being_submitted(c, held):
    html = c.get(url("meeting_detail", held)).content.decode()

    assert "提交前检查" in html
    assert "缺少议题及发言要点。" in html
    assert "不等于应到 2 人（还有 2 人未登记）" in html
    assert 'id="submit-record"' not in html


@pytest.mark.django_db
def test_a_record_whose_attendance_does_not_add_up_is_not_submitted(c, held):
    response = c.post(url("meeting_submit", held), follow=True)

    assert any("不等于应到 2 人" in m for m in messages_of(response))
    held.refresh_from_db()
    assert held.status == Meeting.Status.HELD


@pytest.mark.django_db
def test_a_complete_record_is_submitted_once(c, attended, secretary):
    services.meeting_save_agenda(
        meeting=attended,
        user=secretary,
        now=timezone.now(),
        items=[services.AgendaItemData(title="学习文件", speeches=[services.SpeechData(secretary.member, "要抓安全")])],
    )
    assert 'id="submit-record"' in c.get(url("meeting_detail", attended)).content.decode()

    first = c.post(url("meeting_submit", attended), follow=True)
    second = c.post(url("meeting_submit", attended), follow=True)

    assert "会议记录已提交，等待审核。" in messages_of(first)
    assert "该会议记录已提交，正在等待审核。" in messages_of(second)
    attended.refresh_from_db()
    assert attended.status == Meeting.Status.SUBMITTED
    assert ">已提交</span>" in second.content.decode()


# --- Leave -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_member_asks_for_leave_and_the_secretary_approves_it(client, notified, secretary, member):
    mc = client_for(client, member)
    detail = mc.get(url("meeting_detail", notified)).content.decode()
    assert 'id="request-leave"' in detail

    asked = mc.post(url("leave_create", notified), {"reason": "井下值班"}, follow=True)
    again = mc.post(url("leave_create", notified), {"reason": "井下值班"})

    assert "请假申请已提交，等待书记审批。" in messages_of(asked)
    assert "您已为本次会议提交过请假申请。" in again.context["form"].non_field_errors()
    leave = LeaveRequest.objects.get()

    sc = client_for(client, secretary)
    decided = sc.post(reverse("meetings:leave_decide", args=[leave.pk]), {"decision": "approve"}, follow=True)

    assert "已批准 李党员 的请假申请。" in messages_of(decided)
    assert Attendance.objects.get(meeting=notified, member=member.member).status == Attendance.Status.LEAVE
    twice = sc.post(reverse("meetings:leave_decide", args=[leave.pk]), {"decision": "refuse"}, follow=True)
    assert "该请假申请已处理。" in messages_of(twice)


@pytest.mark.django_db
def test_a_member_withdraws_leave_before_the_meeting_but_not_after_it_is_held(client, notified, secretary, member):
    now = timezone.now()
    leave = services.leave_request(meeting=notified, member=member.member, reason="出差", now=now)
    services.leave_decide(leave=leave, approve=True, user=secretary, now=now)
    mc = client_for(client, member)

    response = mc.post(reverse("meetings:leave_withdraw", args=[leave.pk]), follow=True)

    assert "请假申请已撤回。" in messages_of(response)
    assert Attendance.objects.get(meeting=notified, member=member.member).status == ""

    second = services.leave_request(meeting=notified, member=member.member, reason="出差", now=now)
    services.leave_decide(leave=second, approve=True, user=secretary, now=now)
    start = now - dt.timedelta(hours=2)
    services.meeting_record_minutes(
        meeting=notified,
        user=secretary,
        now=now,
        actual_start=start,
        actual_end=start + dt.timedelta(hours=1),
        place="活动室",
        chair=secretary.member,
        recorder=secretary.member,
    )
    late = mc.post(reverse("meetings:leave_withdraw", args=[second.pk]), follow=True)

    assert "会议已召开或已取消，不能再撤回请假申请。" in messages_of(late)
    assert Attendance.objects.get(meeting=notified, member=member.member).status == Attendance.Status.LEAVE


@pytest.mark.django_db
def test_leave_is_not_asked_once_the_meeting_has_started(client, branch, secretary, member):
    meeting = MeetingFactory(
        branch=branch, status=Meeting.Status.NOTIFIED, planned_start=timezone.now() - dt.timedelta(minutes=5)
    )
    services.meeting_sync_expected(meeting=meeting)
    mc = client_for(client, member)

    assert 'id="request-leave"' not in mc.get(url("meeting_detail", meeting)).content.decode()
    response = mc.post(url("leave_create", meeting), {"reason": "迟到"})

    assert response.context["form"].non_field_errors() == ["请假须在会议开始前提出；会议开始后未到会的记为缺席。"]
    assert not LeaveRequest.objects.exists()


@pytest.mark.django_db
def test_someone_else_cannot_withdraw_a_members_leave(client, notified, branch, member):
    other = member_with_login(branch=branch, username="other", name="别人")
    leave = services.leave_request(meeting=notified, member=member.member, reason="出差", now=timezone.now())

    response = client_for(client, other).post(reverse("meetings:leave_withdraw", args=[leave.pk]))

    assert response.status_code == 403
    leave.refresh_from_db()
    assert leave.status == LeaveRequest.Status.PENDING


# --- The lock after approval -------------------------------------------------------------------


@pytest.fixture
def approved(attended, secretary, member):
    vote = services.vote_record(
        meeting=attended, kind="motion", motion="年度计划", yes=2, no=0, abstain=0, user=secretary, now=timezone.now()
    )
    Meeting.objects.filter(pk=attended.pk).update(status=Meeting.Status.APPROVED)
    attended.refresh_from_db()
    attended.the_vote = vote
    return attended


def locked_state(meeting):
    m = Meeting.objects.get(pk=meeting.pk)
    return (
        m.status,
        m.topic,
        m.place,
        m.resolutions,
        m.actual_start,
        sorted(m.attendances.values_list("member_id", "status", "leave_reason")),
        list(m.agenda_items.values_list("title", flat=True)),
        list(m.votes.values_list("pk", "yes")),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "page",
    ["meeting_minutes", "meeting_agenda", "meeting_attendance", "meeting_votes", "meeting_edit", "meeting_cancel"],
)
def test_a_locked_record_opens_no_edit_page(c, approved, page):
    response = c.get(url(page, approved), follow=True)

    assert response.redirect_chain[-1][0] == url("meeting_detail", approved)
    assert {
        services.LOCKED_MESSAGE,
        "会议已召开或已取消，计划不能再修改。",
        "只有尚未召开的会议可以取消。",
    } & set(messages_of(response))


@pytest.mark.django_db
def test_every_write_to_a_locked_record_is_refused_and_changes_nothing(c, approved, secretary, member):
    before = locked_state(approved)
    writes = [
        (url("meeting_minutes", approved), minutes_data(secretary, member, place="改过的地点", resolutions="改过")),
        (url("meeting_attendance", approved), attendance_data(approved, {member.member.pk: ("absent", "")})),
        (url("meeting_agenda", approved), agenda_data(["补写的议题"], [])),
        (url("meeting_votes", approved), {"kind": "motion", "motion": "补录", "yes": 2, "no": 0, "abstain": 0}),
        (url("vote_delete", approved, approved.the_vote.pk), {}),
        (url("meeting_edit", approved), {"topic": "改过的主题"}),
        (url("meeting_cancel", approved), {"reason": "不要了"}),
        (url("meeting_publish", approved), {}),
        (url("meeting_submit", approved), {}),
    ]
    for target, data in writes:
        if target.endswith("/votes/"):
            data["form_token"] = vote_token_for_locked(c, approved)
        response = c.post(target, data, follow=True)
        html = response.content.decode()
        assert any(
            s in html
            for s in (
                services.LOCKED_MESSAGE,
                "计划不能再修改",
                "只有尚未召开的会议可以取消",
                "通知已发布",
                "请先录入会议记录再提交",
            )
        ), target
    assert locked_state(approved) == before
    html = c.get(url("meeting_detail", approved)).content.decode()
    assert "会议记录已审核通过，已锁定，不能再修改。" in html
    assert "录入会议记录" not in html and 'id="submit-record"' not in html


def vote_token_for_locked(c, meeting):
    # The votes page of a locked record redirects, so the token comes from the session as a stale page would have it.
    session = c.session
    tokens = session.get("meetings_form_tokens", {})
    tokens["locked-token"] = {"purpose": f"vote:{meeting.pk}", "result": None}
    session["meetings_form_tokens"] = tokens
    session.save()
    return "locked-token"
