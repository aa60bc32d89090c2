"""The demo mine's study library: documents and articles in every column and every state
(called from ``seed_demo_activity``; the library's videos are the media part's).

The 党委工作部 (``supervisor``) writes and publishes the mine's items; the 书记 of 综采一队
(``shuji``) writes the branch's, one waiting in review, one returned with a note, one withdrawn.
A recorded 党课 of 综采一队 becomes a 微党课 draft waiting for its video. Everything goes
through the services, as a user would. Does nothing when the demo library exists.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image, ImageDraw

from meetings.models import Meeting, MeetingType
from org.models import Member, Organization

from . import media, services
from .models import Column, StudyItem

DAY = dt.timedelta(days=1)
MARKER = "《中国共产党章程》学习要点"


def _pdf(title: str) -> SimpleUploadedFile:
    """A one-page PDF made by Pillow (no file committed)."""
    page = Image.new("RGB", (595, 842), "white")
    draw = ImageDraw.Draw(page)
    draw.rectangle((40, 40, 555, 120), outline="darkred", width=4)
    for n in range(12):
        draw.line((60, 170 + n * 40, 535, 170 + n * 40), fill="gray", width=2)
    out = io.BytesIO()
    page.save(out, format="PDF", title=title)
    return SimpleUploadedFile(f"{title}.pdf", out.getvalue(), content_type="application/pdf")


ARTICLE = (
    "一、深刻领会精神实质。\n\n"
    "二、结合本岗位实际，把学习成果转化为推动安全生产、提质增效的具体行动。\n\n"
    "三、各支部组织党员认真学习，做好学习记录。"
)


@transaction.atomic
def seed_library(*, now: dt.datetime) -> int:
    """The demo items; returns how many were made (0 when they exist or the demo logins are missing)."""
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["supervisor", "shuji"])}
    if len(users) < 2 or StudyItem.objects.filter(title=MARKER).exists():
        return 0
    dept, shuji = users["supervisor"], users["shuji"]
    committee = Organization.objects.filter(kind=Organization.Kind.COMMITTEE, parent__isnull=True).first()
    branch = Organization.objects.branches().filter(posts__member__user=shuji).first()
    if committee is None or branch is None:
        return 0
    columns = {c.name: c for c in Column.objects.all()}
    lecturer = (
        Member.objects.in_good_standing()
        .filter(memberships__organization=branch)
        .exclude(user=shuji)
        .order_by("id")
        .first()
    )
    made = 0

    def write(title, column, *, by, org, days_ago, kind=StudyItem.Kind.ARTICLE, credit="1", **fields):
        nonlocal made
        at = now - days_ago * DAY
        fields.setdefault("body", ARTICLE if kind == StudyItem.Kind.ARTICLE else "")
        item = services.item_create(
            user=by,
            organization=org,
            now=at,
            kind=kind,
            column=columns[column],
            title=title,
            summary=fields.pop("summary", ""),
            lecturer=fields.pop("lecturer", None),
            lecturer_name=fields.pop("lecturer_name", ""),
            audience=fields.pop("audience", StudyItem.Audience.MINE),
            branches=fields.pop("branches", ()),
            roles=fields.pop("roles", ""),
            credit_hours=Decimal(credit) if credit else None,
            **fields,
        )
        if kind == StudyItem.Kind.DOCUMENT:
            media.attach_upload(item=item, upload=_pdf(title), user=by, now=at)
        made += 1
        return item, at

    def published(title, column, **kwargs):
        item, at = write(title, column, **kwargs)
        item = services.item_submit(item=item, user=kwargs["by"], now=at + dt.timedelta(hours=1))
        return services.item_publish(item=item, user=dept, now=at + dt.timedelta(hours=3)), at

    # The 党委's items, published to the whole mine, to branches, to 书记 and 支委.
    published(MARKER, "理论学习", by=dept, org=committee, days_ago=60, credit="2", summary="全体党员必学。")
    published(
        "学习贯彻党的二十届四中全会精神",
        "理论学习",
        by=dept,
        org=committee,
        days_ago=40,
        kind=StudyItem.Kind.DOCUMENT,
        credit="2",
        summary="全会公报全文（PDF）。",
    )
    published(
        "《煤矿安全规程》重点条款解读",
        "安全生产",
        by=dept,
        org=committee,
        days_ago=30,
        kind=StudyItem.Kind.DOCUMENT,
        lecturer_name="矿安全科 刘工",
    )
    published("井下顶板事故案例警示", "警示教育", by=dept, org=committee, days_ago=20, credit="1.5")
    published(
        "支部书记抓党建述职要点",
        "理论学习",
        by=dept,
        org=committee,
        days_ago=15,
        audience=StudyItem.Audience.ROLES,
        roles="secretary",
        credit="2",
    )
    published(
        "支委分工与履职清单",
        "理论学习",
        by=dept,
        org=committee,
        days_ago=12,
        audience=StudyItem.Audience.ROLES,
        roles="secretary committee",
    )

    # The branch's items: one published to itself, one in review, one returned, one withdrawn, one draft.
    published(
        "综采工作面“手指口述”安全确认法",
        "安全生产",
        by=shuji,
        org=branch,
        days_ago=10,
        audience=StudyItem.Audience.BRANCHES,
        branches=[branch],
        lecturer=lecturer,
    )
    item, at = write("身边的先进：采煤机司机的三十年", "微党课", by=shuji, org=branch, days_ago=5, lecturer=lecturer)
    services.item_submit(item=item, user=shuji, now=at + DAY)
    item, at = write("违章作业警示录", "警示教育", by=shuji, org=branch, days_ago=8)
    item = services.item_submit(item=item, user=shuji, now=at + dt.timedelta(hours=2))
    services.item_return(item=item, user=dept, now=at + DAY, note="请补充本队近三年的违章案例，并注明出处后再提交。")
    withdrawn, at = published("旧版作业规程（已废止）", "安全生产", by=shuji, org=branch, days_ago=50)
    services.item_withdraw(item=withdrawn, user=shuji, now=at + 30 * DAY, reason="规程已修订，以新版为准。")
    write("党员先锋岗创建方案（征求意见稿）", "理论学习", by=shuji, org=branch, days_ago=1)

    # A recorded 党课 of the branch as a 微党课 (a draft: the demo 党课 has photos, not a video).
    lesson = (
        Meeting.objects.filter(
            branch=branch, types__code=MeetingType.Code.PARTY_LESSON, status__in=Meeting.HELD_STATUSES
        )
        .exclude(lecturer=None)
        .order_by("-planned_start")
        .first()
    )
    if lesson is not None:
        services.publish_recording(meeting=lesson, user=shuji, now=now - 2 * DAY)
        made += 1
    return made
