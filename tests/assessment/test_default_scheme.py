"""The default scheme built from domain.md's tables, copying a scheme to a new year, and the admin screens."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse

from assessment.defaults import load_default_scheme
from assessment.models import BranchScore, GradeBand, Item, Run, Scheme
from assessment.services import run_compute, run_create, scheme_copy
from meetings.models import CadenceRule
from tests.factories import UserFactory, staff_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 20, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def scheme(db):
    return load_default_scheme(apps, 2026)


@pytest.mark.django_db
def test_the_default_scheme_totals_100_without_its_bonus_in_the_mines_categories(scheme):
    items = list(scheme.items.all())

    assert sum(i.max_points for i in items if not i.is_bonus) == Decimal("100")
    by_category = {}
    for i in items:
        if not i.is_bonus:
            by_category[i.category] = by_category.get(i.category, 0) + i.max_points
    assert by_category == {
        # Rule 13 took 5 points from the cadence items for 书记讲党课 (2) and 主题党日出勤率达标 (3),
        # and 2 from 党小组会 for 组织生活会.
        "会议开展": 55,
        "记录规范": 15,
        "党员参与": 13,
        "督导整改": 11,
        "组织建设": 6,
        "一票否决": 0,
    }
    bonus = [i for i in items if i.is_bonus]
    veto = [i for i in items if i.is_veto]
    assert [(i.name, i.max_points, i.method) for i in bonus] == [("创新创优", Decimal("3"), "manual")]
    assert [(i.name, i.max_points, i.method) for i in veto] == [("记录造假", Decimal("0"), "manual")]
    # 杨庄's 2-point items: 民主评议 is now automatic (a year without one costs its points), like 组织生活会.
    assert {i.name: i.max_points for i in items if i.method == "manual" and not (i.is_bonus or i.is_veto)} == {
        "重大事项经支委会研究决定": Decimal("2"),
    }
    assert {i.name: (i.kind, i.max_points) for i in items if i.category == "组织建设" and i.method == "auto"} == {
        "民主评议党员": ("cadence", Decimal("2")),
        "组织生活会": ("cadence", Decimal("2")),
    }


@pytest.mark.django_db
def test_the_default_cadence_items_follow_the_default_rules_at_minus_one_missing_and_minus_half_late(scheme):
    cadence = {i.name: i for i in scheme.items.filter(kind="cadence").select_related("cadence_rule")}

    assert {name: i.cadence_rule.name for name, i in cadence.items()} == {
        "支部党员大会按季度召开": "支部党员大会每季度至少1次",
        "支部委员会按月召开": "支部委员会每月至少1次",
        "党小组会按月召开": "党小组会每月至少1次",
        "党课按季度开展": "党课每季度至少1次",
        "主题党日按月开展": "主题党日每月1次",
        "民主评议党员": "民主评议党员每年1次",
        "组织生活会": "组织生活会每年至少1次",
    }
    assert {(i.per_unit, i.per_late) for n, i in cadence.items() if n not in ("民主评议党员", "组织生活会")} == {
        (Decimal("1"), Decimal("0.5"))
    }
    assert {(i.per_unit, i.per_late) for n, i in cadence.items() if n in ("民主评议党员", "组织生活会")} == {
        (Decimal("2"), Decimal("1"))
    }
    attendance = scheme.items.get(kind="attendance")
    assert (attendance.target_percent, attendance.per_unit) == (90, Decimal("0.5"))
    findings = scheme.items.get(kind="findings")
    assert (findings.per_minor, findings.per_unit, findings.per_serious) == (Decimal("0.5"), Decimal("1"), Decimal("2"))
    assert scheme.items.get(kind="rectification_overdue").per_unit == Decimal("2")
    # domain.md's names per run kind.
    assert list(scheme.bands.filter(run_kind="year").values_list("name", "min_score", "is_failing")) == [
        ("优秀", Decimal("90"), False),
        ("良好", Decimal("80"), False),
        ("一般", Decimal("70"), False),
        ("较差", Decimal("0"), True),
    ]
    assert list(scheme.bands.filter(run_kind="quarter").values_list("name", "min_score", "is_failing")) == [
        ("优秀", Decimal("97"), False),
        ("合格", Decimal("90"), False),
        ("基本合格", Decimal("86"), False),
        ("不合格", Decimal("0"), True),
    ]


@pytest.mark.django_db
def test_loading_the_default_scheme_again_leaves_the_year_as_it_is(scheme):
    Item.objects.filter(scheme=scheme, name="材料真实").update(max_points=5)

    again = load_default_scheme(apps, 2026)

    assert again == scheme
    assert Scheme.objects.filter(year=2026).count() == 1
    assert scheme.items.count() == 18
    assert scheme.items.get(name="材料真实").max_points == Decimal("5")


@pytest.mark.django_db
def test_the_migrations_historical_models_load_the_scheme_too(scheme):
    state = MigrationLoader(connection).project_state(("assessment", "0002_default_scheme"))

    load_default_scheme(state.apps, 2032)

    loaded = Scheme.objects.get(year=2032)
    # Before bands had a run kind only the annual ones fit; migration 0003 adds the quarterly ones.
    assert loaded.items.count() == 18 and loaded.bands.count() == 4


@pytest.mark.django_db
def test_a_renamed_rule_is_found_again_by_its_meeting_type_and_period(db):
    CadenceRule.objects.filter(name="支部委员会每月至少1次").update(name="支委会每月一次")

    scheme = load_default_scheme(apps, 2033)

    assert scheme.items.get(name="支部委员会按月召开").cadence_rule.name == "支委会每月一次"


@pytest.mark.django_db
def test_a_copied_scheme_carries_the_items_bands_and_member_rules_and_says_where_from(scheme):
    committee = staff_user(username="dangwei", role="committee")
    Scheme.objects.filter(pk=scheme.pk).update(member_late_deduction=Decimal("1"))
    scheme.refresh_from_db()

    copy = scheme_copy(scheme=scheme, year=2027, user=committee, now=NOW)

    assert (copy.year, copy.name, copy.copied_from, copy.member_late_deduction) == (
        2027,
        "2027年度三会一课量化考核方案",
        scheme,
        Decimal("1"),
    )
    fields = ("category", "name", "max_points", "method", "kind", "cadence_rule_id", "per_unit", "is_bonus", "is_veto")
    assert list(copy.items.values_list(*fields)) == list(scheme.items.values_list(*fields))
    assert list(copy.bands.values_list("name", "min_score", "is_failing")) == list(
        scheme.bands.values_list("name", "min_score", "is_failing")
    )
    assert scheme.items.count() == 18  # the original untouched
    record = copy.history.get()
    assert (record.history_user, record.history_date, record.history_change_reason) == (
        committee,
        NOW,
        "复制自2026年度方案",
    )


@pytest.mark.django_db
def test_copying_onto_a_year_that_has_a_scheme_is_refused(scheme):
    committee = staff_user(username="dangwei", role="committee")
    scheme_copy(scheme=scheme, year=2027, user=committee, now=NOW)

    with pytest.raises(ValidationError) as refused:
        scheme_copy(scheme=scheme, year=2027, user=committee, now=NOW)

    assert refused.value.message_dict == {"year": ["2027 年度已有考核方案。"]}
    assert Item.objects.filter(scheme__year=2027).count() == 18


# --- Admin ---------------------------------------------------------------------------------


@pytest.fixture
def admin_client_(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.django_db
def test_the_admin_copies_a_scheme_to_the_next_year(admin_client_, scheme):
    response = admin_client_.post(
        reverse("admin:assessment_scheme_changelist"),
        {"action": "copy_to_next_year", "_selected_action": [scheme.pk]},
        follow=True,
    )

    assert response.status_code == 200
    copy = Scheme.objects.get(year=2027)
    assert copy.copied_from == scheme and copy.items.count() == 18 and copy.bands.count() == 8
    assert "已复制为“2027 2027年度三会一课量化考核方案”" in response.content.decode()

    again = admin_client_.post(
        reverse("admin:assessment_scheme_changelist"),
        {"action": "copy_to_next_year", "_selected_action": [scheme.pk]},
        follow=True,
    )
    assert "2026 年度方案未复制：2027 年度已有考核方案。" in again.content.decode()
    assert Scheme.objects.filter(year=2027).count() == 1


@pytest.mark.django_db
def test_the_admin_edits_a_scheme_with_its_items_and_bands_inline(admin_client_, scheme):
    response = admin_client_.get(reverse("admin:assessment_scheme_change", args=[scheme.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "支部委员会按月召开" in page and "不合格" in page
    assert "满分（不含加分项）" in admin_client_.get(reverse("admin:assessment_scheme_changelist")).content.decode()


@pytest.mark.django_db
def test_runs_and_scores_are_read_only_in_the_admin(admin_client_, scheme, branch):
    committee = staff_user(username="dangwei", role="committee")
    run = run_create(kind="quarter", period_start=dt.date(2026, 7, 1), user=committee, now=NOW)
    run_compute(run=run, now=NOW)
    score = BranchScore.objects.get(run=run)

    page = admin_client_.get(reverse("admin:assessment_run_change", args=[run.pk]))
    assert page.status_code == 200 and branch.name in page.content.decode()
    assert admin_client_.get(reverse("admin:assessment_branchscore_change", args=[score.pk])).status_code == 200
    assert admin_client_.get(reverse("admin:assessment_run_add")).status_code == 403
    response = admin_client_.post(reverse("admin:assessment_run_delete", args=[run.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Run.objects.filter(pk=run.pk).exists()
    assert GradeBand.objects.filter(scheme=scheme).count() == 8


@pytest.mark.django_db
def test_the_data_migration_brings_a_scheme_of_the_first_default_to_the_new_rules():
    from assessment.defaults import upgrade_default_bands, upgrade_default_items

    old = load_default_scheme(apps, 2031)
    # As the first default shipped: 民主评议 manual, no 组织生活会 / 书记讲党课 / 主题党日出勤率达标 items,
    # three cadence items at their old maximum, annual bands only and named 合格 / 不合格.
    Item.objects.filter(scheme=old, name__in=["组织生活会", "书记讲党课", "主题党日出勤率达标"]).delete()
    Item.objects.filter(scheme=old, name="民主评议党员").update(method="manual", kind="manual", cadence_rule=None)
    for name, points in (("党小组会按月召开", 15), ("党课按季度开展", 10), ("主题党日按月开展", 10)):
        Item.objects.filter(scheme=old, name=name).update(max_points=points)
    GradeBand.objects.filter(scheme=old, run_kind="quarter").delete()
    GradeBand.objects.filter(scheme=old, name="一般").update(name="合格")
    GradeBand.objects.filter(scheme=old, name="较差").update(name="不合格")
    edited = load_default_scheme(apps, 2032)
    GradeBand.objects.filter(scheme=edited, run_kind="year", name="一般").update(name="达标")

    upgrade_default_bands(apps)
    upgrade_default_items(apps)

    assert list(old.bands.filter(run_kind="year").values_list("name", flat=True)) == ["优秀", "良好", "一般", "较差"]
    assert old.bands.filter(run_kind="quarter").count() == 4
    assert sum(i.max_points for i in old.items.all() if not i.is_bonus) == Decimal("100")
    assert old.items.count() == 18
    assert old.items.get(name="民主评议党员").kind == "cadence"
    # A scheme the committee changed keeps its own band names.
    assert "达标" in edited.bands.filter(run_kind="year").values_list("name", flat=True)
