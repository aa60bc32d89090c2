"""A load runner: gunicorn on the bench data set, 8 signed-in clients, p95 ratios against a plain page.

The server runs with production-like settings (DEBUG off, 2 sync workers, loopback only, a
free port) on the same database as the rest of the bench (``bench.run.setup_django``: the
SQLite file var/bench/mine-<SCALE>.sqlite3, or ``BENCH_DATABASE_URL``). Clients are threads
using ``http.client`` with session cookies made directly in the session table (no login
form, no second factor: the bench users are not staff).

For each page, ``seconds`` are cut into alternating slices: ``clients`` threads all asking for
the baseline (the plain page, 我的请假), then all asking for the page, and again. Page and
baseline are measured under the same concurrency in the same minutes, so the ratio of their
p95 means the same on any machine. (Mixing the two in one slice would not: with 8 clients on 2
workers each request mostly waits in the queue behind the other kind, and both p95 converge.)

Usage from a bench module::

    from bench import load
    with load.Server() as server:
        users = load.bench_users()
        ratios = server.compare_pages({"home": ("/", users.supervisor)})

or the module-level :func:`compare_pages`, which starts and stops a server around one call.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SUPERVISOR = "bench-supervisor"
SECRETARY = "bench-secretary"
PLAIN_PATH = "/meetings/mine/leave/"  # meetings:my_leave, checked against reverse() in bench_users


@dataclass(frozen=True)
class BenchUsers:
    supervisor: str  # a 党委工作部 login: sees every branch
    secretary: str  # the 书记 of the first branch


def bench_users() -> BenchUsers:
    """Create (once) the two logins the load runner signs in as. Django must be set up."""
    from django.urls import reverse

    from org.models import Member, Organization, Post, StaffRole, User

    assert reverse("meetings:my_leave") == PLAIN_PATH, "the plain page moved: update PLAIN_PATH"
    committee = Organization.objects.filter(kind=Organization.Kind.COMMITTEE).order_by("pk").first()
    if committee is None:
        raise RuntimeError("no 党委 in the bench database: build the data set first")
    sup, _ = User.objects.get_or_create(username=SUPERVISOR, defaults={"email": "sup@bench.cn"})
    StaffRole.objects.get_or_create(user=sup, organization=committee, role=StaffRole.Role.WORK_DEPT)
    sec, _ = User.objects.get_or_create(username=SECRETARY, defaults={"email": "sec@bench.cn"})
    if not Member.objects.filter(user=sec).exists():
        post = (
            Post.objects.filter(role=Post.Role.SECRETARY, member__user__isnull=True, ended_on__isnull=True)
            .order_by("organization__sort_order", "pk")
            .first()
        )
        if post is None:
            raise RuntimeError("no 书记 without a login in the bench data set")
        Member.objects.filter(pk=post.member_id).update(user=sec)
    return BenchUsers(supervisor=SUPERVISOR, secretary=SECRETARY)


def session_cookie(username: str) -> str:
    """A fresh signed-in session for ``username`` (written to the session store the server reads)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from org.models import User

    user = User.objects.get(username=username)
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]  # the ModelBackend (org/auth.py)
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class Server:
    """gunicorn on a free loopback port, 2 sync workers, DEBUG off; a context manager."""

    def __init__(self, workers: int = 2):
        self.port = _free_port()
        self.workers = workers
        self.proc: subprocess.Popen | None = None
        self._cookies: dict[str, str] = {}

    def __enter__(self) -> Server:
        env = dict(os.environ)
        env.update(
            DJANGO_DEBUG="0",
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            DJANGO_SETTINGS_MODULE="sanhui.settings",
            PYTHONPATH=str(ROOT),
            # static files through the finders: no collectstatic manifest needed, and the
            # pages measured link to them without serving them
            WHITENOISE_USE_FINDERS="1",
        )
        env.pop("REDIS_URL", None)
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "sanhui.wsgi:application",
            f"--workers={self.workers}",
            "--worker-class=sync",
            f"--bind=127.0.0.1:{self.port}",
            "--timeout=120",
            "--log-level=warning",
        ]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _ = self.get("/healthz")
                if status == 200:
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}")
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError("gunicorn did not answer /healthz within 60 s")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cookie(self, username: str | None) -> str | None:
        if username is None:
            return None
        if username not in self._cookies:
            self._cookies[username] = session_cookie(username)
        return self._cookies[username]

    def get(self, path: str, cookie: str | None = None, conn: http.client.HTTPConnection | None = None):
        """GET ``path``; returns (status, body bytes). Reuses ``conn`` (keep-alive) when given."""
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            headers = {"Host": "127.0.0.1"}
            if cookie:
                headers["Cookie"] = cookie
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            return resp.status, body
        finally:
            if own:
                conn.close()

    def measure(self, pairs: list[tuple[str, str, str | None]], clients: int = 8, seconds: float = 20) -> dict:
        """Drive ``clients`` threads for ``seconds``, each cycling through ``pairs`` (name, path, user).

        Returns {name: list of latencies in seconds}. A non-200 answer fails the run (a bench
        of error pages means nothing).
        """
        prepared = [(name, path, self.cookie(user)) for name, path, user in pairs]
        times: dict[str, list[float]] = {name: [] for name, _, _ in pairs}
        errors: list[str] = []
        lock = threading.Lock()
        stop = time.monotonic() + seconds

        def client(offset: int) -> None:
            i = offset
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                while time.monotonic() < stop and not errors:
                    name, path, cookie = prepared[i % len(prepared)]
                    i += 1
                    started = time.perf_counter()
                    try:
                        status, _ = self.get(path, cookie, conn)
                    except (OSError, http.client.HTTPException):
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                        continue
                    elapsed = time.perf_counter() - started
                    with lock:
                        if status != 200:
                            errors.append(f"{name} {path}: HTTP {status}")
                        else:
                            times[name].append(elapsed)
            finally:
                conn.close()

        threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds + 130)
        if errors:
            raise RuntimeError("; ".join(sorted(set(errors))[:5]))
        return times

    def compare_pages(
        self,
        pages: dict[str, tuple[str, str | None]],
        baseline: tuple[str, str | None] | None = None,
        clients: int = 8,
        seconds: float = 20,
        slices: int = 3,
    ) -> dict[str, float]:
        """p95 of each page / p95 of the baseline, the two interleaved in ``seconds`` per page.

        Each page's ``seconds`` are cut into ``slices`` pairs of (baseline, page) slices; in a
        slice all ``clients`` ask for the one URL.
        """
        baseline = baseline or (PLAIN_PATH, SECRETARY)
        ratios = {}
        for name, (path, user) in pages.items():
            # one warm-up request each, so the first (import, cache) costs are not measured
            for p, u in ((path, user), baseline):
                status, _ = self.get(p, self.cookie(u))
                if status != 200:
                    raise RuntimeError(f"{name}: {p} answered HTTP {status} before the run")
            # Alternating slices, all clients on one URL at a time: each request then waits
            # behind requests of its own kind only, so the p95 is that page's cost under
            # load, and the baseline is taken in the same minutes as the page.
            times: dict[str, list[float]] = {name: [], "__plain__": []}
            slice_seconds = seconds / (2 * slices)
            for _ in range(slices):
                for key, (p, u) in (("__plain__", baseline), (name, (path, user))):
                    got = self.measure([(key, p, u)], clients=clients, seconds=slice_seconds)
                    times[key].extend(got[key])
            base = p95(times["__plain__"])
            ratios[name] = p95(times[name]) / base
            print(
                f"# load {name}: {len(times[name])} requests, p95 {p95(times[name]) * 1000:.0f} ms; "
                f"plain {len(times['__plain__'])} requests, p95 {base * 1000:.0f} ms",
                flush=True,
            )
        return ratios


def compare_pages(
    pages: dict[str, tuple[str, str | None]],
    baseline: tuple[str, str | None] = (PLAIN_PATH, SECRETARY),
    clients: int = 8,
    seconds: float = 20,
) -> dict[str, float]:
    """Start gunicorn, measure ``pages`` (name -> (path, username)) against ``baseline``, stop it.

    Django must be set up on the bench database (``bench.run.setup_django``) and the data set
    built; the bench users are created when missing. Returns {name: p95 page / p95 baseline}.
    """
    bench_users()
    with Server() as server:
        return server.compare_pages(pages, baseline=baseline, clients=clients, seconds=seconds)
