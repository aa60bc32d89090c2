"""The demo mine's dispatched tasks cover every state of the matrix."""

import pytest
from django.utils import timezone

from assessment.management.commands.seed_demo_activity import seed_activity
from bulletin.management.commands.seed_demo import seed_demo
from tasks.demo import seed_tasks
from tasks.models import Task
from tasks.states import Progress, task_progress

pytestmark = pytest.mark.django_db


def test_the_demo_has_dispatched_tasks_in_every_state():
    now = timezone.now()
    seed_demo(now=now)
    seed_activity(now=now)
    states = {task_progress(t, now=now) for t in Task.objects.filter(source=Task.Source.DISPATCH)}
    assert states == set(Progress) - {Progress.CANCELLED}
    assert seed_tasks(now=now) == 0  # once
