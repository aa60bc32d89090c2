"""Request-body guards for every upload: refuse an oversized body before reading it, and tell a
body the client cut off half-way from a complete one.

``UploadGuardMiddleware`` (placed before the CSRF middleware, which would parse the body) runs
before any view. For a request with a body it:

- compares the announced ``Content-Length`` with the view's limit (``@upload_limit``) or
  ``UPLOAD_DEFAULT_MAX_BYTES``, and answers 413 with a Chinese page without reading one byte;
- wraps a multipart body's stream so that, once the view has parsed it, ``body_is_complete``
  can say whether every announced byte arrived and the closing boundary was among them.

Django's multipart parser does not fail on a cut-off body: it quietly drops the file that was
being received and keeps the fields before it. A view that changes state because files came
with a form (a rectification answer) must call ``body_is_complete`` before acting.
"""

from __future__ import annotations

from collections.abc import Callable
from io import IOBase

from django.conf import settings
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

MEGABYTE = 1024 * 1024
# Room for the multipart boundaries, part headers and the small form fields of one request.
MULTIPART_OVERHEAD = MEGABYTE
_TAIL_BYTES = 256
_BODY_METHODS = ("POST", "PUT", "PATCH")

Limit = int | Callable[..., int]


def upload_limit(limit: Limit):
    """Mark a view as taking a request body of at most ``limit`` bytes (or ``limit(request)``).

    The attribute survives the usual decorators (``functools.wraps`` copies it), so the
    order among ``login_required`` and friends does not matter.
    """

    def decorator(view):
        view.upload_limit = limit
        return view

    return decorator


def content_length(request) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def _megabytes(n: int) -> str:
    return f"{n / MEGABYTE:.1f}".rstrip("0").rstrip(".")


def too_large_message(length: int, limit: int) -> str:
    return _("本次上传共 %(size)s MB，超过单次上传上限 %(limit)s MB，请分批上传或压缩后再传。") % {
        "size": _megabytes(length),
        "limit": _megabytes(limit),
    }


INCOMPLETE_MESSAGE = "上传未完成（网络中断或文件未传完），本次提交未生效，请重新选择文件后再提交。"


class _TailStream(IOBase):
    """The request's body stream, counting what was read and keeping its last bytes."""

    def __init__(self, stream):
        self._stream = stream
        self.read_bytes = 0
        self.tail = b""

    def _seen(self, data: bytes) -> bytes:
        self.read_bytes += len(data)
        self.tail = (self.tail + data)[-_TAIL_BYTES:]
        return data

    def read(self, size=-1, /):
        return self._seen(self._stream.read(size))

    def readline(self, size=-1, /):
        return self._seen(self._stream.readline(size))


def _boundary(request) -> bytes | None:
    content_type = request.META.get("CONTENT_TYPE", "")
    if not content_type.startswith("multipart/"):
        return None
    for part in content_type.split(";")[1:]:
        key, _sep, value = part.strip().partition("=")
        if key.lower() == "boundary":
            return value.strip('"').encode("ascii", "replace")
    return None


def body_is_complete(request) -> bool:
    """After the body was parsed: every announced byte arrived and the multipart body was closed.

    True for a request whose body was not wrapped (no body, not multipart).
    """
    stream = getattr(request, "_stream", None)
    if not isinstance(stream, _TailStream):
        return True
    length = content_length(request) or 0
    boundary = _boundary(request)
    if stream.read_bytes < length:
        return False
    return boundary is None or b"--" + boundary + b"--" in stream.tail


def _back_url(request) -> str:
    referer = request.META.get("HTTP_REFERER", "")
    if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return referer
    return "/"


def too_large_response(request, *, length: int, limit: int):
    message = too_large_message(length, limit)
    return render(request, "upload_refused.html", {"message": message, "back_url": _back_url(request)}, status=413)


class UploadGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method not in _BODY_METHODS:
            return None
        limit = getattr(view_func, "upload_limit", None)
        if limit is None:
            limit = settings.UPLOAD_DEFAULT_MAX_BYTES
        elif callable(limit):
            limit = limit(request)
        length = content_length(request)
        if length is not None and length > limit:
            # Nothing of the body has been read: the client is told now, not after sending it all.
            request.upload_refused = True
            return too_large_response(request, length=length, limit=limit)
        stream = getattr(request, "_stream", None)
        if stream is not None and _boundary(request) is not None:
            request._stream = _TailStream(stream)
        return None
