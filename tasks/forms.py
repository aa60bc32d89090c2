"""Forms of the task pages: validation and layout only (the services decide)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from org.forms import CrispyForm
from org.models import Member, Organization, Post

from .models import Dispatch, Task

ACCEPT = "image/*,video/*,application/pdf,.jpg,.jpeg,.png,.heic,.mp4,.mov,.pdf"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class TaskFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部状态")), *Task.Status.choices])
    source = forms.ChoiceField(label=_("来源"), required=False, choices=[("", _("全部来源")), *Task.Source.choices])


class ReportForm(CrispyForm):
    text = forms.CharField(label=_("办理情况"), required=False, widget=forms.Textarea(attrs={"rows": 5}))
    files = MultipleFileField(label=_("附件（照片、视频、PDF，可多选，可直接拍照）"))
    token = forms.CharField(widget=forms.HiddenInput, required=False)


class ReasonForm(CrispyForm):
    reason = forms.CharField(label=_("原因"), widget=forms.Textarea(attrs={"rows": 3}))


class HandOverForm(CrispyForm):
    owner = forms.ModelChoiceField(label=_("责任人"), queryset=Member.objects.none(), required=False)
    helpers = forms.ModelMultipleChoiceField(
        label=_("协办人"), queryset=Member.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = candidates
        self.fields["helpers"].queryset = candidates


class DispatchForm(CrispyForm):
    title = forms.CharField(label=_("任务名称"), max_length=200)
    description = forms.CharField(label=_("任务要求"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    audience = forms.ChoiceField(label=_("下发范围"), choices=Dispatch.Audience.choices, widget=forms.RadioSelect)
    organizations = forms.ModelMultipleChoiceField(
        label=_("指定支部"),
        queryset=Organization.objects.branches().active().order_by("sort_order", "id"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    due_date = forms.DateField(label=_("完成期限（当日 24:00 前）"), widget=forms.DateInput(attrs={"type": "date"}))
    route_to_post = forms.ChoiceField(
        label=_("承办职务"),
        required=False,
        choices=[("", _("支部书记（默认）")), *[(r, Post.Role(r).label) for r in Post.COMMITTEE_ROLES]],
    )
