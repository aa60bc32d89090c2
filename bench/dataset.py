"""The mine-L data set: 1,000 branches, 3,000 groups, 30,000 members, 3 years of meetings with attendance.

Written with executemany in a few large transactions (millions of rows: the ORM's
per-object cost would dominate), deterministic (a seeded Random) and built once:
a marker row records the scale, so later runs reuse it.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import connection, transaction
from django.db.models import NOT_PROVIDED
from django.utils import timezone

from meetings.deadlines import minutes_due_at
from meetings.models import Attendance, Meeting, MeetingType
from org.clock import local_date, mine_tz
from org.models import Member, Membership, Organization, Post
from org.validators import id_number_check_char

SCALES = {
    # branches, groups per branch, members per group, years
    "L": (1000, 3, 10, (2023, 2024, 2025)),
    "S": (20, 3, 10, (2023, 2024, 2025)),
}
MARKER_NAME = "bench-dataset"
TZ = mine_tz()
YEAR = 2025  # the year the measures look at


def _columns(model, fields: list[str]) -> tuple[str, list[str], dict]:
    """Table, column list and default values for a raw insert of ``model``."""
    defaults = {}
    columns = []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(f.attname)
        if f.attname not in fields:
            if f.default is not NOT_PROVIDED:
                defaults[f.attname] = f.get_default()
            elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                defaults[f.attname] = timezone.now()
            elif not f.null and f.empty_strings_allowed:
                defaults[f.attname] = ""
            else:
                defaults[f.attname] = None
    return model._meta.db_table, columns, defaults


def _insert(model, rows: list[dict]) -> None:
    if not rows:
        return
    table, columns, defaults = _columns(model, list(rows[0]))
    qn = connection.ops.quote_name
    sql = f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    values = [tuple(row.get(c, defaults.get(c)) for c in columns) for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)


def _ids(model, **filters) -> list[int]:
    return list(model.objects.filter(**filters).order_by("pk").values_list("pk", flat=True))


def exists(scale: str) -> bool:
    return Organization.objects.filter(name=f"{MARKER_NAME}-{scale}", kind=Organization.Kind.COMMITTEE).exists()


def describe() -> str:
    return (
        f"{Organization.objects.branches().count()} branches, {Organization.objects.groups().count()} groups, "
        f"{Member.objects.count()} members, {Meeting.objects.count()} meetings, "
        f"{Attendance.objects.count()} attendance rows"
    )


def ensure(scale: str = "L") -> bool:
    """Build the data set unless it is already there. Returns True when it was built."""
    if exists(scale):
        return False
    build(scale)
    return True


def build(scale: str) -> None:
    n_branches, groups_per_branch, members_per_group, years = SCALES[scale]
    rnd = random.Random(20261124)
    today = dt.date(2023, 1, 1)

    with transaction.atomic():
        # Renamed to the marker name only when everything is written (see the end).
        committee = Organization.objects.create(name=f"{MARKER_NAME}-{scale}-partial", kind=Organization.Kind.COMMITTEE)
        if Organization.objects.filter(name=committee.name).count() > 1:
            raise RuntimeError("A partial bench data set is in the database: delete var/bench/ and run again.")
        _insert(
            Organization,
            [
                {
                    "name": f"第{b:04d}支部",
                    "kind": "branch",
                    "parent_id": committee.pk,
                    "sort_order": b,
                    "is_active": True,
                }
                for b in range(n_branches)
            ],
        )
        branch_ids = _ids(Organization, kind="branch", parent=committee)
        _insert(
            Organization,
            [
                {"name": f"第{g + 1}党小组", "kind": "group", "parent_id": b, "sort_order": g, "is_active": True}
                for b in branch_ids
                for g in range(groups_per_branch)
            ],
        )
        groups_of: dict[int, list[int]] = {}
        for gid, parent in Organization.objects.filter(kind="group", parent_id__in=branch_ids).values_list(
            "pk", "parent_id"
        ):
            groups_of.setdefault(parent, []).append(gid)

        member_rows = []
        for i in range(n_branches * groups_per_branch * members_per_group):
            born = dt.date(1965 + i % 35, 1 + i % 12, 1 + i % 28)
            # unique across the set: the region code counts the thousands
            first17 = f"{370000 + i // 1000:06d}{born:%Y%m%d}{i % 1000:03d}"
            probationary = i % 10 == 0
            member_rows.append(
                {
                    "name": f"党员{i:05d}",
                    "gender": "M" if i % 5 else "F",
                    "id_number": first17 + id_number_check_char(first17),
                    "phone": "",
                    "category": "probationary" if probationary else "full",
                    "joined_on": dt.date(2022, 6, 1) if probationary else dt.date(2005, 7, 1),
                    "status": "active",
                }
            )
        _insert(Member, member_rows)
        member_ids = _ids(Member, name__startswith="党员")[-len(member_rows) :]

    # Memberships and posts: members are dealt out group by group.
    members_of_branch: dict[int, list[int]] = {}
    members_of_group: dict[int, list[int]] = {}
    committee_of: dict[int, list[int]] = {}
    with transaction.atomic():
        it = iter(member_ids)
        ms_rows, post_rows = [], []
        for b in branch_ids:
            for g in groups_of[b]:
                chunk = [next(it) for _ in range(members_per_group)]
                members_of_group[g] = chunk
                members_of_branch.setdefault(b, []).extend(chunk)
                for m in chunk:
                    ms_rows.append({"member_id": m, "organization_id": b, "started_on": today})
                    ms_rows.append({"member_id": m, "organization_id": g, "started_on": today})
                post_rows.append(
                    {"member_id": chunk[1], "organization_id": g, "role": "group_leader", "started_on": today}
                )
            # the committee: five full members of the branch
            full = [m for m in members_of_branch[b] if (m - member_ids[0]) % 10 != 0][:5]
            committee_of[b] = full
            for m, role in zip(
                full, ["secretary", "deputy_secretary", "organization", "propaganda", "discipline"], strict=True
            ):
                post_rows.append({"member_id": m, "organization_id": b, "role": role, "started_on": today})
        _insert(Membership, ms_rows)
        _insert(Post, post_rows)

    types = dict(MeetingType.objects.values_list("code", "pk"))
    probationary = {m for m in member_ids if (m - member_ids[0]) % 10 == 0}

    def at(year: int, month: int, day: int, hour: int = 15) -> dt.datetime:
        return dt.datetime(year, month, day, hour, 0, tzinfo=TZ)

    for year in years:
        for b in branch_ids:
            plan = []  # (types, group, start, counts_for, attendees)
            everyone = members_of_branch[b]
            for month in range(1, 13):
                plan.append((["committee_meeting"], None, month, committee_of[b]))
                plan.append((["theme_day"], None, month, everyone))
                for g in groups_of[b]:
                    plan.append((["group_meeting"], g, month, members_of_group[g]))
                if month % 3 == 0:
                    plan.append((["general_meeting", "party_lesson"], None, month, everyone))
            plan.append((["org_life"], None, 12, everyone))
            plan.append((["democratic_review"], None, 12, everyone))

            meeting_rows, type_links, attendance = [], [], []
            for codes, group, month, attendees in plan:
                roll = rnd.random()
                if roll < 0.04:
                    continue  # a missed meeting
                day = rnd.randint(3, 25)
                start = at(year, month, day)
                counts_for = start.date()
                if roll < 0.07 and month < 12:
                    # held in the first days of the next month, counting for this one: late
                    start = at(year, month + 1, rnd.randint(1, 5))
                meeting_rows.append(
                    {
                        "branch_id": b,
                        "group_id": group,
                        "topic": f"{year}年{month}月{codes[0]}",
                        "planned_start": start,
                        "planned_end": start + dt.timedelta(hours=1, minutes=30),
                        "actual_start": start,
                        "actual_end": start + dt.timedelta(hours=1, minutes=30),
                        "place": "党员活动室",
                        "status": "approved",
                        "counts_for": counts_for,
                        # inserted without Meeting.save, which keeps the filing deadline
                        "minutes_due_at": minutes_due_at(local_date(start), days=3),
                        "notice_published_at": start - dt.timedelta(days=2),
                        "minutes_entered_at": start + dt.timedelta(days=1),
                        "submitted_at": start + dt.timedelta(days=2),
                        "created_at": start - dt.timedelta(days=3),
                        "updated_at": start + dt.timedelta(days=2),
                    }
                )
                type_links.append(codes)
                attendance.append(attendees)
            with transaction.atomic():
                _insert(Meeting, meeting_rows)
                new_ids = list(
                    Meeting.objects.filter(branch_id=b, planned_start__year=year)
                    .order_by("pk")
                    .values_list("pk", flat=True)
                )[-len(meeting_rows) :]
                links, att_rows = [], []
                for mid, codes, attendees in zip(new_ids, type_links, attendance, strict=True):
                    for c in codes:
                        links.append((mid, types[c]))
                    for m in attendees:
                        r = rnd.random()
                        status = "present" if r < 0.85 else "late" if r < 0.9 else "leave" if r < 0.96 else "absent"
                        att_rows.append(
                            {
                                "meeting_id": mid,
                                "member_id": m,
                                "is_probationary": m in probationary,
                                "can_vote": m not in probationary,
                                "status": status,
                                "leave_reason": "井下当班" if status == "leave" else "",
                            }
                        )
                with connection.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO meetings_meeting_types (meeting_id, meetingtype_id) VALUES (%s, %s)", links
                    )
                _insert(Attendance, att_rows)
    Organization.objects.filter(pk=committee.pk).update(name=f"{MARKER_NAME}-{scale}")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
