from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = "督导检查"

    def ready(self):
        # Connects the receiver that deletes a row's files after it goes (also by cascade),
        # in every process: web, worker, shell and management commands.
        from meetings import panels

        from . import findings_export
        from . import panels as supervision_panels
        from .services import evidence  # noqa: F401

        panels.register(supervision_panels.meeting_page)
        findings_export.register()  # the mine-wide findings ledger as an export job (bulletin.exports)
