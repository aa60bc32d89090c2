from django.apps import AppConfig


class StudyConfig(AppConfig):
    name = "study"
    verbose_name = "学习教育"

    def ready(self):
        # meetings and tasks sit below study: they ask these through their registries, never import study.
        from meetings import panels
        from tasks import sources
        from tasks import todo as tasks_todo
        from tasks.models import Task

        from . import admin_study, assignments, exports  # noqa: F401  (admin_study registers its admin screens)
        from . import panels as study_panels
        from . import todo as study_todo
        from .models import LearningRecord
        from .signals import learning_completed

        panels.register(study_panels.meeting_page)
        exports.register()  # the mine's 学时 ledger as an export job (bulletin.exports)
        sources.register_report_rule(Task.Source.STUDY, assignments.study_report_problems)
        sources.register_proof(Task.Source.MAKEUP, assignments.makeup_recording_proof)
        tasks_todo.register(study_todo.STUDY_PROVIDER)
        # A completed learning record closes its 学习任务 and reports its 补学 by recording.
        learning_completed.connect(
            assignments.learning_completed_received, sender=LearningRecord, dispatch_uid="study-assignments-completed"
        )
