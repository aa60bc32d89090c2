"""The round's results as ``.xlsx``: one row per appraisee with tallies per part, score and grades."""

from __future__ import annotations

from typing import IO

from django.utils.translation import gettext as _

from org.xlsx import Column, sheet_with_header, text_cell

from .models import Grade, Part
from .selectors import BALLOT_PARTS, Tally

GRADE_LABELS = [label for _v, label in Grade.choices]


def columns() -> list[Column]:
    cols = [Column("姓名", 10), Column("类别", 8), Column("自评", 8), Column("组织评价", 10)]
    for part in BALLOT_PARTS:
        cols += [Column(f"{Part(part).label}·{label}", 9) for label in GRADE_LABELS]
    cols += [Column("综合得分", 10), Column("建议等次", 10), Column("支委会提出", 10), Column("党委确认", 10)]
    cols += [Column("书面理由", 40)]
    return cols


def write_round_xlsx(tally: Tally, fileobj: IO[bytes]) -> int:
    """Write the sheet; per-member ballot counts are blank when the branch had too few voters."""
    round_ = tally.round
    wb, ws = sheet_with_header(
        columns(),
        title=_("{year}年民主评议").format(year=round_.year.year),
        fallback_title=_("民主评议"),
    )
    labels = dict(Grade.choices)
    count = 0
    for m in tally.members:
        a = m.appraisee
        row = [
            text_cell(ws, a.member.name),
            _("正式") if a.is_graded else _("预备"),
            labels.get(a.self_grade, ""),
            labels.get(a.org_grade, ""),
        ]
        for part in BALLOT_PARTS:
            if tally.branch_only or not a.is_graded:
                row += [None] * len(GRADE_LABELS)
            else:
                row += [m.count(part, g) for g in Grade.values]
        row += [
            m.score,
            labels.get(m.suggested, ""),
            labels.get(a.proposed_grade, ""),
            labels.get(a.confirmed_grade, ""),
            text_cell(ws, a.reason),
        ]
        ws.append(row)
        count += 1
    if tally.branch_only:
        ws.append([_("投票人数少于 {n} 人，只公布全支部合计：").format(n=round_.year.min_voters_for_member_tallies)])
        for label, counts in tally.branch_rows:
            ws.append([label, *counts])
    wb.save(fileobj)
    return count
