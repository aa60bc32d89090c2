"""Size limits of evidence uploads, enforced while the request body streams in.

Django parses a multipart body into temporary files on disk (``FILE_UPLOAD_MAX_MEMORY_SIZE``
is small), so memory stays flat whatever the size; what must not happen is a 5 GB body
being written to disk before anyone looks at it. Two guards run before the service's exact
per-category check:

- the request's ``Content-Length`` against ``request_limit``, by ``org.uploads``'s middleware
  for every view marked ``@upload_limit(evidence_request_limit)`` (refused before one byte is read);
- ``SizeLimitHandler``, first in the chain of upload handlers, which skips (``SkipFile``) a
  file as soon as it has grown past the largest per-file limit of any category and notes its
  name, so the other files of the same request are kept.

The view must install the handler before ``request.POST``/``FILES`` is read, hence
``csrf_exempt`` outside and ``csrf_protect`` inside (Django's documented pattern).
"""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler, SkipFile

from org.uploads import MULTIPART_OVERHEAD

from .models import Evidence, SupervisionPolicy


def largest_file_limit(policy: SupervisionPolicy) -> int:
    """The per-file limit of the most generous category: no single file may be larger."""
    return max(policy.max_bytes(category) for category in Evidence.Category.values)


def request_limit(policy: SupervisionPolicy) -> int:
    """The largest request body accepted: one file of the largest category, or several smaller ones."""
    return largest_file_limit(policy) + MULTIPART_OVERHEAD


def evidence_request_limit(request) -> int:
    """``@upload_limit`` of every view that takes evidence files (meetings, findings, answers)."""
    return request_limit(SupervisionPolicy.current())


class SizeLimitHandler(FileUploadHandler):
    """Counts each file's bytes as they arrive and skips a file that passes ``limit``.

    It stores nothing itself: it passes every chunk on to the next handler (the temporary
    file handler), so the count costs no memory. Skipped names are kept on the request as
    ``evidence_oversized`` for the view to report.
    """

    def __init__(self, request, *, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        request.evidence_oversized = []

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.request.evidence_oversized.append(self.file_name)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        # The next handler in the chain builds the uploaded file.
        return None
