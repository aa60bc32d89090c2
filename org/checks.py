from django.conf import settings
from django.core.checks import Error, Warning, register
from django.db import DatabaseError
from django.db.models import Q


@register(deploy=True)
def secret_key_is_not_the_development_default(app_configs, **kwargs):
    if settings.SECRET_KEY.startswith("dev-only-"):
        return [
            Warning(
                "DJANGO_SECRET_KEY is the development default.",
                hint="Set DJANGO_SECRET_KEY to a long random value in production.",
                id="sanhui.W001",
            )
        ]
    return []


DEMO_EMAIL_DOMAIN = "@demo.sanhui.local"


def demo_logins_with_the_published_password() -> list[str]:
    """The active demo logins (by name or by their demo e-mail) that still accept the published password.

    Only these few hashes are checked (each costs a full password hash), not every login.
    """
    from .demo import DEMO_MEMBER_USERNAMES, DEMO_PASSWORD, STAFF_LOGINS
    from .models import User

    usernames = [login[0] for login in STAFF_LOGINS] + list(DEMO_MEMBER_USERNAMES)
    candidates = User.objects.filter(Q(username__in=usernames) | Q(email__endswith=DEMO_EMAIL_DOMAIN), is_active=True)
    return sorted(user.username for user in candidates if user.check_password(DEMO_PASSWORD))


@register(deploy=True)
def no_demo_login_accepts_the_published_password(app_configs, **kwargs):
    """`check --deploy` fails while anyone can sign in with the password printed in the README."""
    try:
        exposed = demo_logins_with_the_published_password()
    except DatabaseError:
        # No database yet (a fresh checkout before migrate): there is no login to worry about.
        return []
    if not exposed:
        return []
    return [
        Error(
            f"Demo logins still accept the published demo password: {', '.join(exposed)}.",
            hint="Change their passwords or deactivate them (admin → 用户) before going live; "
            "never load the demo data into production.",
            id="sanhui.E001",
        )
    ]
