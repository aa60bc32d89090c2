"""Sixteen months of the demo mine's work: meetings with minutes and attendance, evidence, reviews,
flags, findings and rectifications, two published quarterly assessments and a participation baseline.

Run after ``seed_demo`` (``make run`` runs both). It lives in the assessment app because it
writes every app's records and imports run downward. Everything is planned from
``random.Random(SEED)`` and dates relative to the month of ``now``, so two machines get the
same mine; the command does nothing when the demo branches already have meetings.

The story it tells, for the demo:
- participation rises from about 64% in the first six months (the baseline) to about 84%:
  the +30% the mine reported;
- 运输队 skips committee meetings and clones last quarter's minutes (补本子): flagged,
  confirmed, vetoed in the last quarter's assessment, named in the 通报 and given a rectification;
- 通风队 enters its minutes late; 掘进二队 has a record returned by the supervisor;
- last month's records wait in the review queue with photos, one of them reused across branches.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from PIL import Image, ImageDraw

from appraisal.demo import seed_appraisal
from assessment.models import Item, Run, Scheme
from assessment.participation import baseline_set
from assessment.services import item_score_enter, run_compute, run_create, run_publish, run_submit_for_review
from bulletin.management.commands.seed_demo import BRANCHES, COMMITTEE_NAME
from meetings.deadlines import minutes_due_at
from meetings.models import (
    AgendaItem,
    Attendance,
    LeaveRequest,
    Meeting,
    MeetingPolicy,
    MeetingType,
    Speech,
    ThemeTag,
)
from org.clock import local_date
from org.models import Member, Membership, Organization, Post, User
from practice.demo import seed_practice
from practice.demo_projects import seed_projects
from study.demo import seed_library
from study.demo_group import seed_study_activity
from study.demo_media import seed_videos
from supervision.models import Evidence, Flag, Review
from supervision.services.evidence import evidence_process, evidence_upload
from supervision.services.findings import (
    finding_raise,
    rectification_submit,
    rectification_verify,
    rectifications_sweep,
)
from supervision.services.integrity import flag_decide, meetings_check_due, minutes_index
from tasks.demo import seed_tasks
from tasks.demo_follow import seed_follow

SEED = 20260301
MONTHS = 16  # full months of history before the current one
BASELINE_MONTHS = 6
BASELINE_PRESENT, LATER_PRESENT = 0.64, 0.84

WEAK_BRANCH = "运输队党支部"  # skips committee meetings, clones minutes
LATE_BRANCH = "通风队党支部"  # enters minutes long after the meeting
RETURNED_BRANCH = "掘进二队党支部"  # last month's general meeting returned for correction
PHOTO_BRANCHES = ("综采一队党支部", "掘进二队党支部", "机电队党支部", WEAK_BRANCH)

PLACES = ["三楼党员活动室", "区队会议室", "井口调度室会议室", "职工书屋"]
TOPICS = {
    "committee_meeting": [
        "研究本月党建工作计划和安全生产重点",
        "分析党员思想动态，部署安全隐患排查",
        "研究发展党员计划和入党积极分子培养",
        "部署“安全我先行”主题党日活动",
    ],
    "group_meeting": ["学习《安全生产法》重点条款", "交流岗位安全风险辨识体会", "讨论技术攻关小组进展"],
    "theme_day": ["“安全我先行”：观看事故警示片并查找身边隐患", "节能降耗金点子征集", "红色教育基地参观学习"],
    "general_meeting": ["传达矿党委年度工作部署", "讨论本支部发展党员计划", "评选季度先进党员"],
}
# Speakers' points are put together from parts, so two meetings' minutes differ the way real
# ones do and only the planted copy looks copied. The parts follow the meeting's theme
# (safety, energy and technique, party work), so that what is said fits what was on the agenda;
# every theme's lists have the same lengths, so the random stream is the same whatever the theme.
OPENERS = ["结合本队实际，", "从本班组看，", "针对上月检查情况，", "我谈一点认识：", "作为党员，", "联系岗位工作，"]
SAFETY_CONCERNS = [
    "综采工作面顶板管理压力大",
    "新入职职工安全意识薄弱",
    "采空区密闭检查不够及时",
    "夜班交接班记录不够规范",
    "运输巷道积水影响行车",
    "瓦斯检查点记录有漏填",
    "隐患排查有死角",
    "特种作业人员持证检查不严",
    "职工对井下休息条件有意见",
    "雨季防治水准备不足",
]
SAFETY_ACTIONS = [
    "党员要在关键岗位带头盯守",
    "建议每周通报一次并明确责任人",
    "要一对一结对帮带，月底检查效果",
    "机电班组拿出具体整改措施",
    "支部要向矿里反映，争取尽快解决",
    "把“党员身边无事故”活动落到实处",
    "下月组织一次专题学习并交流心得",
]
ENERGY_CONCERNS = [
    "皮带机空载运行时间偏长",
    "井下照明长明灯较多",
    "压风机漏风造成电耗偏高",
    "水泵没有避峰运行",
    "旧料回收利用率不高",
    "采煤机截割参数不够合理",
    "技术攻关小组的课题进展偏慢",
    "节能金点子征集后落实跟踪不够",
    "设备维修配件消耗偏大",
    "班组能耗数据记录不全",
]
ENERGY_ACTIONS = [
    "党员先锋岗带头执行停机断电制度",
    "建议每周公布一次各班组电耗",
    "技术攻关小组月底拿出测算结果",
    "机电班组排查漏风点并限期整改",
    "把修旧利废纳入党员责任区考核",
    "向生产技术科申请对节能效果进行核定",
    "下月组织一次节能降耗经验交流",
]
PARTY_CONCERNS = [
    "入党积极分子培养联系人落实不到位",
    "部分党员学习流于形式",
    "三班倒的党员参加集中学习有困难",
    "发展党员向一线班组倾斜不够",
    "党员责任区作用发挥不明显",
    "先进党员评选标准群众知晓度不高",
    "红色教育学习后交流不够深入",
    "个别党员思想有波动",
    "党费收缴记录不够及时",
    "党员联系群众制度落实不够",
]
PARTY_ACTIONS = [
    "支委分工一人联系一名积极分子",
    "利用学习群推送微党课，便于倒班党员补学",
    "组织委员月底前梳理发展对象名单",
    "评选结果在支部公示一周",
    "书记带头开展一次谈心谈话",
    "把学习体会纳入月底党员大会交流",
    "按季度通报党员责任区履职情况",
]
THEMES = {
    "safety": (SAFETY_CONCERNS, SAFETY_ACTIONS),
    "energy": (ENERGY_CONCERNS, ENERGY_ACTIONS),
    "party": (PARTY_CONCERNS, PARTY_ACTIONS),
}
TOPIC_THEMES = {
    "研究发展党员计划和入党积极分子培养": "party",
    "讨论技术攻关小组进展": "energy",
    "节能降耗金点子征集": "energy",
    "红色教育基地参观学习": "party",
    "讨论本支部发展党员计划": "party",
    "评选季度先进党员": "party",
}  # every other topic is about safety


@dataclass
class Roster:
    branch: Organization
    groups: list[Organization]
    members: list[Member]  # current members of the branch
    by_group: dict[int, list[Member]]
    committee: list[Member]
    secretary: Member
    leaders: dict[int, Member]  # group id → its 党小组长


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _month_start(today: dt.date, back: int) -> dt.date:
    number = today.year * 12 + today.month - 1 - back
    return dt.date(number // 12, number % 12 + 1, 1)


def _rosters(today: dt.date) -> dict[str, Roster]:
    names = [b[0] for b in BRANCHES]
    branches = {b.name: b for b in Organization.objects.filter(name__in=names, kind=Organization.Kind.BRANCH)}
    if len(branches) != len(names):
        raise CommandError("请先运行 seed_demo 载入演示支部。")
    current = Q(started_on__lte=today) & (Q(ended_on__isnull=True) | Q(ended_on__gt=today))
    rosters: dict[str, Roster] = {}
    for name in names:
        branch = branches[name]
        groups = list(Organization.objects.filter(parent=branch, kind=Organization.Kind.GROUP).order_by("sort_order"))
        memberships = (
            Membership.objects.filter(current, organization__in=[branch, *groups])
            .select_related("member")
            .prefetch_related("member__status_periods")  # can_vote_on at each meeting's date, without a query
        )
        members: dict[int, Member] = {}
        by_group: dict[int, list[Member]] = {g.pk: [] for g in groups}
        for m in memberships.order_by("member__name", "member_id"):
            if m.organization_id == branch.pk:
                members[m.member_id] = m.member
            else:
                by_group[m.organization_id].append(m.member)
        posts = (
            Post.objects.filter(current, organization=branch, role__in=Post.COMMITTEE_ROLES)
            .select_related("member__user")
            .prefetch_related("member__status_periods")
        )
        committee = [p.member for p in posts.order_by("role", "member_id")]
        secretary = next(p.member for p in posts if p.role == Post.Role.SECRETARY)
        leaders = {
            p.organization_id: p.member
            for p in Post.objects.filter(current, organization__in=groups, role=Post.Role.GROUP_LEADER).select_related(
                "member__user"
            )
        }
        rosters[name] = Roster(branch, groups, list(members.values()), by_group, committee, secretary, leaders)
    return rosters


class Planner:
    """Plans every meeting of the history in memory, then writes them in bulk."""

    def __init__(self, *, now: dt.datetime, rosters: dict[str, Roster]):
        self.now = now
        self.today = timezone.localdate(now)
        self.rng = random.Random(SEED)  # noqa: S311 - demo data, reproducible on purpose
        self.rosters = rosters
        self.types = {t.code: t for t in MeetingType.objects.all()}
        self.theme_tag = ThemeTag.objects.get(name="安全我先行")
        self.supervisor = User.objects.get(username="supervisor")
        self.first_month = _month_start(self.today, MONTHS)
        self.last_month = _month_start(self.today, 1)

    def _status_for(self, day: dt.date) -> str:
        # Last month's records wait for review; older ones were approved.
        return Meeting.Status.SUBMITTED if day >= self.last_month else Meeting.Status.APPROVED

    def plan(self) -> list[dict]:
        plans: list[dict] = []
        for back in range(MONTHS, 0, -1):
            month = _month_start(self.today, back)
            baseline = back > MONTHS - BASELINE_MONTHS
            quarter_end = month.month % 3 == 0
            for name, roster in self.rosters.items():
                skip_committee = name == WEAK_BRANCH and back in (3, 5)
                if not skip_committee:
                    plans.append(self._meeting(roster, month, 8, ["committee_meeting"], roster.committee, baseline))
                for gi, group in enumerate(roster.groups):
                    plans.append(
                        self._meeting(
                            roster, month, 12 + gi, ["group_meeting"], roster.by_group[group.pk], baseline, group=group
                        )
                    )
                plans.append(self._meeting(roster, month, 20, ["theme_day"], roster.members, baseline))
                if quarter_end:
                    plans.append(
                        self._meeting(
                            roster,
                            month,
                            25,
                            ["general_meeting", "party_lesson"],
                            roster.members,
                            baseline,
                            lesson=True,
                        )
                    )
        return plans

    def _meeting(self, roster, month, day, codes, attendees, baseline, *, group=None, lesson=False) -> dict:
        rng = self.rng
        start = _local(month.replace(day=day), 15 if "theme_day" in codes else 9, 0)
        end = start + dt.timedelta(hours=1, minutes=30)
        name = roster.branch.name
        entered = end + dt.timedelta(days=12 if name == LATE_BRANCH else 1)
        topic_pool = TOPICS["general_meeting" if lesson else codes[0]]
        present = BASELINE_PRESENT if baseline else LATER_PRESENT
        attendance = []
        for member in attendees:
            roll = rng.random()
            if roll < present:
                status = Attendance.Status.LATE if rng.random() < 0.05 else Attendance.Status.PRESENT
            elif roll < present + (1 - present) * 0.6:
                status = Attendance.Status.LEAVE
            else:
                status = Attendance.Status.ABSENT
            attendance.append((member, status))
        # Drawn in the order the history was first drawn in, so that the demo stays as it was.
        topic = rng.choice(topic_pool)
        place = rng.choice(PLACES)
        present_members = [m for m, status in attendance if status in Attendance.PRESENT_STATUSES]
        chair, recorder = self._chair_and_recorder(roster, present_members, group=group, month=month)
        # The speakers are among those present.
        drawn = rng.sample(attendees, k=min(3, len(attendees))) if attendees else []
        speakers = [m for m in drawn if m in present_members]
        speakers += [m for m in present_members if m not in speakers][: len(drawn) - len(speakers)]
        concerns, actions = THEMES[TOPIC_THEMES.get(topic, "safety")]
        return {
            "roster": roster,
            "codes": codes,
            "group": group,
            "start": start,
            "end": end,
            "entered": entered,
            "topic": topic,
            "place": place,
            "status": self._status_for(month),
            "attendance": attendance,
            "lesson": lesson,
            "speakers": speakers,
            "points": [f"{rng.choice(OPENERS)}{rng.choice(concerns)}，{rng.choice(actions)}。" for _ in range(3)],
            "chair": chair,
            "recorder": recorder,
        }

    @staticmethod
    def _chair_and_recorder(roster, present, *, group, month: dt.date) -> tuple[Member, Member]:
        """Who chaired and who recorded, among those present (no random draw, so the history stays as it was).

        The 书记 chairs a branch meeting and the 党小组长 the group's; when they were away
        (on shift) the first committee member present (the group's first member present)
        stands in. The recorder takes turns month by month among the others present,
        committee members first for a branch meeting.
        """
        turn = month.year * 12 + month.month
        usual = roster.leaders.get(group.pk) if group is not None else roster.secretary
        pool = present if group is not None else [m for m in roster.committee if m in present] or present
        if not pool:
            return usual, usual
        chair = usual if usual in present else pool[0]
        others = [m for m in pool if m != chair] or [chair]
        return chair, others[turn % len(others)]


class Command(BaseCommand):
    help = "Load sixteen months of demo meetings, evidence, reviews, findings and assessments. Safe to run again."

    def handle(self, *args, **options):
        now = timezone.now()
        if Meeting.objects.filter(branch__name__in=[b[0] for b in BRANCHES]).exists():
            self.stdout.write("演示会议数据已存在，跳过。")
            return
        seeded = seed_activity(now=now)
        _videos, skipped = seed_videos(now=now)
        if skipped:
            self.stdout.write(self.style.WARNING(skipped))
        self.stdout.write(self.style.SUCCESS(f"演示业务数据已就绪：{COMMITTEE_NAME}，{seeded} 次会议。"))


def seed_activity(*, now: dt.datetime) -> int:
    rosters = _rosters(timezone.localdate(now))
    planner = Planner(now=now, rosters=rosters)
    with transaction.atomic():
        meetings = _write_meetings(planner.plan(), planner)
    _evidence_and_reviews(planner, meetings, now=now)
    _assessments(planner, now=now)
    seed_tasks(now=now)
    seed_follow(now=now)
    seed_practice(now=now)
    seed_appraisal(now=now)
    seed_library(now=now)
    seed_projects(now=now)
    seed_study_activity(now=now)
    return len(meetings)


def _write_meetings(plans: list[dict], planner: Planner) -> list[tuple[Meeting, dict]]:
    secretary_user = {r.branch.pk: r.secretary.user for r in planner.rosters.values()}
    due_days = MeetingPolicy.current().minutes_due_days
    rows = []
    for p in plans:
        roster = p["roster"]
        submitted = p["entered"] + dt.timedelta(hours=2)
        rows.append(
            Meeting(
                branch=roster.branch,
                group=p["group"],
                topic=p["topic"],
                agenda=f"一、{p['topic']}\n二、党员发言讨论\n三、形成决议",
                requirements="请提前 10 分钟到场签到；不能参加的须提前向书记请假。",
                planned_start=p["start"],
                planned_end=p["end"],
                place=p["place"],
                lecturer=roster.secretary if p["lesson"] else None,
                lesson_title="筑牢安全生产思想防线" if p["lesson"] else "",
                status=p["status"],
                notice_published_at=p["start"] - dt.timedelta(days=3),
                actual_start=p["start"],
                actual_end=p["end"],
                chair=p["chair"],
                recorder=p["recorder"],
                resolutions=f"会议一致同意：{p['topic']}的各项安排，由支部委员分工落实。",
                counts_for=timezone.localdate(p["start"]),
                # bulk_create skips Meeting.save, which keeps the filing deadline
                minutes_due_at=minutes_due_at(local_date(p["start"]), days=due_days),
                minutes_entered_at=p["entered"],
                submitted_at=submitted,
                created_by=secretary_user[roster.branch.pk],
            )
        )
    Meeting.objects.bulk_create(rows, batch_size=500)
    pairs = list(zip(rows, plans, strict=True))

    through = Meeting.types.through
    through.objects.bulk_create(
        [through(meeting_id=m.pk, meetingtype_id=planner.types[c].pk) for m, p in pairs for c in p["codes"]],
        batch_size=1000,
    )
    tag_through = Meeting.theme_tags.through
    tag_through.objects.bulk_create(
        [tag_through(meeting_id=m.pk, themetag_id=planner.theme_tag.pk) for m, p in pairs if "theme_day" in p["codes"]]
    )
    Attendance.objects.bulk_create(
        [
            Attendance(
                meeting=m,
                member=member,
                is_probationary=member.category == Member.Category.PROBATIONARY,
                # the vote right on the day of the meeting (dated statuses, 转正), not today's category
                can_vote=member.can_vote_on(m.counts_for),
                status=status,
                leave_reason=LEAVE_REASON if status == Attendance.Status.LEAVE else "",
                checked_in_at=m.actual_start if status in Attendance.PRESENT_STATUSES else None,
            )
            for m, p in pairs
            for member, status in p["attendance"]
        ],
        batch_size=2000,
    )
    LeaveRequest.objects.bulk_create(_leave_requests(pairs, planner), batch_size=2000)
    # Full minutes (agenda items and speeches) for the last four months, where the checks look.
    recent = planner.last_month - dt.timedelta(days=95)
    for m, p in pairs:
        if m.counts_for < recent:
            continue
        item = AgendaItem.objects.create(meeting=m, order=1, title=p["topic"])
        Speech.objects.bulk_create(
            [
                Speech(agenda_item=item, speaker=speaker, points=point, order=i)
                for i, (speaker, point) in enumerate(zip(p["speakers"], p["points"], strict=False), start=1)
            ]
        )
    approved = [m for m, _ in pairs if m.status == Meeting.Status.APPROVED]
    Review.objects.bulk_create(
        [
            Review(
                meeting=m,
                action=Review.Action.APPROVE,
                round=1,
                by=planner.supervisor,
                at=m.submitted_at + dt.timedelta(days=2),
            )
            for m in approved
        ],
        batch_size=1000,
    )
    return pairs


LEAVE_REASON = "井下当班"


def _leave_requests(pairs: list[tuple[Meeting, dict]], planner: Planner) -> list[LeaveRequest]:
    """An approved request behind every 请假 row (the only source of 请假), made and decided before the start.

    Decided by the 书记 (a 党小组会: its 党小组长 when he has a login); every fourth one was
    registered by the 书记 on the member's behalf (代登记) the evening before. Deterministic:
    the story's random draws are left as they were.
    """
    secretary_user = {r.branch.pk: r.secretary.user for r in planner.rosters.values()}
    leader_user = {gid: leader.user for r in planner.rosters.values() for gid, leader in r.leaders.items()}
    requests = []
    for m, p in pairs:
        secretary = secretary_user[m.branch_id]
        decider = (leader_user.get(m.group_id) if m.group_id else None) or secretary
        for member, status in p["attendance"]:
            if status != Attendance.Status.LEAVE:
                continue
            on_behalf = len(requests) % 4 == 3
            if on_behalf:
                asked = m.planned_start.replace(hour=20, minute=0) - dt.timedelta(days=1)
            else:
                asked = m.planned_start - dt.timedelta(days=2, hours=1)
            requests.append(
                LeaveRequest(
                    meeting=m,
                    member=member,
                    reason=LEAVE_REASON,
                    status=LeaveRequest.Status.APPROVED,
                    created_at=asked,
                    decided_by=decider,
                    decided_at=asked + dt.timedelta(minutes=30 if on_behalf else 3 * 60),
                    decision_note="同意。",
                    registered_by=secretary if on_behalf else None,
                )
            )
    return requests


def _photo(seed: int, *, taken: dt.datetime) -> bytes:
    """A camera-like JPEG with the capture time in its EXIF (what a phone writes)."""
    rng = random.Random(seed)  # noqa: S311 - demo pictures, reproducible on purpose
    image = Image.new("RGB", (1600, 1200), tuple(rng.randrange(40, 200) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(1600), rng.randrange(1200)
        w, h = rng.randrange(60, 500), rng.randrange(60, 400)
        draw.rectangle((x, y, x + w, y + h), fill=tuple(rng.randrange(256) for _ in range(3)))
    exif = Image.Exif()
    exif[0x010F] = "HUAWEI"  # Make
    exif[0x0110] = "Mate 60"  # Model
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = timezone.localtime(taken).strftime("%Y:%m:%d %H:%M:%S")  # DateTimeOriginal
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def _evidence_and_reviews(planner: Planner, pairs: list[tuple[Meeting, dict]], *, now: dt.datetime) -> None:
    supervisor = planner.supervisor
    last = [(m, p) for m, p in pairs if m.status == Meeting.Status.SUBMITTED]
    shared_photo = _photo(7, taken=last[0][0].actual_start + dt.timedelta(minutes=20))
    for index, (meeting, p) in enumerate(last):
        name = p["roster"].branch.name
        if name not in PHOTO_BRANCHES or meeting.group_id:
            continue
        files = [
            SimpleUploadedFile(
                f"IMG_{index:04d}_{n}.jpg",
                _photo(1000 * index + n, taken=meeting.actual_start + dt.timedelta(minutes=10 + 30 * n)),
                content_type="image/jpeg",
            )
            for n in range(2)
        ]
        if name == WEAK_BRANCH and "theme_day" in p["codes"]:
            # The same photo as another branch's meeting: the duplicate check finds it.
            files.append(SimpleUploadedFile("IMG_reused.jpg", shared_photo, content_type="image/jpeg"))
        elif index == 0:
            files.append(SimpleUploadedFile("IMG_shared.jpg", shared_photo, content_type="image/jpeg"))
        if name == WEAK_BRANCH and "committee_meeting" in p["codes"]:
            # Taken a week before the meeting: the capture-time check flags it.
            files.append(
                SimpleUploadedFile(
                    "IMG_old.jpg", _photo(99, taken=meeting.actual_start - dt.timedelta(days=7)), "image/jpeg"
                )
            )
        # Uploaded while the record was still open, as the secretary would.
        Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.HELD)
        meeting.status = Meeting.Status.HELD
        result = evidence_upload(
            files=files, category=Evidence.Category.PHOTO, user=p["roster"].secretary.user, meeting=meeting, now=now
        )
        for evidence in result.saved:
            evidence_process(evidence_id=evidence.pk, now=now)
        Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.SUBMITTED)

    # 运输队 clones its committee minutes from three months earlier, speakers reordered (补本子).
    weak = planner.rosters[WEAK_BRANCH].branch
    weak_committee = [
        m for m, p in pairs if m.branch_id == weak.pk and "committee_meeting" in p["codes"] and m.agenda_items.exists()
    ]
    if len(weak_committee) >= 2:
        source, clone = weak_committee[0], weak_committee[-1]
        Meeting.objects.filter(pk=clone.pk).update(topic=source.topic, resolutions=source.resolutions)
        source_item = source.agenda_items.get()
        clone_item = clone.agenda_items.get()
        clone_item.speeches.all().delete()
        speeches = list(source_item.speeches.all())
        Speech.objects.bulk_create(
            [
                Speech(agenda_item=clone_item, speaker=s.speaker, points=s.points, order=i)
                for i, s in enumerate(reversed(speeches), start=1)
            ]
        )
        AgendaItem.objects.filter(pk=clone_item.pk).update(title=source_item.title)
    # The older records went through the checks when they were submitted; their minutes are
    # indexed so that a later copy of them is found (no flags: those were dealt with then).
    for meeting, _p in pairs:
        if meeting.status == Meeting.Status.APPROVED and meeting.counts_for >= planner.last_month - dt.timedelta(
            days=95
        ):
            minutes_index(meeting=meeting, now=now)
    meetings_check_due(now=now)

    # The supervisor confirms the cloned minutes and the reused photo, dismisses a capture-time flag.
    for flag in Flag.objects.filter(meeting__branch=weak, status=Flag.Status.OPEN).order_by("pk"):
        if flag.kind in (Flag.Kind.SIMILAR_MINUTES, Flag.Kind.DUPLICATE_PHOTO):
            flag_decide(flag=flag, confirm=True, reason="经核实属实。", user=supervisor, now=now)

    # A record returned for correction.
    returned = next(
        m
        for m, p in last
        if p["roster"].branch.name == RETURNED_BRANCH and "theme_day" in p["codes"] and not m.group_id
    )
    Meeting.objects.filter(pk=returned.pk).update(status=Meeting.Status.RETURNED)
    Review.objects.create(
        meeting=returned,
        action=Review.Action.RETURN,
        round=1,
        comment="缺少党员发言要点，请补充每位发言人的主要观点后重新提交。",
        by=supervisor,
        at=now - dt.timedelta(days=3),
    )

    # Findings: one rectified and verified, one left to run past its deadline.
    jidian = planner.rosters["机电队党支部"]
    done = finding_raise(
        branch=jidian.branch,
        category="records",
        severity="minor",
        description="部分党小组会记录未写明缺席人员及原因。",
        user=supervisor,
        now=now - dt.timedelta(days=60),
        source_key="demo:records:jidian",
    )
    rect = done.rectification
    rectification_submit(
        rectification=rect,
        measures="已组织记录人培训，补齐缺席人员及原因，今后由组织委员逐次核对。",
        user=jidian.secretary.user,
        now=now - dt.timedelta(days=40),
    )
    rect.refresh_from_db()
    rectification_verify(rectification=rect, user=supervisor, now=now - dt.timedelta(days=35))
    finding_raise(
        branch=weak,
        category="cadence",
        severity="moderate",
        description="近五个月中有三个月未召开支部委员会。",
        user=supervisor,
        now=now - dt.timedelta(days=45),
        source_key="demo:cadence:yunshu",
    )
    rectifications_sweep(now=now)


def _assessments(planner: Planner, *, now: dt.datetime) -> None:
    """The last two complete quarters, published; 运输队's cloned minutes trigger the veto in the latest."""
    committee = User.objects.get(username="committee")
    supervisor = planner.supervisor
    today = planner.today
    this_quarter = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    quarters = []
    for back in (2, 1):
        number = this_quarter.year * 12 + this_quarter.month - 1 - 3 * back
        quarters.append(dt.date(number // 12, number % 12 + 1, 1))
    weak = planner.rosters[WEAK_BRANCH].branch
    for index, start in enumerate(quarters):
        if not Scheme.objects.filter(year=start.year).exists():
            continue  # a year without a scheme: the demo shows what exists
        run = run_create(kind=Run.Kind.QUARTER, period_start=start, user=committee, now=now)
        run = run_compute(run=run, now=now)
        latest = index == len(quarters) - 1
        for score in run.scores.select_related("branch"):
            for item_score in score.items.select_related("item").filter(item__method=Item.Method.MANUAL):
                item = item_score.item
                veto = latest and item.is_veto and score.branch_id == weak.pk
                if item.is_veto:
                    points, comment = 0, ("经核实，会议记录照抄往期（补本子）。" if veto else "未发现记录造假。")
                elif item.is_bonus:
                    points, comment = 0, "本期无加分事项。"
                else:
                    points, comment = item.max_points, "经督导组检查，符合要求。"
                item_score_enter(
                    item_score=item_score,
                    points=points,
                    comment=comment,
                    user=supervisor,
                    now=now,
                    veto_triggered=veto,
                )
        run_submit_for_review(run=run, user=committee, now=now, confirmed=True)
        run_publish(run=run, user=committee, now=now, confirmed=True)
    baseline_start = planner.first_month
    baseline_end = _month_start(today, MONTHS - BASELINE_MONTHS)
    baseline_set(start=baseline_start, end=baseline_end, user=committee, now=now)
