"""A real Celery worker as a subprocess of a test, on the test's database (bulletin and supervision tests)."""

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)
CELERY = str(Path(sys.executable).with_name("celery"))


def database_url_for_subprocess() -> str:
    """DATABASE_URL of the database this test runs on, for a worker subprocess to share it."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    auth = urllib.parse.quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + urllib.parse.quote(s["PASSWORD"], safe="")
    host = s["HOST"] or "127.0.0.1"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{s['NAME']}"


class Worker:
    """``celery worker --pool=solo`` on the test database; its output is collected for the assertions."""

    def __init__(self, *, beat: bool, tmp_path: Path, extra_env: dict | None = None, lean: bool = True):
        env = {
            **os.environ,
            "DATABASE_URL": database_url_for_subprocess(),
            "PYTHONUNBUFFERED": "1",
            "SANHUI_TEST_GATE_DIR": str(tmp_path),
            **(extra_env or {}),
        }
        # tests.worker_gates: the tasks and hooks a test holds at a known point (see there).
        cmd = [CELERY, "-A", "sanhui", "worker", "--pool=solo", "-Q", "celery", "--loglevel=INFO"]
        cmd += ["-I", "tests.worker_gates"]
        if lean:  # else as bin/serve and the systemd unit run it: heartbeat, mingle and gossip on
            cmd += ["--without-heartbeat", "--without-mingle", "--without-gossip"]
        if beat:
            cmd += ["-B", "-s", str(tmp_path / "celerybeat-schedule")]
        self.output: list[str] = []
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8"
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.output.append(line)

    @property
    def log(self) -> str:
        return "".join(self.output)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"the worker did not start:\n{self.log}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when the machine or the OOM killer stops it."""
        self.proc.kill()
        self.proc.wait()
        self._reader.join(timeout=5)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=5)


@pytest.fixture
def start_worker(tmp_path):
    workers = []

    def start(*, beat: bool = False, extra_env: dict | None = None, lean: bool = True) -> Worker:
        worker = Worker(beat=beat, tmp_path=tmp_path, extra_env=extra_env, lean=lean)
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()


def wait_until(predicate, *, timeout: float, interval: float = 0.2, message: str = "") -> None:
    """Poll a real process's effect until ``predicate()`` holds (a deadline, never a sleep for the clock)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(message or "condition not met before the deadline")


class RedisServer:
    """A private ``redis-server`` on a free loopback port, for tests that stop the broker (never the shared 6379)."""

    def __init__(self, directory: Path):
        self.directory = directory
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.directory)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        wait_until(lambda: _pings(client), timeout=10, interval=0.05, message="redis-server did not start")

    def stop(self) -> None:
        """As a crash or ``systemctl stop redis`` does it: connections drop, nothing is answered until a restart."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except redis.exceptions.ConnectionError:
        return False


@pytest.fixture
def redis_server(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server on PATH")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()
