"""bin/serve keeps the worker and beat running: one killed with SIGKILL comes back; Ctrl-C stops everything."""

import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from tests.workers import database_url_for_subprocess, wait_until

ROOT = Path(settings.BASE_DIR)


def group_processes(pgid: int, needle: str) -> list[int]:
    """Pids in the process group ``pgid`` whose command line contains ``needle``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ProcessLookupError):
            continue
        if needle in cmdline:
            found.append(int(entry.name))
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_bin_serve_restarts_a_killed_worker_and_ctrl_c_stops_all_three(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "DJANGO_DEBUG": "true",
        "PORT": str(free_port()),
        "RESTART_DELAY": "0.2",
    }
    log = (tmp_path / "serve.log").open("w")
    serve = subprocess.Popen(
        ["bin/serve"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        worker = "celery -A sanhui worker"
        wait_until(lambda: len(group_processes(serve.pid, worker)) == 1, timeout=60, message="no worker started")
        wait_until(lambda: group_processes(serve.pid, "celery -A sanhui beat"), timeout=60, message="no beat")
        (first,) = group_processes(serve.pid, worker)

        os.kill(first, signal.SIGKILL)

        wait_until(
            lambda: group_processes(serve.pid, worker) not in ([], [first]),
            timeout=60,
            message=(tmp_path / "serve.log").read_text(),
        )
        assert "worker exited (status 137); restarting" in (tmp_path / "serve.log").read_text()

        os.killpg(serve.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        serve.wait(timeout=60)
        wait_until(lambda: group_processes(serve.pid, "") == [], timeout=60, message="processes left behind")
    finally:
        if serve.poll() is None or group_processes(serve.pid, ""):
            os.killpg(serve.pid, signal.SIGKILL)
        log.close()
