"""Rules each task source adds to a report, registered by the code that owns the source.

``task_report`` asks the rules of the task's source for problems before it accepts a report,
so a source (补学: minutes opened, a reflection of N characters) adds its rule without the
tasks core knowing it. Register from an ``AppConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

ReportRule = Callable[[object, str, Sequence], list[str]]

_REPORT_RULES: dict[str, list[ReportRule]] = {}


def register_report_rule(source: str, fn: ReportRule) -> None:
    """Add ``fn(task, text, files) -> list of problems`` for reports of tasks of ``source`` (once per function)."""
    rules = _REPORT_RULES.setdefault(source, [])
    if fn not in rules:
        rules.append(fn)


def report_problems(task, text: str, files: Sequence) -> list[str]:
    """Every problem the registered rules of ``task.source`` find with this report."""
    problems: list[str] = []
    for fn in _REPORT_RULES.get(task.source, ()):
        problems.extend(fn(task, text, files))
    return problems


# A higher app may prove a task done by other means (补学: the meeting's recording watched in
# study). ``fn(task) -> str`` says how ('' when it was not); a source's own rule may then accept
# the report without its usual requirements.
ProofFn = Callable[[object], str]

_PROOFS: dict[str, list[ProofFn]] = {}


def register_proof(source: str, fn: ProofFn) -> None:
    """Add ``fn(task) -> how the task was done otherwise ('' when not)`` for tasks of ``source`` (once per function)."""
    proofs = _PROOFS.setdefault(source, [])
    if fn not in proofs:
        proofs.append(fn)


def proof_of(task) -> str:
    """The first registered proof that ``task`` was done by other means, or ''."""
    for fn in _PROOFS.get(task.source, ()):
        proof = fn(task)
        if proof:
            return proof
    return ""
