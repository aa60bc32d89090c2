"""Practice for the demo mine (called from ``seed_demo_activity``): a year of themed 主题党日 with their
activities, hazards in every state, a red-education base and a visit to it, a few 先锋岗 and 责任区.

Runs after the meetings are written; does nothing when hazards already exist. Dates are relative
to ``now``; hazards are made through the services, so each is its owner's task exactly once.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from meetings.models import Meeting, MeetingType, Place, ThemeTag
from org.models import Member, Organization
from tasks.services import task_accept, task_report, task_return

from .models import Activity, ActivityKind, Hazard, PioneerPost
from .services import hazard_ensure_task

DAY = dt.timedelta(days=1)
# The month's business theme, in turn (domain.md: 主题党日 tied to safety, energy saving, volunteering).
THEMES = ["安全我先行", "节能减排", "安全生产", "红色教育", "志愿服务", "技术攻关"]
BASE = ("孟良崮战役纪念馆（红色教育基地）", "临沂市蒙阴县垛庄镇", Decimal("35.716400"), Decimal("118.091600"))
ACTIVITIES = {
    "安全我先行": [
        ("观看警示片/学习", "观看安全警示教育片，谈体会"),
        ("隐患排查/讨论", "隐患大家谈：查找本岗位身边的隐患"),
    ],
    "节能减排": [("岗位实践", "开展节电节水“金点子”征集"), ("隐患排查/讨论", "讨论设备空转、跑冒滴漏问题")],
    "安全生产": [("观看警示片/学习", "学习《煤矿安全规程》修订内容"), ("隐患排查/讨论", "到工作面开展隐患排查")],
    "红色教育": [("参观教育基地", "参观红色教育基地，重温入党誓词")],
    "志愿服务": [("志愿服务", "到矿区家属院开展义务维修")],
    "技术攻关": [("岗位实践", "围绕综采工作面降尘开展技术交流")],
}
HAZARDS = [
    # (description, location, severity)
    ("皮带机尾护罩缺失", "3101 运输巷", Hazard.Severity.SERIOUS),
    ("局部通风机风筒破损漏风", "2305 掘进工作面", Hazard.Severity.MAJOR),
    ("电缆吊挂不规范", "中央变电所", Hazard.Severity.ORDINARY),
    ("消防沙箱沙量不足", "井底车场", Hazard.Severity.ORDINARY),
    ("液压支架窜液", "综采工作面 60 号支架", Hazard.Severity.SERIOUS),
]


def _photo(text: str) -> SimpleUploadedFile:
    im = Image.new("RGB", (640, 480), (70, 90, 110))
    ImageDraw.Draw(im).text((20, 20), text, fill=(255, 255, 255))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=85)
    return SimpleUploadedFile("整改后.jpg", buf.getvalue(), content_type="image/jpeg")


def seed_practice(*, now: dt.datetime) -> int:
    """Returns the hazards made (0 when the demo already has practice data)."""
    if Hazard.objects.exists():
        return 0
    base = Place.objects.get_or_create(
        name=BASE[0],
        branch=None,
        defaults={
            "kind": Place.Kind.EDUCATION_BASE,
            "address": BASE[1],
            "latitude": BASE[2],
            "longitude": BASE[3],
            "contact": "纪念馆宣教科 0539-0000000",
            "capacity": 200,
        },
    )[0]
    kinds = {k.name: k for k in ActivityKind.objects.all()}
    tags = {t.name: t for t in ThemeTag.objects.filter(name__in=THEMES)}
    year_ago = now - dt.timedelta(days=365)
    theme_days = list(
        Meeting.objects.filter(types__code=MeetingType.Code.THEME_DAY, actual_start__gte=year_ago, actual_start__lt=now)
        .select_related("branch")
        .order_by("actual_start", "id")
        .distinct()
    )
    with transaction.atomic():
        for branch in {m.branch for m in theme_days}:
            Place.objects.get_or_create(
                branch=branch,
                name=f"{branch.name.removesuffix('党支部')}学习室",
                defaults={"kind": Place.Kind.STUDY_ROOM, "is_default": True},
            )
        through = Meeting.theme_tags.through
        through.objects.filter(meeting__in=theme_days).delete()
        activities, links = [], []
        for m in theme_days:
            theme = THEMES[timezone.localtime(m.actual_start).month % len(THEMES)]
            if theme in tags:
                links.append(through(meeting_id=m.pk, themetag_id=tags[theme].pk))
            for order, (kind, text) in enumerate(ACTIVITIES[theme], start=1):
                if kind in kinds:
                    activities.append(
                        Activity(meeting=m, kind=kinds[kind], description=text, order=order, created_at=m.actual_end)
                    )
        through.objects.bulk_create(links)
        Activity.objects.bulk_create(activities, batch_size=1000)
        # The last red-education month of the first branch: held at the base.
        visit = next(
            (
                m
                for m in reversed(theme_days)
                if THEMES[timezone.localtime(m.actual_start).month % len(THEMES)] == "红色教育"
            ),
            None,
        )
        if visit is not None:
            Meeting.objects.filter(pk=visit.pk).update(
                venue=base, place=base.name, latitude=base.latitude, longitude=base.longitude
            )
    made = _hazards(theme_days, now=now)
    _pioneers(now=now)
    return made


def _owners(branch: Organization, on: dt.date) -> list[Member]:
    return list(Member.objects.of_organization_on(branch, on).filter(user__isnull=False).order_by("id")[:3])


def _hazards(theme_days: list[Meeting], *, now: dt.datetime) -> int:
    """Five hazards at the latest 主题党日 of each of two branches: open, overdue, closed, accepted, returned."""
    today = timezone.localdate(now)
    latest: dict[int, Meeting] = {}
    for m in theme_days:
        latest[m.branch_id] = m
    made = 0
    for meeting in list(latest.values())[:2]:
        owners = _owners(meeting.branch, today)
        if not owners:
            continue
        secretary = owners[0].user
        found = meeting.actual_end
        for i, (description, location, severity) in enumerate(HAZARDS):
            owner = owners[i % len(owners)]
            # The overdue one had a deadline 5 days ago; the others run to 20 days from now.
            due_on = today - 5 * DAY if i == 1 else today + 20 * DAY
            hazard = Hazard.objects.create(
                meeting=meeting,
                description=description,
                location=location,
                severity=severity,
                owner=owner,
                due_on=due_on,
                created_by=secretary,
                created_at=found,
            )
            task = hazard_ensure_task(hazard=hazard, user=secretary, now=min(found, now - 10 * DAY))
            made += 1
            if i >= 2:
                task_report(
                    task=task,
                    user=owner.user,
                    text="已整改，附整改后照片。",
                    files=[_photo(location)],
                    now=now - 3 * DAY,
                )
            if i == 3:
                task_accept(task=task, user=secretary, now=now - 2 * DAY)
            if i == 4:
                task_return(task=task, user=secretary, reason="照片未拍到整改部位，请补拍。", now=now - 2 * DAY)
    return made


def _pioneers(*, now: dt.datetime) -> None:
    today = timezone.localdate(now)
    posts = [
        (PioneerPost.Kind.POST, "综采工作面安全先锋岗", "不安全不生产，隐患不过夜"),
        (PioneerPost.Kind.AREA, "3101 运输巷责任区", "责任区内无违章、无隐患、文明生产"),
        (PioneerPost.Kind.POST, "节能降耗先锋岗", "带头节电节水，一年降耗 5%"),
    ]
    branch = Organization.objects.branches().order_by("sort_order", "id").first()
    if branch is None:
        return
    members = list(Member.objects.of_organization_on(branch, today).order_by("id")[: len(posts)])
    PioneerPost.objects.bulk_create(
        PioneerPost(
            branch=branch,
            member=member,
            kind=kind,
            name=name,
            statement=statement,
            started_on=today - dt.timedelta(days=120),
        )
        for member, (kind, name, statement) in zip(members, posts, strict=False)
    )
