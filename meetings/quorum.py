"""Quorum and vote arithmetic of domain.md, as pure functions of counts.

Kept free of the ORM so that every boundary is easy to test and to read.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def more_than_half(part: int, whole: int) -> bool:
    return whole > 0 and part * 2 > whole


def more_than_four_fifths(part: int, whole: int) -> bool:
    return whole > 0 and part * 5 > whole * 4


def committee_quorum_met(*, committee_present: int, committee_expected: int) -> bool:
    """支委会: more than half of the committee members present."""
    return more_than_half(committee_present, committee_expected)


def voting_quorum_met(*, voting_present: int, voting_expected: int, election: bool = False) -> bool:
    """党员大会: more than half of the members with a vote present; elections more than 4/5."""
    if election:
        return more_than_four_fifths(voting_present, voting_expected)
    return more_than_half(voting_present, voting_expected)


@dataclass(frozen=True)
class VoteCounts:
    yes: int
    no: int
    abstain: int
    written_opinions: int = 0

    @property
    def total(self) -> int:
        return self.yes + self.no + self.abstain


def check_vote(
    *, counts: VoteCounts, voting_expected: int, voting_present: int, election: bool, allows_written: bool
) -> bool:
    """Validate a vote and decide it. Raises ValidationError with the message the secretary sees.

    - Only members with a vote (正式党员, not under 留党察看) are counted; 预备党员 never vote.
    - Ballots cannot exceed the voting members present, plus the written opinions of
      absent members where those count (admitting a 预备党员).
    - A motion passes when yes-votes exceed half of the voting members EXPECTED (应到).
    - An election needs more than 4/5 present, and a candidate is elected with more
      than half of the voting members present (党章 第十一条 practice).
    """
    errors = []
    if counts.written_opinions and not allows_written:
        errors.append(_("只有接收预备党员的表决可以计入书面意见。"))
    if counts.written_opinions > max(voting_expected - voting_present, 0):
        errors.append(
            _("书面意见 {written_opinions} 份，超过了因故缺席的有表决权党员人数 {max} 人。").format(
                written_opinions=counts.written_opinions, max=max(voting_expected - voting_present, 0)
            )
        )
    limit = voting_present + (counts.written_opinions if allows_written else 0)
    if counts.total > limit:
        errors.append(
            _("赞成、反对、弃权合计 {total} 票，超过了到会有表决权的正式党员 {voting_present} 人").format(
                total=counts.total, voting_present=voting_present
            )
            + (
                _("加书面意见 {written_opinions} 份").format(written_opinions=counts.written_opinions)
                if allows_written and counts.written_opinions
                else ""
            )
            + _("（预备党员没有表决权）。")
        )
    if not voting_quorum_met(voting_present=voting_present, voting_expected=voting_expected, election=election):
        if election:
            errors.append(
                _(
                    "到会有选举权的党员 {voting_present} 人，未超过应到 {voting_expected} 人的五分之四，不能进行选举。"
                ).format(voting_present=voting_present, voting_expected=voting_expected)
            )
        else:
            errors.append(
                _(
                    "到会有表决权的党员 {voting_present} 人，未超过应到 {voting_expected} 人的半数，不能进行表决。"
                ).format(voting_present=voting_present, voting_expected=voting_expected)
            )
    if errors:
        raise ValidationError(errors)
    if election:
        return more_than_half(counts.yes, voting_present)
    return more_than_half(counts.yes, voting_expected)
