"""A demo mine: one 党委, a 党总支, eight branches with groups, ~200 members, posts, staff and logins.

Every row is looked up by a natural key before it is created and never saved again
when it exists, so running the command twice changes nothing (no new rows, no new
history records). Names, ID numbers and phones come from ``random.Random(SEED)`` and
are planned in full before the database is touched, so they are the same on every run
and every machine. Dates are relative to the day of the first run.

It lives in bulletin, the lowest app whose tables it fills (the organisation and the
announcements); the published logins are in ``org.demo`` for org's deploy check.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from bulletin.models import Announcement
from org.demo import DEMO_PASSWORD, STAFF_LOGINS
from org.models import Member, Membership, Organization, Post, StaffRole, User
from org.validators import id_number_check_char

SEED = 20260101


COMMITTEE_NAME = "兴隆煤矿党委"
GENERAL_BRANCH_NAME = "机关党总支"

# (branch name, group-name prefix, members, share of women, under the 党总支)
BRANCHES = [
    ("综采一队党支部", "综采一队", 32, 0.05, False),
    ("掘进二队党支部", "掘进二队", 30, 0.05, False),
    ("机电队党支部", "机电队", 26, 0.10, False),
    ("运输队党支部", "运输队", 24, 0.10, False),
    ("通风队党支部", "通风队", 22, 0.10, False),
    ("洗煤厂党支部", "洗煤厂", 28, 0.30, False),
    ("机关第一党支部", "机关第一", 20, 0.45, True),
    ("机关第二党支部", "机关第二", 18, 0.45, True),
]
GROUP_NUMERALS = "一二三四"

# (username, role shown in the table, where) — the staff logins; the member logins follow.

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
)
MALE_GIVEN = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁建国峰龙亮凯林志海东文俊晨浩宇振兴成春生庆福"
FEMALE_GIVEN = "芳娜敏静丽艳娟霞燕玲婷红梅莉兰英慧洁琳雪颖倩丹萍秀云晶"
# Regions around a Shandong coalfield (济宁, 枣庄, 泰安, 菏泽 districts).
REGIONS = ("370811", "370812", "370826", "370830", "370883", "370402", "370481", "370902", "371721")
PHONE_PREFIXES = ("134", "135", "136", "138", "139", "150", "151", "158", "159", "182", "187", "188", "177")

ANNOUNCEMENTS = [
    # (title, kind, branch name or None for the whole mine, pinned, days ago, body)
    (
        "关于认真落实“三会一课”制度的通知",
        Announcement.Kind.NOTICE,
        None,
        True,
        2,
        "各党支部：请严格按照《中国共产党支部工作条例（试行）》要求，按期召开支部党员大会、支部委员会、"
        "党小组会，按时上好党课，会议记录和影像资料须在会后三日内上传系统。",
    ),
    (
        "学习资料：《中国共产党支部工作条例（试行）》",
        Announcement.Kind.STUDY,
        None,
        False,
        10,
        "请各支部组织党员认真学习条例全文，重点学习支部组织生活的有关规定。",
    ),
    (
        "关于按时足额交纳党费的通知",
        Announcement.Kind.NOTICE,
        None,
        False,
        20,
        "请各支部组织委员做好本季度党费收缴工作，月底前报党委工作部。",
    ),
    (
        "关于上季度“三会一课”落实情况的通报",
        Announcement.Kind.CIRCULAR,
        None,
        False,
        30,
        "上季度各支部会议按期召开率总体良好，个别支部会议记录不完整，已责令整改。",
    ),
    (
        "综采一队党支部召开支部党员大会的通知",
        Announcement.Kind.MEETING,
        "综采一队党支部",
        False,
        1,
        "定于本周五下午交接班后在区队会议室召开支部党员大会，请全体党员准时参加。",
    ),
    (
        "掘进二队党支部“安全生产”主题党日安排",
        Announcement.Kind.MEETING,
        "掘进二队党支部",
        False,
        5,
        "本月主题党日结合安全生产月开展，由支部书记讲授专题党课。",
    ),
]


@dataclass
class PlannedMember:
    name: str
    gender: str
    id_number: str
    phone: str
    category: str
    joined_on: dt.date
    full_member_on: dt.date | None
    status: str
    branch: str
    group_index: int
    started_on: dt.date
    ended_on: dt.date | None = None
    # (branch name, started, ended) of an earlier branch, for a member transferred inside the mine
    previous_branch: tuple[str, dt.date, dt.date] | None = None
    branch_roles: list[str] = field(default_factory=list)
    leads_group: bool = False
    username: str | None = None


@dataclass
class DemoLogin:
    username: str
    role: str
    name: str
    where: str


def _plan_members(rng: random.Random, today: dt.date) -> dict[str, list[PlannedMember]]:
    """Every member of every branch, with dates, posts and the demo logins: no database access."""
    used_names: set[str] = set()
    serial = 0
    plan: dict[str, list[PlannedMember]] = {}

    def person(share_women: float) -> tuple[str, str, str, dt.date]:
        nonlocal serial
        gender = Member.Gender.FEMALE if rng.random() < share_women else Member.Gender.MALE
        given = FEMALE_GIVEN if gender == Member.Gender.FEMALE else MALE_GIVEN
        while True:
            name = rng.choice(SURNAMES) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2, 2))))
            if name not in used_names:
                used_names.add(name)
                break
        born = dt.date(1965, 1, 1) + dt.timedelta(
            days=rng.randrange((dt.date(2000, 12, 31) - dt.date(1965, 1, 1)).days)
        )
        # The serial makes every number unique; its last digit is odd for men, even for women (GB 11643).
        last = 2 * (serial % 5) + (1 if gender == Member.Gender.MALE else 0)
        first17 = f"{rng.choice(REGIONS)}{born:%Y%m%d}{serial // 5:02d}{last}"
        serial += 1
        return name, gender, first17 + id_number_check_char(first17), born

    for branch_name, _prefix, size, share_women, _ in BRANCHES:
        n_groups = 2 + (size >= 24) + (size >= 30)
        members = []
        for i in range(size):
            name, gender, id_number, born = person(share_women)
            phone = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
            # About one in ten is probationary; the first few of a branch hold its posts, so are full members.
            probationary = i >= 6 and (rng.random() < 0.1 or (branch_name == "综采一队党支部" and i == 10))
            if probationary:
                joined = today - dt.timedelta(days=rng.randint(30, 330))
                full_on = None
                started = joined
            else:
                earliest = born + dt.timedelta(days=21 * 365)
                latest = min(born + dt.timedelta(days=45 * 365), today - dt.timedelta(days=800))
                # One draw whatever the span: the span moves with today, the random stream must not,
                # or every name and ID number after it would change from one day to the next.
                joined = earliest + dt.timedelta(days=int(rng.random() * max(1, (latest - earliest).days)))
                full_on = joined + dt.timedelta(days=365)
                # Joined the branch when joining the party here or when posted to this work area later.
                moved_in = dt.date(rng.randint(2012, 2024), rng.randint(1, 12), 1)
                started = max(joined, min(moved_in, today - dt.timedelta(days=90)))
            members.append(
                PlannedMember(
                    name=name,
                    gender=gender,
                    id_number=id_number,
                    phone=phone,
                    category=Member.Category.PROBATIONARY if probationary else Member.Category.FULL,
                    joined_on=joined,
                    full_member_on=full_on,
                    status=Member.Status.ACTIVE,
                    branch=branch_name,
                    group_index=i % n_groups,
                    started_on=started,
                )
            )
        members[0].branch_roles.append(Post.Role.SECRETARY)
        roles = [Post.Role.ORGANIZATION, Post.Role.PROPAGANDA, Post.Role.DISCIPLINE]
        if size >= 26:
            roles.insert(0, Post.Role.DEPUTY_SECRETARY)
        for m, role in zip(members[1:], roles, strict=False):
            m.branch_roles.append(role)
        plan[branch_name] = members

    # Two members who left the mine (转出), from branches other than the demo one.
    for branch_name in ("运输队党支部", "洗煤厂党支部"):
        leaver = next(m for m in reversed(plan[branch_name]) if m.category == Member.Category.FULL)
        leaver.status = Member.Status.TRANSFERRED_OUT
        leaver.ended_on = today - dt.timedelta(days=45)
    # One member moved between branches inside the mine half a year ago.
    mover = next(m for m in reversed(plan["通风队党支部"]) if m.category == Member.Category.FULL)
    moved_on = today - dt.timedelta(days=180)
    mover.previous_branch = ("运输队党支部", min(mover.started_on, moved_on - dt.timedelta(days=365)), moved_on)
    mover.started_on = moved_on

    for members in plan.values():
        n_groups = max(m.group_index for m in members) + 1
        for g in range(n_groups):
            # Each group's leader: its first full member on the roll without a branch post.
            leader = next(
                m
                for m in members
                if m.group_index == g
                and not m.branch_roles
                and m.category == Member.Category.FULL
                and m.status == Member.Status.ACTIVE
            )
            leader.leads_group = True

    # The demo logins among the members.
    zongcai = plan["综采一队党支部"]
    zongcai[0].username = "shuji"
    plan["掘进二队党支部"][0].username = "shuji2"
    next(m for m in zongcai if m.leads_group and m.group_index == 0).username = "zuzhang"
    next(
        m
        for m in zongcai
        if m.category == Member.Category.FULL and not m.branch_roles and not m.leads_group and m.group_index == 0
    ).username = "dangyuan"
    next(m for m in zongcai if m.category == Member.Category.PROBATIONARY).username = "yubei"
    return plan


def _user(username: str, *, first_name: str = "", staff: bool = False) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first_name,
            "email": f"{username}@demo.sanhui.local",
            "is_staff": staff,
            "is_superuser": staff,
        },
    )
    # A demo password someone changed is put back, so the documented logins always work;
    # an unchanged one is left alone (set_password would write a new salt on every run).
    if created or not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def _org(name: str, kind: str, parent: Organization | None, sort_order: int, founded_on: dt.date) -> Organization:
    org, _ = Organization.objects.get_or_create(
        name=name, kind=kind, parent=parent, defaults={"sort_order": sort_order, "founded_on": founded_on}
    )
    return org


@transaction.atomic
def seed_demo(*, now: dt.datetime) -> list[DemoLogin]:
    """Create the demo mine if it is missing; return its logins (the same on every run)."""
    today = timezone.localdate(now)
    rng = random.Random(SEED)
    plan = _plan_members(rng, today)
    logins: list[DemoLogin] = []

    committee = _org(COMMITTEE_NAME, Organization.Kind.COMMITTEE, None, 0, dt.date(1985, 7, 1))
    general = _org(GENERAL_BRANCH_NAME, Organization.Kind.GENERAL_BRANCH, committee, 90, dt.date(2005, 7, 1))
    branches: dict[str, Organization] = {}
    groups: dict[str, list[Organization]] = {}
    for order, (name, prefix, size, _share, under_general) in enumerate(BRANCHES, start=1):
        branch = _org(
            name, Organization.Kind.BRANCH, general if under_general else committee, order * 10, dt.date(2005, 7, 1)
        )
        branches[name] = branch
        n_groups = 2 + (size >= 24) + (size >= 30)
        groups[name] = [
            _org(f"{prefix}第{GROUP_NUMERALS[g]}党小组", Organization.Kind.GROUP, branch, g + 1, dt.date(2010, 7, 1))
            for g in range(n_groups)
        ]

    for username, role, name in STAFF_LOGINS:
        user = _user(username, first_name=name, staff=role == StaffRole.Role.ADMIN)
        StaffRole.objects.get_or_create(user=user, organization=committee, role=role)
        logins.append(DemoLogin(username, StaffRole.Role(role).label, name, COMMITTEE_NAME))

    member_logins: list[DemoLogin] = []
    for branch_name, members in plan.items():
        branch = branches[branch_name]
        for p in members:
            user = _user(p.username) if p.username else None
            member, _ = Member.objects.get_or_create(
                id_number=p.id_number,
                defaults={
                    "name": p.name,
                    "gender": p.gender,
                    "phone": p.phone,
                    "category": p.category,
                    "joined_on": p.joined_on,
                    "full_member_on": p.full_member_on,
                    "status": p.status,
                    "user": user,
                },
            )
            group = groups[branch_name][p.group_index]
            if p.previous_branch:
                old_name, old_start, old_end = p.previous_branch
                Membership.objects.get_or_create(
                    member=member,
                    organization=branches[old_name],
                    defaults={"started_on": old_start, "ended_on": old_end},
                )
            for org in (branch, group):
                Membership.objects.get_or_create(
                    member=member, organization=org, defaults={"started_on": p.started_on, "ended_on": p.ended_on}
                )
            # A post begins once its holder is a full member: a 预备党员 is never elected.
            post_start = max(p.started_on, p.full_member_on or p.started_on, today - dt.timedelta(days=2 * 365))
            for role in p.branch_roles:
                Post.objects.get_or_create(
                    member=member, organization=branch, role=role, defaults={"started_on": post_start}
                )
            if p.leads_group:
                Post.objects.get_or_create(
                    member=member, organization=group, role=Post.Role.GROUP_LEADER, defaults={"started_on": post_start}
                )
            if p.username:
                if p.category == Member.Category.PROBATIONARY:
                    role_label = "预备党员"
                elif p.branch_roles:
                    role_label = Post.Role(p.branch_roles[0]).label
                elif p.leads_group:
                    role_label = f"{Post.Role.GROUP_LEADER.label}（{group.name}）"
                else:
                    role_label = "正式党员"
                member_logins.append(DemoLogin(p.username, role_label, p.name, branch_name))

    order = ["shuji", "shuji2", "zuzhang", "dangyuan", "yubei"]
    logins += sorted(member_logins, key=lambda login: order.index(login.username))

    author = User.objects.get(username="supervisor")
    for title, kind, branch_name, pinned, days_ago, body in ANNOUNCEMENTS:
        Announcement.objects.get_or_create(
            title=title,
            defaults={
                "kind": kind,
                "body": body,
                "organization": branches[branch_name] if branch_name else None,
                "pinned": pinned,
                "published_at": now - dt.timedelta(days=days_ago),
                "author": author,
            },
        )
    return logins


class Command(BaseCommand):
    help = "Load the demo mine (兴隆煤矿党委) with its branches, members and demo logins. Safe to run again."

    def handle(self, *args, **options):
        logins = seed_demo(now=timezone.now())
        self.stdout.write(self.style.SUCCESS(f"演示数据已就绪：{COMMITTEE_NAME}，{Member.objects.count()} 名党员。"))
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}，仅用于演示）：")
        rows = [("用户名", "角色", "姓名", "所在组织")] + [(x.username, x.role, x.name, x.where) for x in logins]
        widths = [max(_width(r[i]) for r in rows) for i in range(4)]
        for row in rows:
            self.stdout.write("  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _width(text: str) -> int:
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
