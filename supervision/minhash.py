"""Near-duplicate text by shingles, MinHash and LSH bands (pure: no Django).

Chinese has no spaces between words, so the text is cut into overlapping runs of
``SHINGLE`` characters after dropping whitespace and punctuation. The text comes in
segments (a topic, an agenda title, one sentence of a speech, one resolution) and
shingles never cross a segment boundary: minutes copied with the speakers or sentences
put in another order give the same set of shingles.

The signature is ``PERMUTATIONS`` 32-bit minimums of seeded universal hashes of the
shingles; the fraction of equal positions of two signatures estimates the Jaccard
similarity of the two shingle sets. Everything is derived from BLAKE2b and fixed
constants, never from Python's ``hash()`` (salted per process), so a signature stored
today compares with one computed in another process next year.

LSH: the signature is cut into ``BANDS`` bands of ``ROWS`` values; two texts become
candidates when one band is equal. With 32 × 4 a pair of similarity 0.6 is a candidate
with probability 0.988, 0.7 → 0.9998, 0.8 → 1 − 5e-8, while a pair of 0.1 → 0.003 —
so thresholds from about 0.6 up are found reliably; below 0.5 some pairs would be missed.
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from collections.abc import Iterable

SHINGLE = 4
PERMUTATIONS = 128
BANDS = 32
ROWS = PERMUTATIONS // BANDS
_PRIME = (1 << 61) - 1  # Mersenne prime: the universal hash family (a·x + b) mod p
_MASK32 = (1 << 32) - 1
_FORMAT = f">{PERMUTATIONS}I"
SIGNATURE_BYTES = struct.calcsize(_FORMAT)

# Sentence ends split a segment further, so reordered sentences give the same shingles.
_SENTENCE_END = re.compile(r"[。！？；!?;\n\r]+")


def _seeded(label: str) -> int:
    return int.from_bytes(hashlib.blake2b(label.encode(), digest_size=8).digest(), "big")


_PARAMS = tuple(
    (1 + _seeded(f"sanhui-minhash-a-{i}") % (_PRIME - 1), _seeded(f"sanhui-minhash-b-{i}") % _PRIME)
    for i in range(PERMUTATIONS)
)


def normalize(text: str) -> str:
    """Full-width folded to half-width, lower case, without whitespace, punctuation, symbols or controls."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PZSC")


def shingles(segments: Iterable[str], *, size: int = SHINGLE) -> set[str]:
    """The set of ``size``-character runs of each sentence of each segment (a shorter sentence is one shingle)."""
    result: set[str] = set()
    for segment in segments:
        for sentence in _SENTENCE_END.split(segment or ""):
            chars = normalize(sentence)
            if not chars:
                continue
            if len(chars) <= size:
                result.add(chars)
                continue
            result.update(chars[i : i + size] for i in range(len(chars) - size + 1))
    return result


def _shingle_hash(shingle: str) -> int:
    return int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "big")


def signature(shingle_set: Iterable[str]) -> tuple[int, ...]:
    """The MinHash signature of a non-empty set of shingles: ``PERMUTATIONS`` 32-bit values."""
    values = [_shingle_hash(s) for s in shingle_set]
    if not values:
        raise ValueError("no shingles: an empty text has no signature")
    return tuple(min(((a * x + b) % _PRIME) & _MASK32 for x in values) for a, b in _PARAMS)


def pack(sig: tuple[int, ...]) -> bytes:
    return struct.pack(_FORMAT, *sig)


def unpack(data: bytes) -> tuple[int, ...] | None:
    """The signature stored as bytes, or None for an empty or foreign value."""
    data = bytes(data or b"")
    if len(data) != SIGNATURE_BYTES:
        return None
    return struct.unpack(_FORMAT, data)


def estimate(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity: the fraction of positions where the two signatures agree."""
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


def bands(sig: tuple[int, ...]) -> list[int]:
    """One signed 64-bit value per band (fits a BIGINT column): equal when the band's values are (collisions 2⁻⁶⁴)."""
    result = []
    for band in range(BANDS):
        raw = struct.pack(f">{ROWS}I", *sig[band * ROWS : (band + 1) * ROWS])
        value = int.from_bytes(hashlib.blake2b(raw, digest_size=8, person=b"sanhui-lsh").digest(), "big", signed=True)
        result.append(value)
    return result
