"""Serving a study item's file, poster and playable copy, after the same permission check as its page.

* Local disk: the bytes stream from this view in 64 KiB pieces with HTTP Range support (200 for the
  whole file, 206 for one range, 416 with ``Content-Range: bytes */size`` for a range that is
  malformed or outside the file; several ranges in one header are answered with the whole file,
  which RFC 9110 allows), ``Accept-Ranges``, ``ETag``/``Last-Modified``, ``If-Range`` and
  ``If-None-Match``. Memory stays at one piece whatever the file's size (bench_video).
* ``STUDY_ACCEL_REDIRECT`` (e.g. ``/protected/``): the answer is an empty response with
  ``X-Accel-Redirect`` to that prefix + the storage name; nginx serves the file (and the
  ranges) from its ``internal`` location.
* S3 (``S3_BUCKET``): a 302 to a signed URL valid ``STUDY_SIGNED_URL_SECONDS``.

Not throttled: a phone's player makes many range requests for one viewing.
"""

from __future__ import annotations

import hashlib
import re
from email.utils import formatdate
from pathlib import PurePosixPath
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseNotModified, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.http import content_disposition_header, parse_http_date_safe
from django.views.decorators.http import require_safe

from supervision.models import evidence_storage

from .models import StudyItem, StudyMedia
from .selectors import items_for_user

PIECE = 64 * 1024
RANGE_RE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
# Office files and anything not shown in the page are downloaded; the rest is shown inline.
INLINE_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/webp", "video/", "audio/")
PLAYABLE_TYPES = {".mp4": "video/mp4", ".m4a": "audio/mp4", ".mp3": "audio/mpeg"}
WHICH = ("play", "poster", "file")


class Unsatisfiable(Exception):
    """The Range header names no byte of the file (or is malformed): 416."""


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte, inclusive, of a single ``bytes=`` range; None to send the whole file.

    ``bytes=0-99``, ``bytes=100-`` (to the end), ``bytes=-500`` (the last 500; the whole file if it
    is smaller) and a last byte past the end (cut to the end) are satisfiable. Raises
    ``Unsatisfiable`` for a malformed bytes range, a first byte at or past the end, ``bytes=-0``
    and first > last. Other units and several ranges are ignored (None).
    """
    if not header or not header.strip().lower().startswith("bytes") or "," in header:
        return None
    match = RANGE_RE.match(header)
    if match is None:
        raise Unsatisfiable
    first, last = match.groups()
    if not first and not last:
        raise Unsatisfiable
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - suffix), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        raise Unsatisfiable
    return start, min(end, size - 1)


def _get_item_for_user(request, pk: int) -> StudyItem:
    """The item with its media if ``request.user`` may open it (the library's one rule, as
    ``study.selectors.item_for_user``), else 404."""
    return get_object_or_404(items_for_user(request.user).select_related("media").prefetch_related(None), pk=pk)


def _served(media: StudyMedia, which: str) -> tuple[str, str]:
    """(storage name, content type) of what ``which`` serves; 404 when there is none (yet)."""
    if which == "poster":
        if not media.poster:
            raise Http404
        return media.poster.name, "image/jpeg"
    if which == "play":
        if media.item.kind not in StudyItem.PLAYABLE_KINDS:
            raise Http404
        # Until the worker made a playable copy (or when it failed) the original is all there is.
        if media.playable:
            suffix = PurePosixPath(media.playable.name).suffix.lower()
            return media.playable.name, PLAYABLE_TYPES.get(suffix, media.content_type)
        return media.original.name, media.content_type
    if media.item.kind == StudyItem.Kind.DOCUMENT and media.content_type.startswith("image/"):
        # The original photo keeps its EXIF (GPS): only the worker's clean copy is served, once made.
        if media.status != StudyMedia.Status.READY or not media.playable:
            raise Http404
        suffix = PurePosixPath(media.playable.name).suffix.lower()
        return media.playable.name, "image/png" if suffix == ".png" else "image/jpeg"
    return media.original.name, media.content_type


def _etag(name: str, size: int) -> str:
    # Storage names are never reused (a uuid each), so name and size identify the bytes.
    digest = hashlib.sha256(f"{name}:{size}".encode()).hexdigest()[:32]
    return f'"{digest}"'


def _common_headers(response, media: StudyMedia, *, content_type: str, which: str) -> None:
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    if which == "file":
        filename = media.original_name or "file"
        inline = content_type.startswith(INLINE_TYPES)
        response["Content-Disposition"] = content_disposition_header(not inline, filename)


@login_required
@require_safe
def media_file(request, pk: int, which: str):
    """The item's playable copy (``play``), poster frame (``poster``) or original file (``file``)."""
    if which not in WHICH:
        raise Http404
    item = _get_item_for_user(request, pk)
    try:
        media = item.media
    except StudyMedia.DoesNotExist as exc:
        raise Http404 from exc
    name, content_type = _served(media, which)
    storage = evidence_storage()

    if settings.S3_BUCKET:
        parameters = {"ResponseContentType": content_type}
        if which == "file":
            parameters["ResponseContentDisposition"] = content_disposition_header(
                not content_type.startswith(INLINE_TYPES), media.original_name or "file"
            )
        return redirect(storage.url(name, parameters=parameters, expire=settings.STUDY_SIGNED_URL_SECONDS))

    if settings.STUDY_ACCEL_REDIRECT:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.STUDY_ACCEL_REDIRECT.rstrip("/") + "/" + quote(name)
        _common_headers(response, media, content_type=content_type, which=which)
        return response

    try:
        fh = storage.open(name, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    try:
        size = storage.size(name)
        modified = storage.get_modified_time(name).timestamp()
    except Exception:
        fh.close()
        raise
    response = _ranged_response(
        request, fh, etag=_etag(name, size), size=size, modified=modified, content_type=content_type
    )
    if response.status_code in (200, 206):
        _common_headers(response, media, content_type=content_type, which=which)
    return response


def _ranged_response(request, fh, *, etag: str, size: int, modified: float, content_type: str):
    """200, 206, 304 or 416 for an open file ``fh`` of ``size`` bytes; the body streams in pieces."""
    last_modified = formatdate(modified, usegmt=True)
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        fh.close()
        response = HttpResponseNotModified()
        response["ETag"] = etag
        return response

    byte_range = None
    range_header = request.headers.get("Range", "")
    if range_header and _if_range_holds(request.headers.get("If-Range", ""), etag=etag, modified=modified):
        try:
            byte_range = parse_range(range_header, size)
        except Unsatisfiable:
            fh.close()
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            response["Accept-Ranges"] = "bytes"
            return response

    if byte_range is None:
        start, length, status = 0, size, 200
    else:
        start, length, status = byte_range[0], byte_range[1] - byte_range[0] + 1, 206
    response = StreamingHttpResponse(_pieces(fh, start, length), status=status, content_type=content_type)
    response["Content-Length"] = str(length)
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{start + length - 1}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["Last-Modified"] = last_modified
    return response


def _if_range_holds(value: str, *, etag: str, modified: float) -> bool:
    """No If-Range, or one that still names this file (its strong ETag or an HTTP date not before its change)."""
    value = value.strip()
    if not value:
        return True
    if value.startswith(('"', "W/")):
        return value == etag
    since = parse_http_date_safe(value)
    return since is not None and int(modified) <= since


def _pieces(fh, start: int, length: int):
    """The file's bytes from ``start``, ``length`` of them, one piece at a time; closes the file."""
    try:
        fh.seek(start)
        remaining = length
        while remaining > 0:
            piece = fh.read(min(PIECE, remaining))
            if not piece:
                break
            remaining -= len(piece)
            yield piece
    finally:
        fh.close()


urlpatterns = [
    path("<int:pk>/media/<str:which>", media_file, name="media_file"),
]
