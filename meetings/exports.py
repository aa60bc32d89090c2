"""The mine's year ledger and the full compliance matrix as export jobs (bulletin.exports).

Registered in ``MeetingsConfig.ready``. A branch's own ledger stays a direct download.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from bulletin import exports
from org.models import Organization

from . import ledger

MINE_LEDGER = "meetings.mine_ledger"
COMPLIANCE_MATRIX = "meetings.compliance_matrix"


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


def _parse_year(query) -> dict:
    year = int(str(query["year"]))
    if not 2000 <= year <= 2100:
        raise ValueError(year)
    return {"year": year}


def parse_matrix(query) -> dict:
    """The matrix page's filters (year, 党总支, name search, problems only), as the page reads them."""
    year = _parse_year(query)["year"]
    chosen = str(query.get("general_branch") or "")
    if chosen and not chosen.isdigit():
        raise ValueError(chosen)
    if (
        chosen
        and not Organization.objects.filter(
            pk=int(chosen), kind=Organization.Kind.GENERAL_BRANCH, is_active=True
        ).exists()
    ):
        raise ValueError(chosen)
    return {
        "year": year,
        "general_branch": chosen,
        "q": str(query.get("q") or "").strip()[:50],
        "problems": "1" if str(query.get("problems") or "") == "1" else "",
    }


def _write_matrix(fileobj, parameters: dict, progress) -> int:
    from .compliance_export import write_matrix_xlsx
    from .matrix import matrix_branches

    chosen = parameters["general_branch"]
    branches = matrix_branches(
        year=parameters["year"], general_branch_id=int(chosen) if chosen else None, query=parameters["q"]
    )
    total = branches.count()
    progress(0, total)
    write_matrix_xlsx(
        fileobj,
        branches=branches,
        year=parameters["year"],
        problems_only=parameters["problems"] == "1",
        now=timezone.now(),
    )
    return total


def _matrix_back_url(parameters: dict) -> str:
    query = urlencode({k: v for k, v in parameters.items() if v})
    return reverse("meetings:compliance_matrix") + f"?{query}"


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
            parse=_parse_year,
        )
    )
    exports.register(
        exports.ExportKind(
            kind=COMPLIANCE_MATRIX,
            label=_("全矿三会一课落实情况导出"),
            write=_write_matrix,
            allowed=lambda user, parameters: user.is_active and user.has_perm("meetings.view_compliance_all"),
            filename=lambda parameters: _("{year}年三会一课落实情况.xlsx").format(year=parameters["year"]),
            back_url=_matrix_back_url,
            parse=parse_matrix,
        )
    )
