"""Forms of the 学习任务, 学习交流群 and 测验 pages: validation and layout only (the services decide)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from org.forms import CrispyForm
from org.models import Member, Organization


class AssignmentForm(CrispyForm):
    ALL, CHOSEN, MEMBERS = "all", "chosen", "members"

    scope = forms.ChoiceField(label=_("布置对象"), widget=forms.RadioSelect)
    branches = forms.ModelMultipleChoiceField(
        label=_("指定支部"), queryset=Organization.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    members = forms.ModelMultipleChoiceField(
        label=_("指定党员"), queryset=Member.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    due_date = forms.DateField(label=_("完成期限（当日 24:00 前）"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("学习要求"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, branches, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branches"].queryset = branches
        if members is None:
            self.fields["scope"].choices = [(self.ALL, _("全部支部")), (self.CHOSEN, _("指定支部"))]
            del self.fields["members"]
        else:
            self.fields["scope"].choices = [(self.ALL, _("本支部全体党员")), (self.MEMBERS, _("指定党员"))]
            self.fields["members"].queryset = members
            del self.fields["branches"]


class PostForm(CrispyForm):
    text = forms.CharField(label=_("学习心得"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))
    item = forms.IntegerField(widget=forms.HiddenInput, required=False)
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)


class HideForm(CrispyForm):
    reason = forms.CharField(label=_("隐藏原因"), max_length=300)
