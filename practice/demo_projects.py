"""Three 技术攻关 projects for the demo mine (called from ``seed_demo_activity``).

机电队's energy saving, verified by the 财务部 (total cost −15 % in a year, what the mine reported);
综采一队第一党小组's dust reduction, in progress; 运输队's roadway clean-up, not passed by the 安监处.
Two verifier logins (``anjian`` 安监处, ``caiwu`` 财务部) share the demo password and the demo
e-mail domain, so ``check --deploy`` refuses them like every other demo login.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from org.demo import DEMO_PASSWORD
from org.models import Member, Organization, Post
from org.selectors import holders_of

from . import projects as services
from .models import Project, VerifyingDepartment

DAY = dt.timedelta(days=1)


def _verifier(username: str, name: str, department: str):
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=username, defaults={"first_name": name, "email": f"{username}@demo.sanhui.local"}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    dept, _created = VerifyingDepartment.objects.get_or_create(name=department)
    dept.users.add(user)
    return dept, user


def _photo(text: str) -> SimpleUploadedFile:
    """A real JPEG made by Pillow (a test board with the measured value)."""
    image = Image.new("RGB", (800, 600), (40, 90, 140))
    ImageDraw.Draw(image).rectangle((60, 60, 740, 540), outline=(255, 255, 255), width=8)
    ImageDraw.Draw(image).text((100, 280), text, fill=(255, 255, 255))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=85)
    return SimpleUploadedFile("outcome.jpg", buf.getvalue(), content_type="image/jpeg")


def seed_projects(*, now: dt.datetime) -> int:
    """The three demo projects; nothing when any project exists or the branches are missing. Returns the number made."""
    if Project.objects.exists():
        return 0
    branches = {
        o.name: o
        for o in Organization.objects.branches().filter(name__in=["综采一队党支部", "机电队党支部", "运输队党支部"])
    }
    if len(branches) < 3:
        return 0
    secretaries = holders_of([b.pk for b in branches.values()], Post.Role.SECRETARY, on=now.date())
    if any(not secretaries.get(b.pk) for b in branches.values()):
        return 0
    safety, anjian = _verifier("anjian", "王安监", "安监处")
    finance, caiwu = _verifier("caiwu", "李财务", "财务部")

    def login(member):
        # Most demo 书记 have no login: the step is then recorded without a user.
        return member.user if member.user_id else None

    def members_of(branch, n):
        return list(Member.objects.of_organization_on(branch, now.date()).order_by("id")[:n])

    # 1. 机电队: energy saving, verified by the 财务部 (−15 % total cost in a year).
    jidian = branches["机电队党支部"]
    boss = secretaries[jidian.pk]
    opened = now - 400 * DAY
    energy = services.project_open(
        branch=jidian,
        group=None,
        title="机电设备节能降耗攻关",
        problem="主排水泵、压风机长期满负荷运行，电耗高，吨煤综合成本居高不下。",
        source=Project.Source.COST,
        leader=boss,
        started_on=opened.date(),
        metric="吨煤综合成本",
        unit="元/t",
        baseline_value=Decimal("200"),
        target_value=Decimal("175"),
        party_members=[m for m in members_of(jidian, 4) if m.pk != boss.pk][:3],
        workers=[services.Worker("赵师傅", "电工"), services.Worker("钱师傅", "泵房司机")],
        user=login(boss),
        now=opened,
    )
    services.project_start(project=energy, user=login(boss), now=opened + DAY)
    services.project_report(
        project=energy,
        measured_value=Decimal("170"),
        money_estimate=Decimal("1800000"),
        outcome="变频改造与错峰运行一年，吨煤综合成本由 200 元降至 170 元，下降 15 %，全年节约约 180 万元。",
        files=[_photo("-15% cost")],
        department=finance,
        verifier=caiwu,
        user=login(boss),
        now=now - 40 * DAY,
    )
    services.project_verify(
        project=energy, passed=True, comment="经核对全年电费和材料台账，降本数据属实。", user=caiwu, now=now - 30 * DAY
    )

    # 3. 运输队: roadway clean-up, not passed by the 安监处.
    yunshu = branches["运输队党支部"]
    chief = secretaries[yunshu.pk]
    road = services.project_open(
        branch=yunshu,
        group=None,
        title="运输大巷现场整治",
        problem="运输大巷物料乱堆乱放，现场秩序混乱。",
        source=Project.Source.PRODUCTION,
        leader=chief,
        started_on=(now - 120 * DAY).date(),
        metric="现场检查问题数",
        unit="项",
        baseline_value=Decimal("20"),
        target_value=Decimal("5"),
        user=login(chief),
        now=now - 120 * DAY,
    )
    services.project_start(project=road, user=login(chief), now=now - 119 * DAY)
    services.project_report(
        project=road,
        measured_value=Decimal("12"),
        money_estimate=None,
        outcome="清理物料，划定定置区域。",
        files=[_photo("12 issues")],
        department=safety,
        verifier=anjian,
        user=login(chief),
        now=now - 20 * DAY,
    )
    services.project_verify(
        project=road,
        passed=False,
        comment="复查仍有 12 项问题，未达到 5 项以内的目标。",
        user=anjian,
        now=now - 10 * DAY,
    )
    # 2. 综采一队第一党小组: dust reduction, in progress, with a milestone.
    zongcai = branches["综采一队党支部"]
    group = (
        Organization.objects.filter(parent=zongcai, kind=Organization.Kind.GROUP).order_by("sort_order", "id").first()
    )
    leaders = holders_of([group.pk], Post.Role.GROUP_LEADER, on=now.date()) if group else {}
    leader = leaders.get(group.pk) if group else None
    if leader is None or not leader.user_id:
        return 2  # the milestone needs an owner with a login (zuzhang, in the demo)
    dust = services.project_open(
        branch=zongcai,
        group=group,
        title="综采工作面降尘",
        problem="综采工作面割煤时粉尘浓度超标，影响职工健康和安全。",
        source=Project.Source.SAFETY,
        leader=leader,
        started_on=(now - 60 * DAY).date(),
        metric="工作面粉尘浓度",
        unit="mg/m³",
        baseline_value=Decimal("10"),
        target_value=Decimal("6"),
        party_members=[m for m in members_of(zongcai, 3) if m.pk != leader.pk][:2],
        workers=[services.Worker("孙师傅", "采煤机司机")],
        milestones=[services.MilestonePlan("完成高压喷雾装置安装", (now + 30 * DAY).date())],
        user=leader.user,
        now=now - 60 * DAY,
    )
    services.project_start(project=dust, user=leader.user, now=now - 55 * DAY)

    return 3
