"""One ``notify()`` with a dedupe key at 1,000,000 notification rows against at 10,000.

notify() looks up the rows it has just written by ``dedupe_key``; without the index
``bulletin_notif_dedupe`` that look-up scanned the table (11 ms at 18,000 rows, 430 ms at
906,000). The rows are added with one ``executemany`` per batch in a SQLite file of its own (a
child process, like bench_outbox), so the million costs seconds. ``BENCH_NOTIFY_ROWS`` (small,
large) scales it down for a quick look.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.run import Measure

ROOT = Path(__file__).resolve().parent.parent
CHILD = "import sys; sys.path.insert(0, {root!r}); from bench.bench_notify import child; child()"
SMALL, LARGE = 10_000, 1_000_000
SAMPLES = 15


def _grow_to(cursor, user_id: int, total: int, have: int) -> int:
    sql = (
        "INSERT INTO bulletin_notification (channel, recipient_id, subject, body, url, dedupe_key, status,"
        " attempts, next_attempt_at, last_error, created_at, sent_at) "
        "VALUES ('inbox', ?, '会议通知', '', '', ?, 'sent', 1, ?, '', ?, ?)"
    )
    stamp = "2026-01-01 00:00:00"
    while have < total:
        batch = range(have, min(total, have + 50_000))
        cursor.executemany(sql, [(user_id, f"bench:{i}", stamp, stamp, stamp) for i in batch])
        have = batch.stop
    return have


def child() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sanhui.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from bulletin.models import Notification
    from bulletin.services import notify
    from org.models import User

    call_command("migrate", verbosity=0)
    small, large = (int(x) for x in os.environ.get("BENCH_NOTIFY_ROWS", f"{SMALL},{LARGE}").split(","))
    user = User.objects.create(username="bench")

    def one_notify(tag: str) -> float:
        times = []
        for i in range(SAMPLES):
            start = time.perf_counter()
            notify(
                recipients=[user], subject="会议通知", dedupe_key=f"{tag}:{i}", channels=["inbox"], now=timezone.now()
            )
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    with transaction.atomic(), connection.cursor() as cursor:
        have = _grow_to(cursor, user.pk, small, 0)
    connection.cursor().execute("ANALYZE")
    one_notify("warm")  # first calls pay for imports and statement caches
    at_small = one_notify("small")
    with transaction.atomic(), connection.cursor() as cursor:
        _grow_to(cursor, user.pk, large, have)
    connection.cursor().execute("ANALYZE")
    at_large = one_notify("large")
    print(json.dumps({"small": at_small, "large": at_large, "rows": Notification.objects.count()}))


def measure() -> list[Measure]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "SANHUI_VAR_DIR": tmp,
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'notify.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "sanhui.settings",
        }
        env.pop("REDIS_URL", None)
        out = subprocess.run(
            [sys.executable, "-c", CHILD.format(root=str(ROOT))], env=env, check=True, capture_output=True, text=True
        ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    print(
        f"# notify with a dedupe key: {result['small'] * 1000:.2f} ms at the small table, "
        f"{result['large'] * 1000:.2f} ms at {result['rows']} rows"
    )
    return [Measure("notify_growth", result["large"] / result["small"], "x", "<=", 1.5)]


if __name__ == "__main__":
    for m in measure():
        print(m.line())
