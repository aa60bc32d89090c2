from django.apps import AppConfig


class StudyConfig(AppConfig):
    name = "study"
    verbose_name = "学习教育"

    def ready(self):
        from meetings import panels

        from . import exports
        from . import panels as study_panels

        panels.register(study_panels.meeting_page)
        exports.register()  # the mine's 学时 ledger as an export job (bulletin.exports)
