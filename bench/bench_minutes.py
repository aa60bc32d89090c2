"""The minutes copy check of one record against 200,000 stored records (BENCH_SCALE=S: 20,000).

The stored records are passage rows in the real ``MinutesPassage`` table, spread over the
meetings and branches of the mine data set: per record 60 passage hashes, 55 random (its own
discussion) and 5 drawn from the hashes of a pool of 40 study sentences read mine-wide, so
the common passages each sit in hundreds of rows, as a study text does. Written once with
executemany and kept in the bench database; a marker row says it is there.

The check timed: everything ``meeting_checks`` does for the minutes of one record (names,
normalisation, passage hashes, the frequency and candidate queries, the sentence-by-sentence
comparison with each candidate, re-judging earlier pairs), on two records: a padded copy of
a stored record whose text is really there (so one candidate is read and compared), and an
honest record with two study sentences. Each run is rolled back, so the data stay as built.
The measure is the slower of the two, best of 5 runs.

Measured once on this 2-core machine (SQLite, 200,000 records over 300 branches, 12 M rows,
built in ~200 s): the planted copy ~45 ms, the honest record ~170 ms. Where the time goes: the
count of branches per common passage (``passage_frequencies``), which reads every row of each
study-text hash (~2,000 each); a table of counts per hash would make it one row each.

Alone: ``.venv/bin/python -m bench.bench_minutes``; BENCH_MINUTES_RECORDS overrides the count.
"""

from __future__ import annotations

import os
import random
import time

from bench.run import Measure, setup_django

if __name__ == "__main__":
    setup_django()

from django.db import connection, transaction

from meetings.models import AgendaItem, Meeting, Speech
from org.models import Member
from supervision import minutes_text
from supervision.models import MinutesPassage, SupervisionPolicy
from supervision.services import integrity

SIZES = {"L": 200_000, "S": 20_000}
PER_RECORD = 60
COMMON_PER_RECORD = 5
BATCH = 50_000
MARKER_HASH = -(2**63) + 20261204  # a row with this hash says the passages of ``n`` records are stored
SEED = 20261204

STUDY = [
    f"第{i}条：要坚持人民至上生命至上，把安全生产责任落实到每一个岗位每一名职工，筑牢安全生产防线{i}" for i in range(40)
]
OWN = (
    "我们班组本月排查出顶板离层隐患两处，已经打设锚索加强支护。"
    "综采工作面推进到断层附近，党员要带头执行敲帮问顶制度。"
    "机电设备检修要严格执行停送电制度，谁停电谁送电。"
    "新入职的五名职工由党员师傅一对一带班，三个月内考核合格。"
    "井下运输大巷的照明不足，建议尽快更换防爆灯具。"
    "职工反映澡堂热水供应不稳定，支部向后勤部门反映并跟踪落实。"
)


def _size() -> int:
    return int(os.environ.get("BENCH_MINUTES_RECORDS") or SIZES[os.environ.get("BENCH_SCALE", "L").upper()])


def _study_hashes() -> list[int]:
    items = minutes_text.sentences(STUDY)
    return sorted(minutes_text.passage_hashes(items))


def ensure(n: int) -> bool:
    """Store the passages of ``n`` records unless they are there. Returns True when it built them."""
    if MinutesPassage.objects.filter(hash=MARKER_HASH).exists():
        return False
    # The last three meetings are the ones checked (``check_ms``): they keep no stored rows.
    meetings = list(Meeting.objects.order_by("pk").values_list("pk", "branch_id"))[:-3]
    if not meetings:
        raise RuntimeError("The mine data set has too few meetings.")
    rnd = random.Random(SEED)
    common = _study_hashes()
    table = connection.ops.quote_name(MinutesPassage._meta.db_table)
    sql = f"INSERT INTO {table} (meeting_id, branch_id, hash) VALUES (%s, %s, %s)"
    rows: list[tuple[int, int, int]] = []
    with transaction.atomic(), connection.cursor() as cursor:
        for record in range(n):
            meeting_id, branch_id = meetings[record * 7 % len(meetings)]
            hashes = {rnd.getrandbits(64) - 2**63 for _ in range(PER_RECORD - COMMON_PER_RECORD)}
            hashes.update(rnd.sample(common, COMMON_PER_RECORD))
            rows.extend((meeting_id, branch_id, h) for h in hashes)
            if len(rows) >= BATCH:
                cursor.executemany(sql, rows)
                rows = []
        rows.append((meetings[0][0], meetings[0][1], MARKER_HASH))
        cursor.executemany(sql, rows)
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else f"ANALYZE {table}")
    return True


def _write(meeting: Meeting, texts: list[str], speaker: Member) -> Meeting:
    meeting.topic = "支部党员大会：学习安全生产重要论述，讨论本月安全工作"
    meeting.resolutions = "一、各党员责任区本周内完成隐患自查；二、支部每月组织一次安全警示教育。"
    meeting.save(update_fields=["topic", "resolutions"])
    item = AgendaItem.objects.create(meeting=meeting, order=99, title="讨论本月安全工作")
    for i, text in enumerate(texts, start=1):
        Speech.objects.create(agenda_item=item, speaker=speaker, points=text, order=i)
    return meeting


def _check(meeting_id: int, policy: SupervisionPolicy) -> list:
    meeting = integrity._with_minutes(Meeting.objects.select_related("branch")).get(pk=meeting_id)
    own, sig, band_values, hashes = integrity._minutes_fingerprints(meeting)
    wanted, candidates = integrity._similar_minutes_flags(meeting, hashes, band_values, policy)
    integrity._index_minutes(meeting, sig, band_values, len(own), hashes, meeting.planned_start)
    integrity._rejudge_pairs(meeting, candidates, float(policy.minutes_similarity_threshold))
    return wanted


def check_ms(runs: int = 5) -> tuple[float, float, int]:
    """Best-of-``runs`` milliseconds of the copy check on a planted copy and on an honest record, and the copy's flags."""
    policy = SupervisionPolicy.current()
    speaker = Member.objects.order_by("pk").first()
    original_id, copy_id, honest_id = Meeting.objects.order_by("-pk").values_list("pk", flat=True)[:3]
    original_text = OWN.split("。")
    times = {}
    flags = 0
    with transaction.atomic():
        _write(Meeting.objects.get(pk=original_id), [s + "。" for s in original_text if s], speaker)
        integrity.minutes_index(
            meeting=Meeting.objects.get(pk=original_id), now=Meeting.objects.get(pk=original_id).planned_start
        )
        padded = [s + "。" for s in original_text if s] + ["另外，冬季井口防冻要提前准备，暖风机检修在月底前完成。"]
        _write(Meeting.objects.get(pk=copy_id), padded, speaker)
        _write(
            Meeting.objects.get(pk=honest_id),
            [
                STUDY[3] + "。" + STUDY[7] + "。",
                "我们队本月完成掘进进尺四百米，没有发生轻伤以上事故。",
                "下月重点是过断层期间的顶板管理和瓦斯抽采达标。",
            ],
            speaker,
        )
        for name, meeting_id in (("copy", copy_id), ("honest", honest_id)):
            best = float("inf")
            for _ in range(runs):
                sid = transaction.savepoint()
                start = time.perf_counter()
                wanted = _check(meeting_id, policy)
                best = min(best, time.perf_counter() - start)
                transaction.savepoint_rollback(sid)
                if name == "copy":
                    flags = len(wanted)
            times[name] = best * 1000
        transaction.set_rollback(True)
    return times["copy"], times["honest"], flags


def measure() -> list[Measure]:
    n = _size()
    started = time.perf_counter()
    built = ensure(n)
    print(
        f"# minutes: passages of {n} records stored"
        + (f" (built in {time.perf_counter() - started:.0f} s)" if built else " (cached)"),
        flush=True,
    )
    copy_ms, honest_ms, flags = check_ms()
    assert flags, "the planted copy was not found"
    print(f"# minutes: planted copy {copy_ms:.1f} ms ({flags} flags), honest record {honest_ms:.1f} ms", flush=True)
    return [Measure("minutes_check_ms", max(copy_ms, honest_ms), "ms", "<=", 200)]


if __name__ == "__main__":
    for m in measure():
        print(m.line())
