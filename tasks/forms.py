"""Forms of the task pages: validation and layout only (the services decide)."""

from __future__ import annotations

from django import forms
from django.template.loader import render_to_string
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


class BranchPicker(forms.Widget):
    """Checkboxes of the branches, grouped by 党总支, with a search box (static/tasks/branch_picker.js).

    At 1,000 branches Django's per-option widget templates cost more than the page; this renders
    one template loop over a list read in one query. Without JS every group can still be opened
    and ticked; the server checks the ids whatever is posted (``DispatchForm.organizations``).
    """

    template_name = "tasks/widgets/branch_picker.html"
    allow_multiple_selected = True

    def render(self, name, value, attrs=None, renderer=None):
        # The project's templates (not the form renderer's app-only loaders) hold this one.
        return render_to_string(self.template_name, self.get_context(name, value, attrs))

    def value_from_datadict(self, data, files, name):
        getter = getattr(data, "getlist", None)
        return getter(name) if getter else data.get(name)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        chosen = {str(v) for v in (value or [])}
        groups: dict[int | None, dict] = {}
        for branch in self.choices.queryset.select_related("parent").order_by(
            "parent__sort_order", "parent_id", "sort_order", "id"
        ):
            parent = branch.parent
            is_general = parent is not None and parent.kind == Organization.Kind.GENERAL_BRANCH
            key = parent.pk if is_general else None
            group = groups.setdefault(
                key, {"name": parent.name if is_general else _("直属党委的支部"), "branches": [], "chosen": 0}
            )
            picked = str(branch.pk) in chosen
            group["branches"].append({"pk": branch.pk, "name": branch.name, "checked": picked})
            group["chosen"] += picked
        context["widget"]["groups"] = list(groups.values())
        return context


class DispatchForm(CrispyForm):
    title = forms.CharField(label=_("任务名称"), max_length=200)
    description = forms.CharField(label=_("任务要求"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    audience = forms.ChoiceField(label=_("下发范围"), choices=Dispatch.Audience.choices, widget=forms.RadioSelect)
    organizations = forms.ModelMultipleChoiceField(
        label=_("指定支部"),
        queryset=Organization.objects.branches().active().order_by("sort_order", "id"),
        required=False,
        widget=BranchPicker,
        error_messages={
            "invalid_choice": _("所选的支部 %(value)s 不存在或已撤销，不能下发。"),
            "invalid_pk_value": _("“%(pk)s”不是有效的支部。"),
        },
    )
    due_date = forms.DateField(label=_("完成期限（当日 24:00 前）"), widget=forms.DateInput(attrs={"type": "date"}))
    route_to_post = forms.ChoiceField(
        label=_("承办职务"),
        required=False,
        choices=[("", _("支部书记（默认）")), *[(r, Post.Role(r).label) for r in Post.COMMITTEE_ROLES]],
    )
