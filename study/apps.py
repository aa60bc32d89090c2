from django.apps import AppConfig


class StudyConfig(AppConfig):
    name = "study"
    verbose_name = "学习教育"

    def ready(self):
        from . import exports

        exports.register()  # the mine's 学时 ledger as an export job (bulletin.exports)
