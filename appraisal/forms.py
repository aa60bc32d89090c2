"""Forms of the 民主评议: validation and layout only (the limits live in the services)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from org.forms import CrispyForm

from .models import Grade

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class YearOpenForm(CrispyForm):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)


class WindowForm(CrispyForm):
    window_start = forms.DateTimeField(label=_("投票开始时间"), widget=DATETIME_WIDGET, input_formats=DATETIME_FORMATS)
    window_end = forms.DateTimeField(label=_("投票截止时间"), widget=DATETIME_WIDGET, input_formats=DATETIME_FORMATS)

    def clean(self):
        data = super().clean()
        start, end = data.get("window_start"), data.get("window_end")
        if start and end and end <= start:
            raise ValidationError(_("投票截止时间必须晚于开始时间。"))
        return data


class CodesForm(CrispyForm):
    count = forms.IntegerField(label=_("评议码数量"), min_value=1, max_value=200, initial=10)
    expires_at = forms.DateTimeField(label=_("有效期至"), widget=DATETIME_WIDGET, input_formats=DATETIME_FORMATS)


class SummaryForm(CrispyForm):
    self_summary = forms.CharField(label=_("个人总结"), widget=forms.Textarea(attrs={"rows": 8}), max_length=5000)
    self_grade = forms.ChoiceField(
        label=_("自评等次"), choices=[("", "—"), *Grade.choices], required=False, widget=forms.RadioSelect
    )

    def __init__(self, *args, graded: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not graded:
            del self.fields["self_grade"]


class CodeEntryForm(CrispyForm):
    code = forms.CharField(
        label=_("评议码"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "inputmode": "text"}),
    )


def grades_from_post(data, appraisee_ids, prefix: str = "g") -> dict[int, str]:
    """``{appraisee_id: grade}`` from radio buttons named ``g<id>`` (empty values left out)."""
    result = {}
    for pk in appraisee_ids:
        value = data.get(f"{prefix}{pk}", "")
        if value:
            result[pk] = value
    return result


def grades_from_any_post(data, prefix: str = "g") -> dict[int, str]:
    """Every ``g<id>`` field posted, so a forged field (oneself, a 预备党员) reaches the service and is refused."""
    result = {}
    for key, value in data.items():
        if key.startswith(prefix) and key[len(prefix) :].isdigit() and value:
            result[int(key[len(prefix) :])] = value
    return result
