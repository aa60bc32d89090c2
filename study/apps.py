from django.apps import AppConfig


class StudyConfig(AppConfig):
    name = "study"
    verbose_name = "学习教育"

    def ready(self):
        # tasks sits below study: it asks these through its registries, never imports study.
        from tasks import sources, todo
        from tasks.models import Task

        from . import assignments, todo

        sources.register_report_rule(Task.Source.STUDY, assignments.study_report_problems)
        sources.register_proof(Task.Source.MAKEUP, assignments.makeup_recording_proof)
        todo.register(todo.STUDY_PROVIDER)
