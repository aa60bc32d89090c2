"""The file of a study item: the upload (type by content, size limits), the worker's processing
(duration, poster frame, a phone-playable MP4 or M4A) and what the player is given.

* ``attach_upload`` runs in the request: it decides the type by the file's bytes (reusing the
  evidence pipeline's ``supervision.imaging.check_upload``, which also knows audio and Office
  files when asked), runs ``ffprobe`` on a video or audio so that a truncated file or "a video
  that is not a video" is refused before anything is stored, streams the file to the private
  ``evidence_storage`` under ``study/`` and hands the row to the worker on commit.
* ``media_process`` runs in the worker (``study.tasks.process_study_media``): it claims the row with
  a conditional update (待处理 → 处理中), reads the duration, grabs a poster frame and, unless the
  upload already is H.264 + AAC in MP4, transcodes it (``TRANSCODE_MAX_HEIGHT``). A failure keeps
  the original and records 处理失败 with the reason. An image document goes through the evidence
  pipeline instead (``store_clean_copies``): the copy served has no EXIF (no GPS); until it is
  made the image is 处理中 and not served.

Size limits are settings (``STUDY_MAX_MB``, from the environment ``STUDY_VIDEO_MAX_MB``,
``STUDY_AUDIO_MAX_MB``, ``STUDY_DOCUMENT_MAX_MB``), not StudyPolicy: they bound the web server's
disk and the proxy's body size, which an admin screen cannot change.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from supervision import imaging
from supervision.models import Evidence, SupervisionPolicy, evidence_storage
from supervision.services.evidence import ProcessingFailed, store_clean_copies

from .models import StudyItem, StudyMedia

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024
FOLDER = "study"
# What each kind of item takes (imaging kinds). An audio may come in an MP4 container whose
# major brand says video (phones write "isom"/"mp42" for .m4a); ffprobe then finds no picture.
ITEM_KINDS = {
    StudyItem.Kind.VIDEO: (imaging.VIDEO,),
    StudyItem.Kind.AUDIO: (imaging.AUDIO, imaging.VIDEO),
    StudyItem.Kind.DOCUMENT: (imaging.PDF, imaging.IMAGE, imaging.OFFICE),
}
# A transcode is at most 720p (the long side of a portrait phone video is its height after rotation,
# so the cap applies to the shorter side): phones play it smoothly and a 12-minute lesson stays ~100 MB.
TRANSCODE_MAX_HEIGHT = 720
POSTER_MAX_HEIGHT = 720
FFPROBE_TIMEOUT = 60
POSTER_TIMEOUT = 60
TRANSCODE_TIMEOUT = 3 * 3600

NOT_UPLOADABLE_MESSAGE = "只有文档、视频、音频类资料可以上传文件（图文资料请直接在正文中编写）。"
PUBLISHED_MESSAGE = "资料已发布，不能更换文件；请先撤回再更换。"
EMPTY_MESSAGE = "文件是空的，请重新选择文件。"
TRUNCATED_MESSAGE = "文件不完整或已损坏，读不出时长，请重新导出后上传。"
NO_VIDEO_MESSAGE = "文件中没有视频画面，不是有效的视频；音频请按“音频”类资料上传。"
NO_AUDIO_MESSAGE = "文件中没有音频，不是有效的音频文件。"
NO_FFMPEG_MESSAGE = "服务器未安装 ffmpeg，暂时无法检查和处理音视频文件，请联系管理员。"


def max_bytes(kind: str) -> int:
    """The per-file limit of an item kind, in bytes (settings.STUDY_MAX_MB)."""
    return int(settings.STUDY_MAX_MB[kind]) * 1024 * 1024


def request_limit(request) -> int:
    """``@upload_limit`` of the views that take a study file: the largest kind plus the form around it."""
    from org.uploads import MULTIPART_OVERHEAD

    return max(max_bytes(kind) for kind in ITEM_KINDS) + MULTIPART_OVERHEAD


def size_message(kind: str) -> str:
    return _("文件超过 %(mb)s MB 的上限，请压缩后再上传。") % {"mb": settings.STUDY_MAX_MB[kind]}


# --- ffprobe / ffmpeg ----------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """What ffprobe reads from a file: container, first video/audio stream codecs, picture size, duration."""

    format_name: str
    duration: float | None
    video_codec: str | None
    audio_codec: str | None
    width: int | None
    height: int | None
    pixel_format: str | None

    @property
    def phone_playable(self) -> bool:
        """H.264 (8-bit 4:2:0) video, AAC audio or none, in MP4: what every phone browser plays as is."""
        return (
            "mp4" in self.format_name.split(",")
            and self.video_codec == "h264"
            and self.pixel_format in ("yuv420p", "yuvj420p")
            and self.audio_codec in ("aac", None)
        )


def ffmpeg_available() -> bool:
    return bool(shutil.which("ffprobe") and shutil.which("ffmpeg"))


def run_tool(tool: str, args: list[str], *, timeout: int) -> subprocess.CompletedProcess:
    """Runs ffmpeg or ffprobe (found on PATH) with a fixed argument list, no shell; may raise TimeoutExpired."""
    executable = shutil.which(tool)
    if executable is None:
        raise MediaFailed(_(NO_FFMPEG_MESSAGE))
    return subprocess.run([executable, *args], capture_output=True, timeout=timeout, check=False)  # noqa: S603


PROBE_ENTRIES = "format=format_name,duration:stream=codec_type,codec_name,width,height,pix_fmt,duration"


def ffprobe(path: str) -> Probe | None:
    """The file's streams and duration, or None when ffprobe cannot read it (not media, damaged)."""
    try:
        run = run_tool(
            "ffprobe", ["-v", "error", "-print_format", "json", "-show_entries", PROBE_ENTRIES, path],
            timeout=FFPROBE_TIMEOUT,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return None
    if run.returncode != 0:
        return None
    try:
        data = json.loads(run.stdout or b"{}")
    except ValueError:
        return None
    streams = data.get("streams") or []
    fmt = data.get("format") or {}
    if not fmt.get("format_name"):
        return None
    video = next((s for s in streams if s.get("codec_type") == "video" and s.get("codec_name") not in _STILLS), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    duration = _seconds(fmt.get("duration"))
    if duration is None:
        duration = max((d for s in streams if (d := _seconds(s.get("duration"))) is not None), default=None)
    return Probe(
        format_name=fmt["format_name"],
        duration=duration,
        video_codec=video and video.get("codec_name"),
        audio_codec=audio and audio.get("codec_name"),
        width=video and video.get("width"),
        height=video and video.get("height"),
        pixel_format=video and video.get("pix_fmt"),
    )


# Cover art inside an MP3/M4A is a "video" stream of one picture; it does not make a video.
_STILLS = {"mjpeg", "png", "bmp", "gif", "webp"}


def _seconds(value) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 and seconds == seconds and seconds != float("inf") else None


@contextlib.contextmanager
def _local_path(upload) -> Iterator[str]:
    """A path on disk with the upload's bytes: its temporary file when Django made one, else a copy."""
    path = getattr(upload, "temporary_file_path", None)
    if path is not None:
        upload.seek(0)
        yield path()
        return
    with tempfile.NamedTemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR, suffix=".upload") as tmp:
        upload.seek(0)
        for chunk in upload.chunks(CHUNK):
            tmp.write(chunk)
        tmp.flush()
        upload.seek(0)
        yield tmp.name


# --- Upload --------------------------------------------------------------------------------


@dataclass
class _Checked:
    sniffed: imaging.Sniffed
    size: int
    sha256: str
    extension: str
    probe: Probe | None


def check_file(upload, *, kind: str) -> _Checked:
    """The checked upload for an item of ``kind``, or ValidationError with the reason (in Chinese)."""
    if kind not in ITEM_KINDS:
        raise ValidationError(_(NOT_UPLOADABLE_MESSAGE), code="kind")
    limit = max_bytes(kind)
    if upload.size is not None and upload.size > limit:
        raise ValidationError(size_message(kind), code="size")
    if not upload.size:
        raise ValidationError(_(EMPTY_MESSAGE), code="empty")
    try:
        sniffed = imaging.check_upload(
            upload, kinds=ITEM_KINDS[kind], max_pixels=SupervisionPolicy.current().max_image_pixels
        )
    except imaging.UploadRejected as rejected:
        raise ValidationError(rejected.message, code="type") from rejected
    digest, size = _digest(upload)
    if size > limit:
        raise ValidationError(size_message(kind), code="size")
    if not size:
        raise ValidationError(_(EMPTY_MESSAGE), code="empty")
    probe = None
    extension = sniffed.extension
    if kind in StudyItem.PLAYABLE_KINDS:
        if not ffmpeg_available():
            raise ValidationError(_(NO_FFMPEG_MESSAGE), code="ffmpeg")
        with _local_path(upload) as path:
            probe = ffprobe(path)
        if probe is None or probe.duration is None:
            raise ValidationError(_(TRUNCATED_MESSAGE), code="truncated")
        if kind == StudyItem.Kind.VIDEO and probe.video_codec is None:
            raise ValidationError(_(NO_VIDEO_MESSAGE), code="no_video")
        if kind == StudyItem.Kind.AUDIO:
            if probe.audio_codec is None:
                raise ValidationError(_(NO_AUDIO_MESSAGE), code="no_audio")
            if sniffed.kind == imaging.VIDEO:
                if probe.video_codec is not None:
                    raise ValidationError(_("文件是视频，请按“视频”类资料上传。"), code="is_video")
                extension = ".m4a" if sniffed.extension == ".mp4" else sniffed.extension
    return _Checked(sniffed=sniffed, size=size, sha256=digest, extension=extension, probe=probe)


def _digest(upload) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    upload.seek(0)
    for chunk in upload.chunks(CHUNK):
        h.update(chunk)
        size += len(chunk)
    upload.seek(0)
    return h.hexdigest(), size


def _storage_name(now: dt.datetime, part: str, extension: str, stem: str | None = None) -> str:
    local = timezone.localtime(now)
    return f"{FOLDER}/{part}/{local:%Y/%m}/{stem or uuid.uuid4().hex}{extension}"


def _display_name(upload) -> str:
    return PurePosixPath(str(getattr(upload, "name", "") or "file")).name[-200:]


def attach_upload(*, item: StudyItem, upload, user, now: dt.datetime) -> StudyMedia:
    """Store ``upload`` as the file of ``item`` (replacing an earlier one) and queue its processing.

    The caller has checked that ``user`` may edit the item. Refused with a Chinese
    ValidationError, nothing stored: an article or a published item, a file over the kind's
    limit, empty, of the wrong type by content, truncated (no duration), a video without a
    picture or an audio without sound. The same bytes as the current file change nothing
    (a second submit).
    """
    if item.state == StudyItem.State.PUBLISHED:
        raise ValidationError(_(PUBLISHED_MESSAGE), code="published")
    checked = check_file(upload, kind=item.kind)
    current = StudyMedia.objects.filter(item=item).first()
    if current is not None and current.sha256 == checked.sha256:
        return current
    storage = evidence_storage()
    upload.seek(0)
    stored = storage.save(_storage_name(now, "originals", checked.extension), upload)
    try:
        with transaction.atomic():
            # The item's row is the lock: two uploads to one item at once end with one media row.
            locked = StudyItem.objects.select_for_update().get(pk=item.pk)
            if locked.state == StudyItem.State.PUBLISHED:
                raise ValidationError(_(PUBLISHED_MESSAGE), code="published")
            media = StudyMedia.objects.filter(item=locked).first() or StudyMedia(item=locked)
            old_files = sorted({f.name for f in (media.original, media.playable, media.poster) if f})
            # A PDF or Office file is shown as uploaded; an image (a photo with EXIF, GPS included)
            # waits for the worker's copy without metadata, like meeting evidence.
            document = item.kind == StudyItem.Kind.DOCUMENT and checked.sniffed.kind != imaging.IMAGE
            media.original = stored
            media.original_name = _display_name(upload)
            media.content_type = checked.sniffed.content_type
            media.size = checked.size
            media.sha256 = checked.sha256
            media.playable = ""
            media.playable_size = 0
            media.poster = ""
            media.duration_seconds = checked.probe.duration if checked.probe else None
            media.status = StudyMedia.Status.READY if document else StudyMedia.Status.PENDING
            media.error = ""
            media.uploaded_at = now
            media.processed_at = now if document else None
            media.full_clean(exclude=["item"], validate_unique=False, validate_constraints=False)
            media.save()
            if old_files:
                transaction.on_commit(partial(_delete_files, old_files))
            if not document:
                transaction.on_commit(partial(_enqueue_processing, media.pk))
    except BaseException:
        _delete_files([stored])
        raise
    return media


def _delete_files(names) -> None:
    storage = evidence_storage()
    for name in names:
        try:
            storage.delete(name)
        except Exception:  # a file already gone is what we wanted
            logger.warning("could not delete study file %s", name)


def _enqueue_processing(media_id: int) -> None:
    """Hand the row to the worker; a broker that is down leaves it 待处理 for the sweep."""
    from .tasks import process_study_media  # the tasks module imports this one

    try:
        process_study_media.delay(media_id)
    except Exception:
        logger.warning("could not enqueue processing of study media %s; the sweep will pick it up", media_id)


# --- Processing (the worker) ---------------------------------------------------------------


def media_process(*, media_id: int, now: dt.datetime) -> bool:
    """Duration, poster and (if needed) a phone-playable copy of one upload; True if this call did it.

    Idempotent: only a 待处理 row is claimed (conditional update to 处理中), so a second run or a
    redelivered task does nothing.
    """
    claimed = StudyMedia.objects.filter(pk=media_id, status=StudyMedia.Status.PENDING).update(
        status=StudyMedia.Status.PROCESSING
    )
    if not claimed:
        return False
    media = StudyMedia.objects.select_related("item").get(pk=media_id)
    if media.item.kind == StudyItem.Kind.DOCUMENT:
        return _process_image_document(media, now=now)
    storage = evidence_storage()
    new_files: list[str] = []
    try:
        with tempfile.TemporaryDirectory(dir=settings.FILE_UPLOAD_TEMP_DIR) as scratch:
            src = _local_original(storage, media.original.name, scratch)
            fields = _process_file(media, src, scratch, now=now, storage=storage, new_files=new_files)
    except MediaFailed as failed:
        _delete_files(new_files)
        return _finish(media, now=now, status=StudyMedia.Status.FAILED, error=failed.reason)
    except Exception:
        _delete_files(new_files)
        logger.exception("processing study media %s failed", media_id)
        error = _("处理时出现意外错误，原文件已保留。")
        return _finish(media, now=now, status=StudyMedia.Status.FAILED, error=error)
    done = _finish(media, now=now, status=StudyMedia.Status.READY, **fields)
    if not done:
        _delete_files(new_files)
    return done


def _process_image_document(media: StudyMedia, *, now: dt.datetime) -> bool:
    """An image document's served copy (re-encoded, no EXIF) and thumbnail, by the evidence pipeline.

    ``playable`` holds the copy that is served (the original is kept and never served), ``poster``
    the thumbnail.
    """
    new_files: list[str] = []
    try:
        outcome = store_clean_copies(
            original_name=media.original.name,
            kind=Evidence.Kind.IMAGE,
            now=now,
            new_files=new_files,
            prefix=f"{FOLDER}/",
            label=f"study media {media.pk}",
        )
    except ProcessingFailed as failed:
        _delete_files(new_files)
        return _finish(media, now=now, status=StudyMedia.Status.FAILED, error=failed.message[:300])
    except BaseException:
        _delete_files(new_files)
        raise
    shown = outcome.fields["file"]
    done = _finish(
        media,
        now=now,
        status=StudyMedia.Status.READY,
        playable=shown,
        playable_size=evidence_storage().size(shown),
        poster=outcome.fields.get("thumbnail", ""),
        error="",
    )
    if not done:
        _delete_files(new_files)
    return done


class MediaFailed(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _finish(media: StudyMedia, *, now: dt.datetime, status: str, **fields) -> bool:
    """Write the outcome only while the row is still this run's: 处理中 and the same original file.

    A re-upload meanwhile (a new original, 待处理, perhaps already claimed by its own run) wins.
    """
    return bool(
        StudyMedia.objects.filter(
            pk=media.pk, status=StudyMedia.Status.PROCESSING, original=media.original.name
        ).update(status=status, processed_at=now, **fields)
    )


def _local_original(storage, name: str, scratch: str) -> str:
    """A local path of the original: the file itself on disk storage, else a copy in ``scratch``."""
    try:
        return storage.path(name)
    except NotImplementedError:
        local = os.path.join(scratch, "original" + Path(name).suffix)
        with storage.open(name, "rb") as src, open(local, "wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
        return local


def _process_file(media: StudyMedia, src: str, scratch: str, *, now, storage, new_files: list[str]) -> dict:
    if not ffmpeg_available():
        raise MediaFailed(_(NO_FFMPEG_MESSAGE))
    probe = ffprobe(src)
    if probe is None or probe.duration is None:
        raise MediaFailed(_(TRUNCATED_MESSAGE))
    fields: dict = {"duration_seconds": probe.duration, "error": ""}
    video = media.item.kind == StudyItem.Kind.VIDEO
    # The stem ties a media's files together in storage listings.
    stem = uuid.uuid4().hex
    if video:
        poster = os.path.join(scratch, "poster.jpg")
        _poster(src, poster, at=min(1.0, probe.duration / 2))
        name = _save(storage, _storage_name(now, "posters", ".jpg", stem), poster)
        new_files.append(name)
        fields["poster"] = name
    if _playable_as_is(media, probe, video=video):
        fields["playable"] = media.original.name
        fields["playable_size"] = media.size
        return fields
    out = os.path.join(scratch, "playable" + (".mp4" if video else ".m4a"))
    _transcode(src, out, video=video, has_audio=probe.audio_codec is not None)
    name = _save(storage, _storage_name(now, "playable", Path(out).suffix, stem), out)
    new_files.append(name)
    fields["playable"] = name
    fields["playable_size"] = os.path.getsize(out)
    return fields


def _playable_as_is(media: StudyMedia, probe: Probe, *, video: bool) -> bool:
    """The original is served as is: H.264/AAC in MP4 (not MOV, which some Android browsers refuse), MP3, AAC in M4A."""
    if video:
        return probe.phone_playable and media.content_type == "video/mp4"
    return (probe.audio_codec, media.content_type) in (("mp3", "audio/mpeg"), ("aac", "audio/mp4"))


def _save(storage, name: str, path: str) -> str:
    with open(path, "rb") as fh:
        return storage.save(name, fh)


def _ffmpeg(args: list[str], *, timeout: int, failure: str) -> None:
    try:
        run = run_tool("ffmpeg", ["-nostdin", "-v", "error", "-y", *args], timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise MediaFailed(failure + _("（超时）")) from exc
    if run.returncode != 0:
        logger.warning("ffmpeg failed: %s", run.stderr[-2000:].decode(errors="replace"))
        raise MediaFailed(failure)


def _poster(src: str, out: str, *, at: float) -> None:
    _ffmpeg(
        [
            "-ss",
            f"{at:.3f}",
            "-i",
            src,
            "-frames:v",
            "1",
            "-vf",
            f"scale=-2:'min({POSTER_MAX_HEIGHT},ih)'",
            "-q:v",
            "4",
            out,
        ],
        timeout=POSTER_TIMEOUT,
        failure=_("无法从视频中截取封面画面，视频可能已损坏。"),
    )
    if not os.path.exists(out) or not os.path.getsize(out):
        raise MediaFailed(_("无法从视频中截取封面画面，视频可能已损坏。"))


def _transcode(src: str, out: str, *, video: bool, has_audio: bool) -> None:
    if video:
        args = [
            "-i", src, "-map", "0:v:0", "-map", "0:a:0?",
            # Even width and height (x264 needs them), the shorter side at most 720.
            "-vf", (
                f"scale='if(gt(iw,ih),-2,min({TRANSCODE_MAX_HEIGHT},iw))':"
                f"'if(gt(iw,ih),min({TRANSCODE_MAX_HEIGHT},ih),-2)',format=yuv420p"
            ),
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-profile:v", "main",
            "-movflags", "+faststart",
        ]  # fmt: skip
        if has_audio:
            args += ["-c:a", "aac", "-b:a", "128k", "-ac", "2"]
        args.append(out)
        failure = _("视频转码失败（格式无法识别或文件已损坏），原文件已保留，手机可能无法播放。")
    else:
        args = ["-i", src, "-map", "0:a:0", "-vn", "-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart", out]
        failure = _("音频转码失败（格式无法识别或文件已损坏），原文件已保留。")
    _ffmpeg(args, timeout=TRANSCODE_TIMEOUT, failure=failure)


def media_process_stale(*, now: dt.datetime, older_than: dt.timedelta = dt.timedelta(minutes=10)) -> int:
    """Queue again the uploads still 待处理 some minutes after upload (a broker that was down)."""
    ids = list(
        StudyMedia.objects.filter(status=StudyMedia.Status.PENDING, uploaded_at__lte=now - older_than).values_list(
            "pk", flat=True
        )
    )
    for media_id in ids:
        _enqueue_processing(media_id)
    return len(ids)
