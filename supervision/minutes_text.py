"""Minutes as the copy check reads them: normalised sentences, passage hashes, containment (pure: no Django).

One function normalises text for every comparison of minutes (``normalize``):

1. traditional characters → simplified (OpenCC ``t2s``, dictionaries bundled with the wheel);
2. full-width → half-width and compatibility forms folded (NFKC), lower case;
3. whitespace, zero-width characters, punctuation and symbols removed;
4. every run of digits or Chinese numerals (一二三…十百千万, 〇, 零, 两) → ``#``, so changed
   numbers and dates (九月三十日 / 12月31日) compare equal;
5. the names given (the branch's members, the mine's organisations) → ``@``, longest first.

A record is cut into sentences (``sentences``); each sentence of at least
``MIN_SENTENCE`` characters is a unit of containment. Its ``SHINGLE``-character runs are
compared with the other record's; a sentence is contained when ``CONTAINED`` of its runs
occur there, so a sentence with a word or two swapped still counts as copied.

For the indexed lookup a record keeps two kinds of 64-bit passage hashes: the hash of
each whole normalised sentence (to count in how many branches' records a sentence occurs) and
a deterministic sample of its runs (those whose hash ≡ 0 mod ``SAMPLE``), which survive
rewording of the rest of the sentence.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

SHINGLE = 5
SAMPLE = 4
MIN_SENTENCE = 8
CONTAINED = 0.6
# Passages in more than this many other branches' records do not make a record a candidate.
RARE_BRANCHES = 3

_SENTENCE_END = re.compile(r"[。！？；!?;\n\r]+|[.．](?!\d)")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
_NUMBER = re.compile(r"[0-9〇零一二三四五六七八九十百千万亿两]+(?:[.,][0-9]+)*")
NUMBER_MARK = "#"
NAME_MARK = "@"


@functools.cache
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _converter().convert(text)


def _strip(text: str) -> str:
    text = unicodedata.normalize("NFKC", to_simplified(text.translate(_ZERO_WIDTH))).lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PZSC")


def prepare_names(names: Iterable[str]) -> tuple[str, ...]:
    """Names stripped like the text, at least two characters, longest first (so 王建国 goes before 王建)."""
    cleaned = {_strip(n) for n in names if n}
    return tuple(sorted((n for n in cleaned if len(n) >= 2), key=lambda n: (-len(n), n)))


def normalize(text: str, names: tuple[str, ...] = ()) -> str:
    """The text as compared: simplified, half-width, no punctuation or zero-width, numbers ``#``, names ``@``.

    ``names`` come from ``prepare_names``.
    """
    text = _strip(text)
    for name in names:
        if name in text:
            text = text.replace(name, NAME_MARK)
    return _NUMBER.sub(NUMBER_MARK, text)


def split_sentences(segments: Iterable[str]) -> list[str]:
    """The sentences of the segments, as written (for display), empty ones left out."""
    result = []
    for segment in segments:
        for sentence in _SENTENCE_END.split(segment or ""):
            if sentence.strip():
                result.append(sentence.strip())
    return result


@dataclass(frozen=True)
class Sentence:
    text: str  # as written
    norm: str  # as compared

    @property
    def counts(self) -> bool:
        return len(self.norm) >= MIN_SENTENCE


def sentences(segments: Iterable[str], names: tuple[str, ...] = ()) -> list[Sentence]:
    return [Sentence(s, normalize(s, names)) for s in split_sentences(segments)]


def runs(norm: str) -> set[str]:
    if len(norm) <= SHINGLE:
        return {norm} if norm else set()
    return {norm[i : i + SHINGLE] for i in range(len(norm) - SHINGLE + 1)}


def _hash(text: str, person: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8, person=person).digest(), "big", signed=True)


def sentence_hash(norm: str) -> int:
    return _hash(norm, b"sanhui-sent")


def run_hash(run: str) -> int:
    return _hash(run, b"sanhui-run")


def sampled_runs(norm: str) -> set[int]:
    return {h for h in (run_hash(r) for r in runs(norm)) if h % SAMPLE == 0}


def passage_hashes(items: list[Sentence]) -> set[int]:
    """Every hash a record is indexed by: whole counted sentences and their sampled runs."""
    result: set[int] = set()
    for s in items:
        if s.counts:
            result.add(sentence_hash(s.norm))
            result |= sampled_runs(s.norm)
    return result


def common_weight(branches: int) -> float:
    """How much a passage found in ``branches`` other branches' records counts: 1, ¼, ⅑, … (1 / (1 + n)²)."""
    return 1.0 / (1 + max(0, branches)) ** 2


def sentence_weight(s: Sentence, df: dict[int, int]) -> float:
    """A sentence's weight: its length, discounted by how common it (or its sampled runs) is across branches."""
    weight = common_weight(df.get(sentence_hash(s.norm), 0))
    sampled = sampled_runs(s.norm)
    if sampled:
        weight = min(weight, sum(common_weight(df.get(h, 0)) for h in sampled) / len(sampled))
    return len(s.norm) * weight


def contained(s: Sentence, other_runs: set[str]) -> bool:
    mine = runs(s.norm)
    return bool(mine) and len(mine & other_runs) >= CONTAINED * len(mine)


def all_runs(items: list[Sentence]) -> set[str]:
    result: set[str] = set()
    for s in items:
        result |= runs(s.norm)
    return result


def copied_share(mine: list[Sentence], theirs: list[Sentence], df: dict[int, int]) -> tuple[float, list[bool]]:
    """The weighted share of ``mine`` contained in ``theirs``, and which of ``mine`` are contained."""
    other = all_runs(theirs)
    marks = [s.counts and contained(s, other) for s in mine]
    total = copied = 0.0
    for s, mark in zip(mine, marks, strict=True):
        if not s.counts:
            continue
        w = sentence_weight(s, df)
        total += w
        if mark:
            copied += w
    return (copied / total if total else 0.0), marks
