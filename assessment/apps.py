from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "assessment"
    verbose_name = "量化考核"

    def ready(self):
        from tasks import todo

        from .todo import PROVIDER

        todo.register(PROVIDER)  # 我的待办: runs whose manual items wait for the 督导组
