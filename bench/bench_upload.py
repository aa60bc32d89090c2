"""Peak memory of a web worker while a 200 MB video upload streams in.

A child process is the web worker: Django's WSGI application behind the standard library's
WSGI server, on its own SQLite file and var folder (so the mine data set is left alone).
This process sends it, over a real loopback socket, a multipart POST to the evidence
upload view with a generated 200 MB MP4 (ftyp, moov with mvhd, and a 200 MB mdat) that it
streams from a temporary file, and a small upload first so that every module is loaded.
The child measures itself: RSS high-water mark (``VmHWM``, reset through
``/proc/self/clear_refs`` after the warm-up) during the big request minus RSS before it.

Run alone with ``.venv/bin/python bench/bench_upload.py``.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import secrets
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import Measure  # noqa: E402

SIZE_MB = 200
CHUNK = 1024 * 1024
CHILD = "import sys; sys.path.insert(0, {root!r}); from bench.bench_upload import serve_child; serve_child()"


# --- The file --------------------------------------------------------------------------------


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4_head(seconds: int, media_bytes: int) -> bytes:
    """ftyp, moov/mvhd and the header of an mdat box of ``media_bytes`` (the media follows)."""
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41")
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _box(
        b"mvhd",
        struct.pack(">IIIII", 0, 0, 0, 1000, seconds * 1000)
        + struct.pack(">IH", 0x10000, 0x100)
        + b"\x00" * 10
        + matrix
        + b"\x00" * 24
        + struct.pack(">I", 2),
    )
    return ftyp + _box(b"moov", mvhd) + struct.pack(">I", 8 + media_bytes) + b"mdat"


def write_mp4(path: Path, megabytes: int) -> int:
    media = megabytes * CHUNK - 1024
    block = os.urandom(CHUNK)
    with path.open("wb") as f:
        f.write(mp4_head(600, media))
        left = media
        while left:
            n = min(left, CHUNK)
            f.write(block[:n])
            left -= n
    return path.stat().st_size


# --- The web worker (child) ------------------------------------------------------------------


def _kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def serve_child() -> None:
    """Set up a meeting and a signed-in secretary, then serve two requests: the warm-up and the measured one."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sanhui.settings")
    import django

    django.setup()
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from meetings.models import Meeting
    from org.models import Organization, User
    from supervision.models import Evidence, SupervisionPolicy

    call_command("migrate", verbosity=0)
    policy = SupervisionPolicy.current()
    policy.video_max_mb = max(policy.video_max_mb, SIZE_MB + 10)
    policy.save()
    branch = Organization.objects.create(name="综采一队党支部", kind=Organization.Kind.BRANCH)
    now = timezone.now()
    meeting = Meeting.objects.create(
        branch=branch,
        topic="上传测试",
        planned_start=now,
        planned_end=now + dt.timedelta(hours=1),
        place="会议室",
        status=Meeting.Status.HELD,
    )
    user = User.objects.create_superuser("bench-upload", "bench@example.cn", secrets.token_hex(8))
    client = Client()
    client.force_login(user)

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    from sanhui.wsgi import application

    server = make_server("127.0.0.1", 0, application, handler_class=Quiet)
    print(
        json.dumps(
            {
                "port": server.server_port,
                "session": client.cookies["sessionid"].value,
                "path": reverse("supervision:evidence_upload", args=[meeting.pk]),
            }
        ),
        flush=True,
    )
    server.handle_request()  # warm-up
    before = _kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := current RSS (Linux >= 4.0)
    server.handle_request()
    peak = _kib("VmHWM")
    big = Evidence.objects.order_by("-size").values_list("size", flat=True).first()
    print(json.dumps({"mib": (peak - before) / 1024, "stored_bytes": big}), flush=True)


# --- The client (this process) ---------------------------------------------------------------


def post_file(port: int, path: str, session: str, file: Path, *, category: str) -> int:
    """A multipart POST whose body is streamed from ``file`` in 1 MiB pieces, with its Content-Length."""
    token = secrets.token_hex(16)  # a 32-character CSRF secret, sent as cookie and field alike
    boundary = f"----bench{secrets.token_hex(8)}"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="category"\r\n\r\n{category}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{file.name}"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + file.stat().st_size + len(tail)

    def body():
        yield head
        with file.open("rb") as f:
            while piece := f.read(CHUNK):
                yield piece
        yield tail

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request(
        "POST",
        path,
        body=body(),
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(length),
            "Cookie": f"sessionid={session}; csrftoken={token}",
        },
    )
    status = conn.getresponse().status
    conn.close()
    return status


def measure() -> list[Measure]:
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        tmp = Path(tmp)
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp / 'upload.sqlite3'}",
            "SANHUI_VAR_DIR": str(tmp / "var"),
            "DJANGO_DEBUG": "false",
        }
        env.pop("REDIS_URL", None)
        small, big = tmp / "warm-up.mp4", tmp / "meeting-200mb.mp4"
        write_mp4(small, 3)  # over FILE_UPLOAD_MAX_MEMORY_SIZE: the same temporary-file path as the big one
        size = write_mp4(big, SIZE_MB)
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD.format(root=str(ROOT))],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            line = child.stdout.readline()
            if not line:
                raise RuntimeError("the web worker child did not start (see its traceback above)")
            ready = json.loads(line)
            warm = post_file(ready["port"], ready["path"], ready["session"], small, category="video")
            status = post_file(ready["port"], ready["path"], ready["session"], big, category="video")
            result = json.loads(child.stdout.readline())
        finally:
            child.stdout.close()
            child.wait(timeout=60)
    assert warm == status == 302, f"uploads answered {warm} and {status}, expected redirects"
    assert result["stored_bytes"] == size, "the 200 MB video must have been stored"
    print(
        f"# upload of a {size / CHUNK:.0f} MiB MP4 through the evidence view: "
        f"web worker RSS high-water growth {result['mib']:.1f} MiB",
        flush=True,
    )
    return [Measure("upload_200mb_rss_growth", round(result["mib"], 1), "MiB", "<", 30)]


if __name__ == "__main__":
    for m in measure():
        print(m.line())
