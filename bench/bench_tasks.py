"""Dispatch is set-based: one directive to 1,000 branches costs the same queries as to 100.

The branches, their 书记 and logins are made for the measure inside a transaction that is
rolled back (the mine data sets have far fewer branches), so the data set is left as it was.
The measure is the queries of a dispatch to 1,000 branches minus those of one to 100.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.run import Measure
from org.models import Member, Organization, Post, User
from tasks.models import Dispatch
from tasks.services import dispatch_send

SIZES = (100, 1000)


class _Rollback(Exception):
    pass


def _branches(n: int, tag: str) -> list[Organization]:
    orgs = Organization.objects.bulk_create(
        Organization(name=f"测试{tag}支部{i}", kind=Organization.Kind.BRANCH, sort_order=100000 + i) for i in range(n)
    )
    users = User.objects.bulk_create(User(username=f"bench-{tag}-{i}") for i in range(n))
    members = Member.objects.bulk_create(
        Member(name=f"书记{i}", gender="M", id_number=f"B{tag}{i:016d}"[-18:], user=u) for i, u in enumerate(users)
    )
    Post.objects.bulk_create(
        Post(member=m, organization=o, role=Post.Role.SECRETARY, started_on=dt.date(2020, 1, 1))
        for m, o in zip(members, orgs, strict=True)
    )
    return orgs


def queries_of_dispatch(n: int) -> int:
    now = timezone.now()
    count = 0
    try:
        with transaction.atomic():
            sender = User.objects.create(username=f"bench-sender-{n}")
            orgs = _branches(n, str(n))
            with CaptureQueriesContext(connection) as captured:
                dispatch_send(
                    title="六月组织生活指南",
                    due_at=now + dt.timedelta(days=14),
                    audience=Dispatch.Audience.CHOSEN,
                    organizations=orgs,
                    user=sender,
                    now=now,
                )
            count = len(captured)
            raise _Rollback
    except _Rollback:
        pass
    return count


def measure() -> list[Measure]:
    small, large = (queries_of_dispatch(n) for n in SIZES)
    return [Measure("task_dispatch_query_growth", large - small, "queries", "=", 0)]
