"""History rows for state flips made by conditional updates.

``Model.objects.filter(pk=..., status=OLD).update(status=NEW)`` is how a state changes exactly
once (style.md rule 3), but a queryset update writes no django-simple-history row. After the flip
succeeded, this saves the row once more so the history keeps who took the step, when and why.
"""

from __future__ import annotations

import datetime as dt

from django.db import models


def record_history(
    model: type[models.Model], pk: int, *, user, now: dt.datetime, reason: str, state_field: str = "status"
) -> None:
    """One history row of ``model`` ``pk`` as it now is, by ``user`` at ``now``, with ``reason``.

    ``state_field`` is the field the flip changed (saved again, unchanged, to write the row).
    """
    obj = model.objects.get(pk=pk)
    obj._history_user = user
    obj._history_date = now
    obj._change_reason = reason
    obj.save(update_fields=[state_field])
