"""The demo's 学习任务, 学习交流群 and 测验 (called from ``seed_demo_activity`` after the library).

The 党委工作部 assigns the 党章 item to the first two branches, due in ten days; the demo member
(``dangyuan``) has finished it, the others have not. 井下顶板事故案例警示 gets a two-question quiz
that the member passed. Three 学习心得 in 综采一队's group. Does nothing when already seeded.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction

from org.models import Organization

from . import assignments, groups, quiz
from .demo import MARKER
from .models import Assignment, Choice, LearningRecord, Question, Quiz, StudyItem

DAY = dt.timedelta(days=1)
QUIZ_ITEM = "井下顶板事故案例警示"


@transaction.atomic
def seed_study_activity(*, now: dt.datetime) -> int:
    """Returns what it made (0 when it exists, or the demo library or logins are missing)."""
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["supervisor", "shuji", "dangyuan"])}
    item = StudyItem.objects.filter(title=MARKER, state=StudyItem.State.PUBLISHED).first()
    if len(users) < 3 or item is None or Assignment.objects.filter(item=item).exists():
        return 0
    dept, shuji, dangyuan = users["supervisor"], users["shuji"], users["dangyuan"]
    member = dangyuan.member
    branch = Organization.objects.branches().filter(posts__member__user=shuji).first()
    branches = list(Organization.objects.branches().active().order_by("sort_order", "id")[:2])
    if branch is None or branch not in branches:
        branches = [branch, *branches[:1]] if branch else branches
    made = 0

    # The member finished the 党章 item two days ago; the assignment closes their task at once.
    LearningRecord.objects.get_or_create(
        item=item,
        member=member,
        defaults={"opened_at": now - 3 * DAY, "completed_at": now - 2 * DAY, "credit_hours": item.credit_hours},
    )
    assignments.assignment_create(
        item=item,
        due_at=now + 10 * DAY,
        branches=branches,
        note="请各支部党员在期限内学完党章学习要点。",
        user=dept,
        now=now - DAY,
    )
    made += 1

    # A quiz, passed by the member.
    roof = StudyItem.objects.filter(title=QUIZ_ITEM, state=StudyItem.State.PUBLISHED).first()
    if roof is not None:
        test = Quiz.objects.create(item=roof, pass_percent=60)
        q1 = Question.objects.create(quiz=test, text="发现顶板来压征兆时，首先应当怎么做？", order=1)
        right1 = Choice.objects.create(question=q1, text="立即停止作业，撤离到安全地点并报告", is_correct=True, order=1)
        Choice.objects.create(question=q1, text="继续作业，加快进度", order=2)
        q2 = Question.objects.create(
            quiz=test, text="下列哪些属于顶板事故的预防措施？", kind=Question.Kind.MULTIPLE, order=2
        )
        right2 = [
            Choice.objects.create(question=q2, text="敲帮问顶", is_correct=True, order=1),
            Choice.objects.create(question=q2, text="及时支护", is_correct=True, order=2),
        ]
        Choice.objects.create(question=q2, text="空顶作业", order=3)
        attempt = quiz.attempt_start(quiz=test, member=member, now=now - DAY)
        quiz.attempt_submit(attempt=attempt, answers={q1.pk: [right1.pk], q2.pk: [c.pk for c in right2]}, now=now - DAY)
        made += 1

    # 学习心得 in the branch's group.
    for hours, author, text, about in (
        (30, dangyuan, "学习党章第一章后体会：党员要在安全生产中当先锋、作表率，班前会上带头讲安全。", item),
        (20, shuji, "本周三晚班后在队部组织集中学习，请当班同志会后补看微党课。", None),
        (6, dangyuan, "看了顶板事故案例，敲帮问顶不能走过场，我们班组今天又过了一遍。", roof),
    ):
        groups.post_create(
            branch=branch, author=author.member, text=text, item=about, now=now - hours * dt.timedelta(hours=1)
        )
        made += 1
    return made
