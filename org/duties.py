"""支委分工: the written duties of each committee post of a branch (form and the one write)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.db import transaction

from .forms import CrispyForm
from .models import Organization, Post, PostDuty


class PostDutiesForm(CrispyForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for role in Post.COMMITTEE_ROLES:
            self.fields[role] = forms.CharField(
                label=Post.Role(role).label,
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )


@transaction.atomic
def post_duties_save(*, branch: Organization, duties: dict[str, str], user, now: dt.datetime) -> None:
    """Write the duties of each committee post of ``branch``; only changed ones get a history row."""
    current = {d.role: d for d in PostDuty.objects.select_for_update().filter(organization=branch)}
    for role in Post.COMMITTEE_ROLES:
        text = (duties.get(role) or "").strip()
        duty = current.get(role)
        if duty is None and not text:
            continue
        if duty is not None and duty.duties == text:
            continue
        duty = duty or PostDuty(organization=branch, role=role)
        duty.duties, duty.updated_by, duty.updated_at = text, user, now
        duty._history_user, duty._history_date = user, now
        duty.save()
