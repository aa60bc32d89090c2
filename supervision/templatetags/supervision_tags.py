"""Template tags through which the meetings pages show supervision's results without importing it.

Imports run downward (meetings never imports supervision); a meetings template that loads
these tags asks supervision for what it owns, only when the page needs it.
"""

from django import template

from supervision.selectors.evidence import missing_photo_types as _missing_photo_types
from supervision.selectors.review import latest_return as _latest_return

register = template.Library()


@register.simple_tag
def latest_return(meeting):
    """The supervisor's last return of ``meeting`` (one query), or None."""
    return _latest_return(meeting)


@register.simple_tag
def missing_photo_types(meeting):
    """Names of the meeting's types that require a photo it does not have yet (one query), or []."""
    return _missing_photo_types(meeting)
