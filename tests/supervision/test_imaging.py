"""supervision.imaging on real files: the sample camera photos, and images, videos and PDFs built here."""

import base64
import datetime as dt
import io
import itertools
import struct
import time
import zlib

import pytest
from PIL import ExifTags, Image, ImageOps

from supervision.imaging import (
    PhotoSummary,
    Sniffed,
    UploadRejected,
    VideoInfo,
    check_upload,
    hamming,
    photo_clean_copy,
    photo_summary,
    probe_video,
    sniff,
    video_clean_copy,
)
from supervision.models import SupervisionPolicy
from tests.supervision.conftest import GPS_PHOTOS, SAMPLES
from tests.supervision.pdfs import minimal_pdf

MAX_PIXELS = 60_000_000
THRESHOLD = SupervisionPolicy._meta.get_field("photo_hash_max_distance").default  # 10
LOCATION = b"+31.2304+121.4737/"


# --- Files built here ---------------------------------------------------------------------


def sample(name: str):
    return open(SAMPLES / name, "rb")


def image_file(im: Image.Image, fmt: str, **options) -> io.BytesIO:
    out = io.BytesIO()
    im.save(out, fmt, **options)
    out.seek(0)
    return out


def gradient(size=(64, 48), mode="RGB") -> Image.Image:
    im = Image.linear_gradient("L").resize(size).convert(mode)
    if mode == "RGBA":
        im.putalpha(Image.linear_gradient("L").resize(size).rotate(90))
    return im


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of width x height, a few kilobytes: all zeros, compressed row by row."""
    row = bytes(1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
    )


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mvhd(*, timescale: int, duration: int, version: int = 0) -> bytes:
    if version == 1:
        body = b"\x01\x00\x00\x00" + bytes(16) + struct.pack(">IQ", timescale, duration)
    else:
        body = b"\x00\x00\x00\x00" + bytes(8) + struct.pack(">II", timescale, duration)
    return box(b"mvhd", body + bytes(80))


def xyz(text: bytes) -> bytes:
    return box(b"\xa9xyz", struct.pack(">HH", len(text), 0x15C7) + text)


def mp4(*, brand=b"isom", moov_children=(), mdat=b"\x00\x01\x02frames", timescale=1000, duration=12_345, version=0):
    ftyp = box(b"ftyp", brand + b"\x00\x00\x02\x00" + b"isom" + b"mp41")
    moov = box(b"moov", mvhd(timescale=timescale, duration=duration, version=version) + b"".join(moov_children))
    return ftyp + moov + box(b"mdat", mdat)


def ebml(element_id: bytes, payload: bytes, *, unknown_size: bool = False) -> bytes:
    size = b"\x01\xff\xff\xff\xff\xff\xff\xff" if unknown_size else b"\x01" + len(payload).to_bytes(7, "big")
    return element_id + size + payload


def webm(*, duration: float | None = 4567.0, scale: int = 1_000_000, unknown_size: bool = False) -> bytes:
    header = ebml(b"\x1a\x45\xdf\xa3", ebml(b"\x42\x86", b"\x01") + ebml(b"\x42\x82", b"webm"))
    info = ebml(b"\x2a\xd7\xb1", scale.to_bytes(4, "big"))
    if duration is not None:
        info += ebml(b"\x44\x89", struct.pack(">d", duration))
    cluster = ebml(b"\x1f\x43\xb6\x75", ebml(b"\xe7", b"\x00"))
    return header + ebml(b"\x18\x53\x80\x67", ebml(b"\x15\x49\xa9\x66", info) + cluster, unknown_size=unknown_size)


PDF = minimal_pdf()


def _unpack(text: str) -> bytes:
    return zlib.decompress(base64.b64decode(text))


# Written by ffmpeg 5.1 (a real muxer, not this file's idea of the format): 0.4 s of a 16x16 red picture.
# -f mov -metadata location=+31.2304+121.4737/  (udta/\xa9xyz)
# -f mov -movflags use_metadata_tags -metadata com.apple.quicktime.location.ISO6709=...  (meta/keys + ilst, as iPhones)
# -c:v libvpx to WebM (Segment/Info/Duration)
FFMPEG_MOV_XYZ = _unpack(
    "eNp9VM9vHDUU9iYNSmkkQptKOUTIKhFCarI7M7tJ00iDWkLLHqiohOgJafDansx0PT/W9v4Kh/bQA+KAEEIcOCFu/AWckHrgwIkzRVwQEoIL"
    "qBeuy+fJht2mVT1j+73n733Pfs8zhJC12I7LnqWUkAVyPJPlYSok9HuZYBbzey8sTSbv/nrjr+//eNT+7sutn+mjV//+ZxTstug25YWW1Ieo"
    "m97VHdphUrY8DwvtOgCNW7dvvL3dotfvHAApJMfCQVGOlYwtDTyvuR14QQBjYm2532gMh8P6ANELxfJ6oQ8bLko9sZkCpihtWuRmn3LWYTz0"
    "qJZx6FMhO6rg3dDbx0NZztTYSKfRTIYiZdT0O5A8Wpox4BgjLUK/7gGCgWbpSIrIcTmPSLP8UIb+LuWJLjIWwdWnVkulUgPE3mhPcAuB9zKM"
    "QjJxVOQyDPwt36cxMzYqTTct4TQl6JVREcdGOiebaDgYLKqi6LIESjSzGZVyOTN4NNdVCJ5mzLptpLmVWjGAYO+ovmbjiBdZyaoNITdWszQH"
    "BYCaOUysWSYd1VCmh4ktIXXlGMthsHMiRlmahzvUcJlL3ndUlbtLiZYmcYnmIdcxzTrIg8sklDBo1j3ac9FDr74LsXQ01cxG4e5VCMbKMmzR"
    "tERSUTrkvIUC9UKP3Mc1uyA/frD/8idkYf3xQ3Lt3z2yPP4Q5qXrX9E3viBkcSkrigEMKhskgjzRFv8kpPYZqRH3zlrtSdRp/Rp5blvA28W5"
    "u5A/sN0q5uLTbIhLnh/nmXFXp52QTSmswbwhlbEzjylv5Vv7PcPFhUAzcfrsr1dE9yaVsp0IpZ2QJUoPqs921lbuuC+pzXKhJEC1T1GgGPa1"
    "QVaRzm9z64RIgKivFZ0nOvcWs+x/HrIpjnk2BG7I3JFXpn7uMJeM7SjI3xhrxBzmczbg/nyabt68dbvKveureNoQ2yeIlXeApyrtuP/As4q2"
    "PnGJ2ALqoPbmwxcnv5GLh5h/+ai26qpXDV8/vnS3Rs4kP730o8tdyUw5je76urFVOU52hG0sO3kNO5+3u74BGz9lW5hbOzp1nXLMZ4+5eDHn"
    "t4n+Wl9YV+JXvh2Nj8j593+43PTrQdNrXfYDfChXmlca/wE52Dkc"
)
FFMPEG_MOV_APPLE_KEYS = _unpack(
    "eNp9VEFvHDUU9iYtSmkkgkilHHIwJQdENrOe2c0mWTGoJbQsElUrVeoJafDansyw9sys7d3NlkM59FD1gBBCHDghOPIDOCH1yIkzRVwQEoIL"
    "qBeuy/NkNzsNVT1j+/n5e9+z37ONEFqP7aQYWIwRWkInPVoZp1zA+J7i1EJ/+4Xz0+nNX6/99cMfj7vff1n/GT9+7e9/joN2C+9glmuBfRB1"
    "kxzs4h4VokUITHQ9ADRu3Lr27k4LX71zCEguGEwc5sVEitjigJDmTkCCAJSJtUWn0RiPx94IvOeSZl6ujxrOi5dYJQGTFzbNM9PBjPYoCwnW"
    "Ig59zEVP5qwfkg58mGZUToxwI6xEyFOKzbAHEsGFmQAc2kjz0PcIQKDBKj0WPHJcziLSNDsSod/GLNG5ohGY+thqIWVqALF/vM+ZBYENFLRc"
    "UH43z0QY+HXfxzE1NipMPy3AaEYwKKI8jo1wRjbRYGBgUuZ5nyYwiBY6I1MmFgqCM126YKmi1i0jzazQkgII9D051HQSsVwVtFwQxMZqmmZA"
    "AUBNHSbWVAlHNRbpUWILkPpiAtNhsDsXI5Vm4S42TGSCDR1Vae5CooVJXKBZyHSMVQ/i4CIJgzBoegQPnPeQeG0QC0dT9vQ4bB+AYKwowhZO"
    "CwgqpA5i3oIEDUKCPoFj9op4cL/z8kO0tPHkEbry7z5amXwI6vNXv8JvfYHQ8kOV5yNQSDVKOHqqLP+JUO0zVEPuX5Ta06iz4yvouWUJ/j7s"
    "uw/yB7Zf+lz+Pxv4Rc/380y/a7OK0Jbg1kC/KaSxC4sZb2lb+13BwQUBK35276+XRPem5WAn4VI7QSVSj8pruyird9xN6tKMSwGg2qeQoBj0"
    "6yNVklaXWZ8TcSAaaomrRBffoZae8qAtfsKzyeGEVLa8OrNzm7lsbE+C/I2xhlcwn9MR86thun79xq0y9q6uwdcFsTtHrL4PeCzTnnsHnpW0"
    "jakLRB1Qh7W3H704/Q1dOoL+l49ray57ZfP1k8sf1dC55KeXfnSxK6gpZt5d3TC2TMd8RbCMFSevw8qrelc3QcfO6JYqc3fPHKcM+gsnXCyv"
    "2G1B/W7IrUvxt0qUvSuvzrNQppSf6k/Lm3Bjq4uqOxDcQY8WhRTeYJiyvk2V8OBFdFcu8967fbO9Rw4A20lPzlsws30DXnc6T8N20/eCJmlt"
    "+wHc0r3m3jYhu/A6ksZ/1QZSqg=="
)
FFMPEG_WEBM = _unpack(
    "eNqTcr2/eL5TWyOj03cg/tTI4vS5kcOpqaU8NSnXqb2Ryam1kUkiuCGdkQEEGK8J+s4u2eW7uzt4dYuo58q04DWNCyE8sZB12UDeMd/dPUCe"
    "UMjh9OA1TYw8EK5M8O5sEPfAG4g5DJEMtAIgVy3Qur6xmd/JwbehxSexLC3cEUy5dHY4VEIUgRx7cB3ULRbXGxmLj3ZA9TPOaWRQ2jqnuTQv"
    "paORoa01LD4swKK5kVH5cXML9+tDDA86NzQK7GoUmNXIBPLkxeLic8kHupMR+tNPzHBd3O7q5+zv4hrk0t4NtDpZISczqaygIv3EItfFHS6h"
    "QY4hnv5+Lu1TDAyswEjPxAAKGBjknbeV3nzeyLB4byMDQ8MHJoa5jFoCDAIMDO4cra0drS0dTExMpauYfzD/YuL1lWD49zfv8//HM80Njvzv"
    "y/3/MdGGT+PE/4+BDIunNjKcYNjIyMAqsIZBgkEiQv8LAwcDAygmJu7u39zIsL0LGOMfmxiTPjQyAwDnC54b"
)


class CountingFile(io.BytesIO):
    """A file that remembers the largest single read, to show that nothing reads a file whole."""

    largest_read = 0
    total_read = 0

    def read(self, n=-1):
        data = super().read(n)
        self.largest_read = max(self.largest_read, len(data))
        self.total_read += len(data)
        return data


def rejected(fileobj, category="photo", max_pixels=MAX_PIXELS) -> str:
    with pytest.raises(UploadRejected) as exc_info:
        check_upload(fileobj, category=category, max_pixels=max_pixels)
    assert fileobj.tell() == 0
    return exc_info.value.message


# --- Sniffing -----------------------------------------------------------------------------


def test_sniff_tells_each_accepted_type_by_its_magic_bytes():
    with sample("Canon_40D.jpg") as f:
        assert sniff(f.read(1024)) == Sniffed("image", "image/jpeg", ".jpg")
    assert sniff(image_file(gradient(), "PNG").read()) == Sniffed("image", "image/png", ".png")
    assert sniff(image_file(gradient(), "WEBP").read()) == Sniffed("image", "image/webp", ".webp")
    assert sniff(mp4()) == Sniffed("video", "video/mp4", ".mp4")
    assert sniff(mp4(brand=b"qt  ")) == Sniffed("video", "video/quicktime", ".mov")
    assert sniff(webm()) == Sniffed("video", "video/webm", ".webm")
    assert sniff(PDF) == Sniffed("pdf", "application/pdf", ".pdf")


def test_sniff_recognises_nothing_in_text_audio_heic_or_gif():
    assert sniff(b"<html><script>alert(1)</script></html>") is None
    assert sniff(b"") is None
    assert sniff(mp4(brand=b"M4A ")) is None  # audio in an MP4 container
    assert sniff(box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic")) is None
    assert sniff(image_file(gradient(), "GIF").read()) is None


# --- Upload checks ------------------------------------------------------------------------


def test_a_file_named_jpg_that_holds_text_is_rejected_because_content_decides(tmp_path):
    path = tmp_path / "会议照片.jpg"
    path.write_text("这不是图片，只是一段文字。\n" * 50, encoding="utf-8")
    with open(path, "rb") as f:
        message = rejected(f)
    assert "文件内容不是可接受的格式" in message
    assert "图片（JPEG、PNG、WebP）" in message


def test_a_photo_named_txt_is_accepted_because_content_decides(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes((SAMPLES / "gps_DSCN0010.jpg").read_bytes())
    with open(path, "rb") as f:
        assert check_upload(f, category="photo", max_pixels=MAX_PIXELS).content_type == "image/jpeg"
        assert f.tell() == 0


@pytest.mark.parametrize("name", [p.name for p in GPS_PHOTOS] + ["Canon_40D.jpg", "mobile_jolla.jpg"])
def test_camera_photos_pass_the_upload_check(name):
    with sample(name) as f:
        assert check_upload(f, category="photo", max_pixels=MAX_PIXELS).extension == ".jpg"
        assert f.tell() == 0


def test_a_pixel_bomb_png_is_rejected_in_well_under_a_second(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb_png(20_000, 20_000))
    assert path.stat().st_size < 100_000
    with open(path, "rb") as f:
        started = time.perf_counter()
        message = rejected(f)
        assert time.perf_counter() - started < 1
        with pytest.raises(UploadRejected):
            photo_summary(f, max_pixels=MAX_PIXELS)
        with pytest.raises(UploadRejected):
            photo_clean_copy(f, max_pixels=MAX_PIXELS)
    assert "像素" in message


@pytest.mark.parametrize(
    "size",
    [
        (10_000, 10_000),  # above Pillow's warning limit (89 MP), below its error
        (8_000, 8_000),  # below Pillow's limits, above the policy's 60 MP
    ],
)
def test_images_over_the_pixel_limit_are_rejected_with_their_size(size):
    message = rejected(io.BytesIO(bomb_png(*size)))
    assert f"{size[0]}×{size[1]}" in message
    assert "60 百万像素" in message


def test_the_pixel_limit_is_the_policy_s_not_pillow_s():
    assert check_upload(io.BytesIO(bomb_png(3_000, 2_000)), category="photo", max_pixels=6_000_000)
    assert "3000×2000" in rejected(io.BytesIO(bomb_png(3_000, 2_000)), max_pixels=5_999_999)


def test_the_damaged_jpeg_is_rejected_with_a_clear_message():
    # corrupted.jpg: 16 KiB of 0xFF in its entropy-coded data; Pillow decodes it without complaint.
    with sample("corrupted.jpg") as f:
        assert "已损坏或不完整" in rejected(f)


def test_a_truncated_jpeg_is_rejected():
    data = (SAMPLES / "gps_DSCN0010.jpg").read_bytes()
    assert "已损坏或不完整" in rejected(io.BytesIO(data[: len(data) // 2]))


@pytest.mark.parametrize("options", [{"restart_marker_blocks": 3}, {"restart_marker_blocks": 5, "progressive": True}])
def test_jpeg_data_lost_between_restart_markers_is_rejected(options):
    data = image_file(Image.effect_noise((333, 211), 60).convert("RGB"), "JPEG", quality=90, **options).getvalue()
    assert check_upload(io.BytesIO(data), category="photo", max_pixels=MAX_PIXELS)
    # Cut and closed with EOI: Pillow would decode this without an error, grey where data is missing.
    cut = data[: len(data) * 2 // 3] + b"\xff\xd9"
    with Image.open(io.BytesIO(cut)) as im:
        im.load()
    assert "已损坏或不完整" in rejected(io.BytesIO(cut))
    swapped = bytearray(data)
    first = swapped.index(b"\xff\xd0")
    swapped[first + 1] = 0xD3
    assert "已损坏或不完整" in rejected(io.BytesIO(bytes(swapped)))


def test_the_xmp_only_sample_is_a_valid_jpeg_and_is_accepted_without_a_capture_time():
    # invalid_image00971.jpg is "invalid" only to EXIF readers: APP1 holds XMP, not EXIF; libjpeg decodes it cleanly.
    with sample("invalid_image00971.jpg") as f:
        assert check_upload(f, category="photo", max_pixels=MAX_PIXELS).extension == ".jpg"
        summary = photo_summary(f, max_pixels=MAX_PIXELS)
    assert (summary.width, summary.height, summary.captured_at, summary.camera) == (636, 227, None, "")


def test_a_png_with_html_appended_is_accepted_and_its_clean_copy_ends_at_iend():
    payload = b"<html><script>alert(document.cookie)</script></html>"
    f = io.BytesIO(image_file(gradient(mode="RGBA"), "PNG").getvalue() + payload)
    assert check_upload(f, category="photo", max_pixels=MAX_PIXELS).extension == ".png"
    clean = photo_clean_copy(f, max_pixels=MAX_PIXELS)
    assert clean.startswith(b"\x89PNG") and clean.endswith(png_chunk(b"IEND", b""))
    assert b"<html" not in clean and b"<script" not in clean
    with Image.open(io.BytesIO(clean)) as im:
        assert im.mode == "RGBA"  # transparency kept, so the copy stays a PNG


def test_an_opaque_png_with_html_appended_becomes_a_jpeg_without_it():
    f = io.BytesIO(image_file(gradient(), "PNG").getvalue() + b"<html><script>x</script>")
    clean = photo_clean_copy(f, max_pixels=MAX_PIXELS)
    assert clean.startswith(b"\xff\xd8") and b"<script" not in clean


def test_a_png_whose_compressed_data_is_damaged_is_rejected():
    data = bytearray(image_file(gradient((300, 200)), "PNG").getvalue())
    idat = data.index(b"IDAT")
    data[idat + 40] ^= 0xFF
    assert "已损坏或不完整" in rejected(io.BytesIO(bytes(data)))
    # The same damage with a recomputed CRC: the zlib stream itself no longer inflates to the image.
    length = struct.unpack(">I", data[idat - 4 : idat])[0]
    data[idat + 4 + length : idat + 8 + length] = struct.pack(">I", zlib.crc32(bytes(data[idat : idat + 4 + length])))
    assert "已损坏或不完整" in rejected(io.BytesIO(bytes(data)))


def test_an_interlaced_png_passes_the_stream_check():
    # Pillow cannot write Adam7, so the seven passes are laid out here: unfiltered rows of each sub-image.
    im = Image.effect_noise((13, 7), 60).convert("RGB")
    passes = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
    raw = b"".join(
        b"\x00" + b"".join(bytes(im.getpixel((x, y))) for x in range(x0, 13, dx))
        for x0, y0, dx, dy in passes
        if x0 < 13
        for y in range(y0, 7, dy)
    )
    data = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 13, 7, 8, 2, 0, 0, 1))
        + png_chunk(b"IDAT", zlib.compress(raw))
        + png_chunk(b"IEND", b"")
    )
    with Image.open(io.BytesIO(data)) as decoded:
        assert decoded.convert("RGB").tobytes() == im.tobytes()
    assert check_upload(io.BytesIO(data), category="photo", max_pixels=MAX_PIXELS).extension == ".png"
    short = data.replace(png_chunk(b"IDAT", zlib.compress(raw)), png_chunk(b"IDAT", zlib.compress(raw[:-3])))
    assert "已损坏或不完整" in rejected(io.BytesIO(short))


def test_a_png_without_iend_is_rejected():
    data = image_file(gradient(), "PNG").getvalue()
    assert "已损坏或不完整" in rejected(io.BytesIO(data[:-12]))


def test_webp_is_accepted_and_its_clean_copy_is_a_jpeg_or_a_png_with_transparency():
    opaque = image_file(gradient(), "WEBP")
    assert check_upload(opaque, category="signin", max_pixels=MAX_PIXELS).extension == ".webp"
    assert photo_clean_copy(opaque, max_pixels=MAX_PIXELS).startswith(b"\xff\xd8")
    transparent = image_file(gradient(mode="RGBA"), "WEBP", lossless=True)
    assert photo_clean_copy(transparent, max_pixels=MAX_PIXELS).startswith(b"\x89PNG")


def test_heic_photos_are_refused_with_advice():
    heic = box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic") + box(b"meta", bytes(64))
    assert "HEIC" in rejected(io.BytesIO(heic))


def test_each_category_takes_only_its_kinds():
    with sample("Canon_40D.jpg") as photo:
        assert "只接受视频" in rejected(photo, category="video")
        assert check_upload(photo, category="other", max_pixels=MAX_PIXELS).kind == "image"
    assert "只接受图片" in rejected(io.BytesIO(mp4()), category="photo")
    assert "只接受图片（JPEG、PNG、WebP）或PDF 文档" in rejected(io.BytesIO(mp4()), category="signin")
    assert check_upload(io.BytesIO(mp4()), category="other", max_pixels=MAX_PIXELS).kind == "video"


def test_a_pdf_is_accepted_for_a_minutes_scan_and_rejected_for_a_photo():
    assert check_upload(io.BytesIO(PDF), category="minutes_scan", max_pixels=MAX_PIXELS).kind == "pdf"
    assert check_upload(io.BytesIO(PDF), category="signin", max_pixels=MAX_PIXELS).kind == "pdf"
    message = rejected(io.BytesIO(PDF), category="photo")
    assert "只接受图片" in message and "PDF 文档" in message


def test_a_pdf_cut_short_is_rejected():
    assert "PDF 文件不完整" in rejected(io.BytesIO(PDF[:-7] + b"x" * 2000), category="minutes_scan")


def test_an_empty_file_is_rejected():
    assert "空" in rejected(io.BytesIO(b""))


# --- Photos -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "upright"), [("orientation_landscape_6.jpg", (600, 450)), ("orientation_portrait_6.jpg", (450, 600))]
)
def test_orientation_6_photos_are_summarised_upright(name, upright):
    with sample(name) as f:
        summary = photo_summary(f, max_pixels=MAX_PIXELS)
        with Image.open(f) as stored:
            assert stored.size == upright[::-1]  # stored on its side
            reference = ImageOps.exif_transpose(stored).convert("RGB")
    assert (summary.width, summary.height) == upright
    with Image.open(io.BytesIO(summary.thumbnail)) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == 320
        assert (thumb.width > thumb.height) == (upright[0] > upright[1])
        upright_error = _difference(thumb, reference)
        sideways_error = _difference(thumb, reference.transpose(Image.Transpose.ROTATE_180))
    assert upright_error < 12 < sideways_error


def _difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute grey-level difference of two pictures compared at 32x32."""
    x, y = (im.convert("L").resize((32, 32)).tobytes() for im in (a, b))
    return sum(abs(p - q) for p, q in zip(x, y, strict=True)) / len(x)


def test_gps_is_read_in_signed_decimal_degrees():
    with sample("gps_DSCN0010.jpg") as f:
        summary = photo_summary(f, max_pixels=MAX_PIXELS)
        with Image.open(f) as im:
            gps = im.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert (gps[1], gps[3]) == ("N", "E")
    d, m, s = (float(x) for x in gps[2])
    assert (d, m, round(s, 3)) == (43, 28, 2.814)
    d, m, s = (float(x) for x in gps[4])
    assert (d, m, round(s, 3)) == (11, 53, 6.456)
    assert summary.gps == pytest.approx((43 + 28 / 60 + 2.814 / 3600, 11 + 53 / 60 + 6.456 / 3600), abs=1e-6)
    assert summary.gps == pytest.approx((43.467448, 11.885127), abs=1e-6)


def test_south_and_west_are_negative_and_an_empty_gps_block_is_no_position():
    with Image.open(SAMPLES / "gps_DSCN0010.jpg") as im:
        exif = im.getexif()
        exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "S", 3: "W"})
        southwest = image_file(im, "JPEG", exif=exif)
    assert photo_summary(southwest, max_pixels=MAX_PIXELS).gps == pytest.approx((-43.467448, -11.885127), abs=1e-6)
    with sample("Canon_40D.jpg") as f:
        summary = photo_summary(f, max_pixels=MAX_PIXELS)
    assert summary.gps is None
    assert summary.camera == "Canon EOS 40D"


def test_the_nine_gps_photos_were_taken_on_2008_10_22_between_16_28_and_17_00_local_time():
    times = []
    for path in GPS_PHOTOS:
        with open(path, "rb") as f:
            summary = photo_summary(f, max_pixels=MAX_PIXELS)
        assert summary.camera == "NIKON COOLPIX P6000"
        assert summary.captured_at.tzinfo is None  # no OffsetTimeOriginal: the camera's wall clock
        times.append(summary.captured_at)
    assert len(times) == 9
    assert min(times) == dt.datetime(2008, 10, 22, 16, 28, 39)
    assert max(times) == dt.datetime(2008, 10, 22, 17, 0, 7)


def test_a_photo_without_exif_time_has_no_capture_time():
    with sample("PaintTool_sample.jpg") as f:
        summary = photo_summary(f, max_pixels=MAX_PIXELS)
    assert summary.captured_at is None and summary.gps is None and summary.camera == ""


def test_the_capture_time_is_aware_when_exif_gives_its_offset():
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif).update(
        {ExifTags.Base.DateTimeOriginal: "2026:05:20 14:30:00", ExifTags.Base.OffsetTimeOriginal: "+08:00"}
    )
    f = image_file(gradient(), "JPEG", exif=exif)
    captured = photo_summary(f, max_pixels=MAX_PIXELS).captured_at
    assert captured == dt.datetime(2026, 5, 20, 6, 30, tzinfo=dt.UTC)
    assert captured.utcoffset() == dt.timedelta(hours=8)


def _metadata_free(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as im:
        assert not im.getexif()
        assert "icc_profile" not in im.info and "xmp" not in im.info and "comment" not in im.info
    for marker in (b"Exif", b"GPS", b"http://ns.adobe.com/xap", b"ICC_PROFILE", b"NIKON"):
        assert marker not in data


@pytest.mark.parametrize("name", ["gps_DSCN0010.jpg", "Canon_40D.jpg", "orientation_portrait_6.jpg"])
def test_thumbnail_and_clean_copy_carry_no_exif_gps_xmp_or_icc(name):
    raw = (SAMPLES / name).read_bytes()
    assert b"Exif" in raw  # the original does
    with sample(name) as f:
        summary = photo_summary(f, max_pixels=MAX_PIXELS)
        clean = photo_clean_copy(f, max_pixels=MAX_PIXELS)
        assert f.tell() == 0
    _metadata_free(summary.thumbnail)
    _metadata_free(clean)


def test_the_clean_copy_is_upright_and_at_most_max_side():
    with sample("orientation_landscape_6.jpg") as f:
        clean = photo_clean_copy(f, max_pixels=MAX_PIXELS, max_side=200)
        full = photo_clean_copy(f, max_pixels=MAX_PIXELS)
    with Image.open(io.BytesIO(clean)) as im:
        assert im.format == "JPEG" and im.size == (200, 150)
    with Image.open(io.BytesIO(full)) as im:
        assert im.size == (600, 450)


def test_a_jpeg_comment_does_not_survive_the_clean_copy():
    f = image_file(gradient(), "JPEG", comment=b"<script>payload</script>")
    assert b"payload" in f.getvalue()
    assert b"payload" not in photo_clean_copy(f, max_pixels=MAX_PIXELS)
    assert b"payload" not in photo_summary(f, max_pixels=MAX_PIXELS).thumbnail


# --- Duplicate detection -------------------------------------------------------------------


def _jpeg(im: Image.Image, quality: int = 90) -> io.BytesIO:
    return image_file(im, "JPEG", quality=quality)


def _modified_copies(path) -> dict[str, io.BytesIO]:
    with Image.open(path) as original:
        im = ImageOps.exif_transpose(original).convert("RGB")
    w, h = im.size
    dx, dy, ex, ey = round(w * 0.05), round(h * 0.05), round(w * 0.025), round(h * 0.025)

    def half(x):
        return x.resize((x.width // 2, x.height // 2), Image.Resampling.LANCZOS)

    return {
        "resize 50%": _jpeg(half(im)),
        "quality 60": _jpeg(im, 60),
        "crop 5% left": _jpeg(im.crop((dx, 0, w, h))),
        "crop 5% top": _jpeg(im.crop((0, dy, w, h))),
        "crop 5% right": _jpeg(im.crop((0, 0, w - dx, h))),
        "crop 5% bottom": _jpeg(im.crop((0, 0, w, h - dy))),
        "crop 2.5% each side": _jpeg(im.crop((ex, ey, w - ex, h - ey))),
        "crop 5% + resize + q60": _jpeg(half(im.crop((dx, 0, w, h))), 60),
        "crop 2.5% each + resize + q60": _jpeg(half(im.crop((ex, ey, w - ex, h - ey))), 60),
    }


@pytest.fixture(scope="module")
def sample_hashes():
    hashes = {}
    for path in sorted(SAMPLES.glob("*.jpg")):
        with open(path, "rb") as f:
            hashes[path.name] = photo_summary(f, max_pixels=MAX_PIXELS).phash
    return hashes


def test_resized_recompressed_and_cropped_copies_are_found_as_duplicates(sample_hashes):
    # Measured (see supervision/imaging.py): max 10 over all 180 copies; resize / quality 60 alone at most 3.
    worst = {}
    for name, original in sample_hashes.items():
        for edit, data in _modified_copies(SAMPLES / name).items():
            distance = hamming(original, photo_summary(data, max_pixels=MAX_PIXELS).phash)
            worst[edit] = max(worst.get(edit, 0), distance)
    assert len(worst) == 9 and len(sample_hashes) == 20
    assert max(worst.values()) <= THRESHOLD, worst
    assert worst["resize 50%"] <= 3 and worst["quality 60"] <= 3, worst
    assert worst["crop 2.5% each + resize + q60"] <= 8, worst


def test_different_photos_are_not_duplicates_even_shots_of_one_scene(sample_hashes):
    # Measured: 18 at the closest (two of the gps shots), median 31.
    distances = {
        (a, b): hamming(sample_hashes[a], sample_hashes[b]) for a, b in itertools.combinations(sample_hashes, 2)
    }
    assert len(distances) == 190
    assert min(distances.values()) >= THRESHOLD + 6, min(distances.items(), key=lambda kv: kv[1])
    gps = [d for (a, b), d in distances.items() if a.startswith("gps_") and b.startswith("gps_")]
    assert len(gps) == 36 and min(gps) > THRESHOLD + 6


def test_the_hash_is_unsigned_64_bit_and_hamming_accepts_the_signed_storage_form(sample_hashes):
    assert all(0 <= h < 2**64 for h in sample_hashes.values())
    a, b = sample_hashes["gps_DSCN0010.jpg"], sample_hashes["mobile_jolla.jpg"]
    signed = a - 2**64 if a >= 2**63 else a
    assert hamming(signed, b) == hamming(a, b) == bin(a ^ b).count("1")
    assert hamming(a, a) == 0 and hamming(0, 2**64 - 1) == 64


def test_photo_summary_returns_all_fields_from_one_call():
    with sample("mobile_jolla.jpg") as f:
        summary = photo_summary(f, max_pixels=MAX_PIXELS)
    assert isinstance(summary, PhotoSummary)
    assert (summary.width, summary.height) == (3264, 2448)
    assert summary.captured_at == dt.datetime(2014, 9, 21, 16, 0, 56)
    assert summary.camera == "Jolla"
    with Image.open(io.BytesIO(summary.thumbnail)) as thumb:
        assert thumb.size == (320, 240)


# --- Videos -------------------------------------------------------------------------------


def test_an_mp4_s_duration_comes_from_mvhd_versions_0_and_1():
    info = probe_video(io.BytesIO(mp4(timescale=1000, duration=12_345)))
    assert (info.container, info.duration_seconds) == ("mp4", pytest.approx(12.345))
    info = probe_video(io.BytesIO(mp4(brand=b"qt  ", timescale=600, duration=2**33, version=1)))
    assert (info.container, info.duration_seconds) == ("mov", pytest.approx(2**33 / 600))
    assert probe_video(io.BytesIO(mp4(duration=0))).duration_seconds is None


def test_the_clean_copy_of_an_mp4_has_no_location_and_the_same_layout(tmp_path):
    udta = box(b"udta", xyz(LOCATION) + box(b"\xa9nam", b"\x00\x05\x15\xc7title"))
    data = mp4(moov_children=[udta], mdat=b"\x00\x01\x02" * 1000 + LOCATION)  # the same bytes in the media stay
    src = io.BytesIO(data)
    assert check_upload(src, category="video", max_pixels=MAX_PIXELS).extension == ".mp4"
    dst = io.BytesIO()
    video_clean_copy(src, dst)
    clean = dst.getvalue()
    assert src.tell() == 0
    assert len(clean) == len(data)
    moov_end = clean.index(b"mdat")
    assert LOCATION not in clean[:moov_end] and b"\xa9xyz" not in clean
    assert clean[moov_end:] == data[moov_end:]  # media untouched, so chunk offsets stay valid
    assert b"title" in clean
    assert probe_video(io.BytesIO(clean)).duration_seconds == pytest.approx(12.345)
    assert check_upload(io.BytesIO(clean), category="video", max_pixels=MAX_PIXELS).extension == ".mp4"


def test_the_clean_copy_blanks_loci_in_a_track_and_apple_location_keys():
    loci = box(b"loci", b"\x00\x00\x00\x00\x15\xc7Shanghai\x00\x00" + struct.pack(">iii", 121 << 16, 31 << 16, 0))
    trak = box(b"trak", box(b"tkhd", bytes(84)) + box(b"udta", loci + b"\x00\x00\x00\x00"))
    hdlr = box(b"hdlr", bytes(8) + b"mdta" + bytes(13))
    keys = box(
        b"keys",
        struct.pack(">II", 0, 2)
        + box(b"mdta", b"com.apple.quicktime.make")
        + box(b"mdta", b"com.apple.quicktime.location.ISO6709"),
    )
    item = box(struct.pack(">I", 2), box(b"data", struct.pack(">II", 1, 0) + LOCATION))
    make = box(struct.pack(">I", 1), box(b"data", struct.pack(">II", 1, 0) + b"Apple"))
    meta = box(b"meta", hdlr + keys + box(b"ilst", make + item))  # QuickTime's meta: no version/flags
    data = mp4(brand=b"qt  ", moov_children=[trak, meta])
    dst = io.BytesIO()
    video_clean_copy(io.BytesIO(data), dst)
    clean = dst.getvalue()
    assert len(clean) == len(data)
    assert b"Shanghai" not in clean and LOCATION not in clean and b"loci" not in clean
    assert b"Apple" in clean and b"com.apple.quicktime.location.ISO6709" in clean


@pytest.mark.parametrize("data", [FFMPEG_MOV_XYZ, FFMPEG_MOV_APPLE_KEYS], ids=["xyz", "apple-keys"])
def test_ffmpeg_written_movs_are_probed_and_copied_without_their_location(data):
    assert b"+31.2304+121.4737" in data
    f = io.BytesIO(data)
    assert check_upload(f, category="video", max_pixels=MAX_PIXELS).extension == ".mov"
    assert probe_video(f).duration_seconds == pytest.approx(0.4)
    dst = io.BytesIO()
    video_clean_copy(f, dst)
    clean = dst.getvalue()
    assert len(clean) == len(data) and b"31.2304" not in clean
    assert check_upload(io.BytesIO(clean), category="video", max_pixels=MAX_PIXELS).extension == ".mov"
    assert probe_video(io.BytesIO(clean)).duration_seconds == pytest.approx(0.4)


def test_an_ffmpeg_written_webm_is_probed_for_its_duration():
    f = io.BytesIO(FFMPEG_WEBM)
    assert check_upload(f, category="video", max_pixels=MAX_PIXELS).extension == ".webm"
    assert probe_video(f) == VideoInfo("webm", pytest.approx(0.4))


def test_a_truncated_mp4_is_rejected():
    data = mp4(mdat=bytes(5000))
    assert "视频文件不完整" in rejected(io.BytesIO(data[:-100]), category="video")
    no_moov = box(b"ftyp", b"isom\x00\x00\x02\x00isom") + box(b"mdat", bytes(100))
    assert "视频文件不完整" in rejected(io.BytesIO(no_moov), category="video")


def test_a_text_file_named_mp4_is_rejected(tmp_path):
    path = tmp_path / "会议视频.mp4"
    path.write_text("ftyp isom, honestly a video\n", encoding="utf-8")
    with open(path, "rb") as f:
        message = rejected(f, category="video")
    assert "视频（MP4、MOV、WebM）" in message


def test_a_webm_s_duration_is_duration_times_timecode_scale():
    f = io.BytesIO(webm(duration=4567.0, scale=1_000_000))
    assert check_upload(f, category="video", max_pixels=MAX_PIXELS).extension == ".webm"
    info = probe_video(f)
    assert (info.container, info.duration_seconds) == ("webm", pytest.approx(4.567))
    assert probe_video(io.BytesIO(webm(duration=90.0, scale=100_000_000))).duration_seconds == pytest.approx(9.0)


def test_a_browser_recorded_webm_without_duration_is_accepted_with_an_unknown_duration():
    f = io.BytesIO(webm(duration=None, unknown_size=True))
    assert check_upload(f, category="video", max_pixels=MAX_PIXELS).extension == ".webm"
    assert probe_video(f).duration_seconds is None
    dst = io.BytesIO()
    video_clean_copy(f, dst)
    assert dst.getvalue() == f.getvalue()


def test_a_matroska_file_is_not_taken_for_webm():
    header = ebml(b"\x1a\x45\xdf\xa3", ebml(b"\x42\x82", b"matroska"))
    assert sniff(header + ebml(b"\x18\x53\x80\x67", b"")) is None


def test_videos_are_checked_probed_and_copied_in_pieces_never_whole():
    data = mp4(moov_children=[box(b"udta", xyz(LOCATION))], mdat=bytes(5 * 1024 * 1024))
    f = CountingFile(data)
    check_upload(f, category="video", max_pixels=MAX_PIXELS)
    probe_video(f)
    assert f.total_read < 10_000  # a walk over box headers, not a read of the media
    dst = io.BytesIO()
    video_clean_copy(f, dst)
    assert f.largest_read <= 1024 * 1024
    assert dst.getvalue()[-100:] == data[-100:]


def test_a_large_photo_is_checked_and_summarised_without_reading_it_whole():
    data = image_file(Image.effect_noise((2400, 1800), 80).convert("RGB"), "JPEG", quality=95).getvalue()
    assert len(data) > 2 * 1024 * 1024
    f = CountingFile(data)
    check_upload(f, category="photo", max_pixels=MAX_PIXELS)
    photo_summary(f, max_pixels=MAX_PIXELS)
    photo_clean_copy(f, max_pixels=MAX_PIXELS)
    assert f.largest_read <= 1024 * 1024


# --- PDF structure ----------------------------------------------------------------------------


def _pillow_pdf() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 280), "white").save(out, "PDF")
    return out.getvalue()


def test_a_pdf_written_by_a_real_library_is_accepted_as_a_scan():
    assert check_upload(io.BytesIO(_pillow_pdf()), category="minutes_scan", max_pixels=MAX_PIXELS).kind == "pdf"


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.4\n<!DOCTYPE html><html><body><script>alert(1)</script></body></html>\n%%EOF\n",
        b"%PDF-1.7\n<html><body>" + b"x" * 4000 + b"</body></html>\nstartxref\n9\n%%EOF\n",
        b"%PDF-1.4\nhello, this is only text and no object at all\n%%EOF\n",
        # A trailer pointing at nothing: startxref past the end of the file.
        b"%PDF-1.4\n1 0 obj<<>>endobj\nstartxref\n99999\n%%EOF\n",
        # A trailer pointing at plain text instead of an xref table or stream.
        b"%PDF-1.4\n1 0 obj<<>>endobj\nnothing here\nstartxref\n29\n%%EOF\n",
        b"%PDF-x\n" + minimal_pdf()[9:],
    ],
    ids=["html-body", "html-with-startxref", "no-object", "startxref-past-end", "startxref-at-text", "bad-version"],
)
def test_a_file_with_a_pdf_header_but_no_pdf_structure_is_refused(content):
    assert "不是有效的 PDF 文档" in rejected(io.BytesIO(content), category="minutes_scan")


def test_a_pdf_with_an_xref_stream_instead_of_a_table_is_accepted():
    body = b"%PDF-1.5\n1 0 obj<</Type/Catalog>>endobj\n"
    xref_at = len(body)
    body += b"2 0 obj<</Type/XRef/Size 3/W[1 2 1]>>stream\n\nendstream\nendobj\n"
    body += b"startxref\n%d\n%%%%EOF\n" % xref_at

    assert check_upload(io.BytesIO(body), category="minutes_scan", max_pixels=MAX_PIXELS).kind == "pdf"
