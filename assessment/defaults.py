"""This mine's default scoring scheme, built from domain.md's tables, loaded by a data migration.

Calibration (domain.md, "Assessment"): the 杨庄 table deducts 1 point per missed meeting and
scores 民主评议 and "major matters decided by the 支委会" 2 points each; the enterprise standard
asks for 大会 quarterly and 支委会 / 党小组会 monthly; the annual bands are ≥ 90 优秀,
80–89 良好, 70–79 合格 and below 70 不合格 (failing, rectify within a month).

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
}

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
        "15",
        "auto",
        "cadence",
        "group",
        {"per_unit": "1", "per_late": "0.5"},
        "每个党小组每月至少召开 1 次；每个党小组每缺开一个月扣 1 分，补开一次扣 0.5 分。",
    ),
    (
        "会议开展",
        "党课按季度开展",
        "10",
        "auto",
        "cadence",
        "lesson",
        {"per_unit": "1", "per_late": "0.5"},
        "每季度至少上 1 次党课；每缺一个季度扣 1 分，补上一次扣 0.5 分。",
    ),
    (
        "会议开展",
        "主题党日按月开展",
        "10",
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
        {"per_unit": "1"},
        "会议记录被督导组退回修改，每次扣 1 分。",
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
        "组织建设",
        "民主评议党员",
        "2",
        "manual",
        "manual",
        None,
        {},
        "每年开展民主评议党员 2 分；未开展扣 2 分。",
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

# name, lowest total, failing
BANDS = [("优秀", "90", False), ("良好", "80", False), ("合格", "70", False), ("不合格", "0", True)]


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


def load_default_scheme(apps, year: int = DEFAULT_YEAR):
    """The default scheme of ``year``: created (items and bands) unless that year already has one.

    ``apps`` is a migration's app registry or ``django.apps.apps``. Needs the default cadence
    rules (meetings/defaults.py) in the database. Returns the year's scheme.
    """
    Scheme = apps.get_model("assessment", "Scheme")
    Item = apps.get_model("assessment", "Item")
    GradeBand = apps.get_model("assessment", "GradeBand")
    CadenceRule = apps.get_model("meetings", "CadenceRule")

    existing = Scheme.objects.filter(year=year).first()
    if existing is not None:
        return existing
    scheme = Scheme.objects.create(year=year, name=f"{year}年度三会一课量化考核方案")
    items = []
    order = 0
    for category, name, max_points, method, kind, rule_key, rules, description in ITEMS:
        order += 10
        values = {k: (Decimal(v) if isinstance(v, str) else v) for k, v in rules.items()}
        items.append(
            Item(
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
        )
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
    GradeBand.objects.bulk_create(
        [GradeBand(scheme=scheme, name=n, min_score=Decimal(m), is_failing=f) for n, m, f in BANDS]
    )
    return scheme
