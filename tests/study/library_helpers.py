"""Shared pieces of the library tests: a private media folder, real files made in the test."""

import io
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


@pytest.fixture
def evidence_dir(settings, tmp_path):
    """Each test stores its study and evidence files under its own temporary folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence"), "base_url": None},
        },
    }
    return tmp_path / "evidence"


def pdf_upload(name="学习材料.pdf") -> SimpleUploadedFile:
    """A real one-page PDF written by Pillow."""
    out = io.BytesIO()
    Image.new("RGB", (200, 280), "white").save(out, format="PDF")
    return SimpleUploadedFile(name, out.getvalue(), content_type="application/pdf")


def mp4_bytes(tmp_path, *, seconds=2) -> bytes:
    """A real H.264/AAC MP4 made by ffmpeg."""
    out = tmp_path / "lesson.mp4"
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc=size=160x120:rate=10:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(out),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return out.read_bytes()
