"""Who may do what: every permission of the project, as django-rules predicates.

Views check these with ``user.has_perm(name, obj)``, templates with ``{% has_perm %}``
and selectors filter lists with the same ``Scope`` the predicates read, so a page
never shows what its URL would refuse.
"""

from dataclasses import dataclass

import rules
from django.utils import timezone

from .models import Organization, StaffRole
from .scope import get_scope


def _org_id(obj):
    """The branch id an object belongs to (a branch itself, or anything with ``branch_id``)."""
    if obj is None:
        return None
    if hasattr(obj, "branch_id"):
        return obj.branch_id
    return obj.pk


@rules.predicate
def is_admin(user):
    return get_scope(user).is_admin


@rules.predicate
def is_supervisor(user):
    return get_scope(user).is_supervisor


@rules.predicate
def is_work_dept(user):
    """党委工作部: the department that keeps the members' files (and so their full ID numbers)."""
    return StaffRole.Role.WORK_DEPT in get_scope(user).staff_roles


@rules.predicate
def is_committee(user):
    return get_scope(user).is_committee


@rules.predicate
def is_branch_manager_anywhere(user):
    return get_scope(user).is_branch_manager


@rules.predicate
def manages_branch(user, obj):
    """The branch's 书记, 副书记 or a 支委委员 (committee member)."""
    return _org_id(obj) in get_scope(user).committee_branch_ids


@rules.predicate
def leads_group(user, group):
    return group is not None and group.pk in get_scope(user).led_group_ids


@rules.predicate
def leads_a_group_of_branch(user, obj):
    return _org_id(obj) in get_scope(user).led_group_branch_ids


@rules.predicate
def reaches_branch(user, obj):
    """A member, committee member or group leader of the branch (``Scope.reachable_branch_ids``)."""
    return _org_id(obj) in get_scope(user).reachable_branch_ids


@rules.predicate
def is_self(user, member):
    return member is not None and member.pk == get_scope(user).member_id


@rules.predicate
def member_in_managed_branch(user, member):
    """The member currently belongs to a branch the user manages or leads a group in.

    Reads ``member.memberships.all()``: callers prefetch it so this costs no query.
    """
    if member is None:
        return False
    scope = get_scope(user)
    managed = scope.managed_branch_ids
    if not managed:
        return False
    today = timezone.localdate()
    return any(m.organization_id in managed and m.is_current_on(today) for m in member.memberships.all())


@rules.predicate
def member_in_managed_branch_or_led_group(user, member):
    """The member belongs now to a branch the user is on the committee of, or to a group the user leads.

    Narrower than ``member_in_managed_branch``: a 党小组长 reaches the whole branch's pages,
    but personal contact details only of their own group. Reads prefetched ``memberships``.
    """
    if member is None:
        return False
    scope = get_scope(user)
    reach = scope.committee_branch_ids | scope.led_group_ids
    if not reach:
        return False
    today = timezone.localdate()
    return any(m.organization_id in reach and m.is_current_on(today) for m in member.memberships.all())


sees_all = is_supervisor | is_committee

# Organisation pages
rules.add_perm("org.view_all_branches", sees_all)
rules.add_perm("org.view_branch", sees_all | reaches_branch)
rules.add_perm("org.manage_branch", manages_branch | is_admin)
rules.add_perm("org.view_branch_roster", sees_all | manages_branch | leads_a_group_of_branch)
rules.add_perm("org.view_member", sees_all | is_self | member_in_managed_branch)
rules.add_perm("org.view_member_phone", sees_all | is_self | member_in_managed_branch_or_led_group)
rules.add_perm("org.import_roster", is_admin | is_supervisor)
# The export carries full ID numbers: the 党委工作部 and the administrator only (not 纪检部 or
# 党委委员, who see the masked roster on the branch pages); each export is audited.
rules.add_perm("org.export_roster", is_work_dept | is_admin)
rules.add_perm("org.view_audit_log", is_supervisor)


@rules.predicate
def leads_branch(user, obj):
    """The branch's 书记 (not 副书记)."""
    return _org_id(obj) in get_scope(user).chief_secretary_branch_ids


# 支委分工: written by the 书记 (or the administrator).
rules.add_perm("org.edit_post_duties", leads_branch | is_admin)


# --- Meetings -------------------------------------------------------------------------


@rules.predicate
def leads_meeting_group(user, meeting):
    """A 党小组长 manages the meetings of their own group."""
    return meeting is not None and meeting.group_id is not None and meeting.group_id in get_scope(user).led_group_ids


@rules.predicate
def records_meeting(user, meeting):
    """The recorder (记录人) named in the minutes may enter them."""
    member_id = get_scope(user).member_id
    return meeting is not None and member_id is not None and meeting.recorder_id == member_id


manages_meeting = manages_branch | leads_meeting_group


@rules.predicate
def decides_leave(user, meeting):
    """The 书记 of the meeting's branch approves leave; for a 党小组会, that group's 党小组长 (domain.md)."""
    if meeting is None:
        return False
    scope = get_scope(user)
    if meeting.is_group_meeting:
        return meeting.group_id in scope.led_group_ids
    return meeting.branch_id in scope.chief_secretary_branch_ids


def member_is_expected(member_id: int | None, meeting) -> bool:
    """The member is on the meeting's expected list (应到): one query, none when ``attendances`` is prefetched."""
    if member_id is None or meeting is None:
        return False
    cached = getattr(meeting, "_prefetched_objects_cache", {}).get("attendances")
    if cached is not None:
        return any(a.member_id == member_id for a in cached)
    return meeting.attendances.filter(member_id=member_id).exists()


@rules.predicate
def is_expected_at(user, meeting):
    return member_is_expected(get_scope(user).member_id, meeting)


def may_ask_for_leave(member_id: int | None, meeting, *, now) -> bool:
    """An expected member may ask for leave after the notice and before the start."""
    return meeting is not None and meeting.accepts_leave_at(now) and member_is_expected(member_id, meeting)


def may_register_leave(user, meeting, *, now) -> bool:
    """The one who decides leave may register it for a member (代登记), before the start only."""
    return meeting is not None and meeting.accepts_leave_at(now) and decides_leave(user, meeting)


def may_decide_leave(user, meeting) -> bool:
    """Approving or refusing a request: its decider, while the record is still editable."""
    return meeting is not None and not meeting.is_locked and decides_leave(user, meeting)


def may_check_in(member_id: int | None, meeting, *, now, policy=None) -> bool:
    """An expected member may check in from the window's opening until the meeting ends."""
    if meeting is None or not meeting.checkin_open_at(now, policy=policy):
        return False
    return member_is_expected(member_id, meeting)


@rules.predicate
def asks_for_leave_now(user, meeting):
    return may_ask_for_leave(get_scope(user).member_id, meeting, now=timezone.now())


@rules.predicate
def registers_leave_now(user, meeting):
    return may_register_leave(user, meeting, now=timezone.now())


@rules.predicate
def checks_in_now(user, meeting):
    return may_check_in(get_scope(user).member_id, meeting, now=timezone.now())


rules.add_perm("meetings.view_meeting", sees_all | reaches_branch)
rules.add_perm("meetings.plan_meeting", manages_branch | leads_a_group_of_branch)
rules.add_perm("meetings.manage_meeting", manages_meeting)
rules.add_perm("meetings.record_minutes", manages_meeting | records_meeting)
rules.add_perm("meetings.view_compliance_all", sees_all)
rules.add_perm("meetings.view_branch_compliance", sees_all | reaches_branch)
rules.add_perm("meetings.export_ledger", sees_all | manages_branch)
rules.add_perm("meetings.manage_exemptions", is_supervisor)
# Leave and check-in (the time-bound ones read the clock: templates cannot pass ``now``;
# services call ``may_ask_for_leave`` / ``may_register_leave`` / ``may_check_in`` with theirs).
rules.add_perm("meetings.decide_leave", decides_leave)
rules.add_perm("meetings.ask_for_leave", asks_for_leave_now)
rules.add_perm("meetings.register_leave", registers_leave_now)
rules.add_perm("meetings.check_in", checks_in_now)
# The check-in page without a valid code: only those expected at the meeting and those managing it.
rules.add_perm("meetings.view_checkin", is_expected_at | manages_meeting)
# The register of places: a branch's committee and supervisors read it; the 书记 edits the
# branch's own places (``obj`` is the branch or a place with ``branch_id``); mine-wide places
# (``branch_id`` None: the bases) are edited by the administrator in the admin only.
rules.add_perm("meetings.view_places", sees_all | manages_branch)
rules.add_perm("meetings.edit_places", leads_branch | is_admin)


# --- Bulletin (announcements and their read receipts) ----------------------------
# An announcement's audience is the whole mine (organization_id is None) or one branch;
# these predicates read ``organization_id`` (``_org_id`` would read an announcement's own pk).


def _announcement_branch_id(announcement):
    return None if announcement is None else announcement.organization_id


@rules.predicate
def is_mine_wide(user, announcement):
    return announcement is not None and announcement.organization_id is None


@rules.predicate
def manages_announcement_branch(user, announcement):
    branch_id = _announcement_branch_id(announcement)
    return branch_id is not None and branch_id in get_scope(user).committee_branch_ids


@rules.predicate
def in_announcement_branch(user, announcement):
    branch_id = _announcement_branch_id(announcement)
    if branch_id is None:
        return False
    scope = get_scope(user)
    return branch_id in scope.reachable_branch_ids


@rules.predicate
def is_published(user, announcement):
    return announcement is not None and announcement.published_at <= timezone.now()


# Publishing at all (the "new" button): a branch's committee, or the 党委 level.
rules.add_perm("bulletin.add_announcement", sees_all | is_branch_manager_anywhere)
rules.add_perm("bulletin.change_announcement", sees_all | manages_announcement_branch)
# Scheduled announcements stay hidden until published, except from those who may edit them.
rules.add_perm(
    "bulletin.view_announcement",
    rules.is_authenticated
    & ((is_published & (is_mine_wide | sees_all | in_announcement_branch)) | sees_all | manages_announcement_branch),
)
rules.add_perm("bulletin.view_receipts", sees_all | manages_announcement_branch)


# --- Supervision (evidence, review, findings, rectifications) --------------------------
# Evidence is seen by whoever may see its meeting; these predicates take the meeting,
# finding or rectification the evidence belongs to (all carry ``branch_id``).


@rules.predicate
def meeting_is_editable(user, meeting):
    return meeting is not None and not meeting.is_locked


@rules.predicate
def owns_rectification(user, obj):
    """The rectification's owner (整改责任人); ``obj`` is a rectification or its finding."""
    if obj is None:
        return False
    if not hasattr(obj, "owner_id"):  # a finding: its rectification (select_related it to save a query)
        obj = getattr(obj, "rectification", None)
    return obj is not None and obj.owner_id == user.pk


@rules.predicate
def attests_speech(user, attestation):
    """The speaker asked to confirm their recorded point (``supervision.SpeechAttestation``), nobody else."""
    member_id = get_scope(user).member_id if user.is_authenticated else None
    return member_id is not None and getattr(attestation, "member_id", None) == member_id


rules.add_perm("supervision.upload_evidence", (manages_meeting | records_meeting) & meeting_is_editable)
rules.add_perm("supervision.view_evidence", sees_all | reaches_branch)
# The review queue, the flags and the decisions on them belong to the 督导组.
rules.add_perm("supervision.review_meeting", is_supervisor)
rules.add_perm("supervision.view_flags", sees_all)
rules.add_perm("supervision.decide_flag", is_supervisor)
rules.add_perm("supervision.raise_finding", is_supervisor)
rules.add_perm("supervision.view_findings_all", sees_all)
# A finding and its rectification are seen by the 督导组, the committee, the branch's committee and its owner.
rules.add_perm("supervision.view_finding", sees_all | manages_branch | owns_rectification)
rules.add_perm("supervision.answer_rectification", manages_branch | owns_rectification)
rules.add_perm("supervision.verify_rectification", is_supervisor)
rules.add_perm("supervision.attest_speech", attests_speech)


# --- Assessment (participation) --------------------------------------------------------
# A member's participation: their own, their branch committee's (current membership, read
# from prefetched ``memberships``), the 党委 level's. The trend: the 党委 level sees the mine
# and every branch (no object = the whole mine); a branch's people see their own branch.

rules.add_perm("assessment.export_hr", sees_all)
rules.add_perm("assessment.view_member_score", sees_all | is_self | member_in_managed_branch)
# A branch's list of members' participation in a run (object: the branch).
rules.add_perm("assessment.view_branch_participation", sees_all | manages_branch)
rules.add_perm(
    "assessment.view_trend",
    rules.is_authenticated & (sees_all | reaches_branch),
)
rules.add_perm("assessment.set_baseline", is_committee)


# --- Assessment (runs) -----------------------------------------------------------------
# The 党委 committee runs the assessment (create, compute, review, publish); the 督导组 enters
# the items that need judgement; both see every branch's score, drafts included. A branch's
# people see their own branch's published score and its deductions (object: the branch, or
# anything with ``branch_id`` such as a branch score).

rules.add_perm("assessment.manage_runs", is_committee)
rules.add_perm("assessment.enter_scores", is_supervisor)
rules.add_perm("assessment.view_all_scores", sees_all)
rules.add_perm("assessment.view_branch_score", sees_all | reaches_branch)


# --- Tasks (督办任务) --------------------------------------------------------------------
# Duck-typed on ``organization_id``, ``owner_id``, ``assigned_by_id``, ``dispatch_id`` and the
# ``helpers`` relation (prefetch it to save a query): org cannot import tasks.


def _task_org_id(task):
    return None if task is None else task.organization_id


@rules.predicate
def owns_task(user, task):
    member_id = get_scope(user).member_id
    return task is not None and member_id is not None and task.owner_id == member_id


@rules.predicate
def helps_task(user, task):
    member_id = get_scope(user).member_id
    if task is None or member_id is None:
        return False
    cached = getattr(task, "_prefetched_objects_cache", {}).get("helpers")
    if cached is not None:
        return any(h.pk == member_id for h in cached)
    return task.helpers.filter(pk=member_id).exists()


@rules.predicate
def assigned_task(user, task):
    return task is not None and task.assigned_by_id is not None and task.assigned_by_id == user.pk


@rules.predicate
def manages_task_branch(user, task):
    return _task_org_id(task) in get_scope(user).committee_branch_ids


@rules.predicate
def leads_task_branch(user, task):
    """The 书记 (not 副书记) of the task's branch."""
    return _task_org_id(task) in get_scope(user).chief_secretary_branch_ids


@rules.predicate
def in_task_branch(user, task):
    return _task_org_id(task) in get_scope(user).reachable_branch_ids


@rules.predicate
def is_dispatched(user, task):
    return task is not None and task.dispatch_id is not None


rules.add_perm("tasks.dispatch", sees_all)
rules.add_perm("tasks.view_dispatch_matrix", sees_all)
rules.add_perm("tasks.view_task", sees_all | owns_task | helps_task | assigned_task | in_task_branch)
rules.add_perm("tasks.report_task", owns_task | helps_task)
rules.add_perm("tasks.hand_over_task", manages_task_branch | is_admin)
# Accepting or returning a report: whoever assigned it; a dispatched task also the 党委工作部;
# a task of the branch's own (议定事项, 补学) also its 书记.
rules.add_perm(
    "tasks.decide_task",
    assigned_task | (is_dispatched & is_work_dept) | (~is_dispatched & leads_task_branch),
)
rules.add_perm("tasks.cancel_task", assigned_task)

# --- Tasks (议定事项 followed up) -------------------------------------------------------
# Decisions open past their deadline: the 党委 level sees every branch's; a branch's committee
# (书记, 副书记, 支委委员) sees its own branch's; an ordinary member does not see the list.

rules.add_perm("tasks.view_open_decisions", sees_all | is_branch_manager_anywhere)

# --- Appraisal (民主评议党员) ---------------------------------------------------------------
# The 党委 committee opens the year and confirms; the branch's 书记 runs the round (start, window,
# codes, close, the committee's opinion and proposal); the 党委 level and the branch committee see
# the tallies once the window has closed. Voting itself is decided by the round's voter list (a
# service rule), and a member's result is their own (``my_appraisal`` reads their own rows only).


@rules.predicate
def is_branch_chief_secretary(user, obj):
    """The 书记 of the object's branch (not the 副书记): the first responsible person."""
    return _org_id(obj) in get_scope(user).chief_secretary_branch_ids


rules.add_perm("appraisal.open_year", is_committee)
rules.add_perm("appraisal.confirm_round", is_committee)
rules.add_perm("appraisal.start_round", is_branch_chief_secretary)
rules.add_perm("appraisal.run_round", is_branch_chief_secretary)
rules.add_perm("appraisal.view_round", sees_all | manages_branch)
rules.add_perm("appraisal.view_tallies", sees_all | manages_branch)


# --- Study (学习教育: the library of materials and 微党课) ---------------------------------
# One home of "who sees which study item" and "who writes, reviews, publishes": the study
# selectors build their filters from ``study_reach`` and ``study_author_branch_ids``, the
# predicates below read the same two, so a list never shows what the item's URL refuses.
# The predicates take a ``study.StudyItem`` (with ``organization`` selected and ``branches``
# prefetched, as the selectors load it) or, for ``study.publish_recording``, a meeting.

# ``StudyItem.Audience`` and ``StudyItem.Role`` values (org may not import study; a test
# checks these spellings against the model).
STUDY_AUDIENCE_MINE, STUDY_AUDIENCE_BRANCHES, STUDY_AUDIENCE_ROLES = "mine", "branches", "roles"
STUDY_ROLE_SECRETARY, STUDY_ROLE_COMMITTEE = "secretary", "committee"
STUDY_PUBLISHED, STUDY_DRAFT = "published", "draft"


@dataclass(frozen=True)
class StudyReach:
    """The audiences a login belongs to: every item (the 党委 level), its branches, its roles."""

    everything: bool = False
    branch_ids: frozenset[int] = frozenset()
    roles: frozenset[str] = frozenset()


def study_reach(user) -> StudyReach | None:
    """Which published items a login may study; ``None`` for anonymous (nothing at all).

    Supervisors (党委工作部, 纪检部) and the 党委 see every published item. Anyone else sees the
    whole mine's items, those of the branches they belong to (as a member, a 支委 or a 党小组长),
    and those for 书记 (a 书记 or 副书记 of a branch) or for 支委 (any branch committee post).
    """
    if not getattr(user, "is_authenticated", False):
        return None
    scope = get_scope(user)
    if scope.sees_all_branches:
        return StudyReach(everything=True)
    roles = set()
    if scope.secretary_branch_ids:
        roles.add(STUDY_ROLE_SECRETARY)
    if scope.committee_branch_ids:
        roles.add(STUDY_ROLE_COMMITTEE)
    return StudyReach(branch_ids=scope.reachable_branch_ids, roles=frozenset(roles))


def study_author_branch_ids(user) -> frozenset[int]:
    """Branches whose study items the login writes: as 书记 (or 副书记) or 宣传委员."""
    scope = get_scope(user)
    return scope.secretary_branch_ids | scope.propaganda_branch_ids


@rules.predicate
def writes_mine_study(user):
    """The 党委工作部 writes (and reviews) the mine's own items, those of the 党委."""
    return is_work_dept(user) or is_admin(user)


def _item_is_branch_items(item) -> bool:
    return item.organization.kind == Organization.Kind.BRANCH


@rules.predicate
def in_study_audience(user, item):
    reach = study_reach(user)
    if reach is None or item is None or item.state != STUDY_PUBLISHED:
        return False
    if reach.everything or item.audience == STUDY_AUDIENCE_MINE:
        return True
    if item.audience == STUDY_AUDIENCE_BRANCHES:
        return any(b.pk in reach.branch_ids for b in item.branches.all())
    if item.audience == STUDY_AUDIENCE_ROLES:
        return bool(set(item.roles.split()) & reach.roles)
    return False


@rules.predicate
def writes_study_item(user, item):
    """The item's organisation: its branch's 书记 / 宣传委员, or the 党委工作部 for the 党委's items."""
    if item is None:
        return False
    if _item_is_branch_items(item):
        return item.organization_id in study_author_branch_ids(user)
    return writes_mine_study(user)


@rules.predicate
def reviews_study(user):
    return writes_mine_study(user)


@rules.predicate
def reviewer_sees_item(user, item):
    """Reviewers see every item once it was sent for review (drafts stay with their authors)."""
    return item is not None and item.state != STUDY_DRAFT and reviews_study(user)


@rules.predicate
def writes_study_anywhere(user):
    return bool(study_author_branch_ids(user)) or writes_mine_study(user)


@rules.predicate
def publishes_meeting_recording(user, meeting):
    """A 党课's branch 书记 / 宣传委员, or the 党委工作部, may publish its recording as a 微党课."""
    if meeting is None:
        return False
    return meeting.branch_id in study_author_branch_ids(user) or writes_mine_study(user)


rules.add_perm("study.view_item", in_study_audience | writes_study_item | reviewer_sees_item)
rules.add_perm("study.add_item", writes_study_anywhere)
rules.add_perm("study.edit_item", writes_study_item)
rules.add_perm("study.review_item", reviews_study)
rules.add_perm("study.withdraw_item", writes_study_item | reviews_study)
rules.add_perm("study.publish_recording", publishes_meeting_recording)

# --- Study: 学习任务, 学习交流群 (issue 11) ---------------------------------------------------


@rules.predicate
def leads_a_branch(user):
    """The 书记 of some branch (assigns study within it)."""
    return bool(get_scope(user).chief_secretary_branch_ids)


@rules.predicate
def created_assignment(user, assignment):
    return assignment is not None and assignment.created_by_id == user.pk


@rules.predicate
def manages_an_assigned_branch(user, assignment):
    """A 书记 or 支委 of a branch the assignment reaches (sees that branch's part)."""
    if assignment is None:
        return False
    ids = get_scope(user).committee_branch_ids
    if not ids:
        return False
    return assignment.targets.filter(branch_id__in=ids).exists()


@rules.predicate
def in_branch(user, obj):
    """A member of the branch (or of the branch of ``obj``)."""
    return _org_id(obj) in get_scope(user).branch_ids


# 党委工作部 and 党委委员 assign to any branch; a 书记 within their own branch (checked by the service).
assigns_study = is_work_dept | is_committee
rules.add_perm("study.add_assignment", assigns_study | leads_a_branch)
rules.add_perm("study.assign_to_any_branch", assigns_study)
rules.add_perm("study.view_assignment", sees_all | created_assignment | manages_an_assigned_branch)
rules.add_perm("study.view_all_of_assignment", sees_all | created_assignment)
# 学习交流群 of a branch: its members and committee; the mine's committee and supervisors read.
rules.add_perm("study.view_group", sees_all | in_branch | manages_branch)
rules.add_perm("study.post_in_group", in_branch)
rules.add_perm("study.hide_post", leads_branch)

# --- Study records: the 学时 ledger -------------------------------------------------

rules.add_perm("study.view_branch_ledger", sees_all | manages_branch)
rules.add_perm("study.view_mine_ledger", sees_all)
# the 学时台账 link: the mine's page, or the branch page of a 书记 / 支委
rules.add_perm("study.view_ledgers", sees_all | is_branch_manager_anywhere)
# --- Practice (主题党日 activities and hazards, 先锋岗 / 责任区) -----------------------------
# Activities and hazards are part of the meeting's record: whoever manages the meeting
# ("meetings.manage_meeting") writes them while it is editable. The hazard counts of every
# branch are for the 党委 level; 先锋岗 and 责任区 are named by the branch's 书记.

rules.add_perm("practice.view_hazard_counts", sees_all)
rules.add_perm("practice.edit_pioneer_posts", leads_branch | is_admin)


# --- Practice: 技术攻关 projects and the 党建+业务 dashboard (issue 12) ------------------------
# Duck-typed on ``branch_id``, ``group_id`` and ``verifier_id``: org cannot import practice.
# The branch's 书记 or the 党小组长 of the project's group open and edit it; the verifier named
# on it verifies it; the 党委 level reads every project; other branches' members never see it.


@rules.predicate
def leads_project_group(user, project):
    return project is not None and project.group_id is not None and project.group_id in get_scope(user).led_group_ids


@rules.predicate
def verifies_project(user, project):
    return project is not None and project.verifier_id is not None and project.verifier_id == user.pk


rules.add_perm("practice.open_project", is_branch_chief_secretary | leads_a_group_of_branch)
rules.add_perm("practice.change_project", is_branch_chief_secretary | leads_project_group)
rules.add_perm("practice.view_project", sees_all | reaches_branch | verifies_project)
rules.add_perm("practice.verify_project", verifies_project)
rules.add_perm("practice.view_projects_all", sees_all)
# The dashboard: the mine's (and any 党总支's or branch's) for the 党委 level; a branch's own for its committee.
rules.add_perm("practice.view_dashboard_all", sees_all)
rules.add_perm("practice.view_branch_dashboard", sees_all | manages_branch)
# --- end of practice -----------------------------------------------------------------------
