"""Mine-wide exports as jobs: a registry of writers by kind, filled by the apps above.

bulletin is the lowest app that meetings, supervision and assessment all use, so the job
(``ExportJob``), its runner and its pages live here; each higher app registers, in its
``AppConfig.ready``, a writer per kind and the permission check that guards the page that
asks for it. The same check runs again when the file is downloaded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlencode

from django.urls import reverse

# write(fileobj, parameters, progress) -> rows written; progress(done, total) may be called
# as often as the writer likes (the runner saves it at most a few times a second).
Writer = Callable[[IO[bytes], dict, Callable[[int, int], None]], int]
# allowed(user, parameters) -> bool: the check of the page that offers the export.
Allowed = Callable[[object, dict], bool]


@dataclass(frozen=True)
class ExportKind:
    kind: str
    label: str
    write: Writer
    allowed: Allowed
    # filename(parameters) -> the download's name, e.g. "2026年全矿台账.xlsx"
    filename: Callable[[dict], str]
    # the page the export is offered on (its name and kwargs), for the 返回 link
    back_url: Callable[[dict], str]
    # parse(query) -> the job's parameters from the query string (or the start form's POST);
    # raises ValueError on input it cannot read. The default keeps no parameters.
    parse: Callable[[Mapping], dict] = lambda query: {}


def start_url(kind: str, parameters: dict) -> str:
    """The page that offers to start an export of ``kind`` (a GET shows a button; only its POST queues a job)."""
    query = urlencode({k: v for k, v in parameters.items() if v not in ("", None, False)})
    return reverse("bulletin:export_start", args=[kind]) + (f"?{query}" if query else "")


_KINDS: dict[str, ExportKind] = {}


def register(kind: ExportKind) -> None:
    _KINDS[kind.kind] = kind


def get(kind: str) -> ExportKind | None:
    return _KINDS.get(kind)


def registered() -> dict[str, ExportKind]:
    return dict(_KINDS)
