"""The demo library's videos and audio: a few seconds each, made by ffmpeg at seed time (no media
file is committed), uploaded and processed through ``study.media`` as a real upload would be.

Called from ``seed_demo_activity`` after the library; does nothing when the demo videos exist, and
skips with a message when ffmpeg is not installed (``make browser-deps`` installs it).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files import File

from org.models import Member, Organization

from . import media, services
from .models import Column, StudyItem

MARKER = "先进党员讲安全：班前会上的五分钟"
SKIPPED_MESSAGE = "未安装 ffmpeg，演示学习视频未生成（sudo apt-get install ffmpeg 后重新运行）。"

# (title, column, kind, lavfi picture, file name, summary)
LESSONS = [
    (MARKER, "微党课", StudyItem.Kind.VIDEO, "testsrc2", "班前会.mp4", "综采一队先进党员讲述班前安全确认的做法。"),
    (
        "警示教育片：违章指挥的代价",
        "警示教育",
        StudyItem.Kind.VIDEO,
        "smptebars",
        "警示教育.webm",  # a WebM: the worker transcodes it to a phone-playable MP4
        "以真实事故为鉴，讲清违章指挥、冒险作业的后果。",
    ),
    (
        "微党课（音频）：入党誓词里的担当",
        "微党课",
        StudyItem.Kind.AUDIO,
        None,
        "入党誓词.mp3",
        "适合井下换班路上收听。",
    ),
]


def _make(path: Path, picture: str | None, seconds: int = 6) -> None:
    tone = ["-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}"]
    if picture is None:
        args = [*tone, str(path)]
    else:
        args = ["-f", "lavfi", "-i", f"{picture}=duration={seconds}:size=640x360:rate=25", *tone]
        if path.suffix == ".webm":
            args += ["-c:v", "libvpx", "-b:v", "400k", "-deadline", "realtime", "-c:a", "libvorbis"]
        else:
            args += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
        args += (
            ["-shortest", "-movflags", "+faststart", str(path)] if path.suffix == ".mp4" else ["-shortest", str(path)]
        )
    run = media.run_tool("ffmpeg", ["-nostdin", "-v", "error", "-y", *args], timeout=120)
    if run.returncode != 0:
        raise RuntimeError(run.stderr.decode(errors="replace")[-500:])


def seed_videos(*, now: dt.datetime) -> tuple[int, str]:
    """Published demo videos and audio; (how many were made, a message when skipped)."""
    if StudyItem.objects.filter(title=MARKER).exists():
        return 0, ""
    if not media.ffmpeg_available():
        return 0, SKIPPED_MESSAGE
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["supervisor", "shuji"])}
    committee = Organization.objects.filter(kind=Organization.Kind.COMMITTEE, parent__isnull=True).first()
    if len(users) < 2 or committee is None:
        return 0, ""
    dept, shuji = users["supervisor"], users["shuji"]
    branch = Organization.objects.branches().filter(posts__member__user=shuji).first()
    lecturer = (
        Member.objects.in_good_standing()
        .filter(memberships__organization=branch)
        .exclude(user=shuji)
        .order_by("id")
        .first()
        if branch
        else None
    )
    columns = {c.name: c for c in Column.objects.all()}
    made = 0
    with tempfile.TemporaryDirectory(prefix="demo-study-") as tmp:
        for n, (title, column, kind, picture, filename, summary) in enumerate(LESSONS):
            if column not in columns:
                continue
            at = now - dt.timedelta(days=6 - 2 * n)
            path = Path(tmp) / f"{n}{Path(filename).suffix}"
            _make(path, picture)
            item = services.item_create(
                user=dept,
                organization=committee,
                now=at,
                kind=kind,
                column=columns[column],
                title=title,
                summary=summary,
                lecturer=lecturer if n == 0 else None,
                lecturer_name="" if n == 0 else "矿党委工作部",
                audience=StudyItem.Audience.MINE,
                credit_hours=None,
            )
            with path.open("rb") as fh:
                attached = media.attach_upload(item=item, upload=File(fh, name=filename), user=dept, now=at)
            # The demo does not wait for a worker: the same processing, right here.
            media.media_process(media_id=attached.pk, now=at)
            item = services.item_submit(item=item, user=dept, now=at + dt.timedelta(minutes=30))
            services.item_publish(item=item, user=dept, now=at + dt.timedelta(hours=1))
            made += 1
    return made, ""
