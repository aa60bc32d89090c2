"""The demo has 议定事项 and 补学 in every state (tasks/demo_follow.py, run by seed_demo_activity)."""

import datetime as dt

import time_machine

from tasks.follow_selectors import open_decisions_past_deadline
from tasks.models import MakeupStudy, Task
from tasks.states import Progress, task_progress

from ..assessment.test_seed_activity import NOW, seeded  # noqa: F401  (the seeded demo fixture)


def test_the_demo_has_decisions_and_makeups_in_every_state(seeded):  # noqa: F811
    def states(source):
        return {task_progress(t, now=NOW) for t in Task.objects.filter(source=source)}

    assert {Progress.DONE_ON_TIME, Progress.OVERDUE, Progress.IN_PROGRESS, Progress.SUBMITTED} <= states(
        Task.Source.DECISION
    )
    assert {
        Progress.IN_PROGRESS,
        Progress.SUBMITTED,
        Progress.RETURNED,
        Progress.DONE_ON_TIME,
        Progress.OVERDUE,
    } <= states(Task.Source.MAKEUP)
    assert Task.objects.filter(source=Task.Source.MAKEUP, status=Task.Status.TODO, due_at__gt=NOW).exists()
    assert MakeupStudy.objects.filter(minutes_opened_at__isnull=False).exists()
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        assert open_decisions_past_deadline(now=NOW).exists()
