"""Forms of the run pages: input and layout only. The rules (ranges, comments, states) live in
``assessment.services``, whose errors the views put back on these forms' fields."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext as _

from .models import BranchScore, GradeBand, Item, ItemScore, Run
from .scoring import fmt

QUARTERS = [(1, "第一季度"), (2, "第二季度"), (3, "第三季度"), (4, "第四季度")]


class RunCreateForm(forms.Form):
    """A new run: its kind and the year (and quarter) it covers."""

    kind = forms.ChoiceField(label="考核类型", choices=Run.Kind.choices)
    year = forms.IntegerField(
        label="年度",
        min_value=2000,
        max_value=2100,
        error_messages={"min_value": "请填写正确的年度。", "max_value": "请填写正确的年度。"},
    )
    quarter = forms.TypedChoiceField(
        label="季度", choices=[("", "—"), *QUARTERS], coerce=int, empty_value=None, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean(self):
        data = super().clean()
        if data.get("kind") == Run.Kind.QUARTER and not data.get("quarter"):
            self.add_error("quarter", _("季度考核请选择季度。"))
        return data

    @property
    def period_start(self) -> dt.date:
        data = self.cleaned_data
        if data["kind"] == Run.Kind.YEAR:
            return dt.date(data["year"], 1, 1)
        return dt.date(data["year"], 3 * (data["quarter"] - 1) + 1, 1)

    @staticmethod
    def initial_for(today: dt.date) -> dict:
        """The quarter that ended last (what the committee assesses next)."""
        quarter = (today.month - 1) // 3  # the previous quarter, 0 = last year's fourth
        if quarter == 0:
            return {"kind": Run.Kind.QUARTER, "year": today.year - 1, "quarter": 4}
        return {"kind": Run.Kind.QUARTER, "year": today.year, "quarter": quarter}


class RankingFilterForm(forms.Form):
    """Narrows a run's ranking to one grade or to the failing branches."""

    grade = forms.ChoiceField(label="等次", required=False)
    failing = forms.BooleanField(label="只看不合格", required=False)

    def __init__(self, *args, bands: list[GradeBand], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grade"].choices = [("", _("全部等次")), *((b.name, b.name) for b in bands)]


@dataclass
class Cell:
    """One manual item of one branch on the entry page, and the names of its inputs."""

    item: Item
    score: ItemScore
    points: str | None  # None for a veto item: it scores nothing, only its checkbox counts
    comment: str
    veto: str | None


class ManualRowForm(forms.Form):
    """A branch's manual items, saved together (one form per branch keeps the page usable on a phone).

    Inputs are named ``points_<item>``, ``comment_<item>`` and ``veto_<item>`` under the prefix
    ``row<branch score>``, so that the service's errors (keyed ``points``, ``comment``,
    ``veto_triggered``) land next to the input they are about.
    """

    def __init__(self, *args, branch_score: BranchScore, items: list[Item], **kwargs):
        kwargs.setdefault("prefix", f"row{branch_score.pk}")
        super().__init__(*args, **kwargs)
        self.branch_score = branch_score
        self.cells: list[Cell] = []
        by_item = {s.item_id: s for s in branch_score.manual_scores}
        for item in items:
            score = by_item.get(item.pk)
            if score is None:  # the item was added to the scheme after the last computation
                continue
            entered = score.entered_at is not None
            points = None
            if not item.is_veto:
                points = f"points_{item.pk}"
                self.fields[points] = forms.DecimalField(
                    label=_("{name}得分").format(name=item.name),
                    required=False,
                    initial=score.manual_points if entered else None,
                    widget=forms.NumberInput(
                        attrs={
                            "min": "0",
                            "max": fmt(item.max_points),
                            "step": "0.5",
                            "inputmode": "decimal",
                            "class": "form-control",
                        }
                    ),
                    error_messages={"invalid": _("请输入数字。")},
                )
            comment = f"comment_{item.pk}"
            self.fields[comment] = forms.CharField(
                label=_("{name}评分说明").format(name=item.name),
                required=False,
                max_length=2000,
                initial=score.comment,
                widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
            )
            veto = None
            if item.is_veto:
                veto = f"veto_{item.pk}"
                self.fields[veto] = forms.BooleanField(
                    label=_("触发一票否决"),
                    required=False,
                    initial=score.veto_triggered if entered else False,
                    widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
                )
            self.cells.append(Cell(item=item, score=score, points=points, comment=comment, veto=veto))

    @property
    def bound_cells(self) -> list[dict]:
        """Each cell with its bound inputs, for the template (which cannot look fields up by a variable name)."""
        return [
            {
                "cell": c,
                "points": self[c.points] if c.points else None,
                "comment": self[c.comment],
                "veto": self[c.veto] if c.veto else None,
            }
            for c in self.cells
        ]

    def mark_invalid(self) -> None:
        """Bootstrap's red border on every input with an error."""
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()

    def field_for(self, cell: Cell, key: str) -> str:
        """The input a service error keyed ``key`` belongs to."""
        if key == "points" and cell.points:
            return cell.points
        if key == "veto_triggered" and cell.veto:
            return cell.veto
        return cell.comment

    def clean(self):
        data = super().clean()
        for cell in self.cells:
            blank = cell.points and data.get(cell.points) is None and cell.points not in self.errors
            if blank and (data.get(cell.comment) or "").strip():
                self.add_error(cell.points, _("请填写得分。"))
        return data

    def entries(self) -> list[tuple[Cell, Decimal, str, bool]]:
        """(cell, points, comment, veto) of every item the supervisor filled in or changed; untouched ones are left."""
        out = []
        for cell in self.cells:
            score = cell.score
            points = Decimal("0") if cell.points is None else self.cleaned_data.get(cell.points)
            comment = (self.cleaned_data.get(cell.comment) or "").strip()
            veto = bool(self.cleaned_data.get(cell.veto)) if cell.veto else False
            if score.entered_at is None:
                given = comment or veto or (cell.points is not None and points is not None)
                if not given:
                    continue
            elif (points, comment, veto) == (score.manual_points, score.comment, score.veto_triggered):
                continue
            elif cell.points is not None and points is None and not comment:
                continue  # cleared: a manual score cannot be withdrawn, only changed
            out.append((cell, Decimal("0") if points is None else points, comment, veto))
        return out
