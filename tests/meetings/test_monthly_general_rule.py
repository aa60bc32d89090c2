"""The mine's monthly 基层会议 is a 支部党员大会: a 党小组会 alone does not satisfy it."""

import datetime as dt
import importlib

import pytest
from django.apps import apps

from meetings.compliance import Outcome
from meetings.defaults import OLD_MONTHLY_GENERAL_RULE
from meetings.models import CadenceRule, MeetingType
from tests.factories import BranchFactory, GroupFactory
from tests.meetings.test_compliance import BASIC, cell, meeting, run

pytestmark = pytest.mark.django_db

migration = importlib.import_module("meetings.migrations.0004_backfill_minutes_due_monthly_general_rule")


def test_a_group_meeting_alone_leaves_the_month_missing_and_a_general_meeting_holds_it():
    only_groups, general = BranchFactory(), BranchFactory()
    meeting(only_groups, dt.date(2026, 3, 12), ["group_meeting"], group=GroupFactory(parent=only_groups))
    meeting(general, dt.date(2026, 3, 12), ["general_meeting"])
    basic = CadenceRule.objects.get(name=BASIC)

    result = run([only_groups, general], [basic])

    assert cell(result, basic, only_groups, dt.date(2026, 3, 1)).outcome == Outcome.MISSING
    assert cell(result, basic, general, dt.date(2026, 3, 1)).outcome == Outcome.ON_TIME
    assert set(basic.types.values_list("code", flat=True)) == {"general_meeting"}


def old_rule():
    name, codes = OLD_MONTHLY_GENERAL_RULE
    CadenceRule.objects.filter(name=BASIC).delete()
    rule = CadenceRule.objects.create(name=name, scope="branch", period="month", min_count=1)
    rule.types.set(MeetingType.objects.filter(code__in=codes))
    return rule


def test_the_migration_corrects_the_shipped_rule():
    rule = old_rule()

    migration.fix_monthly_general_rule(apps, None)

    rule.refresh_from_db()
    assert rule.name == BASIC
    assert set(rule.types.values_list("code", flat=True)) == {"general_meeting"}


def test_the_migration_leaves_a_rule_the_mine_has_edited():
    rule = old_rule()
    rule.types.add(MeetingType.objects.get(code="theme_day"))

    migration.fix_monthly_general_rule(apps, None)

    rule.refresh_from_db()
    assert rule.name == OLD_MONTHLY_GENERAL_RULE[0]
    assert rule.types.count() == 3
