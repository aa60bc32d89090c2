"""The findings pages for every role: who gets each page, who is refused, and that a refusal changes nothing."""

import datetime as dt
from urllib.parse import quote

import lxml.html
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from bulletin.models import Notification
from org.models import Post
from supervision.models import Finding, Rectification, RectificationEvent
from supervision.services import findings as services
from tests.conftest import client_for
from tests.factories import MeetingFactory, member_with_login

from .conftest import local

ROLES = ["secretary", "member", "other_secretary", "supervisor", "anonymous"]
NOW = local(2026, 5, 10, 9, 30)
Status = Rectification.Status


def page(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.content.decode())


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def finding(branch, people):
    return services.finding_raise(
        branch=branch,
        category=Finding.Category.RECORDS,
        severity=Finding.Severity.SERIOUS,
        description="九月与十二月的会议记录雷同。",
        user=people["supervisor"],
        now=NOW,
    )


@pytest.fixture
def submitted(finding, secretary):
    services.rectification_submit(
        rectification=finding.rectification, measures="重新组织学习并补正记录。", user=secretary, now=NOW
    )
    finding.rectification.refresh_from_db()
    return finding


def snapshot(rect):
    rect.refresh_from_db()
    return (rect.status, rect.measures, rect.submitted_at, rect.verified_at, rect.events.count())


def assert_login_redirect(response, url):
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={quote(url, safe='/')}"


# --- Detail --------------------------------------------------------------------------------


DETAIL = {"secretary": 200, "member": 404, "other_secretary": 404, "supervisor": 200}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_detail_page_is_shown_to_the_branch_committee_and_the_supervisors_only(client, people, finding, role):
    url = reverse("supervision:finding_detail", args=[finding.pk])

    response = client_for(client, people[role]).get(url)

    if role == "anonymous":
        assert_login_redirect(response, url)
        return
    assert response.status_code == DETAIL[role]
    if response.status_code == 200:
        doc = page(response)
        assert "九月与十二月的会议记录雷同。" in doc.get_element_by_id("finding-description").text_content()
        assert doc.get_element_by_id("rect-owner").text_content().strip() == "王书记"
        # One calendar month from 10 May: the whole of 10 June (was 30 days: 9 June 09:30).
        assert "2026年6月10日 24:00" in doc.get_element_by_id("rect-due").text_content()
        assert "剩余 31 天" in doc.get_element_by_id("rect-due").text_content()


@pytest.mark.django_db
def test_the_secretary_sees_the_answer_form_and_the_supervisor_does_not(client, people, finding):
    url = reverse("supervision:finding_detail", args=[finding.pk])

    mine = page(client_for(client, people["secretary"]).get(url))
    assert mine.get_element_by_id("answer-form") is not None
    assert not mine.xpath('//*[@id="decide-card"]')

    client.logout()
    theirs = page(client_for(client, people["supervisor"]).get(url))
    assert not theirs.xpath('//*[@id="answer-form"]')
    assert not theirs.xpath('//*[@id="decide-card"]')  # nothing submitted yet


@pytest.mark.django_db
def test_once_submitted_the_supervisor_sees_verify_and_reject_and_the_secretary_no_form(client, people, submitted):
    url = reverse("supervision:finding_detail", args=[submitted.pk])

    theirs = page(client_for(client, people["supervisor"]).get(url))
    assert theirs.xpath('//*[@id="verify-form"]') and theirs.xpath('//*[@id="reject-form"]')
    assert theirs.get_element_by_id("rect-status").text_content() == "已提交"

    client.logout()
    mine = page(client_for(client, people["secretary"]).get(url))
    assert not mine.xpath('//*[@id="answer-form"]') and not mine.xpath('//*[@id="decide-card"]')
    assert "重新组织学习并补正记录。" in mine.get_element_by_id("rect-measures").text_content()


@pytest.mark.django_db
def test_an_owner_outside_the_branch_committee_still_sees_and_answers(client, branch, people, supervisor):
    # A member named owner by the supervisor, without a committee post.
    owner = member_with_login(branch=branch, username="owner", name="周负责")
    finding = services.finding_raise(
        branch=branch,
        category="other",
        severity="minor",
        description="台账不全。",
        user=supervisor,
        now=NOW,
        owner=owner,
    )
    c = client_for(client, owner)

    assert c.get(reverse("supervision:finding_detail", args=[finding.pk])).status_code == 200
    response = c.post(
        reverse("supervision:rectification_answer", args=[finding.rectification.pk]), {"measures": "已补全。"}
    )

    assert response.status_code == 302
    assert snapshot(finding.rectification)[0] == Status.SUBMITTED
    # ... and finds it in the ledger.
    assert c.get(reverse("supervision:finding_list")).content.decode().count('class="finding-row"') == 1


# --- Answer ---------------------------------------------------------------------------------

ANSWER = {"secretary": 302, "member": 404, "other_secretary": 404, "supervisor": 403}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_only_the_branch_answers_its_rectification(client, people, finding, role):
    rect = finding.rectification
    url = reverse("supervision:rectification_answer", args=[rect.pk])
    before = snapshot(rect)

    response = client_for(client, people[role]).post(url, {"measures": "已整改。"})

    if role == "anonymous":
        assert_login_redirect(response, url)
    else:
        assert response.status_code == ANSWER[role]
    if role == "secretary":
        assert response.url == reverse("supervision:finding_detail", args=[finding.pk])
        assert snapshot(rect)[:2] == (Status.SUBMITTED, "已整改。")
    else:
        assert snapshot(rect) == before


@pytest.mark.django_db
def test_an_answer_without_measures_is_shown_again_with_the_message(client, people, finding):
    url = reverse("supervision:rectification_answer", args=[finding.rectification.pk])

    response = client_for(client, people["secretary"]).post(url, {"measures": "  "})

    assert response.status_code == 200
    assert "请填写整改措施。" in page(response).get_element_by_id("answer-form").text_content()
    assert snapshot(finding.rectification)[0] == Status.OPEN


@pytest.mark.django_db
def test_a_double_submitted_answer_acts_once_and_says_so(client, people, finding):
    url = reverse("supervision:rectification_answer", args=[finding.rectification.pk])
    c = client_for(client, people["secretary"])

    c.post(url, {"measures": "第一次。"})
    response = c.post(url, {"measures": "第二次。"}, follow=True)

    assert "整改情况已提交，正在等待督导组验收。" in response.content.decode()
    assert snapshot(finding.rectification)[1] == "第一次。"
    assert finding.rectification.events.filter(action=RectificationEvent.Action.SUBMITTED).count() == 1


# --- Verify and reject ----------------------------------------------------------------------

DECIDE = {"secretary": 403, "member": 404, "other_secretary": 404, "supervisor": 302}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_only_a_supervisor_verifies(client, people, submitted, role):
    rect = submitted.rectification
    url = reverse("supervision:rectification_verify", args=[rect.pk])
    before = snapshot(rect)

    response = client_for(client, people[role]).post(url)

    if role == "anonymous":
        assert_login_redirect(response, url)
    else:
        assert response.status_code == DECIDE[role]
    if role == "supervisor":
        assert snapshot(rect)[0] == Status.VERIFIED
    else:
        assert snapshot(rect) == before


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_only_a_supervisor_rejects(client, people, submitted, role):
    rect = submitted.rectification
    url = reverse("supervision:rectification_reject", args=[rect.pk])
    before = snapshot(rect)

    response = client_for(client, people[role]).post(url, {"reason": "佐证材料不足。"})

    if role == "anonymous":
        assert_login_redirect(response, url)
    else:
        assert response.status_code == DECIDE[role]
    if role == "supervisor":
        assert snapshot(rect)[0] == Status.OPEN
        assert rect.events.last().text == "佐证材料不足。"
    else:
        assert snapshot(rect) == before


@pytest.mark.django_db
def test_a_rejection_without_reason_is_refused_on_the_page(client, people, submitted):
    rect = submitted.rectification
    before = snapshot(rect)

    response = client_for(client, people["supervisor"]).post(
        reverse("supervision:rectification_reject", args=[rect.pk]), {"reason": " "}
    )

    assert response.status_code == 200
    assert "驳回须填写理由。" in page(response).get_element_by_id("reject-form").text_content()
    assert snapshot(rect) == before


@pytest.mark.django_db
def test_the_timeline_shows_who_did_what_when_and_why(client, people, submitted):
    rect = submitted.rectification
    c = client_for(client, people["supervisor"])
    c.post(reverse("supervision:rectification_reject", args=[rect.pk]), {"reason": "缺少支委会记录。"})

    response = c.get(reverse("supervision:finding_detail", args=[submitted.pk]))

    events = [" ".join(e.text_content().split()) for e in page(response).find_class("rect-event")]
    assert len(events) == 3
    assert events[0].startswith("下达整改")
    assert "王书记 · 2026-05-10 09:30" in events[1] and "重新组织学习并补正记录。" in events[1]
    assert (
        "驳回" in events[2]
        and "驳回理由：缺少支委会记录。" in events[2]
        and "supervisor · 2026-05-10 09:30" in events[2]
    )
    assert page(response).get_element_by_id("rect-status").text_content() == "整改中（被驳回）"


@pytest.mark.django_db
def test_verifying_twice_acts_once_and_says_so(client, people, submitted):
    url = reverse("supervision:rectification_verify", args=[submitted.rectification.pk])
    c = client_for(client, people["supervisor"])

    c.post(url)
    response = c.post(url, follow=True)

    assert "该整改已验收通过。" in response.content.decode()
    assert submitted.rectification.events.filter(action=RectificationEvent.Action.VERIFIED).count() == 1


# --- Raise ---------------------------------------------------------------------------------


RAISE = {"secretary": 403, "member": 403, "other_secretary": 403, "supervisor": 200}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_only_a_supervisor_may_open_the_finding_form(client, people, branch, role):
    url = reverse("supervision:finding_create") + f"?branch={branch.pk}"

    response = client_for(client, people[role]).get(url)

    if role == "anonymous":
        assert_login_redirect(response, url)
        return
    assert response.status_code == RAISE[role]
    if role == "supervisor":
        doc = page(response)
        # One calendar month from 10 May (issue 9, rule 10), not 30 days (which gave 9 June).
        assert doc.get_element_by_id("id_due_on").value == "2026-06-10"
        assert doc.get_element_by_id("id_owner").value_options == ["", str(people["secretary"].pk)]


def raise_data(**extra):
    return {
        "form_token": "a" * 32,
        "category": Finding.Category.FORMALISM,
        "severity": Finding.Severity.MODERATE,
        "description": "主题党日变成外出游玩。",
        "due_on": "2026-06-30",
        "evidence_category": "other",
        **extra,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_only_a_supervisor_raises_a_finding(client, people, branch, role):
    url = reverse("supervision:finding_create") + f"?branch={branch.pk}"

    response = client_for(client, people[role]).post(url, raise_data())

    if role == "anonymous":
        assert_login_redirect(response, url)
    elif role != "supervisor":
        assert response.status_code == 403
    if role != "supervisor":
        assert not Finding.objects.exists() and not Notification.objects.exists()
        return
    finding = Finding.objects.get()
    assert response.url == reverse("supervision:finding_detail", args=[finding.pk])
    rect = finding.rectification
    assert rect.owner == people["secretary"]
    # A date picked as the deadline lasts to the end of that day: the next local midnight.
    assert timezone.localtime(rect.due_at) == local(2026, 7, 1, 0, 0)


@pytest.mark.django_db
def test_raising_from_a_meeting_names_the_meeting_and_its_branch(client, people, branch, other_branch):
    meeting = MeetingFactory(branch=branch, topic="学习安全生产规程")
    MeetingFactory(branch=other_branch, topic="别的支部的会")
    c = client_for(client, people["supervisor"])
    url = reverse("supervision:finding_create") + f"?meeting={meeting.pk}"

    doc = page(c.get(url))
    assert doc.get_element_by_id("id_meeting").value == str(meeting.pk)
    assert "别的支部的会" not in doc.get_element_by_id("id_meeting").text_content()

    c.post(url, raise_data(meeting=meeting.pk))
    assert Finding.objects.get().meeting == meeting


@pytest.mark.django_db
def test_a_meeting_of_another_branch_cannot_be_posted(client, people, branch, other_branch):
    foreign = MeetingFactory(branch=other_branch)
    url = reverse("supervision:finding_create") + f"?branch={branch.pk}"

    response = client_for(client, people["supervisor"]).post(url, raise_data(meeting=foreign.pk))

    assert response.status_code == 200
    assert "meeting" in response.context["form"].errors
    assert not Finding.objects.exists()


@pytest.mark.django_db
def test_a_double_submitted_finding_is_raised_once(client, people, branch):
    url = reverse("supervision:finding_create") + f"?branch={branch.pk}"
    c = client_for(client, people["supervisor"])

    c.post(url, raise_data())
    with time_machine.travel(NOW + dt.timedelta(seconds=2), tick=False):
        response = c.post(url, raise_data(), follow=True)

    assert Finding.objects.count() == 1 and Rectification.objects.count() == 1
    assert "该问题已经提出过，没有重复提出。" in response.content.decode()


@pytest.mark.django_db
def test_a_deadline_before_today_is_refused(client, people, branch):
    url = reverse("supervision:finding_create") + f"?branch={branch.pk}"

    response = client_for(client, people["supervisor"]).post(url, raise_data(due_on="2026-05-09"))

    assert response.context["form"].errors["due_on"] == ["整改期限不能早于今天。"]
    assert not Finding.objects.exists()


@pytest.mark.django_db
def test_the_form_without_a_branch_asks_for_one(client, people, branch, other_branch):
    response = client_for(client, people["supervisor"]).get(reverse("supervision:finding_create"))

    options = page(response).get_element_by_id("id_branch").value_options
    assert options == ["", str(branch.pk), str(other_branch.pk)]


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["?branch=abc", "?branch=999999", "?meeting=x", "?meeting=999999"])
def test_a_bad_branch_or_meeting_in_the_url_is_not_found(client, people, query):
    response = client_for(client, people["supervisor"]).get(reverse("supervision:finding_create") + query)

    assert response.status_code == 404


@pytest.mark.django_db
def test_a_group_is_not_offered_as_a_branch(client, people, group):
    response = client_for(client, people["supervisor"]).get(
        reverse("supervision:finding_create") + f"?branch={group.pk}"
    )

    assert response.status_code == 404


# --- The ledger -----------------------------------------------------------------------------

LIST = {"secretary": 200, "member": 403, "other_secretary": 200, "supervisor": 200}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", ["supervision:finding_list", "supervision:my_rectifications"])
def test_the_ledger_shows_each_role_what_it_may_see(client, people, finding, role, name):
    url = reverse(name)

    response = client_for(client, people[role]).get(url)

    if role == "anonymous":
        assert_login_redirect(response, url)
        return
    assert response.status_code == LIST[role]
    if response.status_code == 200:
        rows = page(response).find_class("finding-row")
        sees = role == "secretary" or (role == "supervisor" and name == "supervision:finding_list")
        assert len(rows) == (1 if sees else 0)
        assert bool(page(response).xpath('//*[@id="finding-create"]')) == (role == "supervisor")


@pytest.mark.django_db
def test_the_ledger_filters_by_branch_category_severity_status_overdue_and_year(
    client, people, branch, other_branch, supervisor, secretary
):
    def raise_(b, category, severity, now, **kw):
        return services.finding_raise(
            branch=b, category=category, severity=severity, description=f"{category}", user=supervisor, now=now, **kw
        )

    a = raise_(branch, "records", "serious", NOW)
    b = raise_(other_branch, "cadence", "minor", NOW)
    late = raise_(branch, "attendance", "moderate", local(2025, 11, 1), due_at=local(2025, 12, 1))
    services.rectification_submit(rectification=b.rectification, measures="已改。", user=supervisor, now=NOW)
    c = client_for(client, people["supervisor"])

    def shown(**query):
        response = c.get(reverse("supervision:finding_list"), query)
        return {
            int(a.get("href").rstrip("/").split("/")[-1])
            for a in page(response).xpath('//tr[@class="finding-row"]/td/a')
        }

    assert shown() == {a.pk, b.pk, late.pk}
    assert shown(branch=branch.pk) == {a.pk, late.pk}
    assert shown(category="cadence") == {b.pk}
    assert shown(severity="serious") == {a.pk}
    assert shown(status="submitted") == {b.pk}
    assert shown(overdue="on") == {late.pk}
    assert shown(year=2025) == {late.pk}
    assert shown(year=2026, branch=branch.pk) == {a.pk}
    # A bad value is ignored, not an error.
    assert shown(year="abc", severity="nonsense") == {a.pk, b.pk, late.pk}


@pytest.mark.django_db
def test_the_ledger_shows_days_left_and_days_overdue(client, people, branch, supervisor, secretary):
    services.finding_raise(
        branch=branch,
        category="records",
        severity="minor",
        description="x",
        user=supervisor,
        now=local(2026, 3, 1),
        due_at=local(2026, 5, 7, 23, 59),
    )
    services.finding_raise(
        branch=branch, category="records", severity="minor", description="y", user=supervisor, now=NOW
    )

    response = client_for(client, people["secretary"]).get(reverse("supervision:finding_list"))

    doc = page(response)
    # Raised 10 May, due the end of 10 June (one calendar month; was 30 days).
    assert [d.text_content() for d in doc.find_class("deadline")] == ["剩余 31 天", "逾期 3 天"]
    assert [s.text_content() for s in doc.find_class("rect-status")] == ["整改中", "逾期"]
    counts = " ".join(doc.get_element_by_id("finding-counts").text_content().split())
    assert "共 2 项" in counts and "整改中 1" in counts and "逾期 1" in counts


@pytest.mark.django_db
def test_the_secretary_of_two_branches_gets_a_branch_filter_and_others_do_not(client, people, branch, other_branch):
    c = client_for(client, people["secretary"])
    assert not page(c.get(reverse("supervision:finding_list"))).xpath('//*[@id="id_branch_name"]')

    Post.objects.create(
        member=people["secretary"].member,
        organization=other_branch,
        role="organization",
        started_on=dt.date(2020, 1, 1),
    )
    client.logout()
    c = client_for(client, people["secretary"])
    # a search box on the branch name (no <select> of every branch at 1,000 branches)
    box = page(c.get(reverse("supervision:finding_list"))).get_element_by_id("id_branch_name")
    assert box.tag == "input" and box.get("type") == "search"


@pytest.mark.django_db
def test_a_committee_member_of_the_mine_sees_every_branch_but_neither_raises_nor_decides(
    client, branch, submitted, other_branch
):
    from org.models import StaffRole
    from tests.factories import staff_user

    committee = staff_user(username="committee", role=StaffRole.Role.COMMITTEE)
    rect = submitted.rectification
    before = snapshot(rect)
    c = client_for(client, committee)

    ledger = c.get(reverse("supervision:finding_list"))
    assert ledger.content.decode().count('class="finding-row"') == 1
    assert not page(ledger).xpath('//*[@id="finding-create"]')
    detail = page(c.get(reverse("supervision:finding_detail", args=[submitted.pk])))
    assert not detail.xpath('//*[@id="decide-card"]') and not detail.xpath('//*[@id="finding-evidence-form"]')
    assert c.get(reverse("supervision:finding_create") + f"?branch={branch.pk}").status_code == 403
    assert c.post(reverse("supervision:rectification_verify", args=[rect.pk])).status_code == 403
    assert c.post(reverse("supervision:rectification_reject", args=[rect.pk]), {"reason": "x"}).status_code == 403
    assert snapshot(rect) == before
