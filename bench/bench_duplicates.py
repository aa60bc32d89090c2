"""Duplicate-photo lookup through the multi-index against a linear scan of the same stored hashes.

The data: 1,000,000 meeting photos (BENCH_SCALE=S: 100,000) spread over the meetings of the
mine data set, each with a ``PhotoFingerprint`` row in the real table (random 64-bit hashes:
the worst case for the index, whose candidates grow with how evenly chunk values spread).
Written once with executemany and kept in the bench database; a marker row says it is there.

The lookups: 200 query hashes, half of them near-duplicates planted at 0–10 bits from a
stored hash, half random; ``max_distance`` 10, the policy's default (at 11 the plain rule reads ~8x more candidates: ~5 ms, ~56x).

* index: ``supervision.selectors.integrity.similar_photos`` as the checks call it — one
  query over the four chunk indexes, exact Hamming distance in Python on the candidates.
* scan: the honest alternative without an index: per lookup, read every stored hash from
  the same table (one raw cursor over the three columns it needs, no ORM objects) and
  measure every distance in Python.

Both give the same matches (checked on the scanned queries); the scan is timed on a sample
of the queries (~0.3 s each). Measures: how many times faster the index is per lookup, and
the index's milliseconds per lookup.

Where the time goes (SQLite, a million photos, distance 10): one statement reads ~1,000
"near" entries and checks ~7,300 shell entries, all in the covering chunk indexes (chunk,
hash, meeting, evidence), so no table row is read; see ``supervision.hashindex``. The
history: four single-column indexes and the near rows read from the table, ~70x the scan;
covering indexes with the shell counted in a GROUP BY, ~85x; the shell's second chunk taken
from the indexed hash, one statement, ~105x on this 2-core machine.

Alone: ``.venv/bin/python -m bench.bench_duplicates``; BENCH_DUP_PHOTOS overrides the count.
"""

from __future__ import annotations

import os
import random
import time

from bench.run import Measure, setup_django

if __name__ == "__main__":
    setup_django()

from django.db import connection, transaction
from django.utils import timezone

from meetings.models import Meeting
from supervision import hashindex
from supervision.models import Evidence, PhotoFingerprint, SupervisionPolicy
from supervision.selectors.integrity import similar_photos

SIZES = {"L": 1_000_000, "S": 100_000}
MARKER = "bench-duplicates-{n}"
BATCH = 50_000
QUERIES = 200
SCANNED = 12  # queries also answered by the scan (half planted, half random)
# The shipped policy default, so the bench measures what a fresh installation does.
MAX_DISTANCE = SupervisionPolicy._meta.get_field("photo_hash_max_distance").default
SEED = 20081022


def _size() -> int:
    # BENCH_DUP_PHOTOS: another number of photos, e.g. a million on the small data set.
    return int(os.environ.get("BENCH_DUP_PHOTOS") or SIZES[os.environ.get("BENCH_SCALE", "L").upper()])


def _insert(table: str, columns: list[str], rows: list[tuple]) -> None:
    qn = connection.ops.quote_name
    sql = f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def ensure(n: int) -> bool:
    """Store ``n`` photos with fingerprints unless they are there. Returns True when it built them."""
    marker = MARKER.format(n=n)
    if Evidence.objects.filter(original_name=marker).exists():
        return False
    if Evidence.objects.filter(original_name__startswith="bench-duplicates").exists():
        raise RuntimeError("Bench photos of another size or a partial build are stored: delete var/bench/ and rerun.")
    meeting_ids = list(Meeting.objects.order_by("pk").values_list("pk", flat=True))
    if not meeting_ids:
        raise RuntimeError("The mine data set has no meetings.")
    rnd = random.Random(SEED)
    now = timezone.now()
    evidence_columns = [
        "meeting_id",
        "category",
        "kind",
        "content_type",
        "original_name",
        "size",
        "sha256",
        "original",
        "file",
        "thumbnail",
        "status",
        "error",
        "camera",
        "uploaded_at",
        "processed_at",
    ]
    fingerprint_columns = ["evidence_id", "meeting_id", "hash", "chunk0", "chunk1", "chunk2", "chunk3"]
    first_id = (Evidence.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    with transaction.atomic():
        for start in range(0, n, BATCH):
            count = min(BATCH, n - start)
            meetings = [meeting_ids[(start + i) * 7 % len(meeting_ids)] for i in range(count)]
            evidence_rows = [
                (
                    meeting_id,
                    "photo",
                    "image",
                    "image/jpeg",
                    f"bench-duplicates/{start + i}.jpg",
                    2_000_000,
                    f"{start + i:064x}",
                    f"bench/{start + i}.jpg",
                    f"bench/{start + i}.jpg",
                    f"bench/{start + i}.thumb.jpg",
                    "ready",
                    "",
                    "",
                    now,
                    now,
                )
                for i, meeting_id in enumerate(meetings)
            ]
            # Explicit ids: the fingerprints need them and reading a million back would cost more.
            _insert(
                Evidence._meta.db_table,
                ["id", *evidence_columns],
                [(first_id + start + i, *row) for i, row in enumerate(evidence_rows)],
            )
            fingerprint_rows = []
            for i, meeting_id in enumerate(meetings):
                value = rnd.getrandbits(64)
                fingerprint_rows.append(
                    (first_id + start + i, meeting_id, hashindex.to_signed(value), *hashindex.chunks(value))
                )
            _insert(PhotoFingerprint._meta.db_table, fingerprint_columns, fingerprint_rows)
        # The marker, written last: a build that stopped half-way is not taken for a finished one.
        _insert(
            Evidence._meta.db_table,
            ["id", *evidence_columns],
            [
                (
                    first_id + n,
                    meeting_ids[0],
                    "other",
                    "image",
                    "image/jpeg",
                    marker,
                    1,
                    "",
                    "bench/marker",
                    "",
                    "",
                    "ready",
                    "",
                    "",
                    now,
                    now,
                )
            ],
        )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            table = Evidence._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
            cursor.execute(f"ANALYZE {table}")
            cursor.execute(f"ANALYZE {PhotoFingerprint._meta.db_table}")
        else:
            cursor.execute("ANALYZE")
    return True


def _queries(n: int) -> list[int]:
    """Half near-duplicates of stored hashes (0–10 bits flipped), half random hashes."""
    rnd = random.Random(SEED + 1)
    table = connection.ops.quote_name(PhotoFingerprint._meta.db_table)
    stored = []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(evidence_id) FROM {table}")
        first = cursor.fetchone()[0]
        while len(stored) < QUERIES // 2:
            cursor.execute(f"SELECT hash FROM {table} WHERE evidence_id = %s", [first + rnd.randrange(n)])
            row = cursor.fetchone()
            if row is not None:
                stored.append(hashindex.to_unsigned(row[0]))
    queries = []
    for i, value in enumerate(stored):
        for bit in rnd.sample(range(64), i % (MAX_DISTANCE + 1)):
            value ^= 1 << bit
        queries.append(value)
        queries.append(rnd.getrandbits(64))
    return queries


def scan(query: int) -> list[tuple[int, int]]:
    """(distance, evidence id) of every stored photo within ``MAX_DISTANCE``, reading the whole table."""
    table = connection.ops.quote_name(PhotoFingerprint._meta.db_table)
    found = []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT evidence_id, hash FROM {table}")
        while rows := cursor.fetchmany(10_000):
            for evidence_id, value in rows:
                distance = ((query ^ value) & 0xFFFFFFFFFFFFFFFF).bit_count()
                if distance <= MAX_DISTANCE:
                    found.append((distance, evidence_id))
    return sorted(found)


def lookup(query: int) -> list[tuple[int, int]]:
    return [(m.distance, m.evidence_id) for m in similar_photos(query, max_distance=MAX_DISTANCE, limit=1000)]


def measure() -> list[Measure]:
    n = _size()
    started = time.perf_counter()
    built = ensure(n)
    stored = PhotoFingerprint.objects.count()
    print(
        f"# duplicates: {stored} stored fingerprints"
        + (f" (built in {time.perf_counter() - started:.0f} s)" if built else " (cached)"),
        flush=True,
    )
    queries = _queries(n)

    # Index: every query, best of 3 passes (the first also warms the page cache).
    index_time = float("inf")
    results: dict[int, list] = {}
    for _ in range(3):
        start = time.perf_counter()
        for q in queries:
            results[q] = lookup(q)
        index_time = min(index_time, time.perf_counter() - start)
    index_ms = index_time / len(queries) * 1000
    planted = queries[0::2]
    assert all(results[q] for q in planted), "a planted near-duplicate was not found"

    sample = queries[:SCANNED]
    scan_time = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        for q in sample:
            assert scan(q) == results[q], "index and scan disagree"
        scan_time = min(scan_time, time.perf_counter() - start)
    scan_ms = scan_time / len(sample) * 1000

    plan = hashindex.lookup_plan([0], MAX_DISTANCE)
    near, shell = (sum(len(v) for v in sets) for sets in (plan.near, plan.shell))
    print(
        f"# duplicates: index {index_ms:.2f} ms a lookup over {len(queries)} queries (rows read ~{near * stored / 65536:.0f}, "
        f"shell index entries checked ~{shell * stored / 65536:.0f}); scan {scan_ms:.0f} ms a lookup over {len(sample)} queries",
        flush=True,
    )
    return [
        Measure("dup_lookup_speedup", scan_ms / index_ms, "x", ">=", 100),
        Measure("dup_lookup_ms", index_ms, "ms", "<=", 20),
    ]


if __name__ == "__main__":
    # Alone: .venv/bin/python -m bench.bench_duplicates (builds the mine data set first if needed).
    from bench import dataset

    dataset.ensure(os.environ.get("BENCH_SCALE", "L").upper())
    for m in measure():
        print(m.line())
