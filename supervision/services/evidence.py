"""Evidence: upload (validated, stored under server names), processing by the worker, deletion.

An upload is checked in the request only as far as it must be to refuse bad input with a
clear message (size, type by magic bytes, pixel limit, damaged image); the thumbnail, the
clean copy that is served, the metadata and the fingerprint are made by the worker
(``evidence_process``), so the page shows 处理中 until then. A broker that is down delays
processing, never fails an upload: ``evidence_process_stale`` picks up what was left.

Files live in the private ``evidence`` storage under names the server makes up:
``originals/``, ``files/`` (served) and ``thumbnails/``, then ``YYYY/MM/<uuid hex><ext>``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import logging
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from meetings.models import Meeting
from org.clock import mine_tz

from .. import imaging, photocopies
from ..models import Evidence, Finding, Rectification, SupervisionPolicy, evidence_storage
from . import integrity

logger = logging.getLogger(__name__)

LOCKED_MESSAGE = "该会议记录已提交或已审核通过（或已取消），已锁定，不能再上传或删除材料。"
VERIFIED_MESSAGE = "该整改已验收通过，不能再上传或删除材料。"
SUBMITTED_MESSAGE = "整改情况已提交，正在等待督导组验收，不能再上传或删除材料。"
DUPLICATE_MESSAGE = "该文件已上传过，已跳过（未重复保存）。"
DUPLICATE_IN_BATCH_MESSAGE = "与本次选择的另一个文件内容相同，已跳过。"
EMPTY_MESSAGE = "文件为空。"
PROCESSING_FAILED_MESSAGE = "文件已损坏或格式无法识别，处理失败。请检查后重新上传。"
ORIGINAL_MISSING_MESSAGE = "原始文件丢失，无法处理，请重新上传。"

# A row still 处理中 and never claimed this long after its upload lost its task (broker down).
STALE_AFTER = dt.timedelta(minutes=5)
# A claimed row whose worker has not renewed the claim for this long is presumed dead (kill -9,
# a lost machine) and may be claimed again. A live worker renews every third of it; the
# sweep (EVIDENCE_SWEEP_SECONDS) picks the row up after at most lease + sweep interval.
LEASE = dt.timedelta(seconds=settings.EVIDENCE_LEASE_SECONDS)
SWEEP_BATCH = 50
CHUNK = 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class UploadResult:
    saved: list[Evidence] = field(default_factory=list)
    # (file name as the user chose it, why it was refused or skipped)
    rejected: list[tuple[str, str]] = field(default_factory=list)


def size_message(category: str, limit: int) -> str:
    label = Evidence.Category(category).label
    return _("文件过大：「{label}」单个文件不能超过 {value} MB。").format(label=label, value=limit // (1024 * 1024))


# --- Owners and their locks --------------------------------------------------------------


def _owner_filter(*, meeting, finding, rectification) -> dict:
    owners = {"meeting": meeting, "finding": finding, "rectification": rectification}
    given = {k: v for k, v in owners.items() if v is not None}
    if len(given) != 1:
        raise ValueError("evidence belongs to exactly one meeting, finding or rectification")
    return given


def ensure_owner_editable(*, meeting=None, finding=None, rectification=None) -> None:
    """Refuse changes to the evidence of a locked record (submitted, approved, cancelled) or verified rectification."""
    if meeting is not None and meeting.is_locked:
        raise ValidationError(LOCKED_MESSAGE, code="locked")
    if rectification is not None and rectification.status == Rectification.Status.VERIFIED:
        raise ValidationError(VERIFIED_MESSAGE, code="locked")
    if rectification is not None and rectification.status == Rectification.Status.SUBMITTED:
        # The supervisor is verifying what was sent; a rejection reopens it for changes.
        raise ValidationError(SUBMITTED_MESSAGE, code="locked")


def _lock_owner(owner: dict):
    """Re-read the owner row under a lock: a record submitted meanwhile must not gain files."""
    ((key, obj),) = owner.items()
    model = {"meeting": Meeting, "finding": Finding, "rectification": Rectification}[key]
    fresh = model.objects.select_for_update().get(pk=obj.pk)
    ensure_owner_editable(**{key: fresh})
    return fresh


# --- Upload ------------------------------------------------------------------------------


@dataclass
class _Candidate:
    upload: object
    name: str
    size: int
    sha256: str
    sniffed: imaging.Sniffed
    stored: str = ""


def _storage_name(folder: str, now: dt.datetime, stem: str, extension: str) -> str:
    local = timezone.localtime(now)
    return f"{folder}/{local:%Y/%m}/{stem}{extension}"


def _digest(upload) -> tuple[str, int]:
    """SHA-256 and length, read in chunks from the uploaded file (a temporary file on disk for large uploads)."""
    h = hashlib.sha256()
    size = 0
    upload.seek(0)
    for chunk in upload.chunks(CHUNK):
        h.update(chunk)
        size += len(chunk)
    upload.seek(0)
    return h.hexdigest(), size


def _display_name(upload) -> str:
    name = PurePosixPath(str(getattr(upload, "name", "") or "file")).name or "file"
    return name[-255:]


def _check(upload, *, category: str, policy: SupervisionPolicy) -> _Candidate | str:
    """The file's candidate row, or why it is refused."""
    limit = policy.max_bytes(category)
    if upload.size is not None and upload.size > limit:
        return size_message(category, limit)
    if not upload.size:
        return EMPTY_MESSAGE
    upload.seek(0)
    try:
        sniffed = imaging.check_upload(upload, category=category, max_pixels=policy.max_image_pixels)
    except imaging.UploadRejected as rejected:
        return rejected.message
    digest, size = _digest(upload)
    if size > limit:
        return size_message(category, limit)
    return _Candidate(upload=upload, name=_display_name(upload), size=size, sha256=digest, sniffed=sniffed)


def evidence_rejections(*, files: Iterable, category: str) -> list[tuple[str, str]]:
    """The files an upload of ``category`` would refuse, by name and reason, without storing anything.

    For callers that must refuse a whole change when any file is bad (a finding with its
    evidence): check first, so that no file is stored by a transaction that then rolls back.
    """
    policy = SupervisionPolicy.current()
    rejected = []
    for upload in files:
        checked = _check(upload, category=category, policy=policy)
        if isinstance(checked, str):
            rejected.append((_display_name(upload), checked))
    return rejected


def checked_uploads(*, files: Iterable, category: str) -> list[tuple[object, imaging.Sniffed, str, int]]:
    """Each file checked as evidence of ``category`` is (size limit, type by content, pixels,
    damage), with its SHA-256 and size: ``(upload, sniffed, sha256, size)``.

    For callers that store all or nothing (a task report, a 攻关 project's outcome): the whole
    batch is refused, each bad file named with its reason, before anything is stored.
    """
    policy = SupervisionPolicy.current()
    checked, refused = [], []
    for upload in files:
        candidate = _check(upload, category=category, policy=policy)
        if isinstance(candidate, str):
            refused.append(f"{_display_name(upload)}：{candidate}")
            continue
        upload.seek(0)
        checked.append((upload, candidate.sniffed, candidate.sha256, candidate.size))
    if refused:
        raise ValidationError({"files": refused})
    return checked


def evidence_upload(
    *,
    files: Iterable,
    category: str,
    user,
    now: dt.datetime,
    meeting: Meeting | None = None,
    finding: Finding | None = None,
    rectification: Rectification | None = None,
) -> UploadResult:
    """Store several files as evidence of one owner; refuse the bad ones by name, keep the good ones.

    Each file is checked (size limit of ``category``, type by magic bytes, pixel limit,
    damage), stored under a server name and recorded 处理中; the worker takes it from there.
    The same bytes already attached to the owner are skipped (a double submit), as are
    repeats inside one batch. Raises ``ValidationError`` if the owner is locked.
    """
    if category not in Evidence.Category.values:
        raise ValidationError(_("请选择材料类别。"), code="category")
    owner = _owner_filter(meeting=meeting, finding=finding, rectification=rectification)
    ensure_owner_editable(**owner)
    policy = SupervisionPolicy.current()
    result = UploadResult()

    candidates: list[_Candidate] = []
    seen: set[str] = set()
    for upload in files:
        checked = _check(upload, category=category, policy=policy)
        if isinstance(checked, str):
            result.rejected.append((_display_name(upload), checked))
        elif checked.sha256 in seen:
            result.rejected.append((checked.name, DUPLICATE_IN_BATCH_MESSAGE))
        else:
            seen.add(checked.sha256)
            candidates.append(checked)
    if not candidates:
        return result

    storage = evidence_storage()
    # Stored before the transaction so the owner's row is locked only for the few inserts;
    # whatever does not end up in a committed row is deleted again below.
    try:
        for c in candidates:
            name = _storage_name("originals", now, uuid.uuid4().hex, c.sniffed.extension)
            c.upload.seek(0)
            c.stored = storage.save(name, c.upload)
        with transaction.atomic():
            _lock_owner(owner)
            existing = set(
                Evidence.objects.filter(**owner, sha256__in=[c.sha256 for c in candidates]).values_list(
                    "sha256", flat=True
                )
            )
            for c in candidates:
                if c.sha256 in existing:
                    result.rejected.append((c.name, DUPLICATE_MESSAGE))
                    continue
                ev = Evidence(
                    **owner,
                    category=category,
                    kind=c.sniffed.kind,
                    content_type=c.sniffed.content_type,
                    original_name=c.name,
                    size=c.size,
                    sha256=c.sha256,
                    original=c.stored,
                    status=Evidence.Status.PROCESSING,
                    uploaded_by=user,
                    uploaded_at=now,
                )
                # Owners and uploader are already loaded; validating them would cost a query each.
                ev.full_clean(
                    exclude=["meeting", "finding", "rectification", "uploaded_by"],
                    validate_unique=False,
                    validate_constraints=False,
                )
                ev.save()
                result.saved.append(ev)
                transaction.on_commit(partial(_enqueue_processing, ev.pk))
    except BaseException:
        _delete_files(c.stored for c in candidates if c.stored)
        raise
    kept = {ev.original.name for ev in result.saved}
    _delete_files(c.stored for c in candidates if c.stored and c.stored not in kept)
    return result


def _enqueue_processing(evidence_id: int) -> None:
    """Hand the row to the worker; a broker that is down leaves it to the sweep instead of failing the upload."""
    from ..tasks import process_evidence  # the tasks module imports this one

    try:
        process_evidence.delay(evidence_id)
    except Exception:
        logger.warning("could not enqueue processing of evidence %s; the sweep will pick it up", evidence_id)


# --- Processing (the worker) -------------------------------------------------------------


def _claim(evidence_id: int, now: dt.datetime) -> dt.datetime | None:
    """Take the row for processing unless another worker holds an unexpired lease on it.

    Returns the lease's expiry, which is also this claim's token: a renewal and the
    finish only touch the row while ``lease_expires_at`` still holds it. A lease that
    ran out (its worker was killed, or hangs) may be taken by anyone, at ``now`` equal to
    the expiry included: a redelivered task or the sweep.
    """
    held_until = now + LEASE
    claimed = (
        Evidence.objects.filter(pk=evidence_id, status=Evidence.Status.PROCESSING)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now))
        .update(lease_expires_at=held_until)
    )
    return held_until if claimed else None


def evidence_lease_renew(*, evidence_id: int, held_until: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """Extend this worker's claim by another ``LEASE`` from ``now``; None if the claim is no longer its own."""
    renewed = now + LEASE
    changed = Evidence.objects.filter(
        pk=evidence_id, status=Evidence.Status.PROCESSING, lease_expires_at=held_until
    ).update(lease_expires_at=renewed)
    return renewed if changed else None


class _LeaseKeeper:
    """Renews a claim every third of the lease while a long job (a video, a huge photo) runs.

    A thread of its own, so that the renewal does not depend on where the decoders spend
    their time; it uses its own database connection and closes it when it stops. A worker
    killed with SIGKILL takes the thread with it, and the lease then runs out.
    """

    def __init__(self, evidence_id: int, held_until: dt.datetime, clock: Callable[[], dt.datetime]):
        self.evidence_id = evidence_id
        self.held_until: dt.datetime | None = held_until
        self._clock = clock
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"evidence-lease-{evidence_id}", daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.wait(LEASE.total_seconds() / 3):
                with self._lock:
                    if self._stop.is_set() or self.held_until is None:
                        return
                    self.held_until = evidence_lease_renew(
                        evidence_id=self.evidence_id, held_until=self.held_until, now=self._clock()
                    )
        except Exception:
            logger.exception("could not renew the lease of evidence %s", self.evidence_id)
        finally:
            connection.close()

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def stop(self) -> dt.datetime | None:
        """Stop renewing; the claim's token as it stands now (None if it was lost)."""
        with self._lock:
            self._stop.set()
        self._thread.join()
        return self.held_until

    def __exit__(self, *exc) -> None:
        self.stop()


@contextlib.contextmanager
def _local_original(storage, name: str) -> Iterator:
    """The original as a seekable local file: the stored file itself on disk, a temporary copy from S3."""
    try:
        path = storage.path(name)
    except NotImplementedError:
        path = None
    if path is not None:
        with open(path, "rb") as f:
            yield f
        return
    with storage.open(name, "rb") as src, tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR) as tmp:
        shutil.copyfileobj(src, tmp, CHUNK)
        tmp.seek(0)
        yield tmp


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or timezone.is_aware(value):
        return value
    # EXIF times carry no zone; cameras at the mine are set to local time.
    return value.replace(tzinfo=mine_tz())


def _coordinate(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.000001"))


@dataclass
class _Outcome:
    """What the decoders made of a file: the row's new field values and the files still to store."""

    fields: dict = field(default_factory=dict)
    # field name -> (folder, extension, content to store)
    files: dict[str, tuple[str, str, File]] = field(default_factory=dict)
    phash: int | None = None
    views: list[int] = field(default_factory=list)


def _image_outcome(src, policy: SupervisionPolicy) -> _Outcome:
    src.seek(0)
    summary = imaging.photo_summary(src, max_pixels=policy.max_image_pixels)
    src.seek(0)
    clean = imaging.photo_clean_copy(src, max_pixels=policy.max_image_pixels)
    lat, lon = summary.gps if summary.gps else (None, None)
    return _Outcome(
        fields={
            "width": summary.width,
            "height": summary.height,
            "captured_at": _aware(summary.captured_at),
            "gps_latitude": _coordinate(lat),
            "gps_longitude": _coordinate(lon),
            "camera": (summary.camera or "")[:100],
        },
        files={
            # JPEG, or PNG where the picture has transparency.
            "file": ("files", ".png" if clean.startswith(PNG_SIGNATURE) else ".jpg", ContentFile(clean)),
            "thumbnail": ("thumbnails", ".jpg", ContentFile(summary.thumbnail)),
        },
        phash=summary.phash,
        views=photocopies.copy_hashes(Image.open(io.BytesIO(summary.thumbnail))),
    )


def _video_outcome(src, extension: str, scratch: contextlib.ExitStack) -> _Outcome:
    src.seek(0)
    info = imaging.probe_video(src)
    src.seek(0)
    # Closed (and so removed) by the caller's ExitStack once the copy is stored.
    tmp = scratch.enter_context(tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR))  # noqa: SIM115
    imaging.video_clean_copy(src, tmp)
    tmp.seek(0)
    duration = info.duration_seconds
    return _Outcome(
        fields={"duration_seconds": None if duration is None else Decimal(str(duration)).quantize(Decimal("0.01"))},
        files={"file": ("files", extension, File(tmp))},
    )


def _store(outcome: _Outcome, *, stem: str, now: dt.datetime, new_files: list[str], prefix: str = "") -> None:
    storage = evidence_storage()
    for field_name, (folder, extension, content) in outcome.files.items():
        name = storage.save(_storage_name(f"{prefix}{folder}", now, stem, extension), content)
        new_files.append(name)
        outcome.fields[field_name] = name


class ProcessingFailed(Exception):
    """A file the worker cannot make a clean copy of; ``message`` is the Chinese text shown on the page."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def store_clean_copies(
    *, original_name: str, kind: str, now: dt.datetime, new_files: list[str], prefix: str = "", label: str = ""
) -> _Outcome:
    """Make and store the served copy (re-encoded, no metadata) and thumbnail of one stored original.

    The one processing pipeline: meeting evidence and task report files both call it. ``kind``
    is an ``Evidence.Kind`` (a PDF is served as uploaded: checked at upload, it carries no
    camera position). The names of the files stored are appended to ``new_files`` as they are
    written, so that the caller can delete them if its finish fails. A damaged file raises
    ``ProcessingFailed`` with a Chinese message; storage and database errors propagate.
    """
    policy = SupervisionPolicy.current()
    original = PurePosixPath(original_name)
    with contextlib.ExitStack() as scratch:
        try:
            src = scratch.enter_context(_local_original(evidence_storage(), original_name))
        except FileNotFoundError as missing:
            raise ProcessingFailed(ORIGINAL_MISSING_MESSAGE) from missing
        try:
            if kind == Evidence.Kind.IMAGE:
                outcome = _image_outcome(src, policy)
            elif kind == Evidence.Kind.VIDEO:
                outcome = _video_outcome(src, original.suffix, scratch)
            else:
                outcome = _Outcome(fields={"file": original_name})
        except imaging.UploadRejected as rejected:
            raise ProcessingFailed(rejected.message) from rejected
        except Exception as error:
            # Decoders raise many kinds of errors on damaged input; storage is not touched in here.
            logger.warning("%s could not be processed", label or original_name, exc_info=True)
            raise ProcessingFailed(PROCESSING_FAILED_MESSAGE) from error
        _store(outcome, stem=original.stem, now=now, new_files=new_files, prefix=prefix)
    return outcome


def evidence_process(*, evidence_id: int, now: dt.datetime, clock: Callable[[], dt.datetime] | None = None) -> bool:
    """Make the served copy, thumbnail and metadata of one upload; True if this call did it.

    Idempotent and safe to run twice at once: a row is claimed with a conditional update
    (a lease of ``LEASE``) and finished only if this worker still holds the claim. With a
    ``clock`` (the worker passes ``timezone.now``) the lease is renewed while the job runs,
    so only a dead or hung worker loses its row. A file found damaged only now turns 处理失败
    with a message; any other error (storage, database) propagates and leaves the lease to
    expire, so that the sweep tries again.
    """
    held_until = _claim(evidence_id, now)
    if held_until is None:
        return False
    ev = Evidence.objects.filter(pk=evidence_id).first()
    if ev is None:  # deleted since the claim
        return False
    if clock is None:
        return _process_claimed(ev, now=now, held_until=held_until, finished=lambda: now)
    keeper = _LeaseKeeper(evidence_id, held_until, clock)
    with keeper:
        return _process_claimed(ev, now=now, held_until=held_until, finished=clock, keeper=keeper)


def _process_claimed(ev: Evidence, *, now, held_until, finished, keeper: _LeaseKeeper | None = None) -> bool:
    def token() -> dt.datetime | None:
        # The keeper is stopped first, so the token it holds cannot change under the finish.
        return held_until if keeper is None else keeper.stop()

    new_files: list[str] = []
    try:
        try:
            outcome = store_clean_copies(
                original_name=ev.original.name, kind=ev.kind, now=now, new_files=new_files, label=f"evidence {ev.pk}"
            )
        except ProcessingFailed as failed:
            return _finish_failed(ev, held_until=token(), at=finished(), error=failed.message)
        done = _finish_ready(ev, held_until=token(), at=finished(), outcome=outcome)
    except BaseException:
        _delete_files(new_files)
        raise
    if not done:
        _delete_files(new_files)
    return done


def _locked_claimed(evidence_id: int, held_until: dt.datetime | None) -> Evidence | None:
    """The row, locked, if it is still 处理中 under this worker's claim (not deleted, not reclaimed)."""
    if held_until is None:  # the keeper found the claim taken over
        return None
    return (
        Evidence.objects.select_for_update(of=("self",))
        .select_related("meeting")
        .filter(pk=evidence_id, status=Evidence.Status.PROCESSING, lease_expires_at=held_until)
        .first()
    )


@transaction.atomic
def _finish_ready(ev: Evidence, *, held_until: dt.datetime | None, at: dt.datetime, outcome: _Outcome) -> bool:
    fresh = _locked_claimed(ev.pk, held_until)
    if fresh is None:
        return False
    for name, value in outcome.fields.items():
        setattr(fresh, name, value)
    fresh.status = Evidence.Status.READY
    fresh.error = ""
    fresh.processed_at = at
    fresh.lease_expires_at = None
    fresh.save(update_fields=[*outcome.fields, "status", "error", "processed_at", "lease_expires_at"])
    if fresh.meeting_id is not None and fresh.kind == Evidence.Kind.IMAGE:
        # In the same transaction: a photo is 可用 only once it is indexed and checked.
        integrity.fingerprint_store(evidence=fresh, phash=outcome.phash, views=outcome.views)
        integrity.evidence_checks(evidence=fresh, now=at)
    return True


@transaction.atomic
def _finish_failed(ev: Evidence, *, held_until: dt.datetime | None, at: dt.datetime, error: str) -> bool:
    fresh = _locked_claimed(ev.pk, held_until)
    if fresh is None:
        return False
    fresh.status = Evidence.Status.FAILED
    fresh.error = error[:300]
    fresh.processed_at = at
    fresh.lease_expires_at = None
    fresh.save(update_fields=["status", "error", "processed_at", "lease_expires_at"])
    return True


def evidence_stale_filter(*, now: dt.datetime) -> Q:
    """Rows 处理中 that nobody is working on: a lease that ran out, or never claimed this long after upload."""
    return Q(status=Evidence.Status.PROCESSING) & (
        Q(lease_expires_at__lte=now) | Q(lease_expires_at__isnull=True, uploaded_at__lt=now - STALE_AFTER)
    )


def evidence_process_stale(*, now: dt.datetime, clock: Callable[[], dt.datetime] | None = None) -> int:
    """Process uploads left 处理中 (task lost, worker killed); returns how many this sweep finished.

    It processes them itself rather than queueing tasks again: a row whose task is merely
    slow in the queue would otherwise gain a second queued task every sweep.
    """
    ids = list(
        Evidence.objects.filter(evidence_stale_filter(now=now))
        .order_by("uploaded_at", "id")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    done = 0
    for evidence_id in ids:
        try:
            done += evidence_process(evidence_id=evidence_id, now=clock() if clock else now, clock=clock)
        except Exception:
            # One row whose storage fails must not stop the others; its claim expires and it is tried again.
            logger.exception("sweep could not process evidence %s", evidence_id)
    return done


# --- Deletion ----------------------------------------------------------------------------


@transaction.atomic
def evidence_delete(*, evidence: Evidence, user, now: dt.datetime) -> None:
    """Delete one file of an editable record; its stored files go once the deletion is committed."""
    owner = {
        "meeting": evidence.meeting if evidence.meeting_id else None,
        "finding": evidence.finding if evidence.finding_id else None,
        "rectification": evidence.rectification if evidence.rectification_id else None,
    }
    _lock_owner({k: v for k, v in owner.items() if v is not None})
    evidence.delete()


def _delete_files(names: Iterable[str]) -> None:
    storage = evidence_storage()
    for name in dict.fromkeys(n for n in names if n):
        try:
            storage.delete(name)
        except Exception:
            logger.exception("could not delete evidence file %s", name)


# Public for the other users of ``store_clean_copies`` (task report files).
delete_stored_files = _delete_files


@receiver(post_delete, sender=Evidence, dispatch_uid="supervision_evidence_delete_files")
def _delete_files_of_deleted_row(sender, instance: Evidence, **kwargs) -> None:
    """Whatever deletes a row (the service, a cascade from its meeting, the admin), its files follow on commit."""
    names = [instance.original.name, instance.file.name, instance.thumbnail.name]
    transaction.on_commit(partial(_delete_files, names))
