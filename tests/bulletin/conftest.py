"""Real components for the delivery tests: a local webhook server and a Celery worker subprocess."""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from bulletin.models import WebhookEndpoint

ROOT = Path(settings.BASE_DIR)
CELERY = str(Path(sys.executable).with_name("celery"))


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # These tests create many logins and never check a password: PBKDF2 would cost 0.6 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class WebhookServer:
    """A group robot on 127.0.0.1: records every POST and answers from a script (then 200 errcode 0)."""

    def __init__(self):
        self.received: list[dict] = []
        self.script: list[tuple[int, dict]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with server._lock:
                    server.received.append(
                        {"path": self.path, "content_type": self.headers.get("Content-Type"), "json": json.loads(raw)}
                    )
                    status, answer = server.script.pop(0) if server.script else (200, {"errcode": 0, "errmsg": "ok"})
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/cgi-bin/webhook/send?key=test"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer_next(self, *responses: tuple[int, dict]) -> None:
        self.script.extend(responses)


@pytest.fixture
def webhook_server():
    server = WebhookServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.fixture
def branch_robot(branch, webhook_server):
    return WebhookEndpoint.objects.create(organization=branch, url=webhook_server.url)


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

    def __init__(self, *, beat: bool, tmp_path: Path, extra_env: dict | None = None):
        env = {
            **os.environ,
            "DATABASE_URL": database_url_for_subprocess(),
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        cmd = [CELERY, "-A", "sanhui", "worker", "--pool=solo", "-Q", "celery", "--loglevel=INFO"]
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

    def start(*, beat: bool = False, extra_env: dict | None = None) -> Worker:
        worker = Worker(beat=beat, tmp_path=tmp_path, extra_env=extra_env)
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
