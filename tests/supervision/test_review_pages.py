"""The review queue and the review page: who may use them, the decisions through the forms, filters, queries."""

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from meetings.models import Meeting
from org.models import StaffRole
from supervision.models import Evidence, Flag, Review, ReviewFlagRecord
from supervision.selectors.review import latest_return
from supervision.services import review
from tests.conftest import client_for
from tests.factories import BranchFactory, staff_user

from .conftest import local, meeting_held
from .test_review_services import START, T_APPROVE, T_RETURN, submitted_record


@pytest.fixture
def committee(db):
    """A 党委委员: reads the review pages, decides nothing."""
    return staff_user(username="committee", role=StaffRole.Role.COMMITTEE)


@pytest.fixture
def record(branch, secretary, member):
    return submitted_record(branch, secretary, member)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def url(name, *args):
    return reverse(f"supervision:{name}", args=args)


def add_evidence(meeting, n, *, status=Evidence.Status.READY, **fields):
    ready = status == Evidence.Status.READY
    values = {
        "meeting": meeting,
        "category": Evidence.Category.PHOTO,
        "kind": Evidence.Kind.IMAGE,
        "content_type": "image/jpeg",
        "original_name": f"DSCN{n:04d}.JPG",
        "size": 2_000_000,
        "sha256": f"{meeting.pk:032x}{n:032x}",
        "original": f"originals/{meeting.pk}-{n}.jpg",
        "file": f"files/{meeting.pk}-{n}.jpg" if ready else "",
        "thumbnail": f"thumbs/{meeting.pk}-{n}.jpg" if ready else "",
        "status": status,
        "uploaded_at": START + dt.timedelta(hours=2),
        "captured_at": START + dt.timedelta(minutes=n) if ready else None,
        "gps_latitude": "35.412345" if ready else None,
        "gps_longitude": "116.587654" if ready else None,
        "camera": "NIKON COOLPIX P6000" if ready else "",
        "width": 4224 if ready else None,
        "height": 3168 if ready else None,
    }
    values.update(fields)
    return Evidence.objects.create(**values)


def add_flag(
    meeting,
    key,
    *,
    evidence=None,
    kind=Flag.Kind.CAPTURE_TIME,
    message="照片拍摄时间不在会议时间内",
    **fields,
):
    return Flag.objects.create(
        meeting=meeting,
        evidence=evidence,
        kind=kind,
        key=key,
        message=message,
        created_at=START + dt.timedelta(hours=4),
        **fields,
    )


def record_state(meeting):
    m = Meeting.objects.get(pk=meeting.pk)
    return (
        m.status,
        m.submitted_at,
        list(Review.objects.filter(meeting=m).values_list("action", "round", "comment")),
        list(Flag.objects.filter(meeting=m).values_list("pk", "status", "decision_reason")),
        m.history.count(),
    )


# --- Who may do what --------------------------------------------------------------------------

REFUSED = {"secretary": 403, "member": 403, "other_secretary": 404}


def requests_for(meeting, flag):
    """Every review view with the data a supervisor would send."""
    return {
        "queue": ("get", url("review_queue"), {}),
        "detail": ("get", url("review_detail", meeting.pk), {}),
        "approve": ("post", url("review_approve", meeting.pk), {"seen_round": 1}),
        "return": ("post", url("review_return", meeting.pk), {"comment": "请补充", "seen_round": 1}),
        "reopen": ("post", url("review_reopen", meeting.pk), {"reason": "抽查"}),
        "flag_decide": ("post", url("flag_decide", flag.pk), {"decision": "dismiss", "reason": "核实无误"}),
    }


VIEWS = ["queue", "detail", "approve", "return", "reopen", "flag_decide"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", REFUSED)
@pytest.mark.parametrize("view", VIEWS)
def test_the_branchs_people_and_other_branches_are_refused_every_review_view(client, people, record, role, view):
    flag = add_flag(record, "capture:1")
    before = record_state(record)
    method, target, data = requests_for(record, flag)[view]
    expected = REFUSED[role]
    if view == "queue":
        expected = 403  # the queue is nobody's branch page

    response = getattr(client_for(client, people[role]), method)(target, data)

    assert response.status_code == expected
    assert record_state(record) == before


@pytest.mark.django_db
@pytest.mark.parametrize("view", VIEWS)
def test_anonymous_is_sent_to_sign_in_by_every_review_view(client, record, view):
    flag = add_flag(record, "capture:1")
    before = record_state(record)
    method, target, data = requests_for(record, flag)[view]

    response = getattr(client, method)(target, data)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert record_state(record) == before


@pytest.mark.django_db
@pytest.mark.parametrize("view", ["approve", "return", "reopen", "flag_decide"])
def test_the_committee_reads_the_review_pages_but_decides_nothing(client, committee, record, view):
    flag = add_flag(record, "capture:1")
    c = client_for(client, committee)
    assert c.get(url("review_queue")).status_code == 200
    page = c.get(url("review_detail", record.pk))
    html = page.content.decode()
    assert page.status_code == 200
    assert "照片拍摄时间不在会议时间内" in html
    assert 'id="approve"' not in html and 'id="return-form"' not in html
    assert url("flag_decide", flag.pk) not in html
    before = record_state(record)
    method, target, data = requests_for(record, flag)[view]

    assert getattr(c, method)(target, data).status_code == 403
    assert record_state(record) == before


@pytest.mark.django_db
def test_a_supervisor_sees_the_queue_and_the_decision_forms(client, supervisor, record):
    c = client_for(client, supervisor)

    queue = c.get(url("review_queue")).content.decode()
    detail = c.get(url("review_detail", record.pk)).content.decode()

    assert url("review_detail", record.pk) in queue
    assert 'id="approve"' in detail and 'id="return-form"' in detail
    assert 'name="seen_round" value="1"' in detail
    assert 'id="reopen-form"' not in detail


# --- Decisions through the forms --------------------------------------------------------------


@pytest.mark.django_db
def test_approving_through_the_page_locks_the_record_and_a_second_click_does_nothing(client, supervisor, record):
    c = client_for(client, supervisor)

    first = c.post(url("review_approve", record.pk), {"seen_round": 1}, follow=True)
    second = c.post(url("review_approve", record.pk), {"seen_round": 1}, follow=True)

    assert first.redirect_chain[-1][0] == url("review_queue")
    assert f"“{record.topic}”已审核通过，会议记录及佐证材料已锁定。" in messages_of(first)
    assert second.redirect_chain[-1][0] == url("review_detail", record.pk)
    assert messages_of(second) == ["该记录已被审核。"]
    record.refresh_from_db()
    assert record.status == Meeting.Status.APPROVED
    assert Review.objects.filter(meeting=record).count() == 1
    assert 'id="reopen-form"' in second.content.decode() and 'id="approve"' not in second.content.decode()


@pytest.mark.django_db
def test_returning_without_a_comment_shows_the_form_again_and_changes_nothing(client, supervisor, record):
    c = client_for(client, supervisor)
    before = record_state(record)

    response = c.post(url("review_return", record.pk), {"comment": "  ", "seen_round": 1})

    assert response.status_code == 200
    assert response.context["return_form"].errors["comment"] == ["退回须填写意见，说明需要修改什么。"]
    assert "退回须填写意见，说明需要修改什么。" in response.content.decode()
    assert record_state(record) == before


@pytest.mark.django_db
def test_returning_with_a_comment_sends_the_record_back_and_shows_the_round_in_the_history(
    client, supervisor, record, secretary
):
    c = client_for(client, supervisor)

    response = c.post(url("review_return", record.pk), {"comment": "缺少签到表。", "seen_round": 1}, follow=True)

    assert f"“{record.topic}”已退回修改，已通知支部书记和记录人。" in messages_of(response)
    record.refresh_from_db()
    assert record.status == Meeting.Status.RETURNED
    detail = c.get(url("review_detail", record.pk)).content.decode()
    assert "该记录已退回，等待支部修改后重新提交。" in detail
    assert 'data-kind="return"' in detail and "缺少签到表。" in detail
    assert 'id="approve"' not in detail


@pytest.mark.django_db
def test_a_return_from_a_page_older_than_the_resubmission_is_refused(client, supervisor, secretary, record):
    from meetings import services as meetings

    review.review_return(meeting=record, comment="请补充", user=supervisor, now=T_RETURN)
    meetings.meeting_submit(meeting=record, user=secretary, now=T_RETURN + dt.timedelta(days=1))
    c = client_for(client, supervisor)

    response = c.post(url("review_return", record.pk), {"comment": "旧页面的意见", "seen_round": 1}, follow=True)

    assert messages_of(response) == [review.STALE_ROUND]
    record.refresh_from_db()
    assert record.status == Meeting.Status.SUBMITTED
    assert 'name="seen_round" value="2"' in response.content.decode()


@pytest.mark.django_db
def test_reopening_needs_a_reason_and_puts_the_record_back_in_the_queue(client, supervisor, record):
    review.review_approve(meeting=record, user=supervisor, now=T_APPROVE)
    c = client_for(client, supervisor)
    assert url("review_detail", record.pk) not in c.get(url("review_queue")).content.decode()

    refused = c.post(url("review_reopen", record.pk), {"reason": ""})
    assert refused.context["reopen_form"].errors["reason"] == ["抽查重开须填写理由。"]
    record.refresh_from_db()
    assert record.status == Meeting.Status.APPROVED

    done = c.post(url("review_reopen", record.pk), {"reason": "群众反映会议未实际召开"}, follow=True)
    assert "已抽查重开，该记录回到审核队列；审核期间支部不能修改。" in messages_of(done)
    record.refresh_from_db()
    assert record.status == Meeting.Status.SUBMITTED
    assert url("review_detail", record.pk) in c.get(url("review_queue")).content.decode()
    assert "群众反映会议未实际召开" in done.content.decode()


@pytest.mark.django_db
def test_the_review_pages_refuse_get_on_the_decision_urls(client, supervisor, record):
    c = client_for(client, supervisor)
    for name in ("review_approve", "review_return", "review_reopen"):
        assert c.get(url(name, record.pk)).status_code == 405
    record.refresh_from_db()
    assert record.status == Meeting.Status.SUBMITTED


# --- The detail page's content ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_detail_shows_minutes_attendance_gallery_and_flags_in_plain_chinese(
    client, supervisor, record, other_branch
):
    Meeting.objects.filter(pk=record.pk).update(latitude="35.412000", longitude="116.588000")
    ready = add_evidence(record, 1)
    add_evidence(record, 2, status=Evidence.Status.PROCESSING)
    elsewhere = meeting_held(other_branch, start=local(2026, 4, 20, 15), topic="四月主题党日")
    add_flag(
        record,
        "dup:1",
        evidence=ready,
        kind=Flag.Kind.DUPLICATE_PHOTO,
        message="此照片与 掘进二队党支部 2026-04 的会议照片相同",
        related_meeting=elsewhere,
    )

    html = client_for(client, supervisor).get(url("review_detail", record.pk)).content.decode()

    assert "三楼党员活动室" in html and "35.412000, 116.588000" in html
    assert "传达安全生产会议精神" in html and "井下作业必须落实手指口述。" in html
    assert "同意年度党建工作计划。" in html
    assert 'data-count="expected">2<' in html and 'data-count="present">2<' in html
    assert f'src="{url("evidence_thumbnail", ready.pk)}"' in html
    assert f'href="{url("evidence_file", ready.pk)}"' in html
    assert "2026-05-12 09:01" in html and "35.412345, 116.587654" in html and "NIKON COOLPIX P6000" in html
    assert html.count('class="text-center py-4 bg-light text-muted evidence-processing"') == 1
    assert "此照片与 掘进二队党支部 2026-04 的会议照片相同" in html
    assert f'href="{url("review_detail", elsewhere.pk)}" class="related-meeting"' in html
    assert f'href="#flag-{Flag.objects.get().pk}"' in html  # the photo points at its flag
    assert url("flag_decide", Flag.objects.get().pk) in html


@pytest.mark.django_db
def test_a_speech_with_dissent_and_the_votes_show_on_the_review_page(client, branch, secretary, member, supervisor):
    from meetings import services as meetings

    meeting = submitted_record(branch, secretary, member)
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.HELD)
    meetings.meeting_save_agenda(
        meeting=meeting,
        user=secretary,
        now=START + dt.timedelta(hours=4),
        items=[
            meetings.AgendaItemData(
                title="讨论发展对象",
                speeches=[meetings.SpeechData(speaker=member.member, points="建议延后考察。", dissent=True)],
            )
        ],
    )
    meetings.vote_record(
        meeting=meeting,
        kind="motion",
        motion="年度计划",
        yes=2,
        no=0,
        abstain=0,
        user=secretary,
        now=START + dt.timedelta(hours=4),
    )
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.SUBMITTED)

    html = client_for(client, supervisor).get(url("review_detail", meeting.pk)).content.decode()

    assert '李党员：建议延后考察。 <span class="badge bg-warning text-dark">不同意见</span>' in html
    assert "一般表决：年度计划：赞成 2，反对 0，弃权 0" in html and "<strong>通过</strong>" in html


@pytest.mark.django_db
def test_the_branch_sees_the_latest_return_comment_through_the_include(record, supervisor):
    review.review_return(meeting=record, comment="请补充会议照片。", user=supervisor, now=T_RETURN)
    record.refresh_from_db()

    html = render_to_string(
        "supervision/_review_comments.html", {"meeting": record, "latest_return": latest_return(record)}
    )

    assert "会议记录被退回修改（第 1 轮审核）" in html
    assert "请补充会议照片。" in html and "supervisor · 2026-05-14 10:00" in html
    record.status = Meeting.Status.SUBMITTED
    assert (
        render_to_string(
            "supervision/_review_comments.html", {"meeting": record, "latest_return": latest_return(record)}
        ).strip()
        == ""
    )


# --- The queue's filters ----------------------------------------------------------------------


@pytest.fixture
def queue(branch, other_branch):
    """Submitted records of two branches in May and June, one with an open flag, one already approved."""
    may = meeting_held(branch, start=local(2026, 5, 6, 9), topic="五月党员大会")
    june_theme = meeting_held(
        other_branch, start=local(2026, 6, 3, 9), topic="六月主题党日", types=("theme_day", "general_meeting")
    )
    june_lesson = meeting_held(branch, start=local(2026, 6, 20, 9), topic="六月党课", types=("party_lesson",))
    meeting_held(branch, start=local(2026, 5, 2, 9), topic="已通过的会议", status="approved")
    meeting_held(branch, start=local(2026, 5, 3, 9), topic="尚未提交的会议", status="held")
    add_flag(june_theme, "late", kind=Flag.Kind.LATE_ENTRY, message="会后 10 天才录入记录")
    add_flag(may, "dismissed", status=Flag.Status.DISMISSED, decision_reason="核实无误")
    return {"may": may, "june_theme": june_theme, "june_lesson": june_lesson}


def topics(response):
    return [m.topic for m in response.context["page"].object_list]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["五月党员大会", "六月主题党日", "六月党课"]),
        ({"type": "theme_day"}, ["六月主题党日"]),
        ({"type": "general_meeting"}, ["五月党员大会", "六月主题党日"]),
        ({"year": "2026", "period": "m5"}, ["五月党员大会"]),
        ({"year": "2026", "period": "q2"}, ["五月党员大会", "六月主题党日", "六月党课"]),
        ({"year": "2026", "period": "q3"}, []),
        ({"year": "2025"}, []),
        ({"flags": "open"}, ["六月主题党日"]),
        ({"flags": "none"}, ["五月党员大会", "六月党课"]),
        ({"year": "abc", "flags": "open"}, ["六月主题党日"]),  # a bad value is ignored, the rest kept
    ],
)
def test_the_queue_filters_by_type_period_and_open_flags(client, supervisor, queue, params, expected):
    response = client_for(client, supervisor).get(url("review_queue"), params)

    assert topics(response) == expected


@pytest.mark.django_db
def test_the_queue_filters_by_branch_and_shows_the_counts(client, supervisor, queue, other_branch):
    add_evidence(queue["june_theme"], 1)
    add_evidence(queue["june_theme"], 2, status=Evidence.Status.PROCESSING)
    c = client_for(client, supervisor)

    response = c.get(url("review_queue"), {"branch": other_branch.pk})

    assert topics(response) == ["六月主题党日"]
    [row] = response.context["page"].object_list
    assert (row.evidence_count, row.open_flag_count) == (2, 1)
    html = response.content.decode()
    assert 'data-count="evidence">2<' in html
    assert '<span class="badge bg-warning text-dark">1</span>' in html


@pytest.mark.django_db
def test_the_queue_puts_the_oldest_submission_first_and_pages_by_twenty(client, supervisor, branch):
    for day in range(25, 0, -1):
        meeting_held(branch, start=local(2026, 3, day, 9), topic=f"三月{day:02d}日")
    c = client_for(client, supervisor)

    first = c.get(url("review_queue"))
    second = c.get(url("review_queue"), {"page": 2})

    assert topics(first) == [f"三月{d:02d}日" for d in range(1, 21)]
    assert topics(second) == [f"三月{d:02d}日" for d in range(21, 26)]
    assert "第 1 页，共 25 条" in first.content.decode()


# --- Query counts -----------------------------------------------------------------------------

# Every page: session read and save (3 with its savepoint), user, scope (2 for a login without a
# member), inbox badge and the navbar's member name: 9. The queue adds the type choices (the
# branch is a search box, no choices), the count, the page with its counts, the page's types, and the meeting policy
# (the notice rule's days, for each row's notice warning).
QUEUE_QUERIES = 11
# The detail adds the meeting, types, theme tags, attendances, agenda items, speeches, votes,
# evidence, flags, reviews, the committee of the summary, the history of the rounds, the notice's
# recipients and the flag decisions kept with the rounds: 14.
DETAIL_QUERIES = 20


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 50])
def test_the_queue_makes_the_same_queries_for_1_or_50_records(
    client, supervisor, branch, other_branch, django_assert_num_queries, count
):
    for i in range(count):
        m = meeting_held(
            BranchFactory() if i % 3 == 0 else (branch if i % 2 else other_branch),
            start=local(2026, 5, 1 + i % 28, 9),
            types=("general_meeting", "theme_day"),
        )
        add_evidence(m, 1)
        add_flag(m, "late")
    c = client_for(client, supervisor)

    with django_assert_num_queries(QUEUE_QUERIES):
        response = c.get(url("review_queue"), {"flags": "open", "year": "2026", "period": "q2"})

    assert len(response.context["page"].object_list) == min(count, 20)


@pytest.mark.django_db
@pytest.mark.parametrize("items", [1, 12])
def test_the_detail_makes_the_same_queries_for_few_or_many_photos_flags_and_speeches(
    client, branch, other_branch, secretary, member, supervisor, django_assert_num_queries, items
):
    from meetings import services as meetings

    meeting = submitted_record(branch, secretary, member)
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.HELD)
    meetings.meeting_save_agenda(
        meeting=meeting,
        user=secretary,
        now=START + dt.timedelta(hours=4),
        items=[
            meetings.AgendaItemData(
                title=f"议题{i}",
                speeches=[
                    meetings.SpeechData(speaker=secretary.member, points=f"发言{i}"),
                    meetings.SpeechData(speaker=member.member, points=f"补充{i}", dissent=True),
                ],
            )
            for i in range(items)
        ],
    )
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.SUBMITTED)
    review.review_return(meeting=meeting, comment="请补充", user=supervisor, now=T_RETURN)
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.SUBMITTED)
    for i in range(items):
        photo = add_evidence(meeting, i, status=Evidence.Status.READY if i % 2 else Evidence.Status.PROCESSING)
        other = meeting_held(BranchFactory(), start=local(2026, 4, 1 + i, 9))
        add_flag(meeting, f"dup:{i}", evidence=photo, kind=Flag.Kind.DUPLICATE_PHOTO, related_meeting=other)
        add_flag(
            meeting,
            f"decided:{i}",
            evidence=photo,
            status=Flag.Status.DISMISSED,
            decided_by=supervisor,
            decided_at=T_RETURN,
            decision_reason="核实无误",
        )
    # Decisions kept with the first round, as many as the items.
    returned = Review.objects.get(meeting=meeting, action=Review.Action.RETURN)
    ReviewFlagRecord.objects.bulk_create(
        ReviewFlagRecord(
            review=returned, kind=Flag.Kind.CAPTURE_TIME, message=f"旧提示{i}", status=Flag.Status.CONFIRMED
        )
        for i in range(items)
    )
    c = client_for(client, supervisor)

    with django_assert_num_queries(DETAIL_QUERIES):
        response = c.get(url("review_detail", meeting.pk))

    html = response.content.decode()
    assert html.count('class="list-group-item flag"') == 2 * items
    assert html.count('class="list-group-item small flag-record"') == items
    assert html.count('class="speech"') == 2 * items
    assert html.count('class="col-6 col-md-4" id="evidence-') == items


# --- Decisions on flags -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_supervisor_dismisses_a_flag_only_with_a_reason_and_the_reason_is_kept(client, supervisor, record):
    flag = add_flag(record, "capture:1")
    c = client_for(client, supervisor)
    target = url("flag_decide", flag.pk)

    refused = c.post(target, {"decision": "dismiss", "reason": " "}, follow=True)
    flag.refresh_from_db()
    assert "排除提示须填写理由。" in messages_of(refused)
    assert flag.status == Flag.Status.OPEN

    done = c.post(target, {"decision": "dismiss", "reason": "照片为相机时钟未校准，已核实"}, follow=True)

    assert done.redirect_chain[-1][0] == f"{url('review_detail', record.pk)}#flag-{flag.pk}"
    assert "已排除该提示，理由已记录。" in messages_of(done)
    flag.refresh_from_db()
    assert (flag.status, flag.decided_by, flag.decision_reason) == (
        Flag.Status.DISMISSED,
        supervisor,
        "照片为相机时钟未校准，已核实",
    )
    html = done.content.decode()
    assert "已排除：照片为相机时钟未校准，已核实" in html
    assert target not in html  # decided: no more buttons


@pytest.mark.django_db
def test_a_supervisor_confirms_a_flag_without_a_reason(client, supervisor, record):
    flag = add_flag(record, "late", kind=Flag.Kind.LATE_ENTRY, message="会后 10 天才录入记录")

    response = client_for(client, supervisor).post(url("flag_decide", flag.pk), {"decision": "confirm"}, follow=True)

    assert "已确认该提示。" in messages_of(response)
    flag.refresh_from_db()
    assert (flag.status, flag.decided_by) == (Flag.Status.CONFIRMED, supervisor)


@pytest.mark.django_db
def test_a_decision_that_is_neither_confirm_nor_dismiss_is_refused(client, supervisor, record):
    flag = add_flag(record, "capture:1")

    response = client_for(client, supervisor).post(url("flag_decide", flag.pk), {"decision": "delete"}, follow=True)

    assert messages_of(response) == ["请选择确认或排除。"]
    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN


def test_the_queue_total_is_counted_once_a_minute_per_filter(client, supervisor, settings):
    """With LIST_COUNT_CACHE_SECONDS on, the second request of the same filter makes one query
    fewer (no COUNT); another filter is counted for itself, never shown the first one's total."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.LIST_COUNT_CACHE_SECONDS = 60
    c = client_for(client, supervisor)
    url = reverse("supervision:review_queue")
    c.get(reverse("home"))  # the session and the scope are warm

    def queries(params):
        with CaptureQueriesContext(connection) as ctx:
            response = c.get(url, params)
        return len(ctx.captured_queries), response.content.decode()

    cold, _ = queries({"branch_name": "综采"})
    warm, _ = queries({"branch_name": "综采"})
    other, _ = queries({"branch_name": "掘进"})
    assert warm == cold - 1
    assert other == cold
