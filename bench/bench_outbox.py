"""How fast one outbox sweep delivers on the embedded default (SQLite), against how fast rows arrive.

A child process gets a SQLite file and var folder of its own (the mine data set is left
alone) and the in-memory e-mail backend, writes ROWS due rows (half inbox, half e-mail),
and runs ``bulletin.tasks.sweep_outbox`` once, as beat does every OUTBOX_SWEEP_SECONDS.
It prints the rows one run delivered, the rows left pending, and the delivery rate; the
goal is that a single run drains the backlog (nothing pending) at well over the rate the
4 × 200 mixed-request audit produced rows (~20 rows/s at its peak).

Run alone with ``.venv/bin/python bench/bench_outbox.py`` (ROWS=4000 by default).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import Measure  # noqa: E402

ROWS = int(os.environ.get("ROWS", "4000"))
CHILD = "import sys; sys.path.insert(0, {root!r}); from bench.bench_outbox import child; child()"


def child() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("migrate", verbosity=0)
    from bulletin import tasks
    from bulletin.models import Notification
    from org.models import User

    user = User.objects.create(username="bench", email="bench@example.cn")
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(
            channel=Notification.Channel.INBOX if i % 2 else Notification.Channel.EMAIL,
            recipient=user,
            subject=f"通知 {i}",
            body="请按时参加学习。",
            next_attempt_at=now,
            created_at=now,
        )
        for i in range(ROWS)
    )
    started = time.perf_counter()
    sent = tasks.sweep_outbox()
    elapsed = time.perf_counter() - started
    pending = Notification.objects.exclude(status=Notification.Status.SENT).count()
    print(json.dumps({"sent": sent, "pending": pending, "seconds": elapsed}))


def measure() -> list[Measure]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "SANHUI_VAR_DIR": tmp,
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'outbox.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "sanhui.settings",
        }
        env.pop("REDIS_URL", None)
        out = subprocess.run(
            [sys.executable, "-c", CHILD.format(root=str(ROOT))],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return [
        Measure("outbox_sweep_rows_per_run", result["sent"], "rows", ">=", ROWS),
        Measure("outbox_pending_after_one_sweep", result["pending"], "rows", "=", 0),
        Measure("outbox_sweep_rate", result["sent"] / result["seconds"], "rows/s", ">=", 100),
    ]


if __name__ == "__main__":
    for m in measure():
        print(m.line())
