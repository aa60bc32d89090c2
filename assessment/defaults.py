"""This mine's default scoring scheme, built from domain.md's tables, loaded by a data migration.

Calibration (domain.md, "Assessment"): the 杨庄 table deducts 1 point per missed meeting and
scores 民主评议 and "major matters decided by the 支委会" 2 points each; the enterprise standard
asks for 大会 quarterly and 支委会 / 党小组会 monthly; the annual bands are ≥ 90 优秀,
80–89 良好, 70–79 一般 and below 70 较差 (failing, rectify within a month), the quarterly ones
≥ 97 优秀, 90–96 合格, 86–89 基本合格, ≤ 85 不合格.

Afterwards everything is data: the committee edits the scheme in the admin and starts each
new year from a copy of the last one (``assessment.services.scheme_copy``). This module is
only the starting point, and ``load_default_scheme`` is idempotent: a year that already has
a scheme is left as it is.
"""

from __future__ import annotations

from decimal import Decimal

DEFAULT_YEAR = 2026

# The rules of meetings/defaults.py the cadence items are measured against, by name, with
# (type code, period, scope) to find the rule again should the committee have renamed it.
RULES = {
    "general": ("支部党员大会每季度至少1次", "general_meeting", "quarter", "branch"),
    "committee": ("支部委员会每月至少1次", "committee_meeting", "month", "branch"),
    "group": ("党小组会每月至少1次", "group_meeting", "month", "group"),
    "lesson": ("党课每季度至少1次", "party_lesson", "quarter", "branch"),
    "theme_day": ("主题党日每月1次", "theme_day", "month", "branch"),
    "org_life": ("组织生活会每年至少1次", "org_life", "year", "branch"),
    "review": ("民主评议党员每年1次", "democratic_review", "year", "branch"),
}

RECORDS_ITEM = "会议记录审核通过"
OLD_RECORDS_DESCRIPTION = "会议记录被督导组退回修改，每次扣 1 分。"
NOTICE_RECORDS_DESCRIPTION = (
    "会议记录被督导组退回修改，每次扣 1 分；已召开的会议未发布会议通知或通知晚于规定时间"
    "（党员前一天、党员大会提前 3 天报党委），每次扣 0.5 分。"
)

# category, name, max, method, kind, rule key, rules (field -> value), description
ITEMS = [
    (
        "会议开展",
        "支部党员大会按季度召开",
        "10",
        "auto",
        "cadence",
        "general",
        {"per_unit": "1", "per_late": "0.5"},
        "每季度至少召开 1 次；每缺开一个季度扣 1 分，补开一次扣 0.5 分。",
    ),
    (
        "会议开展",
        "支部委员会按月召开",
        "15",
        "auto",
        "cadence",
        "committee",
        {"per_unit": "1", "per_late": "0.5"},
        "每月至少召开 1 次；每缺开一个月扣 1 分，补开一次扣 0.5 分。",
    ),
    (
        "会议开展",
        "党小组会按月召开",
        "13",
        "auto",
        "cadence",
        "group",
        {"per_unit": "1", "per_late": "0.5"},
        "每个党小组每月至少召开 1 次；每个党小组每缺开一个月扣 1 分，补开一次扣 0.5 分。",
    ),
    (
        "会议开展",
        "党课按季度开展",
        "8",
        "auto",
        "cadence",
        "lesson",
        {"per_unit": "1", "per_late": "0.5"},
        "每季度至少上 1 次党课；每缺一个季度扣 1 分，补上一次扣 0.5 分。",
    ),
    (
        "会议开展",
        "主题党日按月开展",
        "7",
        "auto",
        "cadence",
        "theme_day",
        {"per_unit": "1", "per_late": "0.5"},
        "每月开展 1 次；每缺一个月扣 1 分，补开一次扣 0.5 分。",
    ),
    (
        "记录规范",
        "会议记录审核通过",
        "10",
        "auto",
        "returned",
        None,
        {"per_unit": "1", "per_notice": "0.5"},
        NOTICE_RECORDS_DESCRIPTION,
    ),
    (
        "记录规范",
        "会议记录按时提交",
        "5",
        "auto",
        "minutes_late",
        None,
        {"per_unit": "0.5"},
        "会后未在规定天数内提交会议记录，每次扣 0.5 分。",
    ),
    (
        "党员参与",
        "党员出勤率",
        "10",
        "auto",
        "attendance",
        None,
        {"per_unit": "0.5", "target_percent": 90},
        "已召开会议的党员出勤率（出席 ÷ 应到）目标 90%，每低 1 个百分点扣 0.5 分。",
    ),
    (
        "督导整改",
        "材料真实",
        "3",
        "auto",
        "flags",
        None,
        {"per_unit": "1"},
        "检查提示经督导组核实确认的（照片重复、记录雷同、补录等），每条扣 1 分。",
    ),
    (
        "督导整改",
        "督导发现问题",
        "4",
        "auto",
        "findings",
        None,
        {"per_minor": "0.5", "per_unit": "1", "per_serious": "2"},
        "督导检查发现问题，轻微每条扣 0.5 分，一般每条扣 1 分，严重每条扣 2 分。",
    ),
    (
        "督导整改",
        "整改按期完成",
        "4",
        "auto",
        "rectification_overdue",
        None,
        {"per_unit": "2"},
        "整改逾期未完成，每项扣 2 分。",
    ),
    (
        "会议开展",
        "书记讲党课",
        "2",
        "auto",
        "secretary_lesson",
        None,
        {"per_unit": "2"},
        "支部书记每年至少讲 1 次党课（授课人为上课当日的支部书记）；未讲扣 2 分。只在年度考核中计分。",
    ),
    (
        "党员参与",
        "主题党日出勤率达标",
        "3",
        "auto",
        "type_attendance_target",
        None,
        {"per_unit": "0.5"},
        "每次主题党日实到 ÷ 应到不低于会议类型设定的目标（80%）；每有一次未达标扣 0.5 分。",
    ),
    (
        "组织建设",
        "民主评议党员",
        "2",
        "auto",
        "cadence",
        "review",
        {"per_unit": "2", "per_late": "1"},
        "每年开展民主评议党员；当年未开展扣 2 分，次年补开扣 1 分。",
    ),
    (
        "组织建设",
        "组织生活会",
        "2",
        "auto",
        "cadence",
        "org_life",
        {"per_unit": "2", "per_late": "1"},
        "每年至少召开 1 次组织生活会；当年未召开扣 2 分，次年补开扣 1 分。",
    ),
    (
        "组织建设",
        "重大事项经支委会研究决定",
        "2",
        "manual",
        "manual",
        None,
        {},
        "重大事项经支委会集体研究决定并有记录 2 分；无记录扣 2 分。",
    ),
]

BONUS = (
    "加分项",
    "创新创优",
    "3",
    "党建工作有创新、经验被上级推广或获上级表彰的，由督导组酌情加分，最多加 3 分。",
)
VETO = (
    "一票否决",
    "记录造假",
    "会议记录、签到或照片等材料弄虚作假（补本子、代签到、一次活动拍成多次等）经查实的，一票否决，考核等次为不合格。",
)

# Grade bands by run kind (domain.md): name, lowest total, failing. A total reaches a band when it
# is at least its minimum at the stored 0.01 (89.99 is 良好, 96.50 合格, 85.50 不合格): "80–89" in
# the mine's table means [80, 90).
BANDS = {
    "year": [("优秀", "90", False), ("良好", "80", False), ("一般", "70", False), ("较差", "0", True)],
    "quarter": [("优秀", "97", False), ("合格", "90", False), ("基本合格", "86", False), ("不合格", "0", True)],
}
# The annual bands the first default scheme shipped with, renamed where still unchanged.
OLD_YEAR_BANDS = {("优秀", Decimal("90")), ("良好", Decimal("80")), ("合格", Decimal("70")), ("不合格", Decimal("0"))}
RENAMED_YEAR_BANDS = {"合格": "一般", "不合格": "较差"}


def _find_rule(CadenceRule, key: str):
    name, code, period, scope = RULES[key]
    rule = CadenceRule.objects.filter(name=name).first()
    if rule is None:
        rule = (
            CadenceRule.objects.filter(types__code=code, period=period, scope=scope)
            .order_by("-is_active", "sort_order", "id")
            .first()
        )
    if rule is None:
        raise LookupError(f"The default scheme needs a cadence rule like {name!r}; load the meeting defaults first.")
    return rule


def _item(Item, CadenceRule, scheme, row, *, order: int):
    """An unsaved item of ``scheme`` from one row of ``ITEMS`` (models from a migration's registry or the app's)."""
    category, name, max_points, method, kind, rule_key, rules, description = row
    values = {k: (Decimal(v) if isinstance(v, str) else v) for k, v in rules.items()}
    if "per_notice" in values and not _has_field(Item, "per_notice"):
        # Before notices counted (migration 0002): the item as first shipped; 0004 upgrades it.
        del values["per_notice"]
        description = OLD_RECORDS_DESCRIPTION
    return Item(
        scheme=scheme,
        category=category,
        name=name,
        description=description,
        order=order,
        max_points=Decimal(max_points),
        method=method,
        kind=kind,
        cadence_rule=_find_rule(CadenceRule, rule_key) if rule_key else None,
        **values,
    )


def load_default_scheme(apps, year: int = DEFAULT_YEAR):
    """The default scheme of ``year``: created (items and bands) unless that year already has one.

    ``apps`` is a migration's app registry or ``django.apps.apps``. Needs the default cadence
    rules (meetings/defaults.py) in the database. Returns the year's scheme.
    """
    Scheme = apps.get_model("assessment", "Scheme")
    Item = apps.get_model("assessment", "Item")
    CadenceRule = apps.get_model("meetings", "CadenceRule")

    existing = Scheme.objects.filter(year=year).first()
    if existing is not None:
        return existing
    scheme = Scheme.objects.create(year=year, name=f"{year}年度三会一课量化考核方案")
    items = []
    order = 0
    for row in ITEMS:
        order += 10
        items.append(_item(Item, CadenceRule, scheme, row, order=order))
    category, name, max_points, description = BONUS
    items.append(
        Item(
            scheme=scheme,
            category=category,
            name=name,
            description=description,
            order=order + 10,
            max_points=Decimal(max_points),
            method="manual",
            kind="manual",
            is_bonus=True,
        )
    )
    category, name, description = VETO
    items.append(
        Item(
            scheme=scheme,
            category=category,
            name=name,
            description=description,
            order=order + 20,
            max_points=Decimal("0"),
            method="manual",
            kind="manual",
            is_veto=True,
        )
    )
    Item.objects.bulk_create(items)
    add_default_bands(apps, scheme)
    return scheme


def _has_field(model, name: str) -> bool:
    return any(f.name == name for f in model._meta.get_fields())


def _has_run_kind(GradeBand) -> bool:
    return _has_field(GradeBand, "run_kind")


def add_default_bands(apps, scheme) -> None:
    """The default bands of each run kind the scheme has none of.

    Before bands had a run kind (the first data migration) only the annual ones fit;
    ``upgrade_default_bands`` adds the quarterly ones later.
    """
    GradeBand = apps.get_model("assessment", "GradeBand")
    if not _has_run_kind(GradeBand):
        if not GradeBand.objects.filter(scheme=scheme).exists():
            GradeBand.objects.bulk_create(
                [GradeBand(scheme=scheme, name=n, min_score=Decimal(m), is_failing=f) for n, m, f in BANDS["year"]]
            )
        return
    present = set(GradeBand.objects.filter(scheme=scheme).values_list("run_kind", flat=True))
    GradeBand.objects.bulk_create(
        [
            GradeBand(scheme=scheme, run_kind=kind, name=n, min_score=Decimal(m), is_failing=f)
            for kind, bands in BANDS.items()
            if kind not in present
            for n, m, f in bands
        ]
    )


def upgrade_default_bands(apps) -> None:
    """Every scheme: annual bands still as first shipped take domain.md's names; quarterly bands are added."""
    Scheme = apps.get_model("assessment", "Scheme")
    GradeBand = apps.get_model("assessment", "GradeBand")
    for scheme in Scheme.objects.all():
        year_bands = list(GradeBand.objects.filter(scheme=scheme, run_kind="year"))
        if {(b.name, b.min_score) for b in year_bands} == OLD_YEAR_BANDS:
            for band in year_bands:
                if band.name in RENAMED_YEAR_BANDS:
                    band.name = RENAMED_YEAR_BANDS[band.name]
                    band.save(update_fields=["name"])
        add_default_bands(apps, scheme)


def upgrade_default_items(apps) -> None:
    """The first default scheme, where still unchanged, gains the automatic items of issue 9 (rule 13).

    民主评议党员 becomes automatic (a year without one costs its points), 组织生活会, 书记讲党课 and
    主题党日出勤率达标 are added, and three cadence items give up points so the total stays 100.
    A scheme the committee has edited (its total is not 100 or an item is renamed) is left alone.
    """
    Scheme = apps.get_model("assessment", "Scheme")
    Item = apps.get_model("assessment", "Item")
    CadenceRule = apps.get_model("meetings", "CadenceRule")
    lowered = {"党小组会按月召开": ("15", "13"), "党课按季度开展": ("10", "8"), "主题党日按月开展": ("10", "7")}
    for scheme in Scheme.objects.all():
        items = {i.name: i for i in Item.objects.filter(scheme=scheme)}
        review = items.get("民主评议党员")
        if review is None or review.method != "manual" or {"组织生活会", "书记讲党课"} & items.keys():
            continue
        if any(name not in items or items[name].max_points != Decimal(old) for name, (old, _new) in lowered.items()):
            continue
        for name, (_old, new) in lowered.items():
            items[name].max_points = Decimal(new)
            items[name].save(update_fields=["max_points"])
        review.method, review.kind = "auto", "cadence"
        review.cadence_rule = _find_rule(CadenceRule, "review")
        review.per_unit, review.per_late = Decimal("2"), Decimal("1")
        review.description = "每年开展民主评议党员；当年未开展扣 2 分，次年补开扣 1 分。"
        review.save()
        new = {row[1]: row for row in ITEMS if row[1] in ("组织生活会", "书记讲党课", "主题党日出勤率达标")}
        after = {"书记讲党课": "主题党日按月开展", "主题党日出勤率达标": "党员出勤率", "组织生活会": "民主评议党员"}
        for name, before in after.items():
            order = items[before].order + 1 if before in items else review.order + 1
            _item(Item, CadenceRule, scheme, new[name], order=order).save()


def upgrade_records_item(apps) -> None:
    """The records item of a default scheme, where still as shipped, also counts missing or late notices (rule 12).

    Only an item still named, scored and described as first shipped gains ``per_notice`` 0.5;
    one the committee has edited is left alone (its ``per_notice`` stays 0: not counted).
    """
    Item = apps.get_model("assessment", "Item")
    for item in Item.objects.filter(
        name=RECORDS_ITEM,
        method="auto",
        kind="returned",
        per_unit=Decimal("1"),
        per_notice=Decimal("0"),
        description=OLD_RECORDS_DESCRIPTION,
    ):
        item.per_notice = Decimal("0.5")
        item.description = NOTICE_RECORDS_DESCRIPTION
        item.save(update_fields=["per_notice", "description"])
