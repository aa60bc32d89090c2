from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "assessment"
    verbose_name = "量化考核"

    def ready(self):
        from tasks import todo

        from . import hr_export
        from .todo import PROVIDER

        hr_export.register()  # the HR 绩效 sheet as an export job (bulletin.exports)

        todo.register(PROVIDER)  # 我的待办: runs whose manual items wait for the 督导组
