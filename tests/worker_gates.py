"""Deterministic gates for the real-worker tests, imported by the worker with ``celery worker -I tests.worker_gates``.

A gated call writes ``<SANHUI_TEST_GATE_DIR>/<name>.entered`` and then waits until
``<name>.release`` exists, so that a test can act (kill the worker, stop the broker)
while a task is known to be inside its work, without guessing with sleeps.
"""

import os
import time
from pathlib import Path

from celery import shared_task


def gate_dir() -> Path:
    return Path(os.environ["SANHUI_TEST_GATE_DIR"])


def wait_at(name: str, *, timeout: float = 120) -> None:
    directory = gate_dir()
    (directory / f"{name}.entered").write_text(str(os.getpid()))
    deadline = time.monotonic() + timeout
    while not (directory / f"{name}.release").exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gate {name} was never released")
        time.sleep(0.05)


@shared_task(name="tests.worker_gates.blocked", ignore_result=True)
def blocked(name: str) -> str:
    """A task that runs until its gate is released, then records that it finished."""
    wait_at(name)
    (gate_dir() / f"{name}.done").write_text("done")
    return name


@shared_task(name="tests.worker_gates.mark", ignore_result=True)
def mark(name: str) -> str:
    """A task that only records that it ran."""
    (gate_dir() / f"{name}.done").write_text("done")
    return name


if os.environ.get("SANHUI_TEST_GATE_EVIDENCE"):
    # Hold photo processing at its most expensive step, after the row was claimed.
    from supervision import imaging

    _clean_copy = imaging.photo_clean_copy

    def _gated_clean_copy(*args, **kwargs):
        wait_at(os.environ["SANHUI_TEST_GATE_EVIDENCE"])
        return _clean_copy(*args, **kwargs)

    imaging.photo_clean_copy = _gated_clean_copy
