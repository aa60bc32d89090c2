"""Real media for the study tests, made by ffmpeg in the test (never committed)."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

needs_ffmpeg = pytest.mark.skipif(
    not (shutil.which("ffmpeg") and shutil.which("ffprobe")),
    reason="Debian's ffmpeg is not installed (make browser-deps)",
)


def ffmpeg(*args: str) -> None:
    subprocess.run([shutil.which("ffmpeg"), "-nostdin", "-v", "error", "-y", *args], check=True)


def make_video(
    path: Path, *, seconds: float = 2, size: str = "320x240", codec: str = "h264", audio: bool = True, rate: int = 25
) -> Path:
    """A test-pattern video with a tone: H.264/AAC MP4 (``codec="h264"``), or VP8/Vorbis WebM (``"vp8"``)."""
    inputs = ["-f", "lavfi", "-i", f"testsrc=duration={seconds}:size={size}:rate={rate}"]
    if audio:
        inputs += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    if codec == "h264":
        codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
        codecs += ["-c:a", "aac"] if audio else []
    else:
        codecs = ["-c:v", "libvpx", "-b:v", "200k", "-deadline", "realtime"]
        codecs += ["-c:a", "libvorbis"] if audio else []
    ffmpeg(*inputs, *codecs, "-shortest", str(path))
    return path


def make_audio(path: Path, *, seconds: float = 2) -> Path:
    """A tone in the container ``path``'s suffix says (.mp3, .m4a, .wav, .ogg)."""
    codec = {".m4a": ["-c:a", "aac"], ".ogg": ["-c:a", "libvorbis"]}.get(path.suffix, [])
    ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", *codec, str(path))
    return path


def pad_mp4(data: bytes, size: int) -> bytes:
    """The MP4 grown to exactly ``size`` bytes with a trailing 'free' box (readers skip it)."""
    extra = size - len(data)
    assert extra >= 8
    return data + struct.pack(">I", extra) + b"free" + bytes(extra - 8)


def pdf_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (60, 80), "white").save(buf, "PDF")
    return buf.getvalue()


def office_bytes(main_type: str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"):
    """A minimal .docx-shaped zip whose [Content_Types].xml names ``main_type`` as the main part."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Override PartName="/word/document.xml" ContentType="{main_type}"/></Types>',
        )
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)
