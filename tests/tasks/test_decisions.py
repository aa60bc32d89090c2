"""议定事项: a decision of a 支委会 or 党员大会 becomes one task when the record is submitted, once;
the same body's next meeting opens with its state; bad input is refused in Chinese and saves nothing."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from meetings import services
from meetings.models import AgendaItem, Meeting
from supervision.services.review import review_return
from tasks.follow import FOLLOW_UP_TITLE
from tasks.models import Task

from ..factories import MeetingFactory, MemberFactory, MembershipFactory
from .follow_helpers import NOW, decision, record

pytestmark = pytest.mark.django_db

DUE = dt.date(2026, 3, 31)


def committee_meeting(branch, **kwargs):
    return MeetingFactory(
        branch=branch, types=["committee_meeting"], planned_start=NOW - dt.timedelta(hours=3), **kwargs
    )


def decision_tasks(meeting):
    return list(Task.objects.filter(meeting=meeting, source=Task.Source.DECISION).order_by("id"))


def test_submitting_the_minutes_makes_one_task_per_decision(branch, secretary, member):
    meeting = record(
        committee_meeting(branch),
        secretary,
        items=[
            services.AgendaItemData(title="学习文件"),
            decision("整治井下运输巷道隐患", member.member, DUE),
        ],
    )

    services.meeting_submit(meeting=meeting, user=secretary, now=NOW)

    [task] = decision_tasks(meeting)
    assert (task.title, task.owner, task.organization) == ("整治井下运输巷道隐患", member.member, branch)
    assert task.agenda_item == AgendaItem.objects.get(meeting=meeting, is_decision=True)
    assert task.due_text == "2026年3月31日 24:00"
    assert task.assigned_by == secretary


def test_saving_returning_and_resubmitting_makes_each_decision_task_once(branch, secretary, member, supervisor):
    meeting = record(committee_meeting(branch), secretary, items=[decision("整治隐患", member.member, DUE)])
    services.meeting_submit(meeting=meeting, user=secretary, now=NOW)
    review_return(meeting=meeting, comment="发言要点过简。", user=supervisor, now=NOW)
    # The secretary saves the agenda again, as the page posts it: each item with its id, one decision added.
    item = AgendaItem.objects.get(meeting=meeting)
    later = NOW + dt.timedelta(hours=1)
    for _ in range(2):
        services.meeting_save_agenda(
            meeting=meeting,
            items=[
                decision(
                    "整治隐患",
                    member.member,
                    DUE,
                    pk=item.pk,
                    speeches=[services.SpeechData(speaker=secretary.member, points="抓好安全，逐条整改。")],
                ),
                decision(
                    "开展安全培训",
                    secretary.member,
                    DUE,
                    speeches=[services.SpeechData(speaker=secretary.member, points="组织一次培训。")],
                ),
            ],
            user=secretary,
            now=later,
        )
        items = list(AgendaItem.objects.filter(meeting=meeting))
    services.meeting_submit(meeting=meeting, user=secretary, now=later)

    assert AgendaItem.objects.get(meeting=meeting, title="整治隐患").pk == item.pk
    assert [(t.title, t.agenda_item.title) for t in decision_tasks(meeting)] == [
        ("整治隐患", "整治隐患"),
        ("开展安全培训", "开展安全培训"),
    ]
    assert len(items) == 2


def test_a_decision_whose_deadline_passed_before_submission_refuses_the_submission(branch, secretary, member):
    meeting = record(committee_meeting(branch), secretary, items=[decision("整治隐患", member.member, NOW.date())])

    with pytest.raises(ValidationError) as caught:
        services.meeting_submit(meeting=meeting, user=secretary, now=NOW + dt.timedelta(days=2))

    assert "议定事项“整治隐患”：完成期限必须晚于现在。" in caught.value.messages[0]
    assert Meeting.objects.get(pk=meeting.pk).status == Meeting.Status.HELD
    assert decision_tasks(meeting) == []


@pytest.mark.parametrize(
    ("owner", "due_on", "message"),
    [
        (None, DUE, "第 1 项议定事项没有落实责任人：每项议定事项都必须有一名责任人。"),
        ("outsider", DUE, "第 1 项议定事项：外单位党员不是综采一队党支部的党员，不能作为责任人。"),
        ("no_account", DUE, "第 1 项议定事项：无账号党员还没有登录账号，不能作为责任人。"),
        ("member", dt.date(2026, 3, 9), "第 1 项议定事项的落实期限已过，请填写今天或以后的日期。"),
        ("member", None, "第 1 项议定事项没有落实期限。"),
    ],
)
def test_a_bad_decision_is_refused_in_chinese_and_nothing_is_saved(
    branch, other_branch, secretary, member, owner, due_on, message
):
    meeting = record(committee_meeting(branch), secretary)
    before = list(AgendaItem.objects.filter(meeting=meeting).values_list("pk", "title", "is_decision"))
    if owner == "outsider":
        owner = MemberFactory(name="外单位党员", user=member.__class__.objects.create(username="outsider"))
        MembershipFactory(member=owner, organization=other_branch)
    elif owner == "no_account":
        owner = MemberFactory(name="无账号党员", user=None)
        MembershipFactory(member=owner, organization=branch)
    elif owner == "member":
        owner = member.member

    with pytest.raises(ValidationError) as caught:
        services.meeting_save_agenda(
            meeting=meeting,
            items=[
                decision(
                    "整治隐患", owner, due_on, speeches=[services.SpeechData(speaker=secretary.member, points="整改。")]
                )
            ],
            user=secretary,
            now=NOW,
        )

    assert message in caught.value.messages
    assert list(AgendaItem.objects.filter(meeting=meeting).values_list("pk", "title", "is_decision")) == before


def test_only_a_committee_or_general_meeting_takes_decisions(branch, secretary, member):
    meeting = MeetingFactory(branch=branch, types=["theme_day"], planned_start=NOW - dt.timedelta(hours=3))
    with pytest.raises(ValidationError) as caught:
        record(meeting, secretary, items=[decision("整治隐患", member.member, DUE)])
    assert "第 1 项议题：只有支委会和党员大会的议题可以定为议定事项。" in caught.value.messages


def test_the_next_meeting_of_the_same_body_opens_with_each_decision_and_its_state(branch, secretary, member):
    first = record(
        committee_meeting(branch),
        secretary,
        items=[decision("整治隐患", member.member, DUE), decision("开展安全培训", secretary.member, DUE)],
    )
    services.meeting_submit(meeting=first, user=secretary, now=NOW)
    done, _open = decision_tasks(first)
    Task.objects.filter(pk=done.pk).update(
        status=Task.Status.DONE, submitted_at=NOW + dt.timedelta(days=3), completed_at=NOW + dt.timedelta(days=4)
    )
    plan = {
        "branch": branch,
        "planned_start": dt.datetime(2026, 4, 8, 1, 0, tzinfo=dt.UTC),
        "planned_end": dt.datetime(2026, 4, 8, 3, 0, tzinfo=dt.UTC),
        "place": "党员活动室",
        "user": secretary,
        "now": dt.datetime(2026, 4, 1, 1, 0, tzinfo=dt.UTC),
        "agenda": "研究四月工作",
    }
    from meetings.models import MeetingType

    committee = [MeetingType.objects.get(code="committee_meeting")]
    lesson = [MeetingType.objects.get(code="party_lesson")]

    nxt = services.meeting_plan(types=committee, **plan)
    other = services.meeting_plan(types=lesson, **plan)

    assert nxt.agenda.splitlines() == [
        f"{FOLLOW_UP_TITLE}：1. 整治隐患（李党员，按期完成）；2. 开展安全培训（王书记，逾期未完成）",
        "研究四月工作",
    ]
    assert other.agenda == "研究四月工作"
    # The minutes of the next meeting start from that agenda: the follow-up is its first item.
    assert services_titles(nxt)[0].startswith(FOLLOW_UP_TITLE)


def services_titles(meeting):
    from meetings.selectors import planned_agenda_titles

    return planned_agenda_titles(meeting.agenda)


# --- The agenda page --------------------------------------------------------------------------


def agenda_post(meeting, secretary, rows):
    """POST data of the agenda page: ``rows`` of (title, is_decision, owner id, due day), one speech each."""
    data = {
        "items-TOTAL_FORMS": str(len(rows)),
        "items-INITIAL_FORMS": "0",
        "speeches-TOTAL_FORMS": str(len(rows)),
        "speeches-INITIAL_FORMS": "0",
    }
    for i, (title, is_decision, owner, due) in enumerate(rows):
        data[f"items-{i}-title"] = title
        if is_decision:
            data[f"items-{i}-is_decision"] = "on"
        data[f"items-{i}-decision_owner"] = owner or ""
        data[f"items-{i}-decision_due_on"] = due or ""
        data.update(
            {
                f"speeches-{i}-item": i + 1,
                f"speeches-{i}-speaker": secretary.member.pk,
                f"speeches-{i}-points": "同意。",
            }
        )
    return data


@pytest.fixture
def recorded(branch, secretary):
    import time_machine

    with time_machine.travel(NOW, tick=False):
        meeting = record(committee_meeting(branch), secretary)
    return meeting


def _post(client, secretary, meeting, rows):
    import time_machine
    from django.urls import reverse

    from ..conftest import client_for

    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        return client_for(client, secretary).post(
            reverse("meetings:meeting_agenda", args=[meeting.pk]), agenda_post(meeting, secretary, rows)
        )


def test_the_agenda_page_saves_a_decision_with_its_owner_and_deadline(client, recorded, secretary, member):
    response = _post(client, secretary, recorded, [("整治隐患", True, member.member.pk, "2026-03-31")])

    assert response.status_code == 302
    item = AgendaItem.objects.get(meeting=recorded)
    assert (item.is_decision, item.decision_owner, item.decision_due_on) == (True, member.member, DUE)


@pytest.mark.parametrize(
    ("owner", "due", "message"),
    [
        ("", "2026-03-31", "请指定落实责任人：每项议定事项都必须有一名责任人。"),
        ("member", "", "请填写落实期限。"),
        ("member", "2026-03-01", "第 1 项议定事项的落实期限已过，请填写今天或以后的日期。"),
        ("no_account", "2026-03-31", "第 1 项议定事项：无账号党员还没有登录账号，不能作为责任人。"),
        ("outsider", "2026-03-31", "选择一个有效的选项"),
    ],
)
def test_the_agenda_page_refuses_a_bad_decision_in_chinese_and_saves_nothing(
    client, recorded, branch, other_branch, secretary, member, owner, due, message
):
    if owner == "member":
        owner = member.member.pk
    elif owner == "no_account":
        offline = MemberFactory(name="无账号党员", user=None)
        MembershipFactory(member=offline, organization=branch)
        owner = offline.pk
    elif owner == "outsider":
        outsider = MemberFactory(name="外单位党员")
        MembershipFactory(member=outsider, organization=other_branch)
        owner = outsider.pk
    before = list(AgendaItem.objects.filter(meeting=recorded).values_list("pk", "title", "is_decision"))

    response = _post(client, secretary, recorded, [("整治隐患", True, owner, due)])

    assert response.status_code == 200
    assert message in response.content.decode()
    assert list(AgendaItem.objects.filter(meeting=recorded).values_list("pk", "title", "is_decision")) == before


def test_only_deciding_meetings_show_the_decision_fields(client, branch, secretary):
    import time_machine
    from django.urls import reverse

    from ..conftest import client_for

    with time_machine.travel(NOW, tick=False):
        lesson = record(
            MeetingFactory(branch=branch, types=["theme_day"], planned_start=NOW - dt.timedelta(hours=3)), secretary
        )
        committee = record(committee_meeting(branch), secretary)
        c = client_for(client, secretary)
        assert "落实责任人" not in c.get(reverse("meetings:meeting_agenda", args=[lesson.pk])).content.decode()
        assert "落实责任人" in c.get(reverse("meetings:meeting_agenda", args=[committee.pk])).content.decode()
