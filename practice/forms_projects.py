"""Forms of the 技术攻关 pages: validation and layout only; the rules live in ``practice.projects``."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from org.forms import CrispyForm
from org.models import Member, Organization

from .models import Project, VerifyingDepartment
from .projects import MilestonePlan, Worker

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _member_label(member: Member) -> str:
    return member.name


class ProjectForm(CrispyForm):
    """Open or edit a project. Leader and target are not required here: the service says what is missing."""

    title = forms.CharField(label=_("项目名称"), max_length=200)
    source = forms.ChoiceField(label=_("问题来源"), choices=Project.Source.choices)
    problem = forms.CharField(label=_("要解决的问题"), widget=forms.Textarea(attrs={"rows": 3}))
    group = forms.ModelChoiceField(label=_("攻关党小组"), queryset=Organization.objects.none(), required=False)
    leader = forms.ModelChoiceField(label=_("负责人（党员）"), queryset=Member.objects.none(), required=False)
    party_members = forms.ModelMultipleChoiceField(
        label=_("党员成员"),
        queryset=Member.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("按住 Ctrl（手机上直接点选）可选多人"),
    )
    workers = forms.CharField(
        label=_("非党员成员"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "张三 采煤机司机\n李四 电工"}),
        help_text=_("每行一人：姓名 岗位"),
    )
    started_on = forms.DateField(label=_("开始日期"), widget=DATE)
    metric = forms.CharField(label=_("目标指标"), max_length=100, required=False)
    unit = forms.CharField(label=_("单位"), max_length=20, required=False)
    baseline_value = forms.DecimalField(label=_("基准值"), max_digits=14, decimal_places=4, required=False)
    target_value = forms.DecimalField(label=_("目标值"), max_digits=14, decimal_places=4, required=False)
    milestones = forms.CharField(
        label=_("攻关节点"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "2027-03-31 完成喷雾装置安装\n2027-06-30 完成效果测试"}),
        help_text=_("每行一个：完成日期 节点名称；每个节点生成一项由负责人办理的任务"),
    )
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, branch: Organization, groups, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.branch = branch
        members = Member.objects.of_organization_on(branch, dt.date.today()).order_by("name")  # noqa: DTZ011
        self.fields["group"].queryset = groups
        self.fields["leader"].queryset = members
        self.fields["leader"].label_from_instance = _member_label
        self.fields["party_members"].queryset = members
        self.fields["party_members"].label_from_instance = _member_label
        if editing:
            for name in ("group", "leader", "party_members", "workers", "milestones"):
                del self.fields[name]

    def clean_workers(self) -> list[Worker]:
        rows = []
        for line in (self.cleaned_data.get("workers") or "").splitlines():
            parts = line.split(None, 1)
            if parts:
                rows.append(Worker(name=parts[0], post=parts[1] if len(parts) > 1 else ""))
        return rows

    def clean_milestones(self) -> list[MilestonePlan]:
        plans = []
        for number, line in enumerate((self.cleaned_data.get("milestones") or "").splitlines(), start=1):
            if not line.strip():
                continue
            parts = line.split(None, 1)
            try:
                due_on = dt.date.fromisoformat(parts[0].replace("/", "-"))
            except ValueError as exc:
                raise ValidationError(
                    _("第 %(n)s 行：请以“2027-03-31 节点名称”的格式填写。"), params={"n": number}
                ) from exc
            if len(parts) < 2:
                raise ValidationError(_("第 %(n)s 行：请填写节点名称。"), params={"n": number})
            plans.append(MilestonePlan(title=parts[1].strip(), due_on=due_on))
        return plans


class VerifierChoiceField(forms.ChoiceField):
    """One choice per (department, user): "安监处 · 张三"."""


class ReportForm(CrispyForm):
    measured_value = forms.DecimalField(label=_("实测值"), max_digits=14, decimal_places=4, required=False)
    money_estimate = forms.DecimalField(
        label=_("经济效益估算（元）"),
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text=_("能折算为金额时填写，如节约电费、材料费"),
    )
    outcome = forms.CharField(label=_("成果说明"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    verifier = VerifierChoiceField(label=_("验收人"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "---------")]
        self.departments = {}
        for department in VerifyingDepartment.objects.filter(active=True).prefetch_related("users"):
            self.departments[department.pk] = department
            for user in department.users.all():
                label = f"{department.name} · {user.get_full_name() or user.username}"
                choices.append((f"{department.pk}:{user.pk}", label))
        self.fields["verifier"].choices = choices

    def clean_verifier(self):
        value = self.cleaned_data.get("verifier")
        if not value:
            return None, None
        department_id, user_id = (int(x) for x in value.split(":"))
        department = self.departments[department_id]
        user = next(u for u in department.users.all() if u.pk == user_id)
        return department, user


class VerifyForm(CrispyForm):
    decision = forms.ChoiceField(
        label=_("验收结论"),
        choices=[("pass", _("通过（已验收）")), ("fail", _("不通过"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("验收意见"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class ReasonForm(CrispyForm):
    reason = forms.CharField(label=_("终止原因"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
