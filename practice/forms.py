"""Forms of the practice pages: validation and layout only; the rules live in ``services``."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet

from meetings.forms import DateInput, MemberChoiceField
from org.forms import CrispyForm
from org.models import Member
from study.models import StudyItem

from .models import ActivityKind, Hazard, PioneerPost


class ActivityForm(CrispyForm):
    token = forms.CharField(widget=forms.HiddenInput, required=False)
    kind = forms.ModelChoiceField(
        label="活动形式",
        queryset=ActivityKind.objects.filter(active=True),
        error_messages={"required": "请选择活动形式。", "invalid_choice": "请选择活动形式。"},
    )
    description = forms.CharField(
        label="活动内容",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "请填写活动内容。"},
    )
    study_item = forms.ModelChoiceField(
        label="关联学习资料（观看警示片、学习等）",
        queryset=StudyItem.objects.filter(state=StudyItem.State.PUBLISHED).order_by("-published_at", "-id"),
        required=False,
        error_messages={"invalid_choice": "只能关联已发布的学习资料。"},
    )


class HazardForm(CrispyForm):
    token = forms.CharField(widget=forms.HiddenInput, required=False)
    description = forms.CharField(
        label="隐患描述", widget=forms.Textarea(attrs={"rows": 2}), error_messages={"required": "请填写隐患描述。"}
    )
    location = forms.CharField(label="地点", max_length=200, error_messages={"required": "请填写隐患所在地点。"})
    severity = forms.ChoiceField(label="隐患等级", choices=Hazard.Severity.choices, initial=Hazard.Severity.ORDINARY)
    owner = MemberChoiceField(
        label="整改责任人",
        queryset=Member.objects.none(),
        required=False,
        help_text="本支部有登录账号的党员；整改任务发给此人。",
        error_messages={"invalid_choice": "所选责任人不是本支部有登录账号的党员。"},
    )
    due_on = forms.DateField(label="整改期限", widget=DateInput(), error_messages={"required": "请填写整改期限。"})

    def __init__(self, *args, owners: QuerySet[Member], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class HazardEditForm(CrispyForm):
    description = forms.CharField(
        label="隐患描述", widget=forms.Textarea(attrs={"rows": 2}), error_messages={"required": "请填写隐患描述。"}
    )
    location = forms.CharField(label="地点", max_length=200, error_messages={"required": "请填写隐患所在地点。"})
    severity = forms.ChoiceField(label="隐患等级", choices=Hazard.Severity.choices)


class PioneerPostForm(CrispyForm):
    token = forms.CharField(widget=forms.HiddenInput, required=False)
    member = MemberChoiceField(
        label="党员",
        queryset=Member.objects.none(),
        error_messages={"required": "请选择党员。", "invalid_choice": "所选党员不是本支部的党员。"},
    )
    kind = forms.ChoiceField(label="类型", choices=PioneerPost.Kind.choices)
    name = forms.CharField(label="岗位或区域", max_length=100, error_messages={"required": "请填写岗位或区域名称。"})
    statement = forms.CharField(
        label="承诺", widget=forms.Textarea(attrs={"rows": 2}), error_messages={"required": "请填写承诺。"}
    )
    started_on = forms.DateField(label="开始日期", widget=DateInput(), error_messages={"required": "请填写开始日期。"})
    ended_on = forms.DateField(label="结束日期（可不填）", widget=DateInput(), required=False)

    def __init__(self, *args, members: QuerySet[Member], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members
