from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = "督导检查"

    def ready(self):
        # Connects the receiver that deletes a row's files after it goes (also by cascade),
        # in every process: web, worker, shell and management commands.
        from meetings import hooks, panels

        from . import findings_export
        from . import panels as supervision_panels
        from .services import attestation, evidence  # noqa: F401

        panels.register(supervision_panels.meeting_page)
        # Speakers are asked to confirm their recorded points in the submission's transaction.
        hooks.register_on_submitted(attestation.request_attestations)
        findings_export.register()  # the mine-wide findings ledger as an export job (bulletin.exports)
