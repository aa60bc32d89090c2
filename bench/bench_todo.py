"""我的待办 under load: one 书记 of mine-L with 50 open tasks, its p95 against /healthz.

``prepare`` gives the 书记 of the first branch a login (``bench_todo_shuji``) and 50 open tasks
(idempotent: the bench's own tasks are replaced). ``measure`` drives ``bench.load`` (the lead's load
runner: ``compare_pages``) with 8 clients for 20 s and reports the p95 of /todo/ over that of
/healthz. While ``bench.load`` is not there it prints a note and measures nothing.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from bench.run import Measure

USERNAME = "bench_todo_shuji"
TITLE = "bench-todo 任务"
N_TASKS = 50


def prepare(*, n_tasks: int = N_TASKS, now: dt.datetime | None = None) -> str:
    """Give the first branch's 书记 a login and ``n_tasks`` open tasks; returns the username."""
    from django.db import transaction

    from org.models import Organization, Post, User
    from tasks.models import Task

    now = now or timezone.now()
    branch = Organization.objects.branches().active().order_by("sort_order", "id").first()
    if branch is None:
        raise RuntimeError("no branch: is the data set built?")
    post = (
        Post.objects.filter(organization=branch, role=Post.Role.SECRETARY, ended_on__isnull=True)
        .select_related("member")
        .first()
    )
    if post is None:
        raise RuntimeError(f"{branch} has no 书记")
    member = post.member
    with transaction.atomic():
        user = member.user or User.objects.filter(username=USERNAME).first()
        if user is None:
            user = User.objects.create_user(username=USERNAME, password=USERNAME)
        if member.user_id != user.pk:
            member.user = user
            member.save(update_fields=["user"])
        Task.objects.filter(title__startswith=TITLE).delete()
        Task.objects.bulk_create(
            [
                Task(
                    title=f"{TITLE}{i:02d}",
                    organization=branch,
                    owner=member,
                    due_at=now + dt.timedelta(days=i - 5),  # a few overdue, most ahead
                    status=Task.Status.TODO if i % 3 else Task.Status.IN_PROGRESS,
                    source=Task.Source.OTHER,
                    created_at=now - dt.timedelta(days=10),
                )
                for i in range(n_tasks)
            ]
        )
    return user.username


def measure() -> list[Measure]:
    try:
        from bench.load import compare_pages
    except ImportError:
        print("# bench_todo: bench.load is not here yet (the lead wires it at merge); nothing measured")
        return []
    username = prepare()
    ratios = compare_pages(pages={"todo": ("/todo/", username)}, baseline=("/healthz", None), clients=8, seconds=20)
    return [Measure("todo_page_vs_healthz", float(ratios["todo"]), "x", "<=", 3)]
