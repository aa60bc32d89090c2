"""Template helpers of the meeting partials that other apps' pages include."""

from django import template
from django.utils import timezone

from .. import selectors

register = template.Library()


@register.simple_tag
def branch_meeting_summary(branch):
    """The branch's next meetings and the records it still owes, for the home page card."""
    now = timezone.now()
    return {
        "upcoming": selectors.upcoming_meetings(branch, now=now),
        "awaiting": selectors.records_awaiting_submission(branch, now=now),
    }
