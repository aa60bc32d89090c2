"""The player's progress report under load: its throughput against /healthz on the same server.

gunicorn (2 sync workers, DEBUG off, bench/load.py) on the bench database; 16 concurrent clients,
each a signed-in member's player reporting on its own video (so every report is accepted: 0.5 s of
media per report, inside the rate slack, the client clock increasing). BENCH_HEARTBEAT_SECONDS
(default 12) of alternating slices: all clients on /healthz, then all on the report, three times.
The figure is healthz requests per second / reports per second: how many times dearer a report
is than the cheapest request the server answers (a fixed query count, no session write).

Run alone: ``BENCH_SCALE=S python -m bench.bench_heartbeat``.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import secrets
import threading
import time

from bench import load
from bench.run import Measure

CLIENTS = 16
TITLE = "bench 微党课 {n}"


def _items(username: str) -> list[int]:
    """One published mine-wide 60-minute video per client, and the member's record opened on each."""
    from django.utils import timezone

    from org.models import Member, Organization, User
    from study.models import Column, LearningRecord, StudyItem, StudyMedia

    now = timezone.now()
    user = User.objects.get(username=username)
    member = Member.objects.get(user=user)
    committee = Organization.objects.filter(kind=Organization.Kind.COMMITTEE).order_by("pk").first()
    column = Column.objects.order_by("pk").first()
    pks = []
    for n in range(CLIENTS):
        item, _created = StudyItem.objects.get_or_create(
            title=TITLE.format(n=n),
            defaults={
                "kind": StudyItem.Kind.VIDEO,
                "column": column,
                "organization": committee,
                "state": StudyItem.State.PUBLISHED,
                "created_by": user,
                "created_at": now,
                "published_at": now,
            },
        )
        StudyMedia.objects.get_or_create(
            item=item,
            defaults={
                "original": "study/bench.mp4",
                "status": StudyMedia.Status.READY,
                "duration_seconds": 3600.0,
                "uploaded_at": now,
            },
        )
        # A fresh record each run, so positions start at 0 and the client clock only grows.
        LearningRecord.objects.filter(item=item, member=member).delete()
        LearningRecord.objects.create(item=item, member=member, opened_at=now - dt.timedelta(hours=1))
        pks.append(item.pk)
    return pks


def _drive(server: load.Server, requests: list, seconds: float) -> int:
    """``CLIENTS`` threads, each sending its own request maker's requests for ``seconds``; answered count."""
    done = [0] * len(requests)
    errors: list[str] = []
    stop = time.monotonic() + seconds

    def client(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        try:
            while time.monotonic() < stop and not errors:
                method, path, body, headers = requests[k]()
                try:
                    conn.request(method, path, body=body, headers=headers)
                    resp = conn.getresponse()
                    resp.read()
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
                    continue
                if resp.status != 200:
                    errors.append(f"{path}: HTTP {resp.status}")
                else:
                    done[k] += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 130)
    if errors:
        raise RuntimeError("; ".join(sorted(set(errors))[:5]))
    return sum(done)


def measure() -> list[Measure]:
    from django.urls import reverse

    seconds = float(os.environ.get("BENCH_HEARTBEAT_SECONDS", "12"))
    users = load.bench_users()
    pks = _items(users.secretary)
    with load.Server() as server:
        session = server.cookie(users.secretary)
        token = secrets.token_hex(16)  # a 32-character CSRF secret, sent as cookie and header alike
        headers = {
            "Host": "127.0.0.1",
            "Cookie": f"{session}; csrftoken={token}",
            "X-CSRFToken": token,
            "Content-Type": "application/json",
        }

        def reporter(pk: int):
            url = reverse("study:heartbeat", args=[pk])
            state = {"position": 0.0}

            def make():
                start = state["position"]
                state["position"] = start + 0.5
                body = json.dumps({"from": start, "to": start + 0.5, "sent_at": time.time() * 1000})
                return "POST", url, body, headers

            return make

        def healthz():
            return "GET", "/healthz", None, {"Host": "127.0.0.1"}

        reporters = [reporter(pk) for pk in pks]
        plain = [healthz] * CLIENTS
        # warm-up: one of each, answered 200 (a bench of refusals means nothing)
        _drive(server, [reporters[0]], 0.5)
        _drive(server, [healthz], 0.5)
        slice_seconds = seconds / 6
        counts = {"healthz": 0, "heartbeat": 0}
        for _ in range(3):
            counts["healthz"] += _drive(server, plain, slice_seconds)
            counts["heartbeat"] += _drive(server, reporters, slice_seconds)
    ratio = counts["healthz"] / max(counts["heartbeat"], 1)
    print(
        f"# load heartbeat: {counts['heartbeat']} reports, {counts['healthz']} healthz in {seconds / 2:.0f} s each",
        flush=True,
    )
    return [Measure("study_heartbeat_vs_healthz", ratio, "x", "<=", 3)]


if __name__ == "__main__":
    import sys

    from bench.run import setup_django

    scale = setup_django()
    from bench import dataset

    dataset.ensure(scale)
    for m in measure():
        print(m.line(), flush=True)
    sys.exit(0)
