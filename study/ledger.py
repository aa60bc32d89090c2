"""The 学时 ledger: each member's credited hours of a year against the year's requirement.

One home for the rule, read by 我的学习, the branch page, the mine page and both exports:

- a member's hours of year Y are the credits of their records finished (``study.quiz.finished_records``:
  complete and, where the item requires it, a passed quiz) and completed in Y at the mine
  (``org.clock.year_bounds``: 1 January 00:00 to the next 1 January 00:00, Asia/Shanghai); a quiz
  passed later credits the record in the year it completed;
- the requirement is ``StudyRequirement`` data: the committee figure (default 56) when the member
  held a 书记 or 支委 post (``Post.COMMITTEE_ROLES``) on any day of Y, else the member figure
  (default 32); a row for Y overrides the row without a year;
- a branch's members are those in it on the reference day: today in the current year, 31
  December for a past year.

It shows completion against the requirement, never a ranking by time online: rows are ordered
by name, and played seconds are not in it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO

import xlsxwriter
from django.db.models import Case, Count, DecimalField, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from org.clock import year_bounds
from org.models import Membership, Organization, Post
from org.xlsx import clean_text, looks_like_formula

from .models import LearningRecord, StudyRequirement
from .quiz import finished_records

HOURS = DecimalField(max_digits=7, decimal_places=1)
ZERO = Decimal("0.0")


@dataclass(frozen=True)
class Requirement:
    member: Decimal
    committee: Decimal

    def for_member(self, is_committee: bool) -> Decimal:
        return self.committee if is_committee else self.member


@dataclass(frozen=True)
class LedgerRow:
    member_id: int
    name: str
    branch: str
    is_committee: bool
    hours: Decimal
    completed: int
    required: Decimal

    @property
    def met(self) -> bool:
        return self.hours >= self.required

    @property
    def percent(self) -> int:
        """Hours as a share of the requirement, capped at 100 (a progress bar, not a score)."""
        if not self.required:
            return 100
        return min(100, int(self.hours * 100 / self.required))


@dataclass(frozen=True)
class BranchSummary:
    branch_id: int
    name: str
    members: int
    met: int

    @property
    def percent(self) -> int:
        return int(self.met * 100 / self.members) if self.members else 0


def requirement_of(year: int) -> Requirement:
    """The year's requirement (one query): the year's own rows over the rows without a year."""
    found: dict[str, Decimal] = {}
    rows = StudyRequirement.objects.filter(Q(year=year) | Q(year__isnull=True))
    for audience, row_year, hours in rows.values_list("audience", "year", "hours"):
        if audience not in found or row_year is not None:
            found[audience] = hours
    audience = StudyRequirement.Audience
    return Requirement(member=found.get(audience.MEMBER, ZERO), committee=found.get(audience.COMMITTEE, ZERO))


def reference_day(year: int, *, today: dt.date) -> dt.date:
    return min(today, dt.date(year, 12, 31))


def completed_in(year: int) -> QuerySet[LearningRecord]:
    """Records finished (the one rule, ``finished_records``) and completed in ``year``: what earns 学时."""
    start, end = year_bounds(year)
    return finished_records().filter(completed_at__gte=start, completed_at__lt=end)


def _annotated(memberships: QuerySet[Membership], year: int, requirement: Requirement) -> QuerySet[Membership]:
    """Per membership row: the member's hours, completed count and committee post in ``year`` (subqueries)."""
    records = completed_in(year).filter(member=OuterRef("member_id")).order_by().values("member")
    posts = Post.objects.filter(
        member=OuterRef("member_id"),
        role__in=Post.COMMITTEE_ROLES,
        started_on__lte=dt.date(year, 12, 31),
    ).filter(Q(ended_on__isnull=True) | Q(ended_on__gt=dt.date(year, 1, 1)))
    return memberships.annotate(
        hours=Coalesce(
            Subquery(records.annotate(s=Sum("credit_hours")).values("s"), output_field=HOURS),
            Value(ZERO, output_field=HOURS),
        ),
        completed=Coalesce(Subquery(records.annotate(c=Count("pk")).values("c")), Value(0)),
        held_committee=Exists(posts),
        required=Case(
            When(held_committee=True, then=Value(requirement.committee, output_field=HOURS)),
            default=Value(requirement.member, output_field=HOURS),
            output_field=HOURS,
        ),
    )


def _memberships_on(day: dt.date) -> QuerySet[Membership]:
    return Membership.objects.filter(
        organization__kind=Organization.Kind.BRANCH,
        started_on__lte=day,
    ).filter(Q(ended_on__isnull=True) | Q(ended_on__gt=day))


def _rows(memberships: QuerySet[Membership]) -> Iterator[LedgerRow]:
    values = memberships.order_by("organization__sort_order", "organization_id", "member__name", "member_id")
    for row in values.values_list(
        "member_id", "member__name", "organization__name", "held_committee", "hours", "completed", "required"
    ).iterator(chunk_size=2000):
        yield LedgerRow(*row)


def branch_rows(branch: Organization, year: int, *, today: dt.date) -> list[LedgerRow]:
    """Every member of ``branch`` on the reference day with their 学时 of ``year`` (two queries)."""
    memberships = _memberships_on(reference_day(year, today=today)).filter(organization=branch)
    return list(_rows(_annotated(memberships, year, requirement_of(year))))


def mine_rows(year: int, *, today: dt.date) -> Iterator[LedgerRow]:
    """Every member of every branch, branch by branch (streamed, for the export)."""
    return _rows(_annotated(_memberships_on(reference_day(year, today=today)), year, requirement_of(year)))


def mine_member_count(year: int, *, today: dt.date) -> int:
    return _memberships_on(reference_day(year, today=today)).count()


def mine_summary(year: int, *, today: dt.date) -> list[BranchSummary]:
    """Per branch: members and how many met the requirement (one grouped query and the requirement)."""
    annotated = _annotated(_memberships_on(reference_day(year, today=today)), year, requirement_of(year))
    grouped = (
        annotated.order_by()
        .values("organization_id", "organization__name", "organization__sort_order")
        .annotate(members=Count("id"), met=Count("id", filter=Q(hours__gte=F("required"))))
        .order_by("organization__sort_order", "organization_id")
    )
    return [BranchSummary(r["organization_id"], r["organization__name"], r["members"], r["met"]) for r in grouped]


def member_year(member_id: int, year: int) -> QuerySet[LearningRecord]:
    """A member's records completed in ``year`` with their item, newest first."""
    return (
        completed_in(year).filter(member_id=member_id).select_related("item", "item__column").order_by("-completed_at")
    )


def member_is_committee(member_id: int, year: int) -> bool:
    return (
        Post.objects.filter(member_id=member_id, role__in=Post.COMMITTEE_ROLES, started_on__lte=dt.date(year, 12, 31))
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=dt.date(year, 1, 1)))
        .exists()
    )


COLUMNS = [
    ("序号", 6),
    ("支部", 24),
    ("姓名", 12),
    ("类别", 12),
    ("已完成资料（份）", 14),
    ("学时", 10),
    ("年度要求", 10),
    ("是否达标", 10),
]


def write_ledger_xlsx(rows: Iterable[LedgerRow], fileobj: IO[bytes], *, sheet_title: str) -> int:
    """The ledger rows as a sheet (XlsxWriter, constant memory: each row goes to disk as written)."""
    wb = xlsxwriter.Workbook(fileobj, {"constant_memory": True, "strings_to_formulas": False})
    ws = wb.add_worksheet(clean_text(sheet_title)[:31] or _("学时台账"))
    header = wb.add_format({"bold": True, "bg_color": "#F2DCDB", "pattern": 1, "align": "center"})
    quoted = wb.add_format({"quote_prefix": True})
    for index, (title, width) in enumerate(COLUMNS):
        ws.set_column(index, index, width)
        ws.write_string(0, index, _(title), header)
    ws.freeze_panes(1, 0)

    def text(r: int, c: int, value: str) -> None:
        value = clean_text(value)
        if value:
            ws.write_string(r, c, value, quoted if looks_like_formula(value) else None)

    count = 0
    for count, row in enumerate(rows, start=1):
        ws.write_number(count, 0, count)
        text(count, 1, row.branch)
        text(count, 2, row.name)
        text(count, 3, _("书记、支委") if row.is_committee else _("党员"))
        ws.write_number(count, 4, row.completed)
        ws.write_number(count, 5, float(row.hours))
        ws.write_number(count, 6, float(row.required))
        text(count, 7, _("达标") if row.met else _("未达标"))
    wb.close()
    return count
