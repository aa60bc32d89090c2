from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "org"
    verbose_name = "组织与党员"

    def ready(self):
        from django.apps import apps
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_migrate

        from . import (
            auth,  # noqa: F401  (the member-status receiver)
            checks,  # noqa: F401  (registers the deploy checks)
            chinese,
            scope,
            sessions,
        )

        scope.connect_receivers()
        user_logged_in.connect(sessions.touch_on_sign_in, dispatch_uid="org_session_touch_on_sign_in")

        chinese.install(apps.get_models())
        post_migrate.connect(chinese.rename_default_permissions, dispatch_uid="org_chinese_permission_names")
