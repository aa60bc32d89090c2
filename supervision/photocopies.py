"""Copies of a photo that survive what people really do to them (pure: no Django, no ORM).

Two stages, both over the small upright image the worker already decodes:

* ``copy_hashes`` — the candidate search. The 64-bit ``imaging.phash`` of many *views*
  of the photo: the whole picture and its mirror, after trimming uniform borders and
  letterboxing (a phone screenshot's bars, a photo padded to a square); regions of it
  (the upper, lower, left, right and central 80 % and 90 %), so that a banner laid over
  the top or a crop by a fifth leaves one view unchanged; each part of a collage split
  along a straight seam; and the picture turned by ±4°. Two photos are candidates when
  any view of one is within the policy's distance of any view of the other; the views
  are stored as rows of the multi-index (``hashindex``), so the lookup stays indexed.
* ``confirm_copy`` — the stronger comparison of one candidate pair. ORB keypoints
  (OpenCV) are matched, in both orientations of the second image, and a homography is
  fitted with RANSAC; the second image is then warped onto the first and compared block
  by block (normalised correlation of 16 px blocks). A copy has most overlapping blocks
  identical up to brightness; another photo of the same room taken at another moment
  (people, light, chairs, posters differ) does not. The result carries the score, whether
  the copy is mirrored, the share cropped, the rotation, and the matched region of each
  image as a quadrilateral in that image's 0–1 coordinates (for the overlay).

What it cannot catch: a copy cropped to less than about half of the picture, one rotated
by more than ~8°, heavy filters or perspective re-photography of a screen printed at an
angle (the block comparison then fails), and a photo of the same scene staged again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image, ImageOps

from supervision.imaging import phash

# Views: the fraction kept of each side, for the upper/lower/left/right/central regions.
REGION_KEEP = (0.9, 0.8)
ROTATIONS = (-4.0, 4.0)
# Trimming: a row or column is a border when this share of its pixels is within TRIM_TOLERANCE
# of the border colour (a status bar's icons and clock leave most of the bar uniform).
TRIM_SHARE = 0.9
# Within the outer 8 % of the height (where a status bar's clock and icons are) a lower share will do.
BAR_SHARE = 0.75
BAR_ZONE = 0.08
TRIM_TOLERANCE = 18
# Collage seams: a column (row) where the median step across it is this many times the typical
# step, inside the middle 60 % of the picture.
SEAM_RATIO = 4.0
SEAM_MIN_STEP = 12.0
CONFIRM_SIDE = 480
ORB_FEATURES = 1500
MIN_INLIERS = 12
BLOCK = 16
# A block "matches" when the warped copy correlates with it this well (or both are flat and alike).
BLOCK_CORRELATION = 0.8
# Share of the overlapping textured blocks that must match for a copy.
COPY_BLOCK_SHARE = 0.4
# The overlap must cover at least this share of the smaller picture.
MIN_OVERLAP = 0.35
# A block score from which the other orientation is not tried: nothing but a copy scores so high.
CERTAIN_COPY = 0.9


def _gray(im: Image.Image) -> np.ndarray:
    return np.asarray(im.convert("L"), dtype=np.int16)


def trim_borders(im: Image.Image) -> Image.Image:
    """The picture without uniform borders (letterboxing, padding, a screenshot's bars)."""
    box = trim_box(im)
    return im if box == (0, 0, im.width, im.height) else im.crop(box)


def trim_box(im: Image.Image) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the picture inside its uniform borders."""
    a = _gray(im)
    h, w = a.shape
    top, bottom, left, right = 0, h, 0, w

    def uniform(line: np.ndarray, colour: int, share: float = TRIM_SHARE) -> bool:
        return float(np.mean(np.abs(line - colour) <= TRIM_TOLERANCE)) >= share

    zone = h * BAR_ZONE

    for _ in range(4):  # a bar of another colour inside a border (a status bar under a black frame)
        colour = int(np.median(a[top, left:right]))
        while bottom - top > h // 4 and uniform(a[top, left:right], colour, BAR_SHARE if top < zone else TRIM_SHARE):
            top += 1
        colour = int(np.median(a[bottom - 1, left:right]))
        while bottom - top > h // 4 and uniform(
            a[bottom - 1, left:right], colour, BAR_SHARE if bottom > h - zone else TRIM_SHARE
        ):
            bottom -= 1
        colour = int(np.median(a[top:bottom, left]))
        while right - left > w // 4 and uniform(a[top:bottom, left], colour):
            left += 1
        colour = int(np.median(a[top:bottom, right - 1]))
        while right - left > w // 4 and uniform(a[top:bottom, right - 1], colour):
            right -= 1
    return (left, top, right, bottom)


def _seam(a: np.ndarray) -> int | None:
    """The column of a straight vertical seam in the middle of ``a``, or None."""
    w = a.shape[1]
    if w < 40:
        return None
    steps = np.median(np.abs(np.diff(a, axis=1)), axis=0)  # per column boundary
    typical = float(np.median(steps)) + 1.0
    lo, hi = int(w * 0.2), int(w * 0.8)
    best = int(np.argmax(steps[lo:hi])) + lo
    if steps[best] >= SEAM_MIN_STEP and steps[best] >= SEAM_RATIO * typical:
        return best + 1
    return None


def collage_parts(im: Image.Image) -> list[Image.Image]:
    """The parts of a collage split along straight seams (side by side or stacked); [] if none."""
    a = _gray(im)
    parts = []
    x = _seam(a)
    if x is not None:
        parts += [im.crop((0, 0, x, im.height)), im.crop((x, 0, im.width, im.height))]
    y = _seam(a.T)
    if y is not None:
        parts += [im.crop((0, 0, im.width, y)), im.crop((0, y, im.width, im.height))]
    return [trim_borders(p) for p in parts]


def _regions(im: Image.Image) -> list[Image.Image]:
    w, h = im.size
    out = [im]
    for keep in REGION_KEEP:
        cut_w, cut_h = round(w * (1 - keep)), round(h * (1 - keep))
        out += [
            im.crop((0, cut_h, w, h)),  # lower part (the top covered or cropped)
            im.crop((0, 0, w, h - cut_h)),  # upper part
            im.crop((cut_w, 0, w, h)),
            im.crop((0, 0, w - cut_w, h)),
            im.crop((cut_w // 2, cut_h // 2, w - cut_w // 2, h - cut_h // 2)),
        ]
    return out


def _rotated(im: Image.Image, degrees: float) -> Image.Image:
    """Turned by ``degrees`` and cropped to the largest upright rectangle without corners."""
    w, h = im.size
    turned = im.rotate(degrees, resample=Image.Resampling.BILINEAR)
    t = math.radians(abs(degrees))
    # Inner rectangle of the same aspect that fits inside the turned frame.
    scale = 1 / (math.cos(t) + max(w / h, h / w) * math.sin(t))
    cw, ch = w * scale, h * scale
    return turned.crop((round((w - cw) / 2), round((h - ch) / 2), round((w + cw) / 2), round((h + ch) / 2)))


def copy_hashes(im: Image.Image) -> list[int]:
    """The distinct perceptual hashes of every view of ``im`` (the first is the plain picture's)."""
    im = im.convert("RGB")
    base = trim_borders(im)
    views = [im, *_regions(base)]
    for part in collage_parts(base):
        views.append(part)
    mirrored = ImageOps.mirror(base)
    views += _regions(mirrored)
    for degrees in ROTATIONS:
        views.append(_rotated(base, degrees))
    seen: dict[int, None] = {}
    for view in views:
        if view.width >= 16 and view.height >= 16:
            seen.setdefault(phash(view), None)
    return list(seen)


@dataclass
class CopyMatch:
    """The outcome of ``confirm_copy``: ``is_copy`` and what matched, for the flag."""

    is_copy: bool
    score: float  # share of the overlapping blocks that match, 0–1
    inliers: int = 0
    mirrored: bool = False
    rotation: float = 0.0  # degrees
    cropped: float = 0.0  # share of the larger picture outside the match, 0–1
    # The matched region in each picture, corners in 0–1 coordinates of that picture.
    region_a: list[tuple[float, float]] = field(default_factory=list)
    region_b: list[tuple[float, float]] = field(default_factory=list)


def _small(im: Image.Image) -> np.ndarray:
    im = im.convert("L")
    im.thumbnail((CONFIRM_SIDE, CONFIRM_SIDE), Image.Resampling.BILINEAR)
    return np.asarray(im)


def _orb():
    return cv2.ORB_create(nfeatures=ORB_FEATURES, fastThreshold=10)


def _matches(features_a, b: np.ndarray):
    """b's keypoints and the ratio-tested ORB matches of a's keypoints to them (None when too few)."""
    ka, da = features_a
    kb, db = _orb().detectAndCompute(b, None)
    if da is None or db is None or len(ka) < MIN_INLIERS or len(kb) < MIN_INLIERS:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(da, db, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    if len(good) < MIN_INLIERS:
        return None
    return kb, good


def _homography(features_a, matched):
    """b mapped onto a by RANSAC over the matches, and the inliers."""
    ka, _da = features_a
    kb, good = matched
    src = np.float32([ka[m.queryIdx].pt for m in good]).reshape(-1, 1, 2)
    dst = np.float32([kb[m.trainIdx].pt for m in good]).reshape(-1, 1, 2)
    h, mask = cv2.findHomography(dst, src, cv2.RANSAC, 4.0)  # maps b onto a
    if h is None:
        return None, 0
    return h, int(mask.sum())


def _blocks(arr: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The ``BLOCK``×``BLOCK`` tiles of ``arr`` (from the top left, partial tiles dropped) as rows × cols × pixels."""
    return arr[: rows * BLOCK, : cols * BLOCK].reshape(rows, BLOCK, cols, BLOCK).swapaxes(1, 2).reshape(rows, cols, -1)


def _block_score(a: np.ndarray, warped: np.ndarray, valid: np.ndarray) -> tuple[float, float]:
    """(share of matching blocks among the overlapping ones, overlap share of ``a``).

    A block overlaps when 99 % of it is covered by the warped picture. Two textured blocks match
    when their correlation reaches ``BLOCK_CORRELATION`` (identical up to brightness and contrast);
    a flat block (deviation under 4) matches a flat one of about the same brightness. All blocks at
    once, in numpy: the same arithmetic as block by block, some 20 times faster.
    """
    h, w = a.shape
    rows, cols = h // BLOCK, w // BLOCK
    if not rows or not cols:
        return 0.0, 0.0
    keep = _blocks(valid, rows, cols).mean(axis=2) >= 0.99
    p = _blocks(a, rows, cols)[keep].astype(np.float32)
    q = _blocks(warped, rows, cols)[keep].astype(np.float32)
    total = len(p)
    if not total:
        return 0.0, 0.0
    pm, qm = p.mean(axis=1), q.mean(axis=1)
    sp, sq = p.std(axis=1), q.std(axis=1)
    flat = (sp < 4) | (sq < 4)
    flat_match = (np.abs(pm - qm) < 12) & (np.maximum(sp, sq) < 8)
    cov = ((p - pm[:, None]) * (q - qm[:, None])).mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov / (sp * sq)
    matched = int(np.where(flat, flat_match, corr >= BLOCK_CORRELATION).sum())
    return matched / total, total / (rows * cols)


def confirm_copy(im_a: Image.Image, im_b: Image.Image) -> CopyMatch:
    """Whether ``im_b`` is a copy of (a part of) ``im_a`` or the reverse, with the matched regions.

    Each picture is compared whole and, when it is a collage, part by part; the best pair counts.
    """
    im_a, im_b = im_a.convert("RGB"), im_b.convert("RGB")
    best = _confirm(im_a, im_b)
    if best.is_copy:
        return best
    for which, parts in ((0, _parts_with_box(im_a)), (1, _parts_with_box(im_b))):
        for part, box in parts:
            match = _confirm(part, im_b) if which == 0 else _confirm(im_a, part)
            if match.score > best.score:
                region = match.region_a if which == 0 else match.region_b
                full = im_a if which == 0 else im_b
                mapped = [
                    (
                        round((box[0] + x * (box[2] - box[0])) / full.width, 3),
                        round((box[1] + y * (box[3] - box[1])) / full.height, 3),
                    )
                    for x, y in region
                ]
                if which == 0:
                    match.region_a = mapped
                else:
                    match.region_b = mapped
                best = match
            if best.is_copy:
                return best
    return best


def _parts_with_box(im: Image.Image) -> list[tuple[Image.Image, tuple[int, int, int, int]]]:
    """Collage parts with their (left, top, right, bottom) in ``im``."""
    left, top, right, bottom = trim_box(im)
    base = im.crop((left, top, right, bottom))
    a = _gray(base)
    out = []
    x = _seam(a)
    if x is not None:
        out += [(left, top, left + x, bottom), (left + x, top, right, bottom)]
    y = _seam(a.T)
    if y is not None:
        out += [(left, top, right, top + y), (left, top + y, right, bottom)]
    result = []
    for box in out:
        part = im.crop(box)
        l2, t2, r2, b2 = trim_box(part)
        result.append((part.crop((l2, t2, r2, b2)), (box[0] + l2, box[1] + t2, box[0] + r2, box[1] + b2)))
    return result


def _confirm(im_a: Image.Image, im_b: Image.Image) -> CopyMatch:
    a, b0 = _small(trim_borders(im_a)), _small(trim_borders(im_b))
    best = CopyMatch(is_copy=False, score=0.0)
    features_a = _orb().detectAndCompute(a, None)  # the same for both tries: computed once
    tries = []
    for mirrored in (False, True):
        b = b0[:, ::-1].copy() if mirrored else b0
        matched = _matches(features_a, b)
        if matched is not None:
            tries.append((mirrored, b, matched))
    # The orientation with more matches first. RANSAC over mostly wrong matches (the other
    # orientation of a copy) is the slowest step: it is skipped once a copy is already certain.
    tries.sort(key=lambda t: -len(t[2][1]))
    for mirrored, b, matched in tries:
        if best.is_copy and best.score >= CERTAIN_COPY:
            break
        # Warp the smaller onto the larger: the overlap is then measured on the part that exists in both.
        h, inliers = _homography(features_a, matched)
        if h is None or inliers < MIN_INLIERS:
            continue
        warped = cv2.warpPerspective(b, h, (a.shape[1], a.shape[0]))
        valid = cv2.warpPerspective(np.ones_like(b, dtype=np.uint8), h, (a.shape[1], a.shape[0])) > 0
        score, overlap_a = _block_score(a, warped, valid)
        try:
            h_inv = np.linalg.inv(h)
        except np.linalg.LinAlgError:
            continue
        warped_a = cv2.warpPerspective(a, h_inv, (b.shape[1], b.shape[0]))
        valid_b = cv2.warpPerspective(np.ones_like(a, dtype=np.uint8), h_inv, (b.shape[1], b.shape[0])) > 0
        score_b, overlap_b = _block_score(b, warped_a, valid_b)
        score = (score + score_b) / 2
        overlap = max(overlap_a, overlap_b)
        if score <= best.score:
            continue
        corners_b = np.float32([[0, 0], [b.shape[1], 0], [b.shape[1], b.shape[0]], [0, b.shape[0]]])
        in_a = cv2.perspectiveTransform(corners_b.reshape(-1, 1, 2), h).reshape(-1, 2)
        in_a = np.clip(in_a / [a.shape[1], a.shape[0]], 0, 1)
        corners_a = np.float32([[0, 0], [a.shape[1], 0], [a.shape[1], a.shape[0]], [0, a.shape[0]]])
        in_b = cv2.perspectiveTransform(corners_a.reshape(-1, 1, 2), h_inv).reshape(-1, 2)
        in_b = np.clip(in_b / [b.shape[1], b.shape[0]], 0, 1)
        if mirrored:
            in_b[:, 0] = 1 - in_b[:, 0]
        rotation = math.degrees(math.atan2(h[1, 0], h[0, 0]))
        best = CopyMatch(
            is_copy=score >= COPY_BLOCK_SHARE and overlap >= MIN_OVERLAP,
            score=round(score, 3),
            inliers=inliers,
            mirrored=mirrored,
            rotation=round(rotation, 1),
            cropped=round(max(0.0, 1 - min(_area(in_a), _area(in_b))), 2),
            region_a=[(round(float(x), 3), round(float(y), 3)) for x, y in _in_original(in_a, im_a)],
            region_b=[(round(float(x), 3), round(float(y), 3)) for x, y in _in_original(in_b, im_b)],
        )
    return best


def _area(points: np.ndarray) -> float:
    """Area of a quadrilateral in 0–1 coordinates (shoelace)."""
    x, y = points[:, 0], points[:, 1]
    return float(abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))) / 2)


def _in_original(points: np.ndarray, original: Image.Image) -> np.ndarray:
    """0–1 points of the trimmed picture as 0–1 points of the picture before trimming."""
    left, top, right, bottom = trim_box(original.convert("RGB"))
    w, h = original.size
    return np.stack([(left + points[:, 0] * (right - left)) / w, (top + points[:, 1] * (bottom - top)) / h], axis=1)
