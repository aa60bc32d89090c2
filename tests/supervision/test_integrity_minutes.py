"""Minutes copied from another meeting: shingles, MinHash and LSH bands on realistic Chinese minutes."""

import datetime as dt
import io
import itertools
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from meetings.models import AgendaItem, Speech
from supervision import minhash
from supervision.models import Flag, MeetingCheck, MinutesBand
from supervision.services.integrity import meeting_checks, minutes_index, minutes_segments
from tests.factories import BranchFactory, MemberFactory
from tests.supervision.conftest import local, meeting_held
from tests.supervision.test_integrity_photos import set_policy

NOW = local(2026, 12, 30, 9)

# 综采一队, September: a 主题党日 "安全我先行" (safety film, then hazards found on the face).
SEPTEMBER = {
    "topic": "“安全我先行”主题党日：观看安全警示教育片并开展隐患排查讨论",
    "items": [
        (
            "观看安全警示教育片《生命至上》",
            [
                (
                    "王建国",
                    "警示片里的事故都是违章作业造成的，教训深刻。作为支部书记，我首先检讨：上个月工作面交接班时"
                    "有两次没有按规定进行安全确认，今后我带头执行手指口述，每班必查。",
                ),
                (
                    "李红梅",
                    "看完片子心情很沉重。我在采煤机司机岗位上，发现个别同志图省事不停机就清理滚筒，"
                    "这正是片子里那种事故的苗头。建议支部在班前会上专门讲一次停机闭锁的规定。",
                ),
                (
                    "张志强",
                    "片中的透水事故提醒我们探放水不能走过场。我们队负责的三号煤柱附近有老空区，"
                    "要请地测科重新核对图纸，打钻超前探测，做到有疑必探、先探后掘。",
                ),
            ],
        ),
        (
            "讨论综采工作面安全隐患排查",
            [
                (
                    "刘海涛",
                    "我排查了液压支架，有六架立柱漏液，初撑力达不到要求，已经报机电队更换密封件。"
                    "建议每周二由党员责任区负责人对支架逐架检查并签字。",
                ),
                (
                    "陈晓东",
                    "工作面上隅角瓦斯有时接近一点零，要加强风帘管理，"
                    "瓦斯检查员每班至少检查三次，党员要带头不在上隅角逗留。",
                ),
            ],
        ),
    ],
    "resolutions": "一、各党员责任区本周内完成隐患自查并建立台账；"
    "二、支架漏液问题由刘海涛同志牵头于九月三十日前整改完毕；"
    "三、支部每月组织一次安全警示教育，书记带头讲安全课。",
}

# December: September's record copied, speakers and sentences put in another order, month words changed.
DECEMBER = {
    "topic": "“安全我先行”主题党日：观看安全警示教育片并开展隐患排查讨论",
    "items": [
        (
            "讨论综采工作面安全隐患排查",
            [
                (
                    "陈晓东",
                    "瓦斯检查员每班至少检查三次，党员要带头不在上隅角逗留。"
                    "工作面上隅角瓦斯有时接近一点零，要加强风帘管理。",
                ),
                (
                    "刘海涛",
                    "我排查了液压支架，有六架立柱漏液，初撑力达不到要求，已经报机电队更换密封件。"
                    "建议每周二由党员责任区负责人对支架逐架检查并签字。",
                ),
            ],
        ),
        (
            "观看安全警示教育片《生命至上》",
            [
                (
                    "张志强",
                    "片中的透水事故提醒我们探放水不能走过场。我们队负责的三号煤柱附近有老空区，"
                    "要请地测科重新核对图纸，打钻超前探测，做到有疑必探、先探后掘。",
                ),
                (
                    "李红梅",
                    "看完片子心情很沉重。我在采煤机司机岗位上，发现个别同志图省事不停机就清理滚筒，"
                    "这正是片子里那种事故的苗头。建议支部在班前会上专门讲一次停机闭锁的规定。",
                ),
                (
                    "王建国",
                    "作为支部书记，我首先检讨：上个月工作面交接班时有两次没有按规定进行安全确认，"
                    "今后我带头执行手指口述，每班必查。警示片里的事故都是违章作业造成的，教训深刻。",
                ),
            ],
        ),
    ],
    "resolutions": "一、各党员责任区本周内完成隐患自查并建立台账；"
    "二、支架漏液问题由刘海涛同志牵头于十二月三十一日前整改完毕；"
    "三、支部每月组织一次安全警示教育，书记带头讲安全课。",
}

# Honest minutes of other meetings of the mine: same mine, same vocabulary, different meetings.
OTHERS = [
    {
        "topic": "综采一队十月支部党员大会：学习煤矿安全生产条例",
        "items": [
            (
                "学习《煤矿安全生产条例》第三章",
                [
                    (
                        "王建国",
                        "条例第三章讲的是煤矿企业的安全生产责任，明确主要负责人是第一责任人。"
                        "我们队要把责任分解到每个班组，每名党员联系两名职工。",
                    ),
                    (
                        "赵文静",
                        "我认为条例对职工培训的要求很具体，新工人入井前必须培训七十二学时。"
                        "我们队今年新分来五名大学生，建议由党员师傅一对一带班。",
                    ),
                ],
            ),
            (
                "讨论冬季生产准备",
                [
                    (
                        "刘海涛",
                        "进入冬季井口防冻是重点，暖风机要提前检修，副井口的保温帘十月底前挂好。",
                    ),
                    (
                        "张志强",
                        "冬季运输任务重，胶带输送机的托辊要全面检查，发现卡死的及时更换，防止摩擦起火。",
                    ),
                ],
            ),
        ],
        "resolutions": "通过《综采一队党员联系职工责任分工》；冬季防冻设备检修于十月二十五日前完成。",
    },
    {
        "topic": "掘进二队组织生活会：对照检查，开展批评与自我批评",
        "items": [
            (
                "支部书记代表支委会作对照检查",
                [
                    (
                        "孙立军",
                        "支委会今年在发挥战斗堡垒作用方面还有差距，掘进进尺三次没有完成月度计划，"
                        "原因是对巷道支护工艺改进研究不够。明年要成立技术攻关党小组。",
                    ),
                ],
            ),
            (
                "党员开展批评与自我批评",
                [
                    (
                        "周明",
                        "我自我批评：理论学习不够系统，学习强国积分经常靠突击。对周明辉同志提个意见，"
                        "有时对班组职工说话方式简单，容易激化矛盾。",
                    ),
                    (
                        "吴芳",
                        "我自我批评：作为女工委员，深入一线了解女职工家属困难不够。"
                        "对书记提个意见，支部活动形式比较单一，可以多组织到红色教育基地参观。",
                    ),
                    (
                        "郑凯",
                        "我自我批评：在锚杆支护质量验收时有过放松要求的情况。今后严格按照规程验收，不合格的坚决返工。",
                    ),
                ],
            ),
        ],
        "resolutions": "会议确定整改措施四条，明确责任人和完成时限，报矿党委备案。",
    },
    {
        "topic": "机电队党课：节能降耗，党员在行动",
        "items": [
            (
                "党课：从技术攻关党小组的实践看节能降耗",
                [
                    (
                        "钱国华",
                        "去年我们技术攻关党小组针对主通风机运行效率低的问题，加装变频调速装置，"
                        "全年节电约一百二十万千瓦时，吨煤电耗下降百分之八。",
                    ),
                    (
                        "冯雪",
                        "压风机余热回收用于井口洗浴，冬季替代了一台燃煤锅炉，既节能又减少排放。"
                        "建议在全矿推广，并把节能指标纳入党员责任区考核。",
                    ),
                ],
            ),
            (
                "交流讨论",
                [
                    (
                        "何斌",
                        "照明改造还有潜力，井下巷道还有三百多盏老式灯具，换成LED每年能省不少电费。"
                        "我愿意带领青年党员利用检修班完成更换。",
                    ),
                ],
            ),
        ],
        "resolutions": "成立照明改造党员突击队，由何斌同志负责，十一月底前完成主要巷道灯具更换。",
    },
    {
        "topic": "通风队支部委员会：讨论发展党员工作",
        "items": [
            (
                "讨论确定入党积极分子",
                [
                    (
                        "韩冰",
                        "测风工许强同志入党申请已满一年，工作积极，在去年矿井反风演习中表现突出，"
                        "群众推荐票数较高，建议列为入党积极分子，由我和马骏同志担任培养联系人。",
                    ),
                    (
                        "马骏",
                        "同意书记意见。许强同志需要加强理论学习，建议参加矿党校下一期积极分子培训班。",
                    ),
                ],
            ),
            (
                "研究第四季度党员教育计划",
                [
                    (
                        "曹阳",
                        "第四季度安排两次集中学习，一次到红色教育基地参观，另外请退休老党员讲讲当年建矿的艰苦创业史。",
                    ),
                ],
            ),
        ],
        "resolutions": "确定许强同志为入党积极分子；第四季度党员教育计划经支委会通过。",
    },
    {
        "topic": "综采一队十一月主题党日：安全生产大讨论",
        "items": [
            (
                "学习矿安全例会精神",
                [
                    (
                        "王建国",
                        "矿安全例会通报了本月三起轻伤事故，都发生在检修班。我们要吸取教训，"
                        "检修前必须停电挂牌，专人监护，严禁带电作业。",
                    ),
                ],
            ),
            (
                "安全生产大讨论",
                [
                    (
                        "李红梅",
                        "我建议在采煤机上加装人员接近报警装置，去年兄弟矿用过，效果很好，"
                        "可以从根本上避免人员误入危险区域。",
                    ),
                    (
                        "陈晓东",
                        "最近工作面过断层，顶板破碎，要缩小支架间距，及时护帮，党员在过断层期间轮流跟班盯守。",
                    ),
                    (
                        "赵文静",
                        "职工反映井下休息硐室条件差，建议支部向矿里反映，改善通风和饮水条件，"
                        "让大家把心思放在安全生产上。",
                    ),
                ],
            ),
        ],
        "resolutions": "党员过断层期间轮流跟班；采煤机人员接近报警装置的建议报矿机电科论证。",
    },
]


def write_minutes(meeting, record):
    """The minutes of ``record`` written on ``meeting`` as the minutes form saves them."""
    meeting.topic = record["topic"]
    meeting.resolutions = record["resolutions"]
    meeting.save()
    speakers = {}
    for i, (title, speeches) in enumerate(record["items"], start=1):
        item = AgendaItem.objects.create(meeting=meeting, order=i, title=title)
        for j, (name, points) in enumerate(speeches, start=1):
            if name not in speakers:
                speakers[name] = MemberFactory(name=name)
            Speech.objects.create(agenda_item=item, speaker=speakers[name], points=points, order=j)
    return meeting


@pytest.fixture
def zongcai(branch):
    return branch


def held(branch, record, *, start):
    return write_minutes(meeting_held(branch, start=start), record)


def similar_flags(meeting):
    return list(Flag.objects.filter(meeting=meeting, kind=Flag.Kind.SIMILAR_MINUTES))


def test_cloned_minutes_with_speakers_reordered_have_the_same_shingles_as_the_original():
    def segments(record):
        return [record["topic"], record["resolutions"]] + [
            text for title, speeches in record["items"] for text in [title, *(p for _n, p in speeches)]
        ]

    original, clone = minhash.shingles(segments(SEPTEMBER)), minhash.shingles(segments(DECEMBER))
    assert 0.85 < minhash.jaccard(original, clone) < 1
    for a, b in itertools.combinations([SEPTEMBER, *OTHERS], 2):
        assert minhash.jaccard(minhash.shingles(segments(a)), minhash.shingles(segments(b))) < 0.15


def test_shingles_ignore_whitespace_punctuation_and_full_width_forms():
    assert minhash.shingles(["安全 生产，ＬＥＤ灯！"]) == minhash.shingles(["安全生产led灯"])
    assert minhash.shingles(["同意"]) == {"同意"}
    assert minhash.shingles(["甲乙丙丁戊。己庚"]) == {"甲乙丙丁", "乙丙丁戊", "己庚"}


def test_a_signature_is_the_same_in_another_process_with_another_hash_seed():
    text = SEPTEMBER["resolutions"]
    here = minhash.signature(minhash.shingles([text]))
    code = (
        "import sys; from supervision import minhash; print(list(minhash.signature(minhash.shingles([sys.argv[1]]))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, text],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(settings.BASE_DIR),
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    ).stdout
    assert eval(out) == list(here)  # noqa: S307 - a list of ints printed by the line above
    assert len(here) == minhash.PERMUTATIONS and all(0 <= v < 2**32 for v in here)
    assert minhash.unpack(minhash.pack(here)) == here


def test_the_estimate_from_signatures_follows_the_exact_jaccard():
    a = minhash.shingles([SEPTEMBER["topic"], *(p for _t, s in SEPTEMBER["items"] for _n, p in s)])
    b = minhash.shingles([DECEMBER["topic"], *(p for _t, s in DECEMBER["items"] for _n, p in s)])
    c = minhash.shingles([OTHERS[1]["topic"], *(p for _t, s in OTHERS[1]["items"] for _n, p in s)])
    sa, sb, sc = (minhash.signature(x) for x in (a, b, c))
    assert abs(minhash.estimate(sa, sb) - minhash.jaccard(a, b)) < 0.12
    assert minhash.estimate(sa, sc) < 0.15
    # Two near-copies share at least one of the 32 bands; unrelated minutes share none.
    assert set(enumerate(minhash.bands(sa))) & set(enumerate(minhash.bands(sb)))
    assert not set(enumerate(minhash.bands(sa))) & set(enumerate(minhash.bands(sc)))


@pytest.mark.django_db
def test_december_minutes_copied_from_september_with_speakers_reordered_are_flagged_on_both(zongcai):
    september = held(zongcai, SEPTEMBER, start=local(2026, 9, 18, 15))
    meeting_checks(meeting=september, now=local(2026, 9, 20, 9))
    assert similar_flags(september) == []

    december = held(zongcai, DECEMBER, start=local(2026, 12, 20, 15))
    flags = meeting_checks(meeting=december, now=NOW)
    (flag,) = [f for f in flags if f.kind == Flag.Kind.SIMILAR_MINUTES]
    assert flag.related_meeting == september
    # Month words are numbers to the comparison, reordered sentences are each contained: all copied.
    assert flag.score == 1
    assert flag.message == "本次记录约100%的内容与本支部 2026年9月18日的会议记录相同"
    (mirror,) = similar_flags(september)
    assert mirror.related_meeting == december
    assert mirror.message.startswith("本次记录约100%的内容与本支部 2026年12月20日的会议记录相同")


@pytest.mark.django_db
def test_minutes_copied_by_another_branch_name_the_branch_they_came_from(zongcai):
    other = BranchFactory(name="机电队党支部")
    september = held(zongcai, SEPTEMBER, start=local(2026, 9, 18, 15))
    meeting_checks(meeting=september, now=local(2026, 9, 20, 9))
    copy = held(other, DECEMBER, start=local(2026, 10, 9, 15))
    meeting_checks(meeting=copy, now=NOW)
    (flag,) = similar_flags(copy)
    assert flag.message.startswith("本次记录约100%的内容与综采一队党支部 2026年9月18日的会议记录相同")


@pytest.mark.django_db
def test_honest_minutes_of_the_mines_branches_are_not_flagged(zongcai):
    branches = [zongcai, BranchFactory(name="掘进二队党支部"), BranchFactory(name="机电队党支部")]
    meetings = [held(zongcai, SEPTEMBER, start=local(2026, 9, 18, 15))] + [
        held(branches[i % 3], record, start=local(2026, 10 + i // 3, 5 + 3 * i, 15)) for i, record in enumerate(OTHERS)
    ]
    for meeting in meetings:
        meeting_checks(meeting=meeting, now=NOW)
    assert not Flag.objects.filter(kind=Flag.Kind.SIMILAR_MINUTES).exists()
    assert MeetingCheck.objects.filter(shingle_count__gt=100).count() == len(meetings)
    assert MinutesBand.objects.count() == minhash.BANDS * len(meetings)


@pytest.mark.django_db
def test_the_similarity_threshold_is_the_policys(zongcai):
    september = held(zongcai, SEPTEMBER, start=local(2026, 9, 18, 15))
    meeting_checks(meeting=september, now=local(2026, 9, 20, 9))
    set_policy(minutes_similarity_threshold="0.99")
    # December's copy with its own resolutions: most, not all, of it is copied.
    partial = {**DECEMBER, "resolutions": OTHERS[0]["resolutions"]}
    december = held(zongcai, partial, start=local(2026, 12, 20, 15))
    meeting_checks(meeting=december, now=NOW)
    assert similar_flags(december) == []
    set_policy(minutes_similarity_threshold="0.50")
    meeting_checks(meeting=december, now=NOW)
    (flag,) = similar_flags(december)
    assert 0.5 < flag.score < 0.99


@pytest.mark.django_db
def test_rechecking_a_record_replaces_its_bands_and_keeps_one_flag(zongcai):
    september = held(zongcai, SEPTEMBER, start=local(2026, 9, 18, 15))
    december = held(zongcai, DECEMBER, start=local(2026, 12, 20, 15))
    for when in range(3):
        meeting_checks(meeting=september, now=NOW + dt.timedelta(hours=when))
        meeting_checks(meeting=december, now=NOW + dt.timedelta(hours=when))
    assert MinutesBand.objects.filter(meeting=december).count() == minhash.BANDS
    assert len(similar_flags(december)) == len(similar_flags(september)) == 1
    assert MeetingCheck.objects.get(meeting=december).checked_at == NOW + dt.timedelta(hours=2)


@pytest.mark.django_db
def test_minutes_too_short_to_judge_are_not_indexed_or_flagged(zongcai):
    short = {"topic": "学习", "items": [("学习文件", [("王建国", "要抓好安全。")])], "resolutions": "同意。"}
    first = held(zongcai, short, start=local(2026, 9, 18, 15))
    second = held(zongcai, short, start=local(2026, 10, 18, 15))
    meeting_checks(meeting=first, now=NOW)
    meeting_checks(meeting=second, now=NOW)
    assert not Flag.objects.filter(kind=Flag.Kind.SIMILAR_MINUTES).exists()
    assert not MinutesBand.objects.exists()
    assert MeetingCheck.objects.get(meeting=second).minutes_signature == b""
    assert minutes_segments(second) == ["学习", "同意。", "学习文件", "要抓好安全。"]


@pytest.mark.django_db
def test_a_copy_of_minutes_that_were_only_indexed_is_found_and_the_indexed_record_gets_no_check(zongcai):
    # An approved record from before the checks (imported history): indexed, never checked.
    september = held(zongcai, SEPTEMBER, start=local(2026, 9, 18, 15))
    minutes_index(meeting=september, now=local(2026, 9, 20, 9))
    assert MeetingCheck.objects.filter(meeting=september).exists()
    assert Flag.objects.filter(meeting=september).count() == 0

    december = held(zongcai, DECEMBER, start=local(2026, 12, 20, 15))
    flags = meeting_checks(meeting=december, now=NOW)
    assert [f.related_meeting for f in flags if f.kind == Flag.Kind.SIMILAR_MINUTES] == [september]


@pytest.mark.django_db
def test_the_index_minutes_command_indexes_held_records_without_a_check_once(zongcai):
    september = held(zongcai, SEPTEMBER, start=local(2026, 9, 18, 15))
    planned = meeting_held(zongcai, start=local(2026, 12, 1, 9), status="planned")
    out = io.StringIO()
    call_command("index_minutes", stdout=out)
    assert "已为 1 次会议的记录建立索引" in out.getvalue()
    assert set(MeetingCheck.objects.values_list("meeting_id", flat=True)) == {september.pk}
    assert MinutesBand.objects.filter(meeting=september).count() == minhash.BANDS
    assert not MeetingCheck.objects.filter(meeting=planned).exists()
    call_command("index_minutes", stdout=out)
    assert "已为 0 次会议的记录建立索引" in out.getvalue()
