"""Memory of a web worker while it serves a 200 MB study video in HTTP Range requests.

gunicorn (``bench.load.Server``, one sync worker, DEBUG off) serves a published 微党课 whose
playable file is a 200 MB MP4: a few seconds of ffmpeg's test pattern padded with a trailing
'free' box (or, without ffmpeg, the synthetic MP4 of bench_upload). After a warm-up request,
the worker's RSS high-water mark is reset (``/proc/<pid>/clear_refs``) and the client reads the
whole file three ways through the permission-checked view: 2 MiB ranges front to back (a
phone's player), open-ended ranges from a few seeks to the end (``bytes=N-``), and one plain
200 GET. ``video_range_rss_growth`` is ``VmHWM`` after minus ``VmRSS`` before, read from /proc.

Run alone with ``.venv/bin/python bench/bench_video.py`` (BENCH_SCALE as for ``make bench``).
"""

from __future__ import annotations

import http.client
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import Measure  # noqa: E402

SIZE_MB = int(os.environ.get("BENCH_VIDEO_MB", "200"))
CHUNK = 1024 * 1024
RANGE_BYTES = 2 * CHUNK
USERNAME = "bench-video"
NAME = "study/bench/bench-video.mp4"


def write_video(path: Path, megabytes: int) -> int:
    """A real short MP4 made by ffmpeg, grown to ``megabytes`` MiB with a trailing 'free' box."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        from bench.bench_upload import write_mp4

        return write_mp4(path, megabytes)
    short = path.with_suffix(".short.mp4")
    subprocess.run(
        [ffmpeg, "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=5:size=320x240:rate=25",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(short)],
        check=True,
    )  # fmt: skip
    target = megabytes * CHUNK
    with path.open("wb") as out, short.open("rb") as src:
        shutil.copyfileobj(src, out)
        extra = target - out.tell()
        out.write(struct.pack(">I", extra) + b"free")
        block = bytes(CHUNK)
        left = extra - 8
        while left:
            n = min(left, CHUNK)
            out.write(block[:n])
            left -= n
    short.unlink()
    return path.stat().st_size


def _setup(size: int):
    """A mine-wide published video item with its 200 MB file, and a 党委工作部 login: (item pk, username)."""
    from django.utils import timezone

    from org.models import Organization, StaffRole, User
    from study.models import Column, StudyItem, StudyMedia

    committee = Organization.objects.filter(kind=Organization.Kind.COMMITTEE).order_by("pk").first()
    if committee is None:
        committee = Organization.objects.create(name="基准测试矿党委", kind=Organization.Kind.COMMITTEE)
    user, _ = User.objects.get_or_create(username=USERNAME, defaults={"email": "video@bench.cn"})
    StaffRole.objects.get_or_create(user=user, organization=committee, role=StaffRole.Role.WORK_DEPT)
    column, _ = Column.objects.get_or_create(name="微党课")
    now = timezone.now()
    item, _ = StudyItem.objects.update_or_create(
        title="基准测试：200 MB 微党课",
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
    StudyMedia.objects.update_or_create(
        item=item,
        defaults={
            "original": NAME,
            "playable": NAME,
            "original_name": "bench.mp4",
            "content_type": "video/mp4",
            "size": size,
            "playable_size": size,
            "status": StudyMedia.Status.READY,
            "uploaded_at": now,
        },
    )
    return item.pk


def _worker_pid(master: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                    return int(entry.name)
        time.sleep(0.1)
    raise RuntimeError("no gunicorn worker found")


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def _get(conn: http.client.HTTPConnection, path: str, cookie: str, byte_range: str | None) -> tuple[int, int]:
    """(status, bytes received), reading the body in pieces."""
    headers = {"Host": "127.0.0.1", "Cookie": cookie}
    if byte_range:
        headers["Range"] = byte_range
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    received = 0
    while piece := resp.read(CHUNK):
        received += len(piece)
    return resp.status, received


def measure() -> list[Measure]:
    if "django" not in sys.modules or not _django_ready():
        from bench.run import setup_django

        setup_django()
    from django.urls import reverse

    from bench import load
    from supervision.models import evidence_storage

    storage = evidence_storage()
    with tempfile.TemporaryDirectory(prefix="bench-video-", dir=os.environ.get("TMPDIR")) as tmp:
        source = Path(tmp) / "video.mp4"
        size = write_video(source, SIZE_MB)
        if storage.exists(NAME):
            storage.delete(NAME)
        with source.open("rb") as fh:
            stored = storage.save(NAME, fh)
        assert stored == NAME, stored
    try:
        pk = _setup(size)
        path = reverse("study:media_file", args=[pk, "play"])
        with load.Server(workers=1) as server:
            cookie = server.cookie(USERNAME)
            worker = _worker_pid(server.proc.pid)
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
            status, _ = _get(conn, path, cookie, "bytes=0-1023")  # warm-up: imports, session, query cache
            assert status == 206, f"warm-up answered {status}"
            before = _kib(worker, "VmRSS")
            Path(f"/proc/{worker}/clear_refs").write_text("5")  # VmHWM := current RSS (Linux >= 4.0)
            total = 0
            for start in range(0, size, RANGE_BYTES):
                status, got = _get(conn, path, cookie, f"bytes={start}-{min(start + RANGE_BYTES, size) - 1}")
                assert status == 206, f"range from {start} answered {status}"
                total += got
            for start in (0, size // 3, size // 2, size - CHUNK):
                status, got = _get(conn, path, cookie, f"bytes={start}-")
                assert status == 206 and got == size - start, (status, got)
                total += got
            status, got = _get(conn, path, cookie, None)
            assert status == 200 and got == size, (status, got)
            total += got
            conn.close()
            growth = (_kib(worker, "VmHWM") - before) / 1024
    finally:
        storage.delete(NAME)
    print(
        f"# {total / CHUNK:.0f} MiB of a {size / CHUNK:.0f} MiB video served in Range requests by one gunicorn "
        f"worker: RSS high-water growth {growth:.1f} MiB",
        flush=True,
    )
    return [Measure("video_range_rss_growth", round(growth, 1), "MiB", "<", 20)]


def _django_ready() -> bool:
    from django.apps import apps

    return apps.ready


if __name__ == "__main__":
    for m in measure():
        print(m.line())
