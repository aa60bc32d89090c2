"""The scheme admin refuses an assessment item built on study time (the 2026 rule on government apps)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.forms import modelform_factory

from assessment.models import Item, Scheme

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheme():
    return Scheme.objects.create(year=2031, name="考核方案")


def _item(scheme, **fields):
    return Item(scheme=scheme, category="党员参与", max_points=Decimal("5"), method="manual", kind="manual", **fields)


@pytest.mark.parametrize(
    "name,description",
    [("党员学习时长排名", ""), ("学习情况", "按党员在线时长由高到低计分"), ("微党课", "观看时长满 10 小时得满分")],
)
def test_an_item_built_on_study_time_is_refused_with_the_rule_named(scheme, name, description):
    item = _item(scheme, name=name, description=description)
    with pytest.raises(ValidationError) as refused:
        item.full_clean()
    message = " ".join(m for ms in refused.value.message_dict.values() for m in ms)
    assert "2026 年" in message and "不得把学习时长、在线时长作为考核依据" in message


def test_an_item_on_completed_study_hours_is_accepted(scheme):
    item = _item(scheme, name="党员年度学时达标", description="年度学时达到要求的党员比例")
    item.full_clean()


def test_the_admin_form_shows_the_refusal_on_the_field(scheme):
    Form = modelform_factory(Item, fields=["scheme", "category", "name", "description", "max_points", "method", "kind"])
    form = Form(
        data={
            "scheme": scheme.pk,
            "category": "党员参与",
            "name": "在线时长",
            "description": "",
            "max_points": "5",
            "method": "manual",
            "kind": "manual",
        }
    )
    assert not form.is_valid()
    assert "2026 年" in form.errors["name"][0]
