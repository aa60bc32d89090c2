"""The duplicate-photo index: multi-index lookup against brute force, and the hash arithmetic under it."""

import itertools
import random

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from supervision import hashindex
from supervision.models import Evidence, PhotoFingerprint
from supervision.selectors.integrity import _candidates, similar_photos, similar_photos_many
from supervision.services.integrity import fingerprint_store
from tests.supervision.conftest import local, meeting_held
from tests.supervision.test_integrity_photos import make_evidence


def flip(value: int, n: int, rnd: random.Random) -> int:
    """``value`` with ``n`` distinct random bits flipped."""
    for bit in rnd.sample(range(64), n):
        value ^= 1 << bit
    return value


def test_signed_storage_round_trips_every_corner_of_the_64_bit_range():
    for value in (0, 1, 2**63 - 1, 2**63, 2**64 - 1, 0x8000_0000_0000_0001, 0xDEAD_BEEF_CAFE_F00D):
        signed = hashindex.to_signed(value)
        assert -(2**63) <= signed < 2**63
        assert hashindex.to_unsigned(signed) == value
    assert hashindex.to_signed(2**64 - 1) == -1
    with pytest.raises(ValueError):
        hashindex.to_signed(2**64)
    with pytest.raises(ValueError):
        hashindex.to_signed(-1)


def test_chunks_cover_the_hash_lowest_bits_first():
    assert hashindex.chunks(0x1111_2222_3333_4444) == (0x4444, 0x3333, 0x2222, 0x1111)
    assert hashindex.chunks(2**64 - 1) == (0xFFFF,) * 4


def test_a_radius_two_neighbourhood_has_137_distinct_values_all_within_two_bits():
    values = hashindex.neighbours(0xA5A5, 2)
    assert len(values) == len(set(values)) == 137
    assert values[0] == 0xA5A5
    assert all(hashindex.hamming(v, 0xA5A5) <= 2 for v in values)
    assert len(hashindex.neighbours(0, 1)) == 17
    assert [hashindex.chunk_radius(d) for d in (0, 3, 4, 7, 8, 10, 11)] == [0, 0, 1, 1, 2, 2, 2]


@pytest.fixture
def stored_hashes(branch, other_branch):
    """2,000 random fingerprints spread over 20 meetings (bulk-written: the store itself is tested below)."""
    rnd = random.Random(20081022)
    meetings = [
        meeting_held(branch if i % 2 else other_branch, start=local(2026, 1 + i % 12, 1 + i, 9)) for i in range(20)
    ]
    template = make_evidence(meetings[0], name="template.jpg")
    template.delete()
    evidence = Evidence.objects.bulk_create(
        [
            Evidence(**{**model_to_dict(template, exclude=["id", "meeting"]), "meeting": meetings[i % 20]})
            for i in range(2000)
        ]
    )
    hashes = {}
    rows = []
    for e in evidence:
        value = rnd.getrandbits(64)
        hashes[e.pk] = (e.meeting_id, value)
        c0, c1, c2, c3 = hashindex.chunks(value)
        rows.append(
            PhotoFingerprint(
                evidence=e,
                meeting_id=e.meeting_id,
                hash=hashindex.to_signed(value),
                chunk0=c0,
                chunk1=c1,
                chunk2=c2,
                chunk3=c3,
            )
        )
    PhotoFingerprint.objects.bulk_create(rows)
    return meetings, hashes, rnd


def spread(value: int, n: int, rnd: random.Random) -> int:
    """``value`` with ``n`` bits flipped dealt round-robin over the four chunks: the pigeonhole's worst case."""
    for i in range(n):
        chunk, nth = i % 4, i // 4
        value ^= 1 << (16 * chunk + (nth * 5 + rnd.randrange(5)) % 16)
    return value


def brute_force(hashes, query, max_distance, exclude_meeting_id=None):
    return sorted(
        (hashindex.hamming(query, value), evidence_id)
        for evidence_id, (meeting_id, value) in hashes.items()
        if hashindex.hamming(query, value) <= max_distance and meeting_id != exclude_meeting_id
    )


def test_the_lookup_rule_lets_through_every_split_of_the_distance_over_the_four_chunks():
    # Every way a match within d can spread its differing bits over the four chunks passes
    # the rule of the plan: a chunk in "near", or two chunks in "shell".
    for d in range(12):
        r = hashindex.chunk_radius(d)
        plan = hashindex.lookup_plan([0], d)
        near = [len(v) for v in plan.near]
        for split in itertools.product(range(d + 1), repeat=4):
            if sum(split) > d:
                continue
            in_near = [any(v.bit_count() == k for v in plan.near[i]) for i, k in enumerate(split)]
            in_shell = [any(v.bit_count() == k for v in plan.shell[i]) for i, k in enumerate(split)]
            assert any(in_near) or sum(in_shell) >= 2, (d, split)
        # The sharpened plan asks for fewer rows than the plain "any chunk within r".
        assert near[0] <= len(hashindex.neighbours(0, r))


@pytest.mark.django_db
@pytest.mark.parametrize("max_distance", range(12))
def test_the_index_finds_exactly_what_a_scan_finds_at_every_distance_up_to_the_limit(stored_hashes, max_distance):
    _meetings, hashes, rnd = stored_hashes
    # Plant near-duplicates of stored hashes at every distance 0..d+1: those up to d must
    # come back, d+1 must not (unless a random hash happens to be that close: brute force decides).
    for distance in range(max_distance + 2):
        for attempt in range(6):
            evidence_id = rnd.choice(list(hashes))
            planted = spread if attempt % 2 else flip
            query = planted(hashes[evidence_id][1], distance, rnd)
            assert hashindex.hamming(query, hashes[evidence_id][1]) == distance
            found = similar_photos(query, max_distance=max_distance, limit=10_000)
            got = sorted((m.distance, m.evidence_id) for m in found)
            assert got == brute_force(hashes, query, max_distance)
            assert ((distance, evidence_id) in got) == (distance <= max_distance)
            # The portable query (PostgreSQL's, in the ORM) lets through the same matches as SQLite's.
            portable = _candidates([query], max_distance=max_distance, using="default", vendor="any")
            assert (
                sorted(
                    (hashindex.hamming(query, h), e)
                    for e, (_m, h) in portable.items()
                    if hashindex.hamming(query, h) <= max_distance
                )
                == got
            )


@pytest.mark.django_db
def test_the_index_leaves_out_the_photos_of_the_meeting_asked_about(stored_hashes):
    _meetings, hashes, rnd = stored_hashes
    evidence_id = next(iter(hashes))
    meeting_id, value = hashes[evidence_id]
    query = flip(value, 4, rnd)
    found = similar_photos(query, max_distance=10, exclude_meeting_id=meeting_id)
    assert evidence_id not in {m.evidence_id for m in found}
    assert sorted((m.distance, m.evidence_id) for m in found) == brute_force(hashes, query, 10, meeting_id)
    with_it = similar_photos(query, max_distance=10)
    assert with_it[0].evidence_id == evidence_id and with_it[0].distance == 4


@pytest.mark.django_db
def test_several_hashes_are_looked_up_in_one_round_closest_first(stored_hashes):
    _meetings, hashes, rnd = stored_hashes
    picks = rnd.sample(list(hashes), 9)
    queries = [flip(hashes[e][1], rnd.randint(0, 10), rnd) for e in picks]
    with CaptureQueriesContext(connection) as ctx:
        result = similar_photos_many(queries, max_distance=10, limit=3)
    # One statement for the "near" rows and the rows with two chunks in their shells.
    assert len(ctx.captured_queries) == 1
    for query in queries:
        expected = brute_force(hashes, query, 10)[:3]
        assert [(m.distance, m.evidence_id) for m in result[query]] == expected


@pytest.mark.django_db
def test_a_stored_fingerprint_keeps_the_hash_and_its_chunks_in_signed_columns(branch):
    meeting = meeting_held(branch, start=local(2026, 3, 1, 9))
    evidence = make_evidence(meeting, name="a.jpg")
    value = 0xF000_0000_0000_000F
    fingerprint_store(evidence=evidence, phash=value)
    row = PhotoFingerprint.objects.get(evidence=evidence)
    assert row.hash < 0
    assert hashindex.to_unsigned(row.hash) == value
    assert (row.chunk0, row.chunk1, row.chunk2, row.chunk3) == (0x000F, 0, 0, 0xF000)
    assert row.meeting_id == meeting.pk
    # Processing the file again replaces the fingerprint instead of adding a second one.
    fingerprint_store(evidence=evidence, phash=value ^ 1)
    assert PhotoFingerprint.objects.filter(evidence=evidence).count() == 1
    assert similar_photos(value ^ 1, max_distance=0)[0].evidence_id == evidence.pk
