"""Multi-index arithmetic of 64-bit perceptual hashes (pure: no Django).

A hash is split into four 16-bit chunks, each stored in an indexed column. If two hashes
differ in at most ``d`` bits, the differing bits fall into four chunks, so at least one
chunk differs in at most ``r = d // 4`` bits (pigeonhole). A lookup asks the index for
the chunk values near the query's chunks and measures the exact distance only on the
rows that come back. With ``d <= 11`` that is 1 + 16 + 120 = 137 values per column.

The plain rule (any chunk within ``r``) reads every row it finds: at a million random
hashes that is ~8,400 rows a lookup. ``lookup_plan`` sharpens it. Sort a match's four
chunk distances a <= b <= c <= e; a + b + c + e <= d gives a <= r and b <= (d - a) / 3.
When ``(d - r) // 3 == r`` (d = 0–2, 4–6, 8–10, the policy's default among them) a match
either has a chunk within ``r - 1`` ("near"), or its two closest chunks are both at
exactly ``r`` ("shell"): if a == r then r <= b <= (d - r) / 3, so b == r. Rows with one
chunk in the shell and no other are not matches: with indexes that cover the hash, the
database keeps only the shell entries whose second chunk (computed from the hash) is in
its own shell, and returns them with the ~1,000 near rows; no table row is read. For
d = 3, 7 and 11 the rule stays the plain one (~8,400 candidates a lookup).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from itertools import combinations

BITS = 64
CHUNKS = 4
CHUNK_BITS = BITS // CHUNKS
_CHUNK_MASK = (1 << CHUNK_BITS) - 1
MASK64 = _MASK64 = (1 << BITS) - 1
_SIGN = 1 << (BITS - 1)


def to_signed(value: int) -> int:
    """The unsigned 64-bit hash as the two's complement value a signed BIGINT column holds."""
    if not 0 <= value <= _MASK64:
        raise ValueError(f"not an unsigned 64-bit hash: {value!r}")
    return value - (1 << BITS) if value & _SIGN else value


def to_unsigned(value: int) -> int:
    """The signed BIGINT read back from the database as the unsigned 64-bit hash."""
    if not -_SIGN <= value < _SIGN:
        raise ValueError(f"not a signed 64-bit integer: {value!r}")
    return value & _MASK64


def chunks(value: int) -> tuple[int, int, int, int]:
    """The four 16-bit chunks of an unsigned hash, lowest bits first (chunk0 = bits 0–15)."""
    return tuple((value >> (CHUNK_BITS * i)) & _CHUNK_MASK for i in range(CHUNKS))


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two unsigned hashes."""
    return (a ^ b).bit_count()


def chunk_radius(max_distance: int) -> int:
    """How far a chunk may be from the query's chunk for a match within ``max_distance`` (pigeonhole)."""
    if max_distance < 0:
        raise ValueError("max_distance must be >= 0")
    return max_distance // CHUNKS


@cache
def _flip_masks(radius: int) -> tuple[int, ...]:
    masks = []
    for r in range(radius + 1):
        for bits in combinations(range(CHUNK_BITS), r):
            mask = 0
            for bit in bits:
                mask |= 1 << bit
            masks.append(mask)
    return tuple(masks)


def neighbours(chunk: int, radius: int) -> list[int]:
    """Every 16-bit value within ``radius`` bits of ``chunk`` (``chunk`` itself first)."""
    return [chunk ^ mask for mask in _flip_masks(radius)]


def shell(chunk: int, radius: int) -> list[int]:
    """Every 16-bit value at exactly ``radius`` bits from ``chunk``."""
    return [chunk ^ mask for mask in _flip_masks(radius) if mask.bit_count() == radius]


@dataclass(frozen=True)
class LookupPlan:
    """Which chunk values to ask the index for, per column (see the module's docstring).

    A stored row is a candidate when one of its chunks is in ``near`` for that column, or
    when two of its chunks are each in ``shell`` for their column. Every hash within the
    distance is a candidate; the caller measures the exact distance of each.
    """

    near: tuple[tuple[int, ...], ...]
    shell: tuple[tuple[int, ...], ...]


def lookup_plan(phashes: Iterable[int], max_distance: int) -> LookupPlan:
    """The chunk values to look up for all of ``phashes`` at once (the union: a superset for each)."""
    r = chunk_radius(max_distance)
    sharpened = (max_distance - r) // 3 == r
    near: list[set[int]] = [set() for _ in range(CHUNKS)]
    rings: list[set[int]] = [set() for _ in range(CHUNKS)]
    for phash in phashes:
        for column, chunk in enumerate(chunks(phash)):
            if sharpened:
                if r > 0:
                    near[column].update(neighbours(chunk, r - 1))
                rings[column].update(shell(chunk, r))
            else:
                near[column].update(neighbours(chunk, r))
    return LookupPlan(
        near=tuple(tuple(sorted(values)) for values in near),
        shell=tuple(tuple(sorted(values)) for values in rings),
    )
