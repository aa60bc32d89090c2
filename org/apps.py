from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "org"
    verbose_name = "组织与党员"

    def ready(self):
        from . import auth, checks  # noqa: F401  (the member-status receiver; the deploy checks)
