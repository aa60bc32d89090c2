"""Forms of the study library: validation and layout only (the rules are in ``study.services``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from org.forms import CrispyForm
from org.models import Member, Organization
from org.rules import study_author_branch_ids, writes_mine_study

from .models import Column, StudyItem
from .services import content_problems


class LibrarySearchForm(forms.Form):
    """The library's search: words in the title or the lecturer's name, a column, a kind."""

    q = forms.CharField(label=_("搜索"), required=False, max_length=50)
    column = forms.ModelChoiceField(label=_("专栏"), queryset=Column.objects.none(), required=False)
    kind = forms.ChoiceField(label=_("类型"), required=False)

    def __init__(self, *args, columns, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["column"].queryset = Column.objects.filter(pk__in=[c.pk for c in columns])
        self.fields["column"].empty_label = _("全部专栏")
        self.fields["kind"].choices = [("", _("全部类型")), *StudyItem.Kind.choices]


def author_organizations(user):
    """The organisations the user may write study items for: their branches, and the 党委 for the 党委工作部."""
    q = Organization.objects.filter(pk__in=study_author_branch_ids(user), kind=Organization.Kind.BRANCH)
    if writes_mine_study(user):
        q = q | Organization.objects.filter(kind=Organization.Kind.COMMITTEE, parent__isnull=True)
    return q.order_by("kind", "sort_order", "id")


class StudyItemForm(CrispyForm):
    """A draft's fields. The organisation offered is the one(s) the user writes for."""

    organization = forms.ModelChoiceField(label=_("发布组织"), queryset=Organization.objects.none(), empty_label=None)
    kind = forms.ChoiceField(label=_("类型"), choices=StudyItem.Kind.choices)
    column = forms.ModelChoiceField(label=_("专栏"), queryset=Column.objects.none(), empty_label=None)
    title = forms.CharField(label=_("标题"), max_length=200)
    summary = forms.CharField(label=_("简介"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    body = forms.CharField(
        label=_("正文"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("图文资料必填；纯文本，空行分段。"),
    )
    file = forms.FileField(
        label=_("文件"),
        required=False,
        help_text=_("文档（PDF、Word、Excel、PPT、图片）、视频或音频；文件类型按内容判断。草稿阶段可以更换。"),
    )
    lecturer = forms.ModelChoiceField(label=_("主讲人"), queryset=Member.objects.none(), required=False)
    lecturer_name = forms.CharField(
        label=_("主讲人（名单外）"), max_length=50, required=False, help_text=_("外请老师等不在党员名册中的主讲人。")
    )
    audience = forms.ChoiceField(
        label=_("学习对象"), choices=StudyItem.Audience.choices, widget=forms.RadioSelect, initial="mine"
    )
    branches = forms.ModelMultipleChoiceField(
        label=_("指定支部"), queryset=Organization.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    roles = forms.MultipleChoiceField(
        label=_("指定对象"), choices=StudyItem.Role.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    credit_hours = forms.DecimalField(
        label=_("学时"),
        required=False,
        max_digits=4,
        decimal_places=1,
        min_value=0,
        help_text=_("文档、图文必填；视频、音频留空则按时长折算（默认每 45 分钟 1 学时）。"),
    )
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user, item: StudyItem | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.item = item
        orgs = author_organizations(user)
        self.fields["organization"].queryset = orgs
        if item is not None:
            # The organisation of an existing item is fixed: its writers are those of that organisation.
            del self.fields["organization"]
        self.fields["column"].queryset = Column.objects.filter(active=True)
        branch_ids = study_author_branch_ids(user)
        lecturers = Member.objects.in_good_standing().order_by("name", "id")
        if not writes_mine_study(user):
            lecturers = lecturers.filter(memberships__organization_id__in=branch_ids).distinct()
        self.fields["lecturer"].queryset = lecturers
        self.fields["branches"].queryset = Organization.objects.branches().active().order_by("sort_order", "id")

    @classmethod
    def initial_for(cls, item: StudyItem) -> dict:
        return {
            "kind": item.kind,
            "column": item.column_id,
            "title": item.title,
            "summary": item.summary,
            "body": item.body,
            "lecturer": item.lecturer_id,
            "lecturer_name": item.lecturer_name,
            "audience": item.audience,
            "branches": [b.pk for b in item.branches.all()],
            "roles": item.roles.split(),
            "credit_hours": item.credit_hours,
        }

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        problems = content_problems(
            kind=data["kind"],
            body=data.get("body", ""),
            audience=data["audience"],
            branch_ids=[b.pk for b in data.get("branches") or []],
            roles=" ".join(data.get("roles") or []),
            credit_hours=data.get("credit_hours"),
            lecturer=data.get("lecturer"),
            lecturer_name=data.get("lecturer_name", ""),
        )
        if data.get("file") and data["kind"] == StudyItem.Kind.ARTICLE:
            problems.setdefault("file", []).append(_("图文资料不上传文件，请把内容写在正文中；文件请选择“文档”类型。"))
        for field, messages in problems.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        return data

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "column": data["column"],
            "title": data["title"],
            "summary": data.get("summary", ""),
            "body": data.get("body", ""),
            "lecturer": data.get("lecturer"),
            "lecturer_name": data.get("lecturer_name", "").strip(),
            "audience": data["audience"],
            "branches": list(data.get("branches") or []),
            "roles": " ".join(data.get("roles") or []),
            "credit_hours": data.get("credit_hours"),
        }


class ReviewForm(CrispyForm):
    decision = forms.ChoiceField(
        label=_("审核结果"), choices=[("publish", _("通过并发布")), ("return", _("退回修改"))], widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("审核意见"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("退回修改时必填。"),
    )  # fmt: skip

    def clean(self):
        data = super().clean()
        if data.get("decision") == "return" and not (data.get("note") or "").strip():
            self.add_error("note", _("退回修改须填写审核意见，说明需要修改什么。"))
        return data


class WithdrawForm(CrispyForm):
    reason = forms.CharField(label=_("撤回原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
