"""Forms of the meeting pages: validation of input and layout only; the rules live in ``services``."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from org.forms import CrispyForm
from org.models import Member, Organization

from .models import Attendance, Meeting, MeetingType, Place, ThemeTag, Vote
from .places import default_place, places_for_branch

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    """An HTML ``datetime-local`` input; values are local (Asia/Shanghai) and made aware by the field."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_LOCAL)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class MeetingTypeCheckboxes(forms.CheckboxSelectMultiple):
    """Type checkboxes that say which other fields the type needs (``data-needs``), for meetings.js."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        mtype = getattr(value, "instance", None)
        if mtype is not None:
            needs = []
            if mtype.requires_lecturer:
                needs += ["lecturer", "lesson_title"]
            if mtype.requires_theme_tags:
                needs.append("theme_tags")
            if mtype.audience == MeetingType.Audience.GROUP:
                needs.append("group")
            option["attrs"]["data-needs"] = " ".join(needs)
        return option


def _datetime_field(label: str, *, required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=DateTimeLocalInput(),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Member) -> str:
        return obj.name


class MeetingPlanForm(CrispyForm):
    """Plan or re-plan a meeting. ``group_only`` narrows it to a 党小组长's own groups and group meetings."""

    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    types = forms.ModelMultipleChoiceField(
        label="会议类型",
        queryset=MeetingType.objects.none(),
        widget=MeetingTypeCheckboxes,
        help_text="合并召开的会议可选多项，如党员大会同时作为主题党日。",
        error_messages={"required": "请至少选择一种会议类型。"},
    )
    group = forms.ModelChoiceField(label="党小组", queryset=Organization.objects.none(), required=False)
    topic = forms.CharField(
        label="会议主题", max_length=200, required=False, help_text="可以稍后确定，但发布通知前必须填写。"
    )
    agenda = forms.CharField(label="议程", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    requirements = forms.CharField(
        label="会议要求",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="请假程序、签到时间等；留空则使用默认要求。",
    )
    planned_start = _datetime_field("计划开始时间")
    planned_end = _datetime_field("计划结束时间")
    venue = forms.ModelChoiceField(
        label="会议地点",
        queryset=Place.objects.none(),
        required=False,
        empty_label="（不在登记地点，手工填写）",
        help_text="选择登记的地点时，照片的拍摄位置将与该地点的坐标核对。",
        error_messages={"invalid_choice": "所选地点不可用，请重新选择。"},
    )
    place = forms.CharField(label="地点（手工填写）", max_length=200, required=False)
    lecturer = MemberChoiceField(label="授课人（党课）", queryset=Member.objects.none(), required=False)
    lesson_title = forms.CharField(label="党课题目", max_length=200, required=False)
    theme_tags = forms.ModelMultipleChoiceField(
        label="主题标签（主题党日）",
        queryset=ThemeTag.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(
        self,
        *args,
        branch: Organization,
        lecturers: QuerySet[Member],
        group_only: frozenset[int] | None = None,
        venue: Place | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.branch = branch
        self.group_only = group_only
        types = MeetingType.objects.all()
        groups = Organization.objects.groups().filter(parent=branch, is_active=True)
        if group_only is not None:
            types = types.filter(audience=MeetingType.Audience.GROUP)
            groups = groups.filter(pk__in=group_only)
            self.fields["group"].required = True
            self.fields["group"].empty_label = None
        self.fields["types"].queryset = types
        self.fields["group"].queryset = groups
        self.fields["lecturer"].queryset = lecturers
        self.fields["theme_tags"].queryset = ThemeTag.objects.filter(is_active=True)
        self.fields["venue"].queryset = places_for_branch(branch, include=venue)
        if not self.is_bound and "venue" not in self.initial:
            self.initial["venue"] = default_place(branch)

    def clean(self):
        data = super().clean()
        if not data.get("venue") and not (data.get("place") or "").strip() and "venue" not in self.errors:
            self.add_error("place", _("请选择会议地点，或手工填写地点。"))
        types = data.get("types") or []
        is_group_meeting = any(t.code == MeetingType.Code.GROUP_MEETING for t in types)
        if is_group_meeting and not data.get("group") and "group" not in self.errors:
            self.add_error("group", _("党小组会须选择党小组。"))
        if not is_group_meeting:
            # The group decides who manages and who is expected: only a group meeting carries one.
            data["group"] = None
        return data

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "types": list(d["types"]),
            "group": d.get("group"),
            "topic": d["topic"],
            "agenda": d["agenda"],
            "requirements": d["requirements"],
            "planned_start": d["planned_start"],
            "planned_end": d["planned_end"],
            "place": d["place"],
            "venue": d.get("venue"),
            "lecturer": d.get("lecturer"),
            "lesson_title": d["lesson_title"],
            "theme_tags": list(d["theme_tags"]),
        }

    @staticmethod
    def initial_from(meeting: Meeting) -> dict:
        return {
            "types": list(meeting.types.all()),
            "group": meeting.group,
            "topic": meeting.topic,
            "agenda": meeting.agenda,
            "requirements": meeting.requirements,
            "planned_start": meeting.planned_start,
            "planned_end": meeting.planned_end,
            "place": "" if meeting.venue_id else meeting.place,
            "venue": meeting.venue,
            "lecturer": meeting.lecturer,
            "lesson_title": meeting.lesson_title,
            "theme_tags": list(meeting.theme_tags.all()),
        }


class CancelForm(CrispyForm):
    reason = forms.CharField(
        label="取消原因",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "取消会议须填写原因。"},
    )


class MinutesForm(CrispyForm):
    actual_start = _datetime_field("实际开始时间")
    actual_end = _datetime_field("实际结束时间")
    place = forms.CharField(label="地点", max_length=200)
    chair = MemberChoiceField(label="主持人", queryset=Member.objects.none())
    recorder = MemberChoiceField(label="记录人", queryset=Member.objects.none())
    guests = forms.CharField(
        label="列席人员", required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="非本次应到人员"
    )
    resolutions = forms.CharField(
        label="会议决议", required=False, widget=forms.Textarea(attrs={"rows": 4}), help_text="表决结果请在“表决”中录入"
    )
    counts_for = forms.DateField(
        label="归属期间（补开会议）",
        required=False,
        widget=DateInput(),
        help_text="补开以前月份的会议时，填该月中的任一天；正常召开留空。",
    )

    def __init__(self, *args, people: QuerySet[Member], types: list[MeetingType] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["chair"].queryset = people
        self.fields["recorder"].queryset = people
        # A combined meeting: each type may count for its own period (a make-up of one type only).
        self.type_fields = {}
        if len(types) > 1:
            for meeting_type in types:
                name = f"type_period_{meeting_type.pk}"
                self.fields[name] = forms.DateField(
                    label=_("本类型归属期间：%(type)s") % {"type": meeting_type.name},
                    required=False,
                    widget=DateInput(),
                    help_text=_("只有该类型补开以前期间时填写；留空则与上面的归属期间相同。"),
                )
                self.type_fields[name] = meeting_type.pk

    def clean(self):
        data = super().clean()
        data["type_periods"] = {type_id: data.pop(name, None) for name, type_id in self.type_fields.items()}
        return data

    @staticmethod
    def initial_from(meeting: Meeting) -> dict:
        held_on = meeting.held_on
        counts_for = meeting.counts_for if meeting.counts_for and meeting.counts_for != held_on else None
        own = {row.type_id: row.counts_for for row in meeting.type_periods.all()}
        return {
            **{f"type_period_{type_id}": day for type_id, day in own.items()},
            "actual_start": meeting.actual_start or meeting.planned_start,
            "actual_end": meeting.actual_end or meeting.planned_end,
            "place": meeting.place,
            "chair": meeting.chair,
            "recorder": meeting.recorder,
            "guests": meeting.guests,
            "resolutions": meeting.resolutions,
            "counts_for": counts_for,
        }


class AgendaItemForm(forms.Form):
    """One item; a 支委会 or 党员大会 may mark it 议定事项 with an owner and a deadline.

    The owner list (branch members with an account) is computed once per page and shared.
    """

    item_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(label="议题", max_length=200, required=False)
    is_decision = forms.BooleanField(label="议定事项（须跟踪落实）", required=False)
    decision_owner = forms.TypedChoiceField(label="落实责任人", coerce=int, required=False, empty_value=None)
    decision_due_on = forms.DateField(label="落实期限", required=False, widget=DateInput())

    def __init__(self, *args, owners: list[Member] = (), decisions: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.owners = {m.pk: m for m in owners}
        if decisions:
            self.fields["decision_owner"].choices = [("", "—")] + [(m.pk, m.name) for m in owners]
        else:
            for name in ("is_decision", "decision_owner", "decision_due_on"):
                del self.fields[name]

    def clean(self):
        data = super().clean()
        if data.get("is_decision") and not self.errors:
            if not data.get("decision_owner"):
                self.add_error("decision_owner", _("请指定落实责任人：每项议定事项都必须有一名责任人。"))
            if not data.get("decision_due_on"):
                self.add_error("decision_due_on", _("请填写落实期限。"))
        return data

    def owner_member(self) -> Member | None:
        return self.owners.get(self.cleaned_data.get("decision_owner"))


class SpeechForm(forms.Form):
    """One speech; the speaker list is computed once per page and shared by every row (no query per row)."""

    item = forms.IntegerField(label="议题序号", min_value=1, max_value=99, required=False)
    speaker = forms.TypedChoiceField(label="发言人", coerce=int, required=False, empty_value=None)
    points = forms.CharField(label="发言要点", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    dissent = forms.BooleanField(label="持不同意见", required=False)

    def __init__(self, *args, people: list[Member], **kwargs):
        super().__init__(*args, **kwargs)
        self.people = {m.pk: m for m in people}
        self.fields["speaker"].choices = [("", "—")] + [(m.pk, m.name) for m in people]

    def is_blank(self) -> bool:
        d = self.cleaned_data
        return not d.get("speaker") and not (d.get("points") or "").strip()

    def clean(self):
        data = super().clean()
        if self.errors or self.is_blank():
            return data
        if not data.get("item"):
            self.add_error("item", _("请填写该发言所属议题的序号。"))
        if not data.get("speaker"):
            self.add_error("speaker", _("请选择发言人。"))
        if not (data.get("points") or "").strip():
            self.add_error("points", _("请填写发言要点。"))
        return data

    def speaker_member(self) -> Member:
        return self.people[self.cleaned_data["speaker"]]


AgendaItemFormSet = forms.formset_factory(AgendaItemForm, extra=2, can_delete=True)
SpeechFormSet = forms.formset_factory(SpeechForm, extra=3)


class AttendanceForm(forms.Form):
    """One status select per expected member, plus the list the page was built from.

    请假 is offered only to members with approved leave asked before the start (``leave``:
    {member id: reason}); the chair and the recorder are offered 出席 and 迟到 only. The
    service checks the same rules. ``member_ids`` lets the view notice that the expected
    list changed (a member joined or left the branch) between loading the page and saving it.
    """

    member_ids = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, rows: list[Attendance], leave: dict[int, str], officer_ids: Iterable[int] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        self.leave = leave
        officers = set(officer_ids)
        if not self.is_bound:
            self.initial["member_ids"] = self.encode_ids(r.member_id for r in rows)
        S = Attendance.Status
        for row in rows:
            if row.member_id in officers:
                statuses = [S.PRESENT, S.LATE]
            elif row.member_id in leave:
                statuses = [S.LEAVE, S.PRESENT, S.LATE]
            else:
                statuses = [S.PRESENT, S.LATE, S.ABSENT]
            initial = row.status if row.status in statuses else ""
            self.fields[f"status_{row.member_id}"] = forms.ChoiceField(
                label=row.member.name,
                choices=[("", _("未登记")), *((s.value, s.label) for s in statuses)],
                required=False,
                initial=initial,
            )

    @staticmethod
    def encode_ids(ids) -> str:
        return ",".join(str(i) for i in sorted(set(ids)))

    def posted_ids(self) -> set[int]:
        raw = self.data.get("member_ids", "")
        return {int(p) for p in raw.split(",") if p.strip().isdigit()}

    def current_ids(self) -> set[int]:
        return {r.member_id for r in self.rows}

    def lines(self):
        """(row, status field, approved leave reason or "") for the template."""
        return [(r, self[f"status_{r.member_id}"], self.leave.get(r.member_id, "")) for r in self.rows]

    def entries(self) -> dict[int, str]:
        d = self.cleaned_data
        return {r.member_id: d[f"status_{r.member_id}"] for r in self.rows}


class VoteForm(CrispyForm):
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    kind = forms.ChoiceField(label="表决类型", choices=Vote.Kind.choices, initial=Vote.Kind.MOTION)
    motion = forms.CharField(label="表决事项", max_length=200)
    candidate = forms.ModelChoiceField(
        label=_("候选人/对象（本支部党员）"),
        queryset=Member.objects.none(),
        required=False,
        help_text=_("选举：有表决权的正式党员；预备党员转正：本支部预备党员。一人一表决。"),
    )
    candidate_name = forms.CharField(
        label=_("发展对象姓名（接收预备党员）"),
        max_length=50,
        required=False,
        help_text=_("接收预备党员时填写：发展对象尚不是党员，一人一表决。"),
    )
    yes = forms.IntegerField(label="赞成", min_value=0)
    no = forms.IntegerField(label="反对", min_value=0)
    abstain = forms.IntegerField(label="弃权", min_value=0)
    written_opinions = forms.IntegerField(
        label="书面意见（已计入上面的票数）",
        min_value=0,
        initial=0,
        required=False,
        help_text="仅接收预备党员时，因故缺席的有表决权党员的书面表决意见",
    )

    def __init__(self, *args, candidates: QuerySet[Member], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["candidate"].queryset = candidates
        self.fields["candidate"].label_from_instance = _candidate_label

    def clean_written_opinions(self):
        return self.cleaned_data.get("written_opinions") or 0


def _candidate_label(member: Member) -> str:
    if member.category == Member.Category.PROBATIONARY:
        return _("{name}（预备党员）").format(name=member.name)
    return member.name


class LeaveRequestForm(CrispyForm):
    reason = forms.CharField(label="请假事由", max_length=200, error_messages={"required": "请填写请假事由。"})


class LeaveRegisterForm(CrispyForm):
    """代登记: the 书记 registers approved leave for one of the expected members."""

    member = forms.TypedChoiceField(label="请假党员", coerce=int, error_messages={"required": "请选择请假党员。"})
    reason = forms.CharField(label="请假事由", max_length=200, error_messages={"required": "请填写请假事由。"})

    def __init__(self, *args, members: Iterable[Member], **kwargs):
        super().__init__(*args, **kwargs)
        self.members = {m.pk: m for m in members}
        self.fields["member"].choices = [("", _("请选择")), *((pk, m.name) for pk, m in self.members.items())]

    def member_obj(self) -> Member:
        return self.members[self.cleaned_data["member"]]


class LeaveDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "批准"), ("refuse", "不批准")])
    note = forms.CharField(max_length=200, required=False)


class MeetingFilterForm(forms.Form):
    """The filters of the meeting list; every field optional, bad values ignored."""

    # At 1,000 branches a <select> of every branch is the slowest part of the page: the branch
    # is a search box (名称包含) instead; ?branch=<pk> still works for links (a hidden field).
    branch = forms.ModelChoiceField(
        label="支部", queryset=Organization.objects.none(), required=False, widget=forms.HiddenInput
    )
    branch_name = forms.CharField(
        label="支部", max_length=50, required=False, strip=True, widget=forms.TextInput(attrs={"type": "search"})
    )
    type = forms.ModelChoiceField(
        label="类型", queryset=MeetingType.objects.all(), to_field_name="code", required=False, empty_label="全部类型"
    )
    status = forms.ChoiceField(label="状态", choices=[("", "全部状态"), *Meeting.Status.choices], required=False)
    year = forms.IntegerField(label="年", min_value=2000, max_value=2100, required=False)
    month = forms.IntegerField(label="月", min_value=1, max_value=12, required=False)

    def __init__(self, *args, branches: QuerySet[Organization] | None, **kwargs):
        super().__init__(*args, **kwargs)
        if branches is None:
            del self.fields["branch"]
        else:
            self.fields["branch"].queryset = branches
            self.fields["branch"].empty_label = _("全部支部")
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-select form-select-sm" if hasattr(field, "choices") else "")
        for name in ("year", "month", "branch_name"):
            if name in self.fields:
                self.fields[name].widget.attrs["class"] = "form-control form-control-sm"
        if branches is None:
            del self.fields["branch_name"]
        else:
            self.fields["branch_name"].widget.attrs.update(placeholder=_("支部名称"))

    def values(self) -> dict:
        if not self.is_valid():
            # Ignore only the bad values, keep the rest.
            data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        else:
            data = self.cleaned_data
        mtype = data.get("type")
        return {
            "branch": data.get("branch"),
            "branch_name": data.get("branch_name") or "",
            "type_code": mtype.code if mtype else "",
            "status": data.get("status") or "",
            "year": data.get("year"),
            "month": data.get("month"),
        }


class PlaceForm(CrispyForm):
    """A branch's own meeting place; the 教育基地 are registered mine-wide by the administrator."""

    name = forms.CharField(label="名称", max_length=100)
    kind = forms.ChoiceField(label="类型", choices=[c for c in Place.Kind.choices if c[0] != Place.Kind.EDUCATION_BASE])
    address = forms.CharField(label="地址", max_length=200, required=False)
    latitude = forms.DecimalField(
        label="纬度",
        max_digits=9,
        decimal_places=6,
        min_value=-90,
        max_value=90,
        required=False,
        help_text="如 35.123456；用手机地图查到地点的坐标后填写，照片的拍摄位置将与它核对。",
    )
    longitude = forms.DecimalField(
        label="经度", max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False
    )
    contact = forms.CharField(label="联系人及电话", max_length=100, required=False)
    capacity = forms.IntegerField(label="容纳人数", min_value=1, required=False)
    is_default = forms.BooleanField(label="设为本支部默认地点", required=False)
    is_active = forms.BooleanField(label="启用", required=False, initial=True)

    def clean(self):
        data = super().clean()
        if (data.get("latitude") is None) != (data.get("longitude") is None) and not self.errors:
            raise forms.ValidationError(_("纬度和经度须同时填写或同时留空。"))
        return data

    @staticmethod
    def initial_from(place: Place) -> dict:
        return {name: getattr(place, name) for name in PlaceForm.base_fields}
