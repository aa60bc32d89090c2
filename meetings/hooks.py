"""What higher apps do when a meeting is planned, submitted or read, without meetings importing them.

Like ``panels``: the tasks app registers its callbacks at start-up (``TasksConfig.ready``).

- ``on_submitted(meeting, user, now)``: called inside ``meeting_submit``'s transaction after
  the record became 已提交; a ``ValidationError`` raised there refuses the submission (the
  whole transaction rolls back) and its messages are shown to the secretary.
- ``agenda_prefill(meeting, now) -> list[str]``: agenda lines offered when a meeting is planned
  (e.g. "上次会议议定事项落实情况" with each earlier decision and its state).
- ``decision_check(meeting, owner, due_on, now) -> str``: why ``owner`` cannot own a decision
  of ``meeting`` ('' when they can); the rule itself lives in the app that owns tasks.
- ``on_minutes_opened(meeting, member, now)``: a member who was on leave or absent opened
  the meeting's record (the 补学 reading).
- ``on_decisions_withdrawn(meeting, item_ids, user, now)``: inside ``meeting_save_agenda``'s
  transaction, before the items are rewritten: these agenda items were 议定事项 and are no
  longer (un-marked, or deleted from the record).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

_on_submitted: list[Callable[..., None]] = []
_agenda_prefill: list[Callable[..., list[str]]] = []
_decision_checks: list[Callable[..., str]] = []
_on_minutes_opened: list[Callable[..., None]] = []
_on_decisions_withdrawn: list[Callable[..., None]] = []


def _add(registry: list, fn):
    if fn not in registry:
        registry.append(fn)
    return fn


def register_on_submitted(fn: Callable[..., None]):
    return _add(_on_submitted, fn)


def register_agenda_prefill(fn: Callable[..., list[str]]):
    return _add(_agenda_prefill, fn)


def register_decision_check(fn: Callable[..., str]):
    return _add(_decision_checks, fn)


def register_on_minutes_opened(fn: Callable[..., None]):
    return _add(_on_minutes_opened, fn)


def register_on_decisions_withdrawn(fn: Callable[..., None]):
    return _add(_on_decisions_withdrawn, fn)


def submitted(*, meeting, user, now: dt.datetime) -> None:
    for fn in _on_submitted:
        fn(meeting=meeting, user=user, now=now)


def agenda_prefill(*, meeting, now: dt.datetime) -> list[str]:
    lines: list[str] = []
    for fn in _agenda_prefill:
        lines.extend(fn(meeting=meeting, now=now))
    return lines


def decision_problem(*, meeting, owner, due_on: dt.date | None, now: dt.datetime) -> str:
    for fn in _decision_checks:
        if problem := fn(meeting=meeting, owner=owner, due_on=due_on, now=now):
            return problem
    return ""


def minutes_opened(*, meeting, member, now: dt.datetime) -> None:
    for fn in _on_minutes_opened:
        fn(meeting=meeting, member=member, now=now)


def decisions_withdrawn(*, meeting, item_ids: list[int], user, now: dt.datetime) -> None:
    if not item_ids:
        return
    for fn in _on_decisions_withdrawn:
        fn(meeting=meeting, item_ids=item_ids, user=user, now=now)
