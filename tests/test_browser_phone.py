"""Every list and detail page at phone size (390 × 844), opened as the role that uses it, on the demo mine.

The pages come from the URLconf: every named URL is either crawled below or in ``SKIPPED`` with the
reason, so a new page cannot be forgotten (``test_every_named_url_is_crawled_or_skipped_with_a_reason``).
A page fails when it scrolls sideways, when any visible element reaches past the viewport (inside a
scrolling box too, unless the box is marked ``data-scroll-x`` as a deliberate two-dimensional grid),
when a short value or heading in a table is broken over two lines (a squeezed column), or when a chart's canvas
is under 200 px tall. A full-page screenshot of each is kept under
``$SANHUI_VAR_DIR/screenshots/<role>-<page>.png`` for CI's artefacts.

The data is the demo mine (``seed_demo`` + ``seed_demo_activity``: ~660 meetings, reviews, findings,
two published assessments; about 10 s here) plus the few records the history has none of: a meeting
noticed for next week, a held meeting with its minutes still open, and a draft assessment run.
"""

import datetime as dt
from collections import defaultdict
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError

from assessment.management.commands.seed_demo_activity import seed_activity
from assessment.models import BranchScore, Run
from assessment.services import run_compute, run_create, run_submit_for_review
from bulletin.export_services import export_request, export_run
from bulletin.management.commands.seed_demo import seed_demo
from bulletin.models import Announcement, Notification
from bulletin.selectors import inbox_for_user
from bulletin.services import deliver_notification
from meetings.exports import MINE_LEDGER
from meetings.models import Meeting, Place
from meetings.services import meeting_publish_notice
from org.models import Member, Organization, User
from supervision.models import Finding
from supervision.services.findings import finding_raise
from tasks.models import Dispatch, Task
from tests.factories import MeetingFactory

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
MIN_CHART_HEIGHT = 200

# Named URLs that are not crawled, each with the reason. Everything else the URLconf names must be.
SKIPPED = {
    # Not HTML pages: files, images and JSON that the pages link to or poll.
    "healthz": "plain-text health check",
    "favicon": "redirects to the icon file (tests/org/test_favicon.py)",
    "org:roster_template": "xlsx download",
    "org:roster_export": "xlsx download",
    "meetings:checkin_qr": "SVG image shown on the check-in screen",
    "two_factor_qr": "SVG image shown on the 两步验证 page",
    "meetings:checkin_live": "JSON polled by the check-in screen",
    "meetings:ledger_xlsx": "xlsx download",
    "meetings:mine_ledger_xlsx": "redirects to the export's start page (bulletin:export_start), crawled",
    "bulletin:export_job_status": "JSON polled by the export job's page",
    "bulletin:export_download": "xlsx download",
    "meetings:compliance_matrix_xlsx": "redirects to the export's start page (bulletin:export_start), crawled",
    "supervision:evidence_file": "file download",
    "supervision:evidence_thumbnail": "thumbnail image",
    "supervision:flag_record_thumbnail": "thumbnail image kept with a round's flag decision",
    "supervision:finding_export": "xlsx download (one branch), or redirects to the export's start page",
    "assessment:hr_export": "redirects to the export's start page (bulletin:export_start), crawled",
    "appraisal:round_export": "xlsx download",
    "appraisal:year_open": "POST only (the form is on the list of rounds)",
    "appraisal:round_action": "POST only (the buttons are on the round page)",
    "appraisal:round_start": "redirects to the round once started; the demo meeting has one (tests/appraisal)",
    # POST only: buttons on pages that are crawled (GET answers 405 or redirects back).
    "logout": "POST only",
    "meetings:meeting_publish": "POST only (the button is on the meeting page)",
    "bulletin:inbox_read_all": "POST only",
    "meetings:vote_delete": "POST only",
    "meetings:meeting_submit": "POST only",
    "meetings:leave_decide": "POST only",
    "meetings:leave_withdraw": "POST only",
    "supervision:evidence_upload": "POST only (the form is on the evidence page)",
    "supervision:evidence_delete": "POST only",
    "supervision:review_approve": "POST only",
    "supervision:review_return": "POST only",
    "supervision:review_reopen": "POST only",
    "supervision:flag_decide": "POST only",
    "supervision:attest_answer": "POST only (the buttons are on the speaker's page)",
    "supervision:finding_evidence_add": "POST only",
    "supervision:rectification_answer": "POST only (the form is on the finding page)",
    "supervision:rectification_verify": "POST only",
    "supervision:rectification_reject": "POST only",
    "assessment:trend_baseline": "POST only",
    "assessment:run_recompute": "POST only",
    "assessment:run_submit": "POST only",
    "assessment:run_return": "POST only",
    # Needs a token that only an uploaded roster file makes; the import form itself is crawled.
    "org:roster_import_confirm": "preview of an uploaded file (tests/org/test_roster*.py)",
    # Redirects to a crawled page.
    "password_change_done": "shown once after a password change",
    "assessment:scheme_latest": "redirects to the latest scheme's page, crawled",
    "tasks:start": "POST only",
    "tasks:accept": "POST only",
    "tasks:return": "POST only",
    "tasks:cancel": "POST only",
    "tasks:report_file": "file download",
    "study:item_submit": "POST only (the button is on the item page)",
    "study:item_review": "POST only (the form is on the item page)",
    "study:item_withdraw": "POST only (the form is on the item page)",
    "study:item_reopen": "POST only (the button is on the item page)",
    "study:publish_recording": "POST only (the button is on the 党课's meeting page)",
    "tasks:report_file_thumbnail": "thumbnail image",
    "practice:project_start": "POST only (the button is on the project page)",
    "practice:project_terminate": "POST only (the form is on the project page)",
    "practice:project_evidence": "file download",
    "practice:project_verify": "only while a project awaits its verifier (tests/test_browser_practice_projects.py)",
    "practice:activity_delete": "POST only (the button is on the 主题党日 page)",
    "practice:pioneer_post_end": "POST only (the button is on the 先锋岗 page)",
    "practice:hazard_edit": "the demo's 主题党日 records are submitted, so it redirects back (tests/practice)",
    "study:post_hide": "POST only (the form is on the group page)",
    "study:post_photo": "file download (a post's photo, checked in tests/study/test_groups.py)",
    "study:group_home": "redirects to the member's branch group, crawled",
    "study:heartbeat": "POST only (JSON progress reports sent by the player on the item page)",
    "study:confirm_done": "POST only (the 已学 button is on the item page)",
    "study:media_file": "file download (video, audio, poster, document; tests/study/test_media_views.py)",
    "study:ledger_home": "redirects to the mine's or the branch's 学时台账, both crawled",
    "study:branch_ledger_xlsx": "xlsx download",
    "study:mine_ledger_xlsx": "redirects to the export job's page (bulletin:export_job), crawled",
}
# The Django admin is for the people who run the system, at a desk; its pages are crawled in
# the admin's own test.
SKIPPED_NAMESPACES = {"admin"}


def named_urls() -> dict[str, dict]:
    """Every named URL pattern of the project: name -> its parameters' converters."""
    found: dict[str, dict] = {}

    def walk(patterns, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                inner = ":".join(x for x in (namespace, p.namespace) if x)
                walk(p.url_patterns, inner)
            elif isinstance(p, URLPattern) and p.name:
                name = f"{namespace}:{p.name}" if namespace else p.name
                found.setdefault(name, dict(getattr(p.pattern, "converters", {})))

    walk(get_resolver().url_patterns, "")
    return found


def demo_objects(now: dt.datetime) -> dict:
    """The demo records each detail page is opened on, and the few the history has none of."""
    home = Organization.objects.get(name="综采一队党支部")
    returned_branch = Organization.objects.get(name="掘进二队党支部")
    secretary = User.objects.get(username="shuji")
    member = Member.objects.get(user__username="dangyuan")
    submitted = Meeting.objects.filter(branch=home, status=Meeting.Status.SUBMITTED).order_by("-planned_start").first()
    approved = Meeting.objects.filter(branch=home, status=Meeting.Status.APPROVED).order_by("-planned_start").first()
    returned = Meeting.objects.filter(branch=returned_branch, status=Meeting.Status.RETURNED).first()
    start = now + dt.timedelta(days=7)
    planned, noticed = (
        MeetingFactory(
            branch=home,
            topic=topic,
            planned_start=start,
            planned_end=start + dt.timedelta(hours=1),
            types=["general_meeting"],
        )
        for topic in ("研究第四季度发展党员工作", "学习贯彻矿党委年度安全生产工作部署")
    )
    noticed = meeting_publish_notice(meeting=noticed, user=secretary, now=now)
    committee = User.objects.get(username="committee")
    this_year = timezone.localdate(now).replace(month=1, day=1)
    draft = run_compute(
        run=run_create(kind=Run.Kind.QUARTER, period_start=this_year.replace(month=10), user=committee, now=now),
        now=now,
    )
    in_review = run_compute(
        run=run_create(kind=Run.Kind.YEAR, period_start=this_year, user=committee, now=now), now=now
    )
    in_review = run_submit_for_review(run=in_review, user=committee, now=now, confirmed=True)
    published = Run.objects.filter(status=Run.Status.PUBLISHED).order_by("-period_start").first()
    # The history's open rectification belongs to 运输队, which has no 书记 login: raise one for the
    # secretary's own branch so that the answer form is opened by the person who writes it.
    finding = finding_raise(
        branch=home,
        category=Finding.Category.RECORDS,
        severity=Finding.Severity.MINOR,
        description="会议记录中发言要点过于简略，未体现讨论过程。",
        user=User.objects.get(username="supervisor"),
        now=now,
        meeting=approved,
    )
    assert all((submitted, approved, returned, published, finding)), "the demo history changed"
    # The branch-score pages below open the published run's row for the secretary's branch.
    assert BranchScore.objects.filter(run=published, branch=home).exists()
    # What the worker does: deliver the member's in-app messages, so the inbox has something to show.
    inbox = Notification.objects.filter(recipient=member.user, channel=Notification.Channel.INBOX)
    for pk in inbox.values_list("pk", flat=True):
        deliver_notification(notification_id=pk, now=now)
    notification = inbox_for_user(member.user).first()
    assert notification is not None
    # Export jobs of the supervisor: one still running, one the worker has written.
    supervisor = User.objects.get(username="supervisor")
    year = timezone.localdate(now).year
    export_running, _ = export_request(kind=MINE_LEDGER, parameters={"year": year - 1}, user=supervisor, now=now)
    export_done, _ = export_request(kind=MINE_LEDGER, parameters={"year": year}, user=supervisor, now=now)
    export_run(job_id=export_done.pk, now=now)
    return {
        "export_running": export_running,
        "export_done": export_done,
        "announcement": Announcement.objects.order_by("-pk").first(),
        "notification": notification,
        "home": home,
        "secretary": secretary,
        "member": member,
        "submitted": submitted,
        "approved": approved,
        "returned": returned,
        "planned": planned,
        "noticed": noticed,
        "draft": draft,
        "in_review": in_review,
        "published": published,
        "finding": finding,
        "task": Task.objects.filter(owner=secretary.member, source=Task.Source.DISPATCH).order_by("-pk").first(),
        "attested": _attested_meeting(submitted, member, now),
        "dispatch": Dispatch.objects.order_by("-pk").first(),
        "place": Place.objects.filter(branch=home).order_by("pk").first(),
        "theme_day": Meeting.objects.filter(branch=home, types__code="theme_day", hazards__isnull=False).first()
        or Meeting.objects.filter(branch=home, types__code="theme_day").order_by("-planned_start").first(),
        "year": timezone.localdate(now).year,
        **study_objects(home),
        **study_group_objects(),
    }


def study_objects(home) -> dict:
    """The demo library's items (study/demo.py): a published one, the branch's draft and one in review."""
    from study.demo import MARKER
    from study.models import StudyItem

    drafts = StudyItem.objects.filter(organization=home, state=StudyItem.State.DRAFT, source_meeting=None)
    return {
        "study_item": StudyItem.objects.get(title=MARKER),
        "study_draft": drafts.order_by("-pk").first(),
        "study_in_review": StudyItem.objects.filter(state=StudyItem.State.IN_REVIEW).first(),
    }


def _attested_meeting(meeting: Meeting, member: Member, now: dt.datetime) -> Meeting:
    """``meeting`` with a speech of the member asked to confirm (the demo's speakers may all be others)."""
    from meetings.models import Speech
    from supervision.models import SpeechAttestation

    if not SpeechAttestation.objects.filter(meeting=meeting, member=member).exists():
        item = meeting.agenda_items.order_by("order").first()
        speech = Speech.objects.create(agenda_item=item, speaker=member, points="要把安全放在第一位。", order=99)
        SpeechAttestation.objects.create(
            speech=speech, meeting=meeting, member=member, requested_at=now, due_at=now + dt.timedelta(days=3)
        )
    return meeting


def study_group_objects() -> dict:
    """The demo's 学习任务 and quiz (study/demo_group.py)."""
    from study.models import Assignment, Quiz

    return {"study_assignment": Assignment.objects.first(), "study_quiz_item": Quiz.objects.first().item}


def pages(o: dict) -> list[tuple[str, str, str, dict]]:
    """(role's username, screenshot name, URL name, kwargs): every page as the role that uses it."""
    home, run = o["home"], o["published"]
    announcement, notification = o["announcement"], o["notification"]
    return [
        # Everybody's home page and the pages every login has.
        *[(role, "home", "home", {}) for role in ("dangyuan", "shuji", "zuzhang", "supervisor", "committee", "admin")],
        ("anonymous", "login", "login", {}),
        ("dangyuan", "password", "password_change", {}),
        ("dangyuan", "announcements", "bulletin:announcement_list", {}),
        ("dangyuan", "announcement", "bulletin:announcement_detail", {"pk": announcement.pk}),
        ("dangyuan", "inbox", "bulletin:inbox", {}),
        ("dangyuan", "inbox-open", "bulletin:inbox_open", {"pk": notification.pk}),
        ("dangyuan", "attest", "supervision:attest_meeting", {"meeting_pk": o["attested"].pk}),
        ("supervisor", "announcement-new", "bulletin:announcement_create", {}),
        ("supervisor", "announcement-edit", "bulletin:announcement_edit", {"pk": announcement.pk}),
        ("supervisor", "announcement-receipts", "bulletin:announcement_receipts", {"pk": announcement.pk}),
        # A member's own pages.
        ("dangyuan", "my-meetings", "meetings:my_meetings", {}),
        ("dangyuan", "my-attendance", "meetings:my_attendance", {}),
        ("dangyuan", "my-leave", "meetings:my_leave", {}),
        ("dangyuan", "leave", "meetings:leave_create", {"pk": o["noticed"].pk}),
        ("dangyuan", "checkin", "meetings:checkin", {"pk": o["noticed"].pk}),
        ("dangyuan", "my-participation", "assessment:my_participation", {}),
        # 议定事项 open past their deadline (the demo has some): a 书记's branch, the 督导组's mine.
        ("shuji", "open-decisions", "tasks_follow:open_decisions", {}),
        ("supervisor", "open-decisions-all", "tasks_follow:open_decisions", {}),
        ("dangyuan", "my-branch-score", "assessment:my_branch_score", {}),
        # 我的待办, for every kind of login (tasks/todo.py).
        *[(role, f"todo-{role}", "todo:index", {}) for role in ("dangyuan", "shuji", "supervisor", "committee")],
        # The branch secretary's.
        ("shuji", "branch", "org:branch_detail", {"pk": home.pk}),
        ("shuji", "branch-duties", "org:branch_duties", {"pk": home.pk}),
        ("shuji", "member", "org:member_detail", {"pk": o["member"].pk}),
        ("shuji", "meetings", "meetings:meeting_list", {}),
        ("shuji", "meeting-new", "meetings:meeting_create", {}),
        ("shuji", "meeting", "meetings:meeting_detail", {"pk": o["approved"].pk}),
        ("shuji", "meeting-noticed", "meetings:meeting_detail", {"pk": o["noticed"].pk}),
        ("shuji", "meeting-edit", "meetings:meeting_edit", {"pk": o["planned"].pk}),
        ("shuji", "meeting-cancel", "meetings:meeting_cancel", {"pk": o["noticed"].pk}),
        ("shuji", "checkin-screen", "meetings:checkin_screen", {"pk": o["noticed"].pk}),
        ("shuji", "leave-register", "meetings:leave_register", {"pk": o["noticed"].pk}),
        ("shuji2", "meeting-returned", "meetings:meeting_detail", {"pk": o["returned"].pk}),
        ("shuji2", "minutes", "meetings:meeting_minutes", {"pk": o["returned"].pk}),
        ("shuji2", "agenda", "meetings:meeting_agenda", {"pk": o["returned"].pk}),
        ("shuji2", "attendance", "meetings:meeting_attendance", {"pk": o["returned"].pk}),
        ("shuji2", "votes", "meetings:meeting_votes", {"pk": o["returned"].pk}),
        ("shuji", "evidence", "supervision:meeting_evidence", {"meeting_pk": o["submitted"].pk}),
        ("shuji", "ledger", "meetings:ledger", {"pk": home.pk, "year": o["year"]}),
        ("shuji", "print", "meetings:meeting_print", {"pk": o["approved"].pk}),
        ("shuji", "compliance-branch", "meetings:branch_compliance", {"pk": home.pk}),
        ("shuji", "compliance-branch-year", "meetings:branch_compliance", {"pk": home.pk, "year": o["year"] - 1}),
        ("shuji", "rectifications", "supervision:my_rectifications", {}),
        ("shuji", "finding", "supervision:finding_detail", {"pk": o["finding"].pk}),
        ("shuji", "branch-score", "assessment:branch_score", {"run_pk": run.pk, "branch_pk": home.pk}),
        ("shuji", "branch-participation", "assessment:branch_participation", {"run_pk": run.pk, "branch_pk": home.pk}),
        ("shuji", "member-participation", "assessment:member_participation", {"pk": o["member"].pk}),
        # The supervisors'.
        ("supervisor", "review-queue", "supervision:review_queue", {}),
        ("supervisor", "review", "supervision:review_detail", {"meeting_pk": o["submitted"].pk}),
        ("supervisor", "findings", "supervision:finding_list", {}),
        ("supervisor", "finding-new", "supervision:finding_create", {}),
        ("supervisor", "finding", "supervision:finding_detail", {"pk": o["finding"].pk}),
        ("supervisor", "roster-import", "org:roster_import", {}),
        ("supervisor", "manual-scores", "assessment:manual_scores", {"pk": o["draft"].pk}),
        # The committee's.
        ("committee", "branches", "org:branch_list", {}),
        ("committee", "compliance", "meetings:compliance_matrix", {}),
        (
            "committee",
            "compliance-cell",
            "meetings:compliance_cell",
            {"branch_pk": home.pk, "period": f"{o['year']}-Q3"},
        ),
        ("committee", "runs", "assessment:run_list", {}),
        ("committee", "run", "assessment:run_detail", {"pk": run.pk}),
        ("committee", "run-draft", "assessment:run_detail", {"pk": o["draft"].pk}),
        ("committee", "run-publish", "assessment:run_publish", {"pk": o["in_review"].pk}),
        ("committee", "trend", "assessment:trend", {}),
        ("committee", "scheme", "assessment:scheme_detail", {"year": o["year"]}),
        ("admin", "system-status", "bulletin:system_status", {}),
        ("supervisor", "export-running", "bulletin:export_job", {"pk": o["export_running"].pk}),
        ("supervisor", "export-done", "bulletin:export_job", {"pk": o["export_done"].pk}),
        ("supervisor", "export-start", "bulletin:export_start", {"kind": "supervision.findings"}),
        ("admin", "two-factor-setup", "two_factor_setup", {}),
        ("admin", "two-factor-verify", "two_factor_verify", {}),
        ("supervisor", "audit-log", "org:audit_log", {}),
        # 督办任务
        ("shuji", "tasks", "tasks:list", {}),
        ("shuji", "task", "tasks:detail", {"pk": o["task"].pk}),
        ("shuji", "task-report", "tasks:report", {"pk": o["task"].pk}),
        ("shuji", "task-hand-over", "tasks:hand_over", {"pk": o["task"].pk}),
        ("supervisor", "dispatch-new", "tasks:dispatch_create", {}),
        ("supervisor", "dispatch-matrix", "tasks:dispatch_matrix", {}),
        ("supervisor", "dispatch", "tasks:dispatch_detail", {"pk": o["dispatch"].pk}),
        # 学习 (the library)
        ("dangyuan", "study-library", "study:library", {}),
        ("dangyuan", "study-item", "study:item_detail", {"pk": o["study_item"].pk}),
        ("shuji", "study-new", "study:item_create", {}),
        ("shuji", "study-edit", "study:item_edit", {"pk": o["study_draft"].pk}),
        ("supervisor", "study-manage", "study:manage", {}),
        ("supervisor", "study-review", "study:item_detail", {"pk": o["study_in_review"].pk}),
        # 我的学习 and the 学时台账
        ("dangyuan", "study-mine", "study:my_study", {}),
        ("shuji", "study-ledger-branch", "study:branch_ledger", {"pk": home.pk, "year": o["year"]}),
        ("supervisor", "study-ledger-mine", "study:mine_ledger", {"year": o["year"]}),
        # Places, 主题党日 activities and hazards, 先锋岗.
        ("shuji", "places", "meetings:place_list", {"branch_pk": home.pk}),
        ("shuji", "place-new", "meetings:place_create", {"branch_pk": home.pk}),
        ("shuji", "place-edit", "meetings:place_edit", {"pk": o["place"].pk}),
        ("shuji", "theme-day", "practice:theme_day", {"pk": o["theme_day"].pk}),
        ("supervisor", "hazards", "practice:hazard_overview", {}),
        ("shuji", "pioneers", "practice:pioneer_posts", {"pk": home.pk}),
        # 学习任务, 学习交流群, 测验
        ("dangyuan", "study-group", "study:group", {"pk": o["home"].pk}),
        ("supervisor", "study-assign", "study:assignment_create", {"item_pk": o["study_item"].pk}),
        ("supervisor", "study-assignments", "study:assignment_list", {}),
        ("supervisor", "study-assignment", "study:assignment_detail", {"pk": o["study_assignment"].pk}),
        ("dangyuan", "study-assignment-mine", "study:assignment_todo", {"pk": o["study_assignment"].pk}),
        ("dangyuan", "study-quiz", "study:quiz", {"item_pk": o["study_quiz_item"].pk}),
        *appraisal_pages(o),
        *project_pages(o),
    ]


def project_pages(o: dict) -> list[tuple[str, str, str, dict]]:
    """The 技术攻关 pages on the demo's project in progress (综采一队第一党小组), and the 党建+业务 dashboard."""
    from practice.models import Project

    home = o["home"]
    dust = home if not isinstance(home, Organization) else Project.objects.get(title="综采工作面降尘")
    return [
        ("zuzhang", "projects", "practice:project_list", {}),
        ("zuzhang", "project-new", "practice:project_create", {"branch_pk": home.pk}),
        ("zuzhang", "project", "practice:project_detail", {"pk": dust.pk}),
        ("zuzhang", "project-edit", "practice:project_edit", {"pk": dust.pk}),
        ("zuzhang", "project-report", "practice:project_report", {"pk": dust.pk}),
        ("committee", "dashboard", "dashboard", {}),
        ("shuji", "dashboard-branch", "dashboard", {}),
    ]


def appraisal_pages(o: dict) -> list[tuple[str, str, str, dict]]:
    """The 民主评议 pages on the demo's rounds: last year's confirmed, this year's open."""
    from appraisal.models import Appraisee, Round

    if not isinstance(o["home"], Organization):  # the URL-coverage check passes stubs, without a database
        done = live = mine_done = mine_live = o["home"]
        return _appraisal_rows(done, live, mine_done, mine_live)
    done = Round.objects.get(branch=o["home"], state=Round.State.CONFIRMED)
    live = Round.objects.get(branch=o["home"], state=Round.State.VOTING)
    mine_done = Appraisee.objects.get(round=done, member=o["member"])
    mine_live = Appraisee.objects.get(round=live, member=o["member"])
    return _appraisal_rows(done, live, mine_done, mine_live)


def _appraisal_rows(done, live, mine_done, mine_live) -> list[tuple[str, str, str, dict]]:
    return [
        ("committee", "appraisal-rounds", "appraisal:round_list", {}),
        ("committee", "appraisal-confirm", "appraisal:round_confirm", {"pk": done.pk}),
        ("shuji", "appraisal-round", "appraisal:round_detail", {"pk": live.pk}),
        ("shuji", "appraisal-codes", "appraisal:round_codes", {"pk": live.pk}),
        ("shuji", "appraisal-opinion", "appraisal:round_opinion", {"pk": live.pk}),
        ("shuji", "appraisal-tallies", "appraisal:round_tallies", {"pk": done.pk}),
        ("dangyuan", "appraisal-mine", "appraisal:my_appraisal", {}),
        ("dangyuan", "appraisal-summary", "appraisal:summary_edit", {"pk": mine_live.pk}),
        ("dangyuan", "appraisal-vote", "appraisal:vote", {"pk": live.pk}),
        ("dangyuan", "appraisal-result", "appraisal:my_result", {"pk": mine_done.pk}),
        ("anonymous", "appraisal-masses", "appraisal:masses_entry", {}),
    ]


# What counts as too wide, run in the page. Elements inside a box marked data-scroll-x (a
# two-dimensional grid such as the compliance matrix, which scrolls inside its own box) are
# exempt, but the box itself must fit. Hidden elements (collapsed menus) have no box.
LAYOUT_PROBLEMS = r"""
() => {
  const vw = document.documentElement.clientWidth;
  const problems = [];
  if (document.documentElement.scrollWidth > vw) {
    problems.push(`page scrolls sideways: scrollWidth ${document.documentElement.scrollWidth} > ${vw}`);
  }
  const describe = (el) => {
    const id = el.id ? '#' + el.id : '';
    const cls = el.classList.length ? '.' + [...el.classList].slice(0, 3).join('.') : '';
    return `${el.tagName.toLowerCase()}${id}${cls} "${(el.innerText || '').trim().slice(0, 30)}"`;
  };
  const wide = new Set();
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('[data-scroll-x]') && !el.matches('[data-scroll-x]')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.position === 'fixed') continue;
    if (r.right > vw + 0.5 || r.left < -0.5) {
      wide.add(el);
      // Report the outermost element only: its children are too wide because it is.
      if (!wide.has(el.parentElement)) {
        problems.push(`${describe(el)} reaches ${Math.round(r.left)}..${Math.round(r.right)} px (viewport ${vw})`);
      }
    }
    // A column too narrow for its word: a short value or heading ("100%", "98.40", "应参加")
    // broken over two lines.
    const text = (el.innerText || '').trim();
    if ((el.tagName === 'TD' || el.tagName === 'TH') && text.length >= 2 && text.length <= 6 && !/\s/.test(text)) {
      // Lines of the cell's own text (not of badge boxes around it): boxes that start below the
      // bottom of the one before.
      const boxes = [];
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.textContent.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        boxes.push(...[...range.getClientRects()].filter((b) => b.width > 0));
      }
      boxes.sort((a, b) => a.top - b.top);
      let lines = 0;
      let bottom = -Infinity;
      for (const b of boxes) {
        if (b.top >= bottom - 1) lines += 1;
        bottom = Math.max(bottom, b.bottom);
      }
      if (lines > 1) problems.push(`${describe(el)} is squeezed onto ${lines} lines`);
    }
  }
  for (const c of document.querySelectorAll('canvas')) {
    const h = c.getBoundingClientRect().height;
    if (h < MIN_CHART_HEIGHT) problems.push(`chart ${describe(c)} is ${Math.round(h)} px tall`);
  }
  return problems.slice(0, 15);
}
""".replace("MIN_CHART_HEIGHT", str(MIN_CHART_HEIGHT))


@pytest.fixture
def demo_mine(transactional_db, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence"), "base_url": None},
        },
    }
    now = timezone.now()
    seed_demo(now=now)
    seed_activity(now=now)
    return demo_objects(now)


def session_cookie(username: str, live_server) -> dict:
    """A signed-in session for ``username`` (the test client's force_login), as a browser cookie."""
    client = Client()
    client.force_login(User.objects.get(username=username))
    name = django_settings.SESSION_COOKIE_NAME
    return {"name": name, "value": client.cookies[name].value, "url": live_server.url}


class _Stub:
    """Stands in for every demo record when only the URL names of ``pages`` are wanted."""

    pk = 1


def test_every_named_url_is_crawled_or_skipped_with_a_reason():
    stub = _Stub()
    crawled = {name for _role, _shot, name, _kw in pages(defaultdict(lambda: stub, year=2026))}
    named = {n for n in named_urls() if n.split(":")[0] not in SKIPPED_NAMESPACES}
    forgotten = named - crawled - set(SKIPPED)
    assert not forgotten, f"pages neither crawled at phone size nor skipped with a reason: {sorted(forgotten)}"
    stale = (crawled | set(SKIPPED)) - named
    assert not stale, f"no longer in the URLconf: {sorted(stale)}"
    assert not crawled & set(SKIPPED), "crawled and skipped at once"


@pytest.mark.django_db
def test_the_urls_skipped_as_post_only_refuse_a_get():
    client = Client()
    client.force_login(User.objects.create_superuser(username="root", password="x"))
    dummy = {"int": 1, "string": "x", "path": "x"}
    for name, reason in SKIPPED.items():
        if not reason.startswith("POST only"):
            continue
        converters = named_urls()[name]
        kwargs = {
            param: dummy[type(conv).__name__.removesuffix("Converter").lower()] for param, conv in converters.items()
        }
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 405, name


@pytest.mark.django_db(transaction=True)
def test_every_page_fits_a_phone_without_sideways_scrolling(demo_mine, browser, browser_context_args, live_server):
    shots = Path(django_settings.VAR_DIR) / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    by_role: dict[str, list] = {}
    for role, shot, name, kwargs in pages(demo_mine):
        by_role.setdefault(role, []).append((shot, name, kwargs))

    failures = []
    for role, entries in by_role.items():
        context = browser.new_context(**{**browser_context_args, "viewport": PHONE})
        if role != "anonymous":
            context.add_cookies([session_cookie(role, live_server)])
        page = context.new_page()
        try:
            for shot, name, kwargs in entries:
                url = reverse(name, kwargs=kwargs)
                try:
                    response = page.goto(f"{live_server.url}{url}")
                except PlaywrightError as error:  # a 405 or a download has no page to show
                    failures.append(f"{role} {url}: {error.message.splitlines()[0]}")
                    continue
                page.wait_for_load_state("load")
                page.screenshot(path=str(shots / f"{role}-{shot}.png"), full_page=True)
                if response is None or response.status != 200:
                    failures.append(f"{role} {url}: HTTP {response and response.status}")
                    continue
                if role != "anonymous" and "/accounts/login/" in page.url:
                    failures.append(f"{role} {url}: sent to the login page")
                    continue
                failures += [f"{role} {url}: {p}" for p in page.evaluate(LAYOUT_PROBLEMS)]
        finally:
            context.close()
    assert not failures, "\n".join(failures)
