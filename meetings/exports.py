"""The mine's year ledger as an export job (bulletin.exports): registered in ``MeetingsConfig.ready``."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from bulletin import exports

from . import ledger

MINE_LEDGER = "meetings.mine_ledger"


def _write_mine_ledger(fileobj, parameters: dict, progress) -> int:
    year = int(parameters["year"])
    meetings = ledger.meetings_of_year(year)
    total = meetings.count()
    progress(0, total)

    def counted(rows):
        for done, row in enumerate(rows, start=1):
            if done % 200 == 0:
                progress(done, total)
            yield row

    return ledger.write_ledger_xlsx(
        counted(ledger.ledger_rows(meetings)), fileobj, sheet_title=_("{year}年全矿台账").format(year=year)
    )


def register() -> None:
    exports.register(
        exports.ExportKind(
            kind=MINE_LEDGER,
            label=_("全矿三会一课台账导出"),
            write=_write_mine_ledger,
            # The page's own check: without an object the rule grants those who see all branches.
            allowed=lambda user, parameters: user.is_active and user.has_perm("meetings.export_ledger"),
            filename=lambda parameters: _("全矿{year}年三会一课台账.xlsx").format(year=parameters["year"]),
            back_url=lambda parameters: reverse("meetings:compliance_matrix") + f"?year={parameters['year']}",
        )
    )
