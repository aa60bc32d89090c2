"""Forms of the review pages: the queue's filters, the decisions on a record and on a flag (validation only)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from meetings.models import MeetingType
from org.models import Organization

QUARTERS = [(f"q{q}", f"第{'一二三四'[q - 1]}季度") for q in range(1, 5)]
MONTHS = [(f"m{m}", f"{m}月") for m in range(1, 13)]


def period_range(year: int, period: str) -> tuple[dt.date, dt.date]:
    """[first day, first day after) of a year, a quarter (``q1``–``q4``) or a month (``m1``–``m12``)."""
    if period.startswith("q"):
        first_month, months = (int(period[1:]) - 1) * 3 + 1, 3
    elif period.startswith("m"):
        first_month, months = int(period[1:]), 1
    else:
        return dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    start = dt.date(year, first_month, 1)
    end_month = first_month + months
    end = dt.date(year + 1, 1, 1) if end_month > 12 else dt.date(year, end_month, 1)
    return start, end


class QueueFilterForm(forms.Form):
    """Filters of the review queue; every field optional, a bad value is ignored and the rest kept."""

    # A search box (名称包含), not a <select> of 1,000 branches; ?branch=<pk> links still work.
    branch = forms.ModelChoiceField(
        label="支部", queryset=Organization.objects.none(), required=False, widget=forms.HiddenInput
    )
    branch_name = forms.CharField(
        label="支部", max_length=50, required=False, strip=True, widget=forms.TextInput(attrs={"type": "search"})
    )
    type = forms.ModelChoiceField(
        label="会议类型",
        queryset=MeetingType.objects.all(),
        to_field_name="code",
        required=False,
        empty_label="全部类型",
    )
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100, required=False)
    period = forms.ChoiceField(
        label="期间",
        choices=[("", "全年"), ("季度", QUARTERS), ("月份", MONTHS)],
        required=False,
    )
    flags = forms.ChoiceField(
        label="检查提示",
        choices=[("", "全部"), ("open", "有待核实的提示"), ("none", "无待核实的提示")],
        required=False,
    )

    def __init__(self, *args, branches: QuerySet[Organization], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        self.fields["branch"].empty_label = _("全部支部")
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm"
        self.fields["year"].widget.attrs["class"] = "form-control form-control-sm"
        self.fields["year"].widget.attrs["placeholder"] = _("如 2026")
        self.fields["branch_name"].widget.attrs.update(
            {"class": "form-control form-control-sm", "placeholder": _("支部名称")}
        )

    def values(self, *, today: dt.date) -> dict:
        """Keyword arguments of ``selectors.review.review_queue``."""
        if self.is_valid():
            data = self.cleaned_data
        else:
            data = {k: v for k, v in getattr(self, "cleaned_data", {}).items() if k not in self.errors}
        year, period = data.get("year"), data.get("period") or ""
        if period and not year:
            year = today.year
        flags = data.get("flags") or ""
        return {
            "branch": data.get("branch"),
            "branch_name": data.get("branch_name") or "",
            "meeting_type": data.get("type"),
            "period": period_range(year, period) if year else None,
            "has_open_flags": {"open": True, "none": False}.get(flags),
        }


class _DecisionForm(forms.Form):
    # The round the page showed: a decision on a page older than a resubmission is refused.
    seen_round = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


class ApproveForm(_DecisionForm):
    # Asked only while flags are still 待核实; the service refuses the approval without it.
    despite_open_flags = forms.BooleanField(label="仍然通过（已查看待核实的提示）", required=False)


class ReturnForm(_DecisionForm):
    comment = forms.CharField(
        label="退回意见",
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control", "placeholder": "写明需要修改或补充的内容"}),
        error_messages={"required": "退回须填写意见，说明需要修改什么。"},
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label="抽查理由",
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control", "placeholder": "如：年度抽查、群众反映"}),
        error_messages={"required": "抽查重开须填写理由。"},
    )


class FlagDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("confirm", "确认问题"), ("dismiss", "排除")],
        error_messages={"required": "请选择确认或排除。", "invalid_choice": "请选择确认或排除。"},
    )
    reason = forms.CharField(label="核实说明", required=False, max_length=1000)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "dismiss" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("排除提示须填写理由。"))
        return cleaned

    @property
    def confirm(self) -> bool:
        return self.cleaned_data["decision"] == "confirm"
