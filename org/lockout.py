"""Sign-in lockout: per username and address (axes), plus a higher limit per address alone.

Axes compares one number with one limit (``AXES_FAILURE_LIMIT``). Lockout per username+address
keeps one person's typos from locking another out, but lets one address try a few passwords
on every username (password spraying: 56 guesses on 14 usernames went through). This handler
also counts the address's failures across all usernames within the cool-off and scales them
so that reaching ``AXES_IP_FAILURE_LIMIT`` counts as reaching the per-user limit. Kept high by
default: a whole shift may sign in from one NAT address.

Only the username+address rows are reset on a successful sign-in, so an attacker who owns one
account cannot clear the address's count by signing in with it.
"""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


def address_failures(request) -> int:
    ip = getattr(request, "axes_ip_address", None)
    if not ip:
        return 0
    recent = AccessAttempt.objects.filter(ip_address=ip, attempt_time__gte=get_cool_off_threshold(request))
    return recent.aggregate(total=Sum("failures_since_start"))["total"] or 0


class SprayAwareHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None) -> int:
        per_user = super().get_failures(request, credentials)
        limit = get_failure_limit(request, credentials)
        # floor(f * L / L_ip) >= L exactly when f >= L_ip.
        per_address = address_failures(request) * limit // settings.AXES_IP_FAILURE_LIMIT
        return max(per_user, per_address)
