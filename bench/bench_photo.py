"""Processing one photo (thumbnail + metadata + perceptual hash) against Pillow's own draft-mode thumbnail.

The baseline is the least any thumbnailer must do: ``Image.open`` and ``thumbnail((320, 320))``
of the same 12 MP JPEG (Pillow decodes it in draft mode at a reduced scale). ``photo_summary``
also reads EXIF (time, GPS, camera), applies the orientation, encodes the JPEG thumbnail and
computes the 64-bit hash. The measure is how many times the baseline's time that costs; both
are taken in turns in the same run, best of ``RUNS``.

Alone, without the data set of ``bench/run.py``: ``.venv/bin/python -m bench.bench_photo``;
``--hash-table`` prints the perceptual-hash distances quoted in ``supervision/imaging.py``.
"""

from __future__ import annotations

import io
import itertools
import os
import sys
from pathlib import Path

from PIL import Image, ImageOps

from bench.run import Measure, best_of
from supervision.imaging import hamming, photo_clean_copy, photo_summary

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT.parent / "shared" / "samples" / "photos"
PHOTO = SAMPLES / "mobile_jolla.jpg"  # 3264x2448
MAX_PIXELS = 60_000_000
RUNS = 7


def pillow_thumbnail() -> None:
    with Image.open(PHOTO) as im:
        im.thumbnail((320, 320))


def summary() -> None:
    with open(PHOTO, "rb") as f:
        photo_summary(f, max_pixels=MAX_PIXELS)


def clean_copy() -> None:
    with open(PHOTO, "rb") as f:
        photo_clean_copy(f, max_pixels=MAX_PIXELS)


def check() -> None:
    """All hashing and confirmation of one photo: summary, its view hashes, one candidate confirmed."""
    from supervision import photocopies

    with open(PHOTO, "rb") as f:
        small = Image.open(io.BytesIO(photo_summary(f, max_pixels=MAX_PIXELS).thumbnail))
    photocopies.copy_hashes(small)
    photocopies.confirm_copy(small, ImageOps.mirror(small))


def measure() -> list[Measure]:
    summary_time = pillow_time = float("inf")
    for _ in range(RUNS):
        pillow_time = min(pillow_time, best_of(1, pillow_thumbnail))
        summary_time = min(summary_time, best_of(1, summary))
    clean_time = best_of(3, clean_copy)
    print(
        f"# photo on {PHOTO.name}: photo_summary {summary_time * 1000:.1f} ms, Pillow thumbnail "
        f"{pillow_time * 1000:.1f} ms; photo_clean_copy (long side 2560) {clean_time * 1000:.0f} ms",
        flush=True,
    )
    check_time = best_of(3, check)
    print(f"# photo check (summary + view hashes + one confirmation) {check_time * 1000:.1f} ms", flush=True)
    return [
        Measure("photo_processing_vs_pillow", summary_time / pillow_time, "x", "<=", 1.5),
        Measure("photo_check_vs_pillow", check_time / pillow_time, "x", "<=", 4),
    ]


def _jpeg(im: Image.Image, quality: int = 90) -> io.BytesIO:
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality)
    out.seek(0)
    return out


def modified_copies(path: Path) -> dict[str, io.BytesIO]:
    """The edits a re-used photo may have gone through, each as a JPEG file in memory."""
    with Image.open(path) as original:
        im = ImageOps.exif_transpose(original).convert("RGB")
    w, h = im.size
    dx, dy = round(w * 0.05), round(h * 0.05)
    ex, ey = round(w * 0.025), round(h * 0.025)

    def half(x: Image.Image) -> Image.Image:
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


def hash_of(fileobj) -> int:
    return photo_summary(fileobj, max_pixels=MAX_PIXELS).phash


def hash_table() -> None:
    photos = sorted(SAMPLES.glob("*.jpg"))
    hashes = {}
    for p in photos:
        with open(p, "rb") as f:
            hashes[p.name] = hash_of(f)
    pairs = sorted(
        (hamming(hashes[a.name], hashes[b.name]), a.name, b.name) for a, b in itertools.combinations(photos, 2)
    )
    print(f"# different photos: {len(pairs)} pairs; closest:")
    for d, a, b in pairs[:6]:
        print(f"  {d:2d}  {a} / {b}")
    gps = [d for d, a, b in pairs if a.startswith("gps_") and b.startswith("gps_")]
    print(f"# the nine gps_DSCN* shots of one scene: min {min(gps)}, max {max(gps)}")
    print(
        f"# all pairs: min {pairs[0][0]}, 5th percentile {pairs[len(pairs) // 20][0]}, median {pairs[len(pairs) // 2][0]}"
    )
    print("# modified copies, distance to the original:")
    by_edit: dict[str, list[int]] = {}
    for p in photos:
        row = []
        for edit, data in modified_copies(p).items():
            d = hamming(hashes[p.name], hash_of(data))
            by_edit.setdefault(edit, []).append(d)
            row.append(d)
        print(f"  {p.name:28s} " + " ".join(f"{d:2d}" for d in row))
    everything = [d for ds in by_edit.values() for d in ds]
    for edit, ds in by_edit.items():
        print(f"  {edit:30s} max {max(ds):2d}  mean {sum(ds) / len(ds):.1f}")
    print(f"# all {len(everything)} copies: max {max(everything)}, over 8: {sum(d > 8 for d in everything)}")


if __name__ == "__main__":
    # The messages of supervision.imaging are translated, so Django's settings must be there.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sanhui.settings")
    import django

    django.setup()
    if "--hash-table" in sys.argv:
        hash_table()
    else:
        for m in measure():
            print(m.line())
