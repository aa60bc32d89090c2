"""Forms of the findings pages: input and layout only; the rules live in ``services.findings``."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from meetings.models import Meeting
from org.forms import CrispyForm
from org.models import Organization

from .forms import MultipleFileField
from .models import Evidence, Finding, Rectification

ANSWER_CATEGORIES = [
    (Evidence.Category.OTHER, Evidence.Category.OTHER.label),
    (Evidence.Category.PHOTO, Evidence.Category.PHOTO.label),
    (Evidence.Category.MINUTES_SCAN, Evidence.Category.MINUTES_SCAN.label),
    (Evidence.Category.SIGNIN, Evidence.Category.SIGNIN.label),
    (Evidence.Category.VIDEO, Evidence.Category.VIDEO.label),
]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class FindingFilterForm(forms.Form):
    """The ledger's filters; every field optional, bad values ignored."""

    # A search box (名称包含), not a <select> of 1,000 branches; ?branch=<pk> links still work.
    branch = forms.ModelChoiceField(
        label="支部", queryset=Organization.objects.none(), required=False, widget=forms.HiddenInput
    )
    branch_name = forms.CharField(
        label="支部", max_length=50, required=False, strip=True, widget=forms.TextInput(attrs={"type": "search"})
    )
    category = forms.ChoiceField(
        label="问题类别", choices=[("", "全部类别"), *Finding.Category.choices], required=False
    )
    severity = forms.ChoiceField(label="严重程度", choices=[("", "全部"), *Finding.Severity.choices], required=False)
    status = forms.ChoiceField(
        label="整改状态", choices=[("", "全部状态"), *Rectification.Status.choices], required=False
    )
    overdue = forms.BooleanField(label="只看逾期", required=False)
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100, required=False)

    def __init__(self, *args, branches: QuerySet[Organization] | None, **kwargs):
        super().__init__(*args, **kwargs)
        if branches is None:
            del self.fields["branch"]
            del self.fields["branch_name"]
        else:
            self.fields["branch"].queryset = branches
            self.fields["branch"].empty_label = _("全部支部")
            self.fields["branch_name"].widget.attrs.update(placeholder=_("支部名称"))
        for name, field in self.fields.items():
            if name == "overdue":
                field.widget.attrs["class"] = "form-check-input"
            elif name in ("year", "branch_name"):
                field.widget.attrs["class"] = "form-control form-control-sm"
            else:
                field.widget.attrs["class"] = "form-select form-select-sm"

    def values(self) -> dict:
        """The valid filters as keyword arguments of ``selectors.findings.filter_findings``."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        return {k: v for k, v in data.items() if v not in (None, "", False)}


class BranchChoiceForm(forms.Form):
    branch = forms.ModelChoiceField(label="支部", queryset=Organization.objects.none(), empty_label="请选择支部")

    def __init__(self, *args, branches: QuerySet[Organization], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        self.fields["branch"].widget.attrs["class"] = "form-select"


class MeetingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Meeting) -> str:
        return f"{timezone.localtime(obj.planned_start):%Y-%m-%d} {obj.topic or '（主题待定）'}"


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.display_name


class FindingForm(CrispyForm):
    """A supervisor's finding against one branch (the branch is chosen before this form)."""

    meeting = MeetingChoiceField(
        label="相关会议", queryset=Meeting.objects.none(), required=False, empty_label="（不针对具体会议）"
    )
    category = forms.ChoiceField(label="问题类别", choices=Finding.Category.choices)
    severity = forms.ChoiceField(label="严重程度", choices=Finding.Severity.choices, initial=Finding.Severity.MODERATE)
    description = forms.CharField(
        label="问题描述",
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "请填写问题描述。"},
    )
    due_on = forms.DateField(label="整改期限", widget=DateInput(), help_text="默认一个月；期限当天 23:59 截止。")
    owner = UserChoiceField(
        label="整改责任人",
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="（支部书记）",
        help_text="默认由支部书记负责整改。",
    )
    evidence_category = forms.ChoiceField(label="材料类别", choices=ANSWER_CATEGORIES, required=False)
    files = MultipleFileField(label="佐证材料", required=False, help_text="可一次选择多个文件（照片、PDF、视频）。")

    def __init__(self, *args, meetings: QuerySet[Meeting], owners: QuerySet, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"].queryset = meetings
        self.fields["owner"].queryset = owners

    def clean_due_on(self):
        due_on = self.cleaned_data["due_on"]
        if due_on < timezone.localdate():
            raise forms.ValidationError(_("整改期限不能早于今天。"))
        return due_on


class AnswerForm(CrispyForm):
    """The branch's answer: measures taken, with evidence."""

    measures = forms.CharField(
        label="整改措施及成效",
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "请填写整改措施。"},
    )
    evidence_category = forms.ChoiceField(label="材料类别", choices=ANSWER_CATEGORIES, required=False)
    files = MultipleFileField(label="整改佐证材料", required=False, help_text="可一次选择多个文件（照片、PDF、视频）。")


class EvidenceForm(CrispyForm):
    """More evidence for a finding."""

    evidence_category = forms.ChoiceField(label="材料类别", choices=ANSWER_CATEGORIES)
    files = MultipleFileField(label="佐证材料")


class RejectForm(CrispyForm):
    reason = forms.CharField(
        label="驳回理由",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "驳回须填写理由。"},
    )
