from django.conf import settings
from django.core.checks import Warning, register


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
