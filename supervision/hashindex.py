"""Multi-index arithmetic of 64-bit perceptual hashes (pure: no Django).

A hash is split into four 16-bit chunks, each stored in an indexed column. If two hashes
differ in at most ``d`` bits, the differing bits fall into four chunks, so at least one
chunk differs in at most ``d // 4`` bits (pigeonhole). A lookup therefore asks the index
for every chunk value within ``d // 4`` bits of the query's chunk, in each of the four
columns, and measures the exact distance only on what comes back. With ``d <= 11`` that
is 1 + 16 + 120 = 137 values per column; with ``d <= 7``, 17.
"""

from __future__ import annotations

from functools import cache
from itertools import combinations

BITS = 64
CHUNKS = 4
CHUNK_BITS = BITS // CHUNKS
_CHUNK_MASK = (1 << CHUNK_BITS) - 1
_MASK64 = (1 << BITS) - 1
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
