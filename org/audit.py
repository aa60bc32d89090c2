"""The audit log of downloads of full ID numbers and of evidence (``AuditEvent``)."""

from __future__ import annotations

import datetime as dt

from .models import AuditEvent
from .netaddr import client_ip


def audit_record(*, request, action: str, object_repr: str, object_id: str | int = "", now: dt.datetime) -> AuditEvent:
    """Write who (the signed-in user), what, when (``now``) and from where (the client address)."""
    user = request.user
    return AuditEvent.objects.create(
        at=now,
        user=user,
        username=user.get_username(),
        action=action,
        object_repr=object_repr[:200],
        object_id=str(object_id)[:40],
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:200],
    )
