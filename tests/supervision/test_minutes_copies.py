"""Minutes copied with the changes people really make, and honest minutes that share text: the containment check.

The test set: September's record of 综采一队 (``SEPTEMBER``) copied with each transformation
(an item dropped, a paragraph added, a fifth of the sentences reworded, synonyms swapped,
typed in traditional characters, numbers, dates and names changed, by another branch), and
honest records: five branches reading the same mine-wide study passage, each with its own
discussion, all opening with the fixed 会议由……主持 sentence. The threshold (policy default
0.5) sits between the lowest copy and the highest honest record measured here.
"""

import copy

import opencc
import pytest

from supervision import minutes_text
from supervision.models import Flag, MinutesPassage
from supervision.services.integrity import compare_minutes, meeting_checks
from tests.factories import BranchFactory
from tests.supervision.conftest import local, meeting_held
from tests.supervision.test_integrity_minutes import (
    DECEMBER,
    NOW,
    OTHERS,
    SEPTEMBER,
    held,
    similar_flags,
)


@pytest.fixture
def zongcai(branch):
    return branch


STUDY = (
    "人民至上、生命至上，保护人民生命安全和身体健康可以不惜一切代价。"
    "要坚持安全第一、预防为主、综合治理的方针，从源头上防范化解重大安全风险。"
    "要压实企业安全生产主体责任，层层落实安全责任制，真正把问题解决在萌芽之时、成灾之前。"
    "各级党组织要把安全生产作为检验党员先进性的重要标尺，党员要在急难险重任务中当先锋、作表率。"
)


def _speeches(record):
    return [(t, [list(s) for s in speeches]) for t, speeches in record["items"]]


def transform(record, fn):
    """The record with ``fn`` applied to every text (topic, titles, speeches, resolutions)."""
    return {
        "topic": fn(record["topic"]),
        "items": [(fn(t), [(name, fn(p)) for name, p in speeches]) for t, speeches in record["items"]],
        "resolutions": fn(record["resolutions"]),
    }


def partial(record):
    return {**record, "items": record["items"][:1]}


def padded(record):
    return {**record, "items": [*record["items"], OTHERS[2]["items"][0]]}


def reworded(record, every=5):
    """Every ``every``-th sentence of the speeches written anew (the worst rewording: nothing of it kept)."""
    fresh = iter(minutes_text.split_sentences(p for o in OTHERS[3:] for _t, s in o["items"] for _n, p in s))
    count = 0

    def rewrite(text):
        nonlocal count
        out = []
        for sentence in minutes_text.split_sentences([text]):
            count += 1
            out.append(next(fresh) if count % every == 0 else sentence)
        return "。".join(out) + "。"

    return {
        **record,
        "items": [(t, [(name, rewrite(p)) for name, p in speeches]) for t, speeches in record["items"]],
    }


SYNONYMS = {
    "检查": "检验",
    "建议": "提议",
    "发现": "察觉",
    "加强": "强化",
    "带头": "率先",
    "教训": "警示",
    "提醒": "告诫",
    "重新": "再次",
    "今后": "以后",
    "按规定": "按要求",
    "心情很沉重": "心里很难受",
    "图省事": "怕麻烦",
}


def synonyms(text):
    for a, b in SYNONYMS.items():
        text = text.replace(a, b)
    return text


_s2t = opencc.OpenCC("s2t")


def traditional(text):
    return _s2t.convert(text)


def numbers_and_names(record):
    renamed = {"王建国": "孙立军", "李红梅": "周丽", "张志强": "吴刚", "刘海涛": "郑凯", "陈晓东": "冯涛"}
    changed = transform(
        record,
        lambda t: (
            t.replace("九月三十日", "11月15日").replace("六架", "8架").replace("三次", "4次").replace("三号", "五号")
        ),
    )
    changed["items"] = [(t, [(renamed.get(n, n), p) for n, p in s]) for t, s in changed["items"]]
    for old, new in renamed.items():
        changed = transform(changed, lambda t, old=old, new=new: t.replace(old, new))
    return changed


COPIES = {
    "partial": partial(SEPTEMBER),
    "padded": padded(SEPTEMBER),
    "reworded": reworded(SEPTEMBER),
    "synonyms": transform(SEPTEMBER, synonyms),
    "traditional": transform(SEPTEMBER, traditional),
    "numbers_names": numbers_and_names(SEPTEMBER),
    "all_at_once": transform(reworded(numbers_and_names(SEPTEMBER), every=6), lambda t: traditional(synonyms(t))),
}


STUDY_MORE = (
    "安全生产是民生大事，一丝一毫不能放松，要以对人民极端负责的精神抓好安全生产工作。"
    "要站在人民群众的角度想问题，把重大风险隐患当成事故来对待，守土有责、敢于担当。"
    "要健全风险防范化解机制，坚持从源头上防范化解重大安全风险，真正把问题解决在萌芽之时。"
    "要完善和落实安全生产责任和管理制度，建立公共安全隐患排查和安全预防控制体系。"
    "要加强安全生产监管，分区分类加强安全监管执法，强化企业主体责任落实，牢牢守住安全生产底线。"
)


def opening(chair):
    return f"会议由{chair}同志主持，应到党员二十五名，实到二十三名，符合规定人数。"


def honest_study_records(study=STUDY):
    """Five branches' 党员大会: the same study passage, each its own discussion, the fixed opening."""
    records = []
    for i, own in enumerate(OTHERS):
        chair = own["items"][0][1][0][0]
        record = copy.deepcopy(own)
        record["items"] = [
            ("学习习近平总书记关于安全生产的重要论述", [(chair, opening(chair) + study)]),
            *own["items"],
        ]
        record["topic"] = f"第{i + 1}次党员大会：学习安全生产重要论述"
        records.append(record)
    return records


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(COPIES))
def test_each_kind_of_copy_by_another_branch_is_flagged_with_the_share_copied(zongcai, name):
    september = held(zongcai, SEPTEMBER, start=local(2026, 9, 18, 15))
    meeting_checks(meeting=september, now=local(2026, 9, 20, 9))
    other = BranchFactory(name="机电队党支部")
    the_copy = held(other, COPIES[name], start=local(2026, 12, 10, 15))
    meeting_checks(meeting=the_copy, now=NOW)
    (flag,) = similar_flags(the_copy)
    assert flag.related_meeting == september
    assert flag.score >= 0.6, (name, flag.score)
    percent = int(flag.score * 100 + 1e-9)
    assert flag.message == f"本次记录约{percent}%的内容与综采一队党支部 2026年9月18日的会议记录相同"
    (mirror,) = similar_flags(september)
    assert mirror.related_meeting == the_copy
    assert mirror.message.startswith("本次记录约")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["partial", "reworded", "synonyms", "numbers_names"])
def test_a_copy_of_the_branchs_own_earlier_record_is_flagged(zongcai, name):
    september = held(zongcai, SEPTEMBER, start=local(2026, 9, 18, 15))
    meeting_checks(meeting=september, now=local(2026, 9, 20, 9))
    december = held(zongcai, COPIES[name], start=local(2026, 12, 10, 15))
    meeting_checks(meeting=december, now=NOW)
    (flag,) = similar_flags(december)
    assert flag.score >= 0.6 and flag.message.startswith("本次记录约")


@pytest.mark.django_db
def test_a_partial_copy_is_mostly_contained_but_the_original_only_in_part(zongcai):
    september = held(zongcai, SEPTEMBER, start=local(2026, 9, 18, 15))
    meeting_checks(meeting=september, now=local(2026, 9, 20, 9))
    the_copy = held(BranchFactory(), COPIES["partial"], start=local(2026, 12, 10, 15))
    meeting_checks(meeting=the_copy, now=NOW)
    (flag,) = similar_flags(the_copy)
    (mirror,) = similar_flags(september)
    assert flag.score > 0.9 and 0.4 < mirror.score < flag.score


@pytest.mark.django_db
def test_the_same_study_passage_read_at_five_branches_with_their_own_discussion_is_not_flagged(zongcai):
    branches = [zongcai, *(BranchFactory() for _ in range(len(OTHERS) - 1))]
    records = honest_study_records()
    for i, (branch, record) in enumerate(zip(branches, records, strict=True)):
        meeting = held(branch, record, start=local(2026, 10, 5 + i, 15))
        meeting_checks(meeting=meeting, now=NOW)
    flags = list(Flag.objects.filter(kind=Flag.Kind.SIMILAR_MINUTES).values_list("message", flat=True))
    assert flags == []
    assert MinutesPassage.objects.values("meeting").distinct().count() == len(OTHERS)


@pytest.mark.django_db
def test_the_study_passage_counts_less_once_many_branches_have_it(zongcai):
    branches = [zongcai, *(BranchFactory() for _ in range(len(OTHERS) - 1))]
    records = honest_study_records()
    meetings = [
        held(branch, record, start=local(2026, 10, 5 + i, 15))
        for i, (branch, record) in enumerate(zip(branches, records, strict=True))
    ]
    for meeting in meetings:
        meeting_checks(meeting=meeting, now=NOW)
    from supervision.services.integrity import _with_minutes

    a, b = (_with_minutes(type(meetings[0]).objects.select_related("branch")).get(pk=m.pk) for m in meetings[-2:])
    comparison = compare_minutes(a, b)
    study_marked = [text for text, marked in comparison.mine if marked]
    assert any("人民至上" in t for t in study_marked)  # the passage is shared, and shown as such
    assert comparison.share < 0.25
    # Without the discount the study passage alone would be about half the record.
    undiscounted, _marks = minutes_text.copied_share(
        minutes_text.sentences([s for s, _m in comparison.mine]),
        minutes_text.sentences([s for s, _m in comparison.theirs]),
        {},
    )
    assert undiscounted > comparison.share * 1.5


@pytest.mark.django_db
def test_honest_records_of_the_same_branch_month_after_month_are_not_flagged(zongcai):
    for i, record in enumerate([SEPTEMBER, *OTHERS]):
        meeting = held(zongcai, record, start=local(2026, 9 + i // 3, 3 + 7 * (i % 3), 15))
        meeting_checks(meeting=meeting, now=NOW)
    assert not Flag.objects.filter(kind=Flag.Kind.SIMILAR_MINUTES).exists()


# --- Normalisation, step by step -------------------------------------------------------------


def test_traditional_characters_are_compared_as_simplified():
    assert minutes_text.normalize("會議學習貫徹黨的精神") == minutes_text.normalize("会议学习贯彻党的精神")


def test_full_width_forms_case_spaces_and_punctuation_are_folded():
    assert minutes_text.normalize("ＬＥＤ 灯，安全！（生产）") == "led灯安全生产"


def test_zero_width_characters_are_removed():
    assert minutes_text.normalize("安\u200b全\u200d生\ufeff产") == "安全生产"


def test_numbers_and_dates_in_digits_or_chinese_numerals_become_one_placeholder():
    n = minutes_text.normalize
    assert n("九月三十日前整改六架") == n("11月15日前整改8架") == "#月#日前整改#架"
    assert n("瓦斯浓度0.8%") == n("瓦斯浓度1.05%") == "瓦斯浓度#"


def test_names_of_people_and_branches_become_a_placeholder_longest_first():
    names = minutes_text.prepare_names(["王建国", "王建", "综采一队党支部", "李"])
    assert names == ("综采一队党支部", "王建国", "王建")  # one-character names are left out
    text = minutes_text.normalize("王建国同志代表综采一队党支部发言，王建同志补充", names)
    assert text == "@同志代表@发言@同志补充"


def test_sentences_are_split_at_sentence_ends_and_short_ones_do_not_count():
    items = minutes_text.sentences(["同意。瓦斯检查员每班至少检查三次！党员带头；"])
    assert [s.text for s in items] == ["同意", "瓦斯检查员每班至少检查三次", "党员带头"]
    assert [s.counts for s in items] == [False, True, False]


def test_a_sentence_with_a_word_swapped_is_still_contained():
    mine = minutes_text.sentences(["瓦斯检查员每班至少检查三次，党员要带头不在上隅角逗留"])
    theirs = minutes_text.sentences(["瓦斯检验员每班至少检查三次，党员要带头不在上隅角逗留"])
    share, marks = minutes_text.copied_share(mine, theirs, {})
    assert marks == [True] and share == 1.0


def test_common_passages_weigh_less_the_more_branches_have_them():
    weights = [minutes_text.common_weight(n) for n in (0, 1, 2, 3, 5, 20)]
    assert weights[:3] == [1.0, 0.25, 1 / 9]
    assert weights == sorted(weights, reverse=True) and weights[-1] < 0.02


# --- The review page -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_review_page_shows_the_copied_passages_side_by_side(zongcai, client, supervisor):
    september = held(zongcai, SEPTEMBER, start=local(2026, 9, 18, 15))
    meeting_checks(meeting=september, now=local(2026, 9, 20, 9))
    the_copy = held(BranchFactory(name="机电队党支部"), COPIES["padded"], start=local(2026, 12, 10, 15))
    meeting_checks(meeting=the_copy, now=NOW)
    client.force_login(supervisor)
    response = client.get(f"/supervision/review/{the_copy.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "flag-message" in html, html[html.find("review-flags") :][:3000]
    assert 'class="row g-2 small minutes-compare' in html
    assert "<mark>警示片里的事故都是违章作业造成的，教训深刻</mark>" in html
    added = minutes_text.split_sentences([OTHERS[2]["items"][0][1][0][1]])[0]
    assert added in html and f"<mark>{added}</mark>" not in html
    assert "本次记录约" in html and "综采一队党支部 2026年9月18日" in html


def test_december_fixture_still_reorders_speakers():
    assert DECEMBER["items"][0][0] != SEPTEMBER["items"][0][0]


@pytest.mark.django_db
def test_the_first_two_branches_to_read_a_long_study_text_are_cleared_once_a_third_has_read_it(zongcai):
    branches = [zongcai, BranchFactory(), BranchFactory()]
    records = honest_study_records(STUDY + STUDY_MORE)
    meetings = [
        held(b, r, start=local(2026, 10, 5 + i, 15)) for i, (b, r) in enumerate(zip(branches, records[:3], strict=True))
    ]
    meeting_checks(meeting=meetings[0], now=NOW)
    meeting_checks(meeting=meetings[1], now=NOW)
    # Two records alone cannot tell a shared study text from a copy: about half of each is the same.
    assert len(similar_flags(meetings[1])) == 1
    meeting_checks(meeting=meetings[2], now=NOW)
    assert not Flag.objects.filter(kind=Flag.Kind.SIMILAR_MINUTES).exists()


@pytest.mark.django_db
def test_a_decided_flag_between_the_first_two_is_kept_when_the_text_turns_out_common(zongcai):
    branches = [zongcai, BranchFactory(), BranchFactory()]
    records = honest_study_records(STUDY + STUDY_MORE)
    meetings = [
        held(b, r, start=local(2026, 10, 5 + i, 15)) for i, (b, r) in enumerate(zip(branches, records[:3], strict=True))
    ]
    meeting_checks(meeting=meetings[0], now=NOW)
    meeting_checks(meeting=meetings[1], now=NOW)
    Flag.objects.filter(meeting=meetings[1]).update(status=Flag.Status.DISMISSED, decision_reason="学习原文")
    meeting_checks(meeting=meetings[2], now=NOW)
    flags = Flag.objects.filter(kind=Flag.Kind.SIMILAR_MINUTES)
    assert list(flags.values_list("meeting_id", "status")) == [(meetings[1].pk, Flag.Status.DISMISSED)]


@pytest.mark.django_db
def test_the_threshold_lies_between_the_honest_records_and_the_copies(zongcai):
    """Every honest pair of the set scores well below the default 0.5, every copy well above it."""
    from supervision.services.integrity import _with_minutes

    branches = [zongcai, *(BranchFactory() for _ in range(len(OTHERS) - 1))]
    meetings = [
        held(b, r, start=local(2026, 10, 5 + i, 15))
        for i, (b, r) in enumerate(zip(branches, honest_study_records(), strict=True))
    ]
    meetings += [held(zongcai, r, start=local(2026, 11, 2 + i, 15)) for i, r in enumerate([SEPTEMBER, *OTHERS])]
    for m in meetings:
        meeting_checks(meeting=m, now=NOW)
    records = _with_minutes(type(meetings[0]).objects.select_related("branch")).in_bulk([m.pk for m in meetings])
    same_discussion = {
        (meetings[i].pk, meetings[len(OTHERS) + 1 + i].pk) for i in range(len(OTHERS))
    }  # a study-day record and the same discussion without the study: the same text, not honest twins
    honest = []
    for i, a in enumerate(meetings):
        for b in meetings[i + 1 :]:
            if (a.pk, b.pk) in same_discussion:
                continue
            c = compare_minutes(records[a.pk], records[b.pk])
            honest.append(max(c.share, c.other_share))
    assert max(honest) < 0.3


@pytest.mark.django_db
def test_the_bench_builds_stored_passages_in_bulk_and_finds_the_planted_copy(zongcai, member):
    from bench import bench_minutes

    for day in range(1, 5):
        meeting_held(zongcai, start=local(2026, 11, day, 15))
    assert bench_minutes.ensure(500) is True
    assert bench_minutes.ensure(500) is False  # kept: the marker row says it is there
    assert MinutesPassage.objects.count() > 500 * (bench_minutes.PER_RECORD - 1)
    copy_ms, honest_ms, flags = bench_minutes.check_ms(runs=1)
    assert flags == 2 and copy_ms > 0 and honest_ms > 0
    # Rolled back: the bench leaves the data as built.
    assert not Flag.objects.filter(kind=Flag.Kind.SIMILAR_MINUTES).exists()


@pytest.mark.django_db
def test_a_ring_of_branches_copying_one_record_each_with_a_paragraph_of_its_own(zongcai):
    september = held(zongcai, SEPTEMBER, start=local(2026, 9, 18, 15))
    meeting_checks(meeting=september, now=NOW)
    copies = []
    for i in range(4):
        own = OTHERS[i]["items"][0]
        record = {**SEPTEMBER, "items": [*SEPTEMBER["items"], own]}
        copies.append(held(BranchFactory(), record, start=local(2026, 10, 5 + i, 15)))
        meeting_checks(meeting=copies[-1], now=NOW)
    found = {f.meeting_id for f in Flag.objects.filter(kind=Flag.Kind.SIMILAR_MINUTES, related_meeting=september)}
    assert found == {c.pk for c in copies}


@pytest.mark.django_db
def test_the_index_command_adds_passages_to_records_checked_before_the_passage_index(zongcai):
    import io

    from django.core.management import call_command

    september = held(zongcai, SEPTEMBER, start=local(2026, 9, 18, 15))
    meeting_checks(meeting=september, now=local(2026, 9, 20, 9))
    MinutesPassage.objects.all().delete()  # as checked by the previous version
    out = io.StringIO()
    call_command("index_minutes", stdout=out)
    assert "已为 1 次会议" in out.getvalue()
    assert MinutesPassage.objects.filter(meeting=september).exists()
    call_command("index_minutes", stdout=out)
    assert "已为 0 次会议" in out.getvalue()
    the_copy = held(BranchFactory(), COPIES["reworded"], start=local(2026, 12, 10, 15))
    meeting_checks(meeting=the_copy, now=NOW)
    assert len(similar_flags(the_copy)) == 1
