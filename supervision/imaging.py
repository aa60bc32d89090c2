"""Evidence files: what an upload is, whether it is sound, and the copies, metadata and hashes made from it.

Pure functions over file objects (no models, no ORM): the upload view calls
``check_upload`` in the request; the worker calls ``photo_summary``,
``photo_clean_copy``, ``probe_video`` and ``video_clean_copy``. Every function
seeks and reads in pieces, never the whole file (videos may be 500 MB), and
leaves a file it was given at position 0.

Decisions worth knowing:

* The type is decided by magic bytes only, never by the name. HEIC/HEIF is
  recognised only to say that it is not supported (phone browsers convert it
  to JPEG on upload; Pillow here has no HEIF decoder).
* A PNG (or JPEG) with bytes appended after its end (IEND / EOI), such as HTML
  or a script, is accepted: the original is kept privately and never served,
  and every served copy is a re-encode that drops what follows the image.
  Rejecting trailing data would also reject ordinary phone photos (Samsung and
  Google append their own trailers after EOI).
* Damaged JPEGs: Pillow (libjpeg) decodes damaged entropy data with a
  warning it does not report, so ``check_upload`` also walks the JPEG's
  marker structure: an undefined marker inside a scan (e.g. the 16 KiB of
  0xFF in ``corrupted.jpg``, where ``djpeg`` says "Corrupt JPEG data:
  premature end of data segment"), restart markers out of sequence or fewer
  than the scan's size calls for (data cut out and the file closed with EOI,
  which Pillow decodes grey without an error), a missing EOI, or more than
  ``MAX_JPEG_SCANS`` scans are rejected. Damage inside Huffman data that
  leaves the markers intact, in a JPEG without restart markers, cannot be
  seen this way; the worker's full decode is the last check.
  ``invalid_image00971.jpg`` of the samples is NOT damaged: it is a valid
  Adobe Fireworks JPEG whose APP1 holds XMP instead of EXIF (the exif-samples
  collection files it under "invalid" for EXIF readers); ``djpeg`` decodes it
  without a warning, so it is accepted and simply has no capture time.
* ``captured_at`` is aware when EXIF has OffsetTimeOriginal (or, for the
  digitized time, OffsetTimeDigitized), else it is the camera's naive wall
  clock, to be read in the meeting's time zone by the caller. DateTime (tag
  306) is the file's modification time and is never used.
* ``gps`` is None for an empty GPS block (Canon_40D), for out-of-range or
  undefined values and for exactly (0, 0), which is what receivers without a
  fix write.
* ``camera`` is "Make Model", except that a model that already starts with
  the make is not repeated ("Canon Canon EOS 40D" -> "Canon EOS 40D").
* Effective pixel limit: ``max_pixels``, and never more than Pillow's own
  ``DecompressionBombError`` limit (2 x ``Image.MAX_IMAGE_PIXELS``); Pillow's
  warning (above ``MAX_IMAGE_PIXELS``) defers to ``max_pixels``. Either way
  the header alone decides, before any pixel is decoded.
* Memory: PNGs are checked by inflating IDAT in pieces, JPEGs by decoding at
  1/8 scale; a WebP is decoded whole only up to ``WEBP_DECODE_MAX_PIXELS``.
* MP4/MOV location: ``udta/\xa9xyz``, ``loci`` (3GPP) and iPhone's
  ``meta/keys`` + ``ilst`` location items are blanked; GPS inside XMP
  ('uuid' boxes) or in the media streams themselves is not looked for.

Perceptual hash (``phash``), measured on ../shared/samples/photos (20 JPEGs,
190 pairs of different photos) and 9 modified copies of each, 180 in all
(resize 50 %; JPEG quality 60; crop 5 % from the left, top, right or bottom
edge; crop 2.5 % from each side; crop 5 % + resize 50 % + quality 60; crop
2.5 % each side + resize + quality 60). Every hash is taken from the 320 px
thumbnail; distances in bits of 64:

=========================================  =====================  ======================
hash                                       different photos:      modified copies:
                                           min / 5th pct / median  max / over 8 / over 10
=========================================  =====================  ======================
dHash 9x8                                  16 / -- / 31           18 / -- / --
pHash: 32x32 DCT, lowest 8x8, median       22 / 24 / 32           14 / 29 / 12
SimHash (random planes) of those 63 AC     12 / 17 / 32           12 / -- / --
the same cosines over a frame 1.25x        18 / 25 / 31           10 /  9 /  0
the image, mean removed (chosen)
=========================================  =====================  ======================

The classic pHash keeps different photos far apart, but a 5 % crop from one
edge stretches and shifts its highest cosines (3.5 cycles per image) by up to
a radian of phase, so such copies reached 14, over the policy's default
threshold of 10. Evaluating the 8x8 cosines over a virtual frame 1.25 times
the image (``PHASH_FREQUENCY`` = 0.8) makes them vary more slowly across the
picture, so a few percent of crop moves them less: every copy is within 10
(one-edge 5 % crops reach exactly 10 on 5 of 80; resize and recompression
alone stay within 3), while different photos stay at 18 or more (the nine
gps_DSCN* shots of one scene: 18 to 37). At the default threshold 10 the
one-edge 5 % crop has no margin left; 11 (the policy's maximum) would give one
bit of margin and still leave 7 bits to the closest different photos.
Reproduce with ``.venv/bin/python -m bench.bench_photo --hash-table``; the
tests pin these bounds.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import itertools
import math
import operator
import re
import struct
import warnings
import zipfile
import zlib
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageCms, UnidentifiedImageError

# What to read for the magic bytes: enough for an ISO-BMFF ftyp box's brands and an EBML header.
HEAD_BYTES = 1024
CHUNK = 1024 * 1024
THUMBNAIL_SIDE = 320
THUMBNAIL_QUALITY = 80
CLEAN_QUALITY = 85
# A progressive JPEG has about ten scans; thousands make libjpeg spin for minutes on a tiny file.
MAX_JPEG_SCANS = 100
# WebP has no reduced-size decode: above this the request only checks the RIFF structure and
# leaves the full decode to the worker, so that the web worker does not allocate 4 bytes a pixel.
WEBP_DECODE_MAX_PIXELS = 16_000_000
# A top-level box walk stops here: a file of millions of 8-byte boxes is not a video.
MAX_TOP_LEVEL_BOXES = 100_000
PHASH_SIZE = 32
PHASH_FREQUENCY = 0.8
U64 = (1 << 64) - 1

ORIENTATION_TAG = ExifTags.Base.Orientation
TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

IMAGE, VIDEO, PDF = "image", "video", "pdf"
# Kinds only the study library takes (``check_upload(kinds=...)``); evidence never sees them, and
# ``sniff`` alone does not report them.
AUDIO, OFFICE = "audio", "office"
# Evidence.Category -> the kinds it takes (Evidence.Kind values); not imported, to stay model-free.
ALLOWED_KINDS = {
    "photo": (IMAGE,),
    "video": (VIDEO,),
    "signin": (IMAGE, PDF),
    "minutes_scan": (IMAGE, PDF),
    "other": (IMAGE, PDF, VIDEO),
}

MOV_BRANDS = {b"qt  "}
MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9",
    b"mp41", b"mp42", b"mp71", b"avc1", b"hvc1", b"av01", b"dash", b"cmfc", b"msdh", b"msix",
    b"M4V ", b"M4VH", b"M4VP", b"MSNV", b"NDAS", b"NDSC", b"NDSH", b"NDSM", b"NDSP", b"NDSS", b"NDXC",
    b"NDXH", b"NDXM", b"NDXP", b"NDXS", b"f4v ", b"mmp4", b"XAVC", b"3gp4", b"3gp5", b"3gp6", b"3gp7",
    b"3gp8", b"3gp9", b"3g2a", b"3g2b", b"3g2c", b"kddi",
}  # fmt: skip
AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}
# QuickTime files from before ftyp start with one of these atoms.
LEGACY_QT_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


class UploadRejected(Exception):
    """The file cannot be taken; ``message`` says why in a sentence for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Sniffed:
    kind: str  # Evidence.Kind value: "image" | "video" | "pdf"
    content_type: str
    extension: str


JPEG = Sniffed(IMAGE, "image/jpeg", ".jpg")
PNG = Sniffed(IMAGE, "image/png", ".png")
WEBP = Sniffed(IMAGE, "image/webp", ".webp")
MP4 = Sniffed(VIDEO, "video/mp4", ".mp4")
MOV = Sniffed(VIDEO, "video/quicktime", ".mov")
WEBM = Sniffed(VIDEO, "video/webm", ".webm")
PDF_FILE = Sniffed(PDF, "application/pdf", ".pdf")
MP3 = Sniffed(AUDIO, "audio/mpeg", ".mp3")
M4A = Sniffed(AUDIO, "audio/mp4", ".m4a")
AAC = Sniffed(AUDIO, "audio/aac", ".aac")
WAV = Sniffed(AUDIO, "audio/wav", ".wav")
OGG = Sniffed(AUDIO, "audio/ogg", ".ogg")
FLAC = Sniffed(AUDIO, "audio/flac", ".flac")
AMR = Sniffed(AUDIO, "audio/amr", ".amr")
DOCX = Sniffed(OFFICE, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx")
XLSX = Sniffed(OFFICE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx")
PPTX = Sniffed(OFFICE, "application/vnd.openxmlformats-officedocument.presentationml.presentation", ".pptx")
# The main part's content type in [Content_Types].xml says which Office file a zip is
# (macro-enabled variants, .docm/.xlsm/.pptm, are not taken).
OFFICE_MAIN_PARTS = {
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
OFFICE_CONTENT_TYPES_MAX = 1024 * 1024
PIL_FORMATS = {".jpg": ("JPEG",), ".png": ("PNG",), ".webp": ("WEBP",)}


# --- Sniffing -------------------------------------------------------------------------------


def _ftyp_brands(head: bytes) -> tuple[bytes, set[bytes]] | None:
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    size = min(struct.unpack(">I", head[:4])[0], len(head))
    compatible = {head[i : i + 4] for i in range(16, size - 3, 4)}
    return head[8:12], compatible


def _is_heif(head: bytes) -> bool:
    brands = _ftyp_brands(head)
    if brands is None:
        return False
    major, compatible = brands
    return major in HEIF_BRANDS or (_video_brand(major, compatible) is None and bool(compatible & HEIF_BRANDS))


def _video_brand(major: bytes, compatible: set[bytes]) -> Sniffed | None:
    if major in MOV_BRANDS:
        return MOV
    if major in MP4_BRANDS:
        return MP4
    if major in AUDIO_BRANDS or major in HEIF_BRANDS:
        return None
    if compatible & MOV_BRANDS:
        return MOV
    if compatible & MP4_BRANDS:
        return MP4
    return None


def _ebml_vint(data: bytes, pos: int, *, keep_marker: bool) -> tuple[int, int] | None:
    """An EBML variable-length integer at ``pos``: (value, length), or None if it does not fit."""
    if pos >= len(data) or data[pos] == 0:
        return None
    first = data[pos]
    length = 9 - first.bit_length()
    if pos + length > len(data):
        return None
    value = first if keep_marker else first & ((1 << (8 - length)) - 1)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    return value, length


def _webm_doctype(head: bytes) -> bytes | None:
    """The DocType inside an EBML header at the start of ``head``."""
    if head[:4] != b"\x1a\x45\xdf\xa3":
        return None
    size = _ebml_vint(head, 4, keep_marker=False)
    if size is None:
        return None
    pos, end = 4 + size[1], min(4 + size[1] + size[0], len(head))
    while pos < end:
        element = _ebml_vint(head, pos, keep_marker=True)
        if element is None:
            return None
        length = _ebml_vint(head, pos + element[1], keep_marker=False)
        if length is None:
            return None
        data_at = pos + element[1] + length[1]
        if element[0] == 0x4282:
            return head[data_at : data_at + length[0]].rstrip(b"\x00")
        pos = data_at + length[0]
    return None


def _mpeg_audio_frame(head: bytes) -> bool:
    """An MPEG audio frame header (layer I-III) at the start: 11 sync bits, a layer, a bitrate and a rate."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
    return version != 1 and layer != 0 and bitrate not in (0, 15) and rate != 3


def sniff_audio(head: bytes) -> Sniffed | None:
    """The audio formats of the study library, by magic bytes: MP3, M4A/AAC, WAV, Ogg, FLAC, AMR."""
    if head.startswith(b"ID3") or _mpeg_audio_frame(head):
        return MP3
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:  # ADTS: sync, layer 00
        return AAC
    brands = _ftyp_brands(head)
    if brands is not None:
        major, compatible = brands
        if major in AUDIO_BRANDS or (_video_brand(major, compatible) is None and compatible & AUDIO_BRANDS):
            return M4A
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head.startswith(b"OggS"):
        return OGG
    if head.startswith(b"fLaC"):
        return FLAC
    if head.startswith(b"#!AMR"):
        return AMR
    return None


def sniff_office(fileobj) -> Sniffed | None:
    """A .docx/.xlsx/.pptx: a zip whose [Content_Types].xml names the main part; None for any other zip.

    Reads the zip's central directory and that one small member, never the whole file.
    """
    fileobj.seek(0)
    if fileobj.read(4) != b"PK\x03\x04":
        return None
    try:
        with zipfile.ZipFile(fileobj) as archive:
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > OFFICE_CONTENT_TYPES_MAX:
                return None
            types = archive.read(info)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError, NotImplementedError, zlib.error):
        return None
    finally:
        fileobj.seek(0)
    for main, sniffed in OFFICE_MAIN_PARTS.items():
        if main in types:
            return sniffed
    return None


def sniff(head: bytes) -> Sniffed | None:
    """What the first bytes of a file say it is (magic bytes only), or None when it is nothing we take."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF_FILE
    brands = _ftyp_brands(head)
    if brands is not None:
        return _video_brand(*brands)
    if len(head) >= 8 and head[4:8] in LEGACY_QT_ATOMS:
        return MOV
    if _webm_doctype(head) == b"webm":
        return WEBM
    return None


# --- Upload check ---------------------------------------------------------------------------


def _kinds_text(kinds: tuple[str, ...]) -> str:
    names = {
        IMAGE: _("图片（JPEG、PNG、WebP）"),
        VIDEO: _("视频（MP4、MOV、WebM）"),
        PDF: _("PDF 文档"),
        AUDIO: _("音频（MP3、M4A、AAC、WAV、OGG、FLAC、AMR）"),
        OFFICE: _("Office 文档（Word .docx、Excel .xlsx、PowerPoint .pptx）"),
    }
    return _("或").join(str(names[k]) for k in kinds)


def _file_size(fileobj) -> int:
    fileobj.seek(0, io.SEEK_END)
    return fileobj.tell()


def _read_at(fileobj, offset: int, n: int) -> bytes:
    fileobj.seek(offset)
    return fileobj.read(n)


def check_upload(
    fileobj, *, category: str | None = None, kinds: tuple[str, ...] | None = None, max_pixels: int
) -> Sniffed:
    """The file's type if it may be uploaded as ``category`` (or as one of ``kinds``); else UploadRejected.

    Decides by content, checks the container's structure (and decodes images), reads
    in pieces and leaves ``fileobj`` at position 0. Audio and Office files are recognised
    only when ``kinds`` asks for them; their streams are left to ffprobe / the reader.
    """
    allowed = kinds if kinds is not None else ALLOWED_KINDS[category]
    try:
        fileobj.seek(0)
        head = fileobj.read(HEAD_BYTES)
        if not head:
            raise UploadRejected(_("文件是空的，请重新选择文件。"))
        sniffed = sniff(head)
        if sniffed is None and AUDIO in allowed:
            sniffed = sniff_audio(head)
        if sniffed is None and OFFICE in allowed:
            sniffed = sniff_office(fileobj)
        if sniffed is None:
            if IMAGE in allowed and _is_heif(head):
                raise UploadRejected(
                    _("暂不支持 HEIC/HEIF 格式的照片：请在手机相机设置中选择“兼容性最佳”，或转为 JPEG 后再上传。")
                )
            raise UploadRejected(
                _("文件内容不是可接受的格式：此处只接受%(kinds)s。文件类型按内容判断，与文件名无关。")
                % {"kinds": _kinds_text(allowed)}
            )
        if sniffed.kind not in allowed:
            raise UploadRejected(
                _("此类材料只接受%(kinds)s，所选文件是%(kind)s。")
                % {"kinds": _kinds_text(allowed), "kind": _kinds_text((sniffed.kind,))}
            )
        size = _file_size(fileobj)
        try:
            if sniffed.kind == IMAGE:
                _check_image(fileobj, sniffed, max_pixels=max_pixels, size=size)
            elif sniffed.kind == VIDEO:
                _check_video(fileobj, sniffed, size=size)
            elif sniffed.kind in (AUDIO, OFFICE):
                pass  # audio: ffprobe decides; Office: its zip directory was read by sniff_office
            else:
                _check_pdf(fileobj, size=size)
        except struct.error as exc:  # a header cut short where a structure promised more
            raise UploadRejected(_("文件不完整或已损坏，请重新导出后上传。")) from exc
        return sniffed
    finally:
        fileobj.seek(0)


def _damaged_image() -> UploadRejected:
    return UploadRejected(_("图片文件已损坏或不完整，无法解码。请重新导出或重新拍摄后上传。"))


def _open_image(fileobj, *, max_pixels: int, formats: tuple[str, ...] | None = None) -> Image.Image:
    """Pillow's lazy open (header only) under ``max_pixels``; anything unreadable is UploadRejected."""
    fileobj.seek(0)
    try:
        # Pillow warns above MAX_IMAGE_PIXELS; our own limit below decides (and is lower by default).
        # catch_warnings is process-wide, but it only silences this one warning for the open.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(fileobj, formats=formats or ("JPEG", "PNG", "WEBP"))
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(None, max_pixels) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise _damaged_image() from exc
    width, height = im.size
    if width * height > max_pixels:
        raise _too_many_pixels((width, height), max_pixels)
    if not width or not height:
        raise _damaged_image()
    return im


def _too_many_pixels(size: tuple[int, int] | None, max_pixels: int) -> UploadRejected:
    limit = f"{max_pixels / 1_000_000:g}"
    if size is None:
        return UploadRejected(_("图片像素数过大（超过 %(limit)s 百万像素上限），请缩小后再上传。") % {"limit": limit})
    return UploadRejected(
        _("图片像素数过大（%(w)d×%(h)d，超过 %(limit)s 百万像素上限），请缩小后再上传。")
        % {"w": size[0], "h": size[1], "limit": limit}
    )


def _check_image(fileobj, sniffed: Sniffed, *, max_pixels: int, size: int) -> None:
    try:
        with _open_image(fileobj, max_pixels=max_pixels, formats=PIL_FORMATS[sniffed.extension]) as im:
            if sniffed is JPEG:
                _check_jpeg_structure(fileobj)
                fileobj.seek(0)
                # Decoding at 1/8 scale still reads every Huffman code, so truncation and fatal damage show.
                im.draft("RGB", (1, 1))
                im.load()
            elif sniffed is PNG:
                _check_png_stream(fileobj)
            else:
                _check_riff(fileobj, size=size)
                if im.width * im.height <= WEBP_DECODE_MAX_PIXELS:
                    fileobj.seek(0)
                    im.load()
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error) as exc:
        raise _damaged_image() from exc


class _Reader:
    """Sequential reads in pieces from a seekable file, counting the offset."""

    def __init__(self, fileobj, offset: int = 0):
        self.f = fileobj
        self.f.seek(offset)
        self.offset = offset

    def read(self, n: int) -> bytes:
        data = self.f.read(n)
        self.offset += len(data)
        return data

    def exactly(self, n: int) -> bytes:
        data = self.read(n)
        if len(data) != n:
            raise _damaged_image()
        return data

    def skip(self, n: int) -> None:
        self.offset += n
        self.f.seek(self.offset)


# Markers followed by a length and a payload in a JPEG's header part; everything else there is damage.
_JPEG_SEGMENTS = set(range(0xC0, 0xD0)) | {0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF} | set(range(0xE0, 0xFF))
_SCAN_MARKER = re.compile(rb"\xff[^\x00\xff]")


# Frames whose scans are counted in 8x8 blocks (sequential and progressive, Huffman or arithmetic);
# lossless and hierarchical frames are walked but their restart markers are not counted.
_JPEG_BLOCK_FRAMES = {0xC0, 0xC1, 0xC2, 0xC9, 0xCA}
_JPEG_FRAMES = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _check_jpeg_structure(fileobj) -> None:
    """Walks the markers of a JPEG from SOI to EOI, scanning each scan's entropy-coded data for markers.

    libjpeg recovers from damaged data with a warning that Pillow drops; this finds the damage
    that shows as markers: undefined markers, restart markers out of order or too few for the
    scan's size (data cut out), a missing EOI, too many scans.
    """
    r = _Reader(fileobj, 2)
    restart_interval = 0
    frame = None  # (width, height, {component id: (h, v)}, block based)
    scans = 0
    marker = None
    while True:
        if marker is None:
            if r.exactly(1) != b"\xff":
                raise _damaged_image()
            marker = 0xFF
            while marker == 0xFF:
                marker = r.exactly(1)[0]
        if marker == 0xD9:
            if not scans:
                raise _damaged_image()
            return
        if marker == 0x01:  # TEM: no length
            marker = None
            continue
        if marker not in _JPEG_SEGMENTS:
            raise _damaged_image()
        length = struct.unpack(">H", r.exactly(2))[0]
        if length < 2:
            raise _damaged_image()
        if marker in (0xDD, 0xDA) or marker in _JPEG_FRAMES:
            payload = r.exactly(length - 2)
        else:
            r.skip(length - 2)
            marker = None
            continue
        if marker == 0xDD:
            restart_interval = struct.unpack(">H", payload[:2])[0]
            marker = None
        elif marker != 0xDA:
            height, width, count = struct.unpack(">HHB", payload[1:6])
            sampling = {payload[6 + 3 * i]: divmod(payload[7 + 3 * i], 16) for i in range(count)}
            frame = (width, height, sampling, marker in _JPEG_BLOCK_FRAMES)
            marker = None
        else:
            scans += 1
            if scans > MAX_JPEG_SCANS or frame is None:
                raise _damaged_image()
            expected = None
            if restart_interval and frame[3] and frame[1]:
                units = _jpeg_scan_units(frame, [payload[1 + 2 * i] for i in range(payload[0])])
                expected = _ceil_div(units, restart_interval) - 1
            marker = _scan_entropy_data(r, restart_interval, expected)


def _jpeg_scan_units(frame, component_ids: list[int]) -> int:
    """MCUs in a scan: interleaved scans count MCUs of the largest sampling, single-component scans count blocks."""
    width, height, sampling, _blocks = frame
    h_max = max(h for h, v in sampling.values())
    v_max = max(v for h, v in sampling.values())
    if len(component_ids) > 1:
        return _ceil_div(width, 8 * h_max) * _ceil_div(height, 8 * v_max)
    h, v = sampling.get(component_ids[0], (h_max, v_max))
    return _ceil_div(_ceil_div(width * h, h_max), 8) * _ceil_div(_ceil_div(height * v, v_max), 8)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _scan_entropy_data(r: _Reader, restart_interval: int, expected_restarts: int | None) -> int:
    """Reads a scan's entropy-coded data up to the marker that ends it; returns that marker."""
    restarts = 0
    buf = b""
    while True:
        piece = r.read(CHUNK)
        if not piece:
            raise _damaged_image()  # no EOI: truncated
        buf += piece
        pos = 0
        while True:
            m = _SCAN_MARKER.search(buf, pos)
            if m is None:
                break
            code = buf[m.start() + 1]
            if 0xD0 <= code <= 0xD7:
                if not restart_interval or code != 0xD0 + restarts % 8:
                    raise _damaged_image()
                restarts += 1
                pos = m.end()
                continue
            # Some encoders end a scan with one restart marker too many; fewer means data was lost.
            if expected_restarts is not None and restarts not in (expected_restarts, expected_restarts + 1):
                raise _damaged_image()
            # Rewind the reader to just after the marker code, so the header walk goes on from there.
            r.skip(m.end() - len(buf))
            return code
        # Keep a trailing 0xFF: its code byte is in the next piece.
        buf = buf[-1:] if buf.endswith(b"\xff") else b""


def _png_raw_size(width: int, height: int, bit_depth: int, color_type: int, interlace: int) -> int:
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(color_type)
    if channels is None or bit_depth not in (1, 2, 4, 8, 16):
        raise _damaged_image()
    bits = channels * bit_depth
    if not interlace:
        return height * (1 + (width * bits + 7) // 8)
    total = 0
    for x0, y0, dx, dy in (
        (0, 0, 8, 8),
        (4, 0, 8, 8),
        (0, 4, 4, 8),
        (2, 0, 4, 4),
        (0, 2, 2, 4),
        (1, 0, 2, 2),
        (0, 1, 1, 2),
    ):
        w, h = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
        if w > 0 and h > 0:
            total += h * (1 + (w * bits + 7) // 8)
    return total


def _check_png_stream(fileobj) -> None:
    """Every chunk's CRC up to IEND, and the IDAT zlib stream inflated in pieces to exactly the image's size.

    This is the PNG's full decompression without holding the pixels: memory stays at one piece.
    """
    r = _Reader(fileobj, 8)
    inflater = zlib.decompressobj()
    expected = produced = None
    while True:
        header = r.exactly(8)
        length, kind = struct.unpack(">I", header[:4])[0], header[4:]
        crc = zlib.crc32(kind)
        remaining = length
        if kind == b"IHDR":
            data = r.exactly(length)
            if length != 13:
                raise _damaged_image()
            width, height, bit_depth, color_type, _compression, _filter, interlace = struct.unpack(">IIBBBBB", data)
            expected, produced = _png_raw_size(width, height, bit_depth, color_type, interlace), 0
            crc = zlib.crc32(data, crc)
            remaining = 0
        while remaining:
            data = r.exactly(min(remaining, CHUNK))
            remaining -= len(data)
            crc = zlib.crc32(data, crc)
            if kind == b"IDAT":
                if expected is None:
                    raise _damaged_image()
                while data:
                    produced += len(inflater.decompress(data, CHUNK))
                    data = inflater.unconsumed_tail
                    if produced > expected:
                        raise _damaged_image()
        if struct.unpack(">I", r.exactly(4))[0] != crc:
            raise _damaged_image()
        if kind == b"IEND":
            break
    if expected is None:
        raise _damaged_image()
    produced += len(inflater.flush())
    if not inflater.eof or produced != expected:
        raise _damaged_image()


def _check_riff(fileobj, *, size: int) -> None:
    """A WebP's RIFF chunks fill the size its header declares (bytes after it are ignored)."""
    header = _read_at(fileobj, 0, 12)
    riff_end = 8 + struct.unpack("<I", header[4:8])[0]
    if riff_end > size:
        raise _damaged_image()
    pos, found = 12, False
    while pos < riff_end:
        chunk = _read_at(fileobj, pos, 8)
        if len(chunk) < 8:
            raise _damaged_image()
        found |= chunk[:4] in (b"VP8 ", b"VP8L", b"VP8X")
        pos += 8 + struct.unpack("<I", chunk[4:])[0]
        pos += pos & 1
    if pos != riff_end or not found:
        raise _damaged_image()


def _damaged_video() -> UploadRejected:
    return UploadRejected(_("视频文件不完整或已损坏（容器结构无法读取），请重新导出后上传。"))


def _boxes(fileobj, start: int, end: int, *, strict: bool = True):
    """(offset, header length, size, type) of each ISO-BMFF box from ``start`` to ``end``.

    Top level (``strict``): a size that does not fit is damage. Nested: the walk just stops,
    since QuickTime ends some atom lists with a 32-bit zero terminator.
    """
    pos = start
    count = 0
    while pos < end:
        count += 1
        if count > MAX_TOP_LEVEL_BOXES or end - pos < 8:
            if strict:
                raise _damaged_video()
            return
        header = _read_at(fileobj, pos, 16)
        size, kind = struct.unpack(">I", header[:4])[0], header[4:8]
        header_len = 8
        if size == 1:
            if len(header) < 16:
                raise _damaged_video()
            size, header_len = struct.unpack(">Q", header[8:16])[0], 16
        elif size == 0:
            if not strict:
                return
            size = end - pos
        if size < header_len or pos + size > end:
            if strict:
                raise _damaged_video()
            return
        yield pos, header_len, size, kind
        pos += size


def _check_video(fileobj, sniffed: Sniffed, *, size: int) -> None:
    if sniffed is WEBM:
        if _webm_segment(fileobj, size=size) is None:
            raise _damaged_video()
        return
    kinds = set()
    for _pos, _hlen, _size, kind in _boxes(fileobj, 0, size):
        if not all(32 <= c < 127 for c in kind):
            raise _damaged_video()
        kinds.add(kind)
    if b"moov" not in kinds:
        raise _damaged_video()


_PDF_HEADER_RE = re.compile(rb"^%PDF-[12]\.\d")
# Markup a browser would render: a PDF's first kilobyte is its header and first objects, never these.
_PDF_HTML_RE = re.compile(rb"<(?:!doctype|html|head|body|script|iframe|svg)[\s>/]", re.IGNORECASE)
_PDF_STARTXREF_RE = re.compile(rb"startxref\s+(\d+)\s+%%EOF")
_PDF_XREF_AT_RE = re.compile(rb"\s*(?:xref|\d+\s+\d+\s+obj)")
_PDF_OBJECT_RE = re.compile(rb"\d+\s+\d+\s+obj\b")
PDF_OBJECT_SCAN_BYTES = 64 * 1024


def _check_pdf(fileobj, *, size: int) -> None:
    """The skeleton every PDF reader needs, not only the magic bytes: a ``%PDF-1.x`` header, no
    HTML in the first kilobyte, at least one ``N G obj``, and a trailer whose ``startxref``
    points inside the file at a cross-reference table (``xref``) or stream (an object).

    A page of HTML with "%PDF-" in front and "%%EOF" behind passes a magic-bytes check; it fails here.
    """
    head = _read_at(fileobj, 0, HEAD_BYTES)
    not_a_pdf = UploadRejected(_("文件不是有效的 PDF 文档（文件结构不完整），请用扫描仪或“导出为 PDF”重新生成后上传。"))
    if not _PDF_HEADER_RE.match(head) or _PDF_HTML_RE.search(head):
        raise not_a_pdf
    # Readers look for %%EOF in the last 1024 bytes (and tolerate trailing whitespace or junk there).
    tail = _read_at(fileobj, max(0, size - 1024), 1024)
    if b"%%EOF" not in tail:
        raise UploadRejected(_("PDF 文件不完整（缺少文件结束标记），请重新扫描或导出后上传。"))
    pointers = _PDF_STARTXREF_RE.findall(tail)
    if not pointers:
        raise not_a_pdf
    offset = int(pointers[-1])
    if not 0 < offset < size or not _PDF_XREF_AT_RE.match(_read_at(fileobj, offset, 64)):
        raise not_a_pdf
    if not _PDF_OBJECT_RE.search(_read_at(fileobj, 0, PDF_OBJECT_SCAN_BYTES)):
        raise not_a_pdf


# --- Photos ---------------------------------------------------------------------------------


@dataclass
class PhotoSummary:
    thumbnail: bytes  # JPEG, long side <= 320, upright, no metadata
    width: int  # of the upright full image
    height: int
    captured_at: dt.datetime | None  # aware with an EXIF offset, else the camera's naive local time
    gps: tuple[float, float] | None  # (latitude, longitude), decimal degrees, south and west negative
    camera: str
    phash: int  # unsigned 64-bit


def _exif(im: Image.Image) -> Image.Exif | None:
    try:
        return im.getexif()
    except (OSError, SyntaxError, ValueError, struct.error, KeyError, TypeError):
        return None  # a broken EXIF block must not lose the photo


def _orientation(exif: Image.Exif | None) -> int:
    value = exif.get(ORIENTATION_TAG, 1) if exif is not None else 1
    return value if value in TRANSPOSE else 1


_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_EXIF_TIME = re.compile(r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value.replace("\x00", " ").strip() if isinstance(value, str) else ""


def _captured_at(exif: Image.Exif | None) -> dt.datetime | None:
    if exif is None:
        return None
    try:
        ifd = exif.get_ifd(ExifTags.IFD.Exif)
    except (OSError, SyntaxError, ValueError, struct.error, KeyError, TypeError):
        return None
    for time_tag, offset_tag in (
        (ExifTags.Base.DateTimeOriginal, ExifTags.Base.OffsetTimeOriginal),
        (ExifTags.Base.DateTimeDigitized, ExifTags.Base.OffsetTimeDigitized),
    ):
        m = _EXIF_TIME.match(_text(ifd.get(time_tag)))
        if not m:
            continue
        try:
            # Naive on purpose: without an offset, EXIF only knows the camera's wall clock.
            moment = dt.datetime(*(int(g) for g in m.groups()))  # noqa: DTZ001
        except ValueError:
            continue  # "0000:00:00 00:00:00" and the like
        offset = _OFFSET.match(_text(ifd.get(offset_tag)))
        if offset:
            sign = -1 if offset.group(1) == "-" else 1
            delta = dt.timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3)))
            if delta < dt.timedelta(hours=15):
                moment = moment.replace(tzinfo=dt.timezone(sign * delta))
        return moment
    return None


def _degrees(value) -> float:
    d, m, s = (float(x) for x in value)
    return d + m / 60 + s / 3600


def _gps(exif: Image.Exif | None) -> tuple[float, float] | None:
    if exif is None:
        return None
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        lat, lon = _degrees(gps[ExifTags.GPS.GPSLatitude]), _degrees(gps[ExifTags.GPS.GPSLongitude])
        lat_ref, lon_ref = _text(gps.get(ExifTags.GPS.GPSLatitudeRef)), _text(gps.get(ExifTags.GPS.GPSLongitudeRef))
    except (KeyError, TypeError, ValueError, ZeroDivisionError, OSError, SyntaxError, struct.error):
        return None
    if lat_ref.upper().startswith("S"):
        lat = -lat
    if lon_ref.upper().startswith("W"):
        lon = -lon
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:
        return None
    return lat, lon


def _camera(exif: Image.Exif | None) -> str:
    if exif is None:
        return ""
    make, model = _text(exif.get(ExifTags.Base.Make)), _text(exif.get(ExifTags.Base.Model))
    if make and model.lower().startswith(make.lower()):
        make = ""
    return " ".join(" ".join(p for p in (make, model) if p).split())[:100]


def _flatten(im: Image.Image, *, keep_alpha: bool) -> Image.Image:
    """RGB (or RGBA / L), with transparency over white when it cannot be kept."""
    if _has_alpha(im):
        rgba = im.convert("RGBA")
        if keep_alpha:
            return rgba
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if im.mode in ("RGB", "L"):
        return im
    return im.convert("RGB")


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (im.mode == "P" and "transparency" in im.info)


def _encode(im: Image.Image, fmt: str, **options) -> bytes:
    # Pillow's savers take a COM comment, an ICC profile or PNG transparency from .info: start clean.
    im.info = {}
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


# cos(pi * k * f * (2i + 1) / 2N): the DCT-II basis over a frame 1/f times the image (see the docstring).
_COSINES = [
    [math.cos(math.pi * k * PHASH_FREQUENCY * (2 * i + 1) / (2 * PHASH_SIZE)) for i in range(PHASH_SIZE)]
    for k in range(8)
]
# At a frequency factor below 1 the cosines no longer sum to zero, so each coefficient would carry
# a share of the mean brightness; that share (mean x these products) is taken out again.
_COSINE_SUMS = [sum(cy) * sum(cx) for cy in _COSINES for cx in _COSINES]


def phash(im: Image.Image) -> int:
    """A 64-bit perceptual hash of an (upright) image: the 8x8 low-frequency cosine coefficients vs their median."""
    gray = im.convert("L").resize((PHASH_SIZE, PHASH_SIZE), Image.Resampling.BOX)
    pixels = gray.tobytes()
    n = PHASH_SIZE
    rows = [[sum(map(operator.mul, pixels[r * n : (r + 1) * n], c)) for c in _COSINES] for r in range(n)]
    columns = list(zip(*rows, strict=True))
    mean = sum(pixels) / len(pixels)
    coefficients = [
        sum(map(operator.mul, cy, column)) - mean * bias
        for (cy, column), bias in zip(itertools.product(_COSINES, columns), _COSINE_SUMS, strict=True)
    ]
    median = sorted(coefficients[1:])[31]  # of the 63 AC terms
    value = 0
    for c in coefficients:
        value = (value << 1) | (c > median)
    return value


def hamming(a: int, b: int) -> int:
    """Bits in which two 64-bit hashes differ (signed BIGINT storage gives the same answer)."""
    return ((a ^ b) & U64).bit_count()


def photo_summary(fileobj, *, max_pixels: int) -> PhotoSummary:
    """Thumbnail, size, capture time, position, camera and perceptual hash of a photo, in one reduced decode."""
    try:
        with _open_image(fileobj, max_pixels=max_pixels) as im:
            exif = _exif(im)
            orientation = _orientation(exif)
            width, height = im.size
            if orientation in (5, 6, 7, 8):
                width, height = height, width
            try:
                # Pillow's own thumbnail: JPEG draft (DCT-domain) decode to >= 2x the target, then resample.
                im.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
                im.load()  # thumbnail() returns early, unloaded, when the image is already small enough
            except (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error) as exc:
                raise _damaged_image() from exc
            small = _flatten(im, keep_alpha=False)
            if orientation in TRANSPOSE:
                small = small.transpose(TRANSPOSE[orientation])
            return PhotoSummary(
                thumbnail=_encode(small, "JPEG", quality=THUMBNAIL_QUALITY),
                width=width,
                height=height,
                captured_at=_captured_at(exif),
                gps=_gps(exif),
                camera=_camera(exif),
                phash=phash(small),
            )
    finally:
        fileobj.seek(0)


@functools.cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Pixels in sRGB, so that the copy can drop the embedded profile without changing its colours."""
    if not icc or im.mode not in ("RGB", "RGBA"):
        return im
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in (ImageCms.getProfileDescription(source) or "").lower().replace(" ", ""):
            return im
        return ImageCms.profileToProfile(im, source, _srgb(), outputMode=im.mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return im  # an unreadable profile: keep the pixels as they are


def photo_clean_copy(fileobj, *, max_pixels: int, max_side: int = 2560) -> bytes:
    """The copy that is shown and downloaded: upright, at most ``max_side``, re-encoded with no metadata.

    JPEG, or PNG when the image has transparency. Nothing of the original file but its
    pixels survives: no EXIF, GPS, XMP, comments, ICC profile (colours are converted to
    sRGB instead) or bytes appended after the image.
    """
    try:
        with _open_image(fileobj, max_pixels=max_pixels) as im:
            orientation = _orientation(_exif(im))
            icc = im.info.get("icc_profile")
            try:
                im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
                im.load()
            except (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error) as exc:
                raise _damaged_image() from exc
            keep_alpha = _has_alpha(im)
            out = _to_srgb(_flatten(im, keep_alpha=keep_alpha), icc)
            if orientation in TRANSPOSE:
                out = out.transpose(TRANSPOSE[orientation])
            if keep_alpha:
                return _encode(out, "PNG")
            return _encode(out, "JPEG", quality=CLEAN_QUALITY, optimize=True)
    finally:
        fileobj.seek(0)


# --- Videos ---------------------------------------------------------------------------------


@dataclass
class VideoInfo:
    container: str  # "mp4" | "mov" | "webm"
    duration_seconds: float | None


def _child_boxes(fileobj, pos: int, header_len: int, size: int, skip: int = 0):
    return _boxes(fileobj, pos + header_len + skip, pos + size, strict=False)


def _find_box(fileobj, pos: int, header_len: int, size: int, kind: bytes):
    for box in _child_boxes(fileobj, pos, header_len, size):
        if box[3] == kind:
            return box
    return None


def _mp4_duration(fileobj, moov) -> float | None:
    mvhd = _find_box(fileobj, *moov[:3], b"mvhd")
    if mvhd is None:
        return None
    body = _read_at(fileobj, mvhd[0] + mvhd[1], 32)
    if body[:1] == b"\x01":
        timescale, duration = struct.unpack(">IQ", body[20:32])
        unknown = U64
    else:
        timescale, duration = struct.unpack(">II", body[12:20])
        unknown = 0xFFFFFFFF
    if duration == 0:
        # A fragmented MP4 gives the whole duration in moov/mvex/mehd, in the same timescale.
        mvex = _find_box(fileobj, *moov[:3], b"mvex")
        mehd = mvex and _find_box(fileobj, *mvex[:3], b"mehd")
        if mehd:
            body = _read_at(fileobj, mehd[0] + mehd[1], 12)
            duration = struct.unpack(">Q", body[4:12])[0] if body[:1] == b"\x01" else struct.unpack(">I", body[4:8])[0]
    if not timescale or not duration or duration == unknown:
        return None
    return duration / timescale


def _webm_element(fileobj, pos: int, end: int):
    """(id, data offset, data size or None if unknown) of the EBML element at ``pos``."""
    header = _read_at(fileobj, pos, 12)
    element = _ebml_vint(header, 0, keep_marker=True)
    if element is None:
        raise _damaged_video()
    size = _ebml_vint(header, element[1], keep_marker=False)
    if size is None:
        raise _damaged_video()
    unknown = size[0] == (1 << (7 * size[1])) - 1
    data_at = pos + element[1] + size[1]
    if not unknown and data_at + size[0] > end:
        raise _damaged_video()
    return element[0], data_at, None if unknown else size[0]


def _webm_segment(fileobj, *, size: int) -> tuple[int, int] | None:
    """(data offset, end) of the Segment that follows a webm EBML header, or None."""
    if _webm_doctype(_read_at(fileobj, 0, HEAD_BYTES)) != b"webm":
        return None
    element_id, data_at, length = _webm_element(fileobj, 0, size)
    if length is None:
        return None
    pos = data_at + length
    while pos < size:
        element_id, data_at, length = _webm_element(fileobj, pos, size)
        if element_id == 0x18538067:
            return data_at, size if length is None else data_at + length
        if element_id != 0xEC or length is None:  # only Void may sit between the header and the Segment
            return None
        pos = data_at + length
    return None


def _webm_duration(fileobj, *, size: int) -> float | None:
    segment = _webm_segment(fileobj, size=size)
    if segment is None:
        return None
    pos, end = segment
    while pos < end:
        element_id, data_at, length = _webm_element(fileobj, pos, end)
        if element_id == 0x1F43B675 or length is None:  # the first Cluster: Info comes before it
            return None
        if element_id == 0x1549A966:
            return _webm_info_duration(fileobj, data_at, data_at + length)
        pos = data_at + length
    return None


def _webm_info_duration(fileobj, pos: int, end: int) -> float | None:
    scale, duration = 1_000_000, None  # TimecodeScale defaults to 1 ms (in ns)
    while pos < end:
        element_id, data_at, length = _webm_element(fileobj, pos, end)
        if length is None:
            return None
        if element_id == 0x2AD7B1 and 0 < length <= 8:
            scale = int.from_bytes(_read_at(fileobj, data_at, length), "big")
        elif element_id == 0x4489 and length in (4, 8):
            duration = struct.unpack(">f" if length == 4 else ">d", _read_at(fileobj, data_at, length))[0]
        pos = data_at + length
    if duration is None or not math.isfinite(duration) or duration <= 0:
        return None
    return duration * scale / 1e9


def probe_video(fileobj) -> VideoInfo:
    """Container and duration: MP4/MOV from moov/mvhd (versions 0 and 1), WebM from Segment/Info."""
    try:
        fileobj.seek(0)
        sniffed = sniff(fileobj.read(HEAD_BYTES))
        size = _file_size(fileobj)
        if sniffed is WEBM:
            return VideoInfo("webm", _webm_duration(fileobj, size=size))
        if sniffed not in (MP4, MOV):
            raise _damaged_video()
        container = "mov" if sniffed is MOV else "mp4"
        for box in _boxes(fileobj, 0, size):
            if box[3] == b"moov":
                return VideoInfo(container, _mp4_duration(fileobj, box))
        return VideoInfo(container, None)
    except struct.error as exc:
        raise _damaged_video() from exc
    finally:
        fileobj.seek(0)


# Boxes inside moov that may hold, at any depth, the atoms that carry a position.
_LOCATION_CONTAINERS = {b"moov", b"trak", b"udta", b"meta"}
_LOCATION_ATOMS = {b"\xa9xyz", b"loci"}


def _meta_skip(fileobj, pos: int, header_len: int) -> int:
    """ISO 'meta' is a full box (4 bytes of version and flags before its children); QuickTime's is not."""
    probe = _read_at(fileobj, pos + header_len, 12)
    return 0 if probe[4:8] == b"hdlr" else 4


def _location_patches(fileobj, box, patches: list) -> None:
    """Collects (start, end, bytes) overwrites that blank every location atom under ``box``."""
    pos, header_len, size, kind = box
    skip = _meta_skip(fileobj, pos, header_len) if kind == b"meta" else 0
    children = list(_child_boxes(fileobj, pos, header_len, size, skip))
    location_keys = set()
    for child in children:
        if child[3] == b"keys":
            location_keys = _apple_location_keys(fileobj, child)
    for child in children:
        c_pos, c_hlen, c_size, c_kind = child
        if c_kind in _LOCATION_ATOMS:
            # Renamed to 'free' (which every reader skips) with a zeroed payload; sizes and offsets stay.
            patches.append((c_pos + 4, c_pos + 8, b"free"))
            patches.append((c_pos + c_hlen, c_pos + c_size, None))
        elif c_kind == b"ilst" and location_keys:
            for item in _child_boxes(fileobj, c_pos, c_hlen, c_size):
                if struct.unpack(">I", item[3])[0] in location_keys:
                    for data in _child_boxes(fileobj, *item[:3]):
                        if data[3] == b"data":  # 4 bytes type, 4 bytes locale, then the value
                            patches.append((data[0] + data[1] + 8, data[0] + data[2], None))
        elif c_kind in _LOCATION_CONTAINERS:
            _location_patches(fileobj, child, patches)


def _apple_location_keys(fileobj, keys_box) -> set[int]:
    """1-based indexes of the 'mdta' keys that name a location (iPhone: com.apple.quicktime.location.ISO6709)."""
    pos, header_len, size, _kind = keys_box
    body = _read_at(fileobj, pos + header_len, min(size - header_len, 1 << 20))
    found, at, index = set(), 8, 1
    while at + 8 <= len(body):
        key_size = struct.unpack(">I", body[at : at + 4])[0]
        if key_size < 8:
            break
        if b"location" in body[at + 8 : at + key_size].lower():
            found.add(index)
        at += key_size
        index += 1
    return found


def video_clean_copy(src_fileobj, dst_fileobj) -> None:
    """Copies a video in pieces; in MP4/MOV the location atoms (©xyz, loci, Apple's location keys) are blanked.

    Only bytes inside those atoms change, so every offset (stco/co64) stays valid.
    Other containers (WebM) are copied unchanged.
    """
    patches: list[tuple[int, int, bytes | None]] = []
    try:
        src_fileobj.seek(0)
        if sniff(src_fileobj.read(HEAD_BYTES)) in (MP4, MOV):
            size = _file_size(src_fileobj)
            for box in _boxes(src_fileobj, 0, size):
                if box[3] in (b"moov", b"udta", b"meta"):
                    _location_patches(src_fileobj, box, patches)
        src_fileobj.seek(0)
        offset = 0
        while piece := src_fileobj.read(CHUNK):
            end = offset + len(piece)
            overlapping = [p for p in patches if p[0] < end and p[1] > offset]
            if overlapping:
                piece = bytearray(piece)
                for start, stop, replacement in overlapping:
                    a, b = max(start, offset), min(stop, end)
                    if replacement is None:
                        piece[a - offset : b - offset] = bytes(b - a)
                    else:
                        piece[a - offset : b - offset] = replacement[a - start : b - start]
            dst_fileobj.write(piece)
            offset = end
    finally:
        src_fileobj.seek(0)
