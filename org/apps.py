from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "org"
    verbose_name = "组织与党员"

    def ready(self):
        from . import checks  # noqa: F401  (registers the deploy checks)
