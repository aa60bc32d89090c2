"""The mine's 学时 ledger as an export job (bulletin.exports): registered in ``StudyConfig.ready``."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from bulletin import exports

from . import ledger

MINE_STUDY_LEDGER = "study.mine_ledger"


def _write_mine_ledger(fileobj, parameters: dict, progress) -> int:
    year = int(parameters["year"])
    today = timezone.localdate()
    total = ledger.mine_member_count(year, today=today)
    progress(0, total)

    def counted(rows):
        for done, row in enumerate(rows, start=1):
            if done % 500 == 0:
                progress(done, total)
            yield row

    return ledger.write_ledger_xlsx(
        counted(ledger.mine_rows(year, today=today)), fileobj, sheet_title=_("{year}年全矿学时").format(year=year)
    )


def register() -> None:
    exports.register(
        exports.ExportKind(
            kind=MINE_STUDY_LEDGER,
            label=_("全矿学时台账导出"),
            write=_write_mine_ledger,
            allowed=lambda user, parameters: user.is_active and user.has_perm("study.view_mine_ledger"),
            filename=lambda parameters: _("全矿{year}年学时台账.xlsx").format(year=parameters["year"]),
            back_url=lambda parameters: reverse("study:mine_ledger", args=[parameters["year"]]),
        )
    )
