"""The demo's 学习任务, quiz and 学习交流群 posts: made once, through the services."""

import pytest
from django.utils import timezone

from org.models import Post, StaffRole
from study.demo import MARKER
from study.demo_group import QUIZ_ITEM, seed_study_activity
from study.models import Assignment, Attempt, GroupPost
from tasks.models import Task

from ..factories import StudyItemFactory, member_with_login, staff_user

pytestmark = pytest.mark.django_db


def test_the_demo_has_an_assignment_in_progress_a_passed_quiz_and_posts(branch, other_branch):
    staff_user(username="supervisor", role=StaffRole.Role.WORK_DEPT)
    member_with_login(branch=branch, username="shuji", role=Post.Role.SECRETARY)
    member_with_login(branch=branch, username="dangyuan", name="刘党员")
    member_with_login(branch=other_branch, username="other")
    StudyItemFactory(title=MARKER)
    StudyItemFactory(title=QUIZ_ITEM)
    now = timezone.now()

    assert seed_study_activity(now=now) == 5
    assert seed_study_activity(now=now) == 0

    tasks = dict(Task.objects.filter(source=Task.Source.STUDY).values_list("owner__name", "status"))
    assert tasks["刘党员"] == Task.Status.DONE
    assert Task.Status.TODO in tasks.values()
    assert Assignment.objects.count() == 1
    assert Attempt.objects.get().passed
    assert GroupPost.objects.filter(branch=branch).count() == 3
