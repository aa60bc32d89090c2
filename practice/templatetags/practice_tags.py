"""The 先锋岗 / 责任区 card on the branch page and the member page (org cannot import practice; its
templates load this tag). One query."""

from __future__ import annotations

from django import template
from django.utils import timezone

from practice.models import PioneerPost

register = template.Library()


@register.inclusion_tag("practice/_pioneer_list.html", takes_context=True)
def pioneer_posts(context, branch=None, member=None, css="mb-3"):
    today = timezone.localdate()
    qs = PioneerPost.objects.current_on(today).select_related("member")
    if branch is not None:
        qs = qs.filter(branch=branch)
    if member is not None:
        qs = qs.filter(member=member)
    user = context.get("user")
    can_edit = branch is not None and user is not None and user.has_perm("practice.edit_pioneer_posts", branch)
    return {
        "posts": list(qs.order_by("kind", "name", "id")),
        "branch": branch,
        "can_edit": can_edit,
        "show_member": member is None,
        "css": css,
    }
