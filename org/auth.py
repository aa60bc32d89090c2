"""Sign-in of members who have left: refused, and their logins deactivated when they leave.

A member leaves the roll (转出, 停止党籍, 出党, 去世: any status outside ``Member.ON_ROLL_STATUSES``)
through the roster import, the admin or a service; all of them save the member, so the
``post_save`` receiver below is the one place that deactivates the login. A session already
open ends at its next request (Django's backend refuses an inactive user). The backend also
refuses such a member at sign-in, in case an administrator re-activates the login by mistake.
Coming back onto the roll does not re-activate a login: an administrator does that on purpose.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Member, User


def is_off_roll(user) -> bool:
    return Member.objects.filter(user=user).exclude(status__in=Member.ON_ROLL_STATUSES).exists()


class OnRollModelBackend(ModelBackend):
    """Django's username/password backend, refusing the login of a member who is off the roll.

    Checked at sign-in only (one query), not on every request: leaving deactivates the login.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and is_off_roll(user):
            return None
        return user


def deactivate_login_of_member_off_roll(member: Member) -> bool:
    """Deactivate the member's login if the member is off the roll; True when it changed."""
    if member.user_id is None or member.status in Member.ON_ROLL_STATUSES:
        return False
    return User.objects.filter(pk=member.user_id, is_active=True).update(is_active=False) == 1


@receiver(post_save, sender=Member, dispatch_uid="org.deactivate_login_of_member_off_roll")
def _member_saved(sender, instance: Member, raw=False, **kwargs):
    if not raw:  # not while loading fixtures
        deactivate_login_of_member_off_roll(instance)
